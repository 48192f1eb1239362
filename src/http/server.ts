import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Limits } from '../config';
import type { Logger } from '../logger';
import { BodyTooLargeError, closeAfterResponse, readBody } from './body';
import { CONNECTION_RETRY_AFTER_SECONDS, ConnectionLimiter, connectionRefusalBody } from './connection-limits';
import { sendError } from './graphql-handler';
import { demoReturnPage } from './demo-return-page';
import { loggedHeaders, loggedUrl } from './log-fields';
import { IDE_PATH, type IdeHandler } from './ide';
import { requestIdOf } from './request-id';
import type { WebhookService } from '../services/webhook.service';

export interface HttpRoutes {
  graphql: (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void>;
  webhooks: Pick<WebhookService, 'receive'>;
  ready: () => Promise<boolean>;
  log: Logger;
  webhookBodyLimit: number;
  /** The offline GraphiQL at /graphiql (development only: absent when the landing page is off). */
  ide?: IdeHandler;
}

/** Graceful shutdown of the HTTP side (App.drain). */
export interface HttpDrain {
  /** Stop accepting connections; close idle keep-alive ones; answer requests on open ones 503 SHUTTING_DOWN. */
  begin(): void;
  /** Resolves when no request is in flight. */
  idle(): Promise<void>;
  readonly inFlight: number;
}

/** The answer to a request that arrives while the instance drains (retryable elsewhere). */
export function shuttingDownBody(): string {
  return JSON.stringify({
    errors: [
      {
        message: 'This gateway instance is shutting down; retry (with the same idempotency key), another instance will answer',
        extensions: { code: 'SHUTTING_DOWN', retryable: true, retryAfterSeconds: 1 },
      },
    ],
  });
}

/** How often Node checks the header and request deadlines: each acts at most this late. */
const DEADLINE_CHECK_INTERVAL_MS = 250;

const CORS_HEADERS: Record<string, string> = {
  // Credentials are bearer tokens, never cookies, so any origin may call.
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, idempotency-key, apollo-require-preflight, x-request-id',
  'access-control-max-age': '600',
};

/**
 * One node:http server: /graphql (HTTP; WebSocket upgrades are attached by
 * the app), webhooks, health. Every connection counts against `limits`
 * (see ConnectionLimiter) from its TCP accept; request heads and bodies have
 * deadlines, and a connection that times out is destroyed, not half-closed.
 */
export function createHttpServer(
  getRoutes: () => HttpRoutes | undefined,
  limits: Pick<Limits, 'maxConnections' | 'maxConnectionsPerClient' | 'clientAddressHeader' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'idleTimeoutMs'>,
): { server: http.Server; closeAll: () => void; connections: ConnectionLimiter; drain: HttpDrain } {
  const sockets = new Set<Socket>();
  const connections = new ConnectionLimiter(limits);
  /** Requests of a socket whose answer is not finished yet. */
  const inFlight = new WeakMap<Socket, number>();
  /** WebSocket connections: graphql-ws closes them itself when draining. */
  const upgraded = new WeakSet<Socket>();
  let active = 0;
  let draining = false;
  const idleWaiters: Array<() => void> = [];
  const requestDone = (socket: Socket) => {
    active--;
    if (!draining) return;
    // Keep-alive would bring the next request to an instance that is going away.
    if ((inFlight.get(socket) ?? 0) === 0 && !upgraded.has(socket)) socket.end();
    if (active === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  };
  const server = http.createServer({ connectionsCheckingInterval: DEADLINE_CHECK_INTERVAL_MS }, (req, res) => {
    if (draining) {
      // A request that arrives on an open keep-alive connection during the drain: retry it elsewhere.
      closeAfterResponse(req, res);
      res.statusCode = 503;
      res.setHeader('retry-after', '1');
      res.setHeader('content-type', 'application/json; charset=utf-8');
      return void res.end(shuttingDownBody());
    }
    const refused = connections.admit(req);
    if (refused) {
      closeAfterResponse(req, res);
      res.statusCode = 503;
      res.setHeader('retry-after', String(CONNECTION_RETRY_AFTER_SECONDS));
      res.setHeader('content-type', 'application/json; charset=utf-8');
      return void res.end(connectionRefusalBody(refused));
    }
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    active++;
    res.once('close', () => {
      inFlight.set(socket, (inFlight.get(socket) ?? 1) - 1);
      requestDone(socket);
    });
    const routes = getRoutes();
    if (!routes) {
      res.statusCode = 503;
      return void res.end('starting');
    }
    const requestId = requestIdOf(req);
    const started = process.hrtime.bigint();
    res.setHeader('x-request-id', requestId);
    // Only headers known to be harmless are logged with their values (log-fields.ts); query values are redacted.
    routes.log.debug({ requestId, req: { method: req.method, url: loggedUrl(req.url), headers: loggedHeaders(req.headers) } }, 'http request received');
    res.on('finish', () => {
      const pathname = (req.url ?? '/').split('?')[0];
      if (pathname === '/graphql') return; // the Apollo plugin logs GraphQL requests
      const line = { requestId, method: req.method, path: pathname, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      if (pathname.startsWith('/webhooks/')) routes.log.info(line, 'http request');
      else routes.log.debug(line, 'http request');
    });
    handle(routes, req, res).catch((error) => {
      routes.log.error({ err: error, requestId, url: loggedUrl(req.url) }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'INTERNAL_SERVER_ERROR', `Internal server error (requestId ${requestId})`, true);
      else res.destroy();
    });
  });
  // Slow or endless requests must not hold sockets (an upgraded WebSocket leaves these timers).
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxHeadersCount = 100;
  // A connection where nothing moves: idle between requests, or an answer the client does not read.
  server.setTimeout(limits.idleTimeoutMs);
  server.on('timeout', (socket: Socket) => {
    // A request still being worked on (e.g. waiting for UCanPay) with nothing left to write keeps its socket.
    if ((inFlight.get(socket) ?? 0) > 0 && socket.writableLength === 0) return;
    socket.destroy();
  });
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => void upgraded.add(socket));
  server.on('connection', (socket: Socket) => {
    // Refused connections (over a cap) are kept until their 503 is out, and closed by closeAll too.
    if (!connections.accept(socket)) return void socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Answered (when the socket can still take it) and destroyed: ending it would leave it
    // half-open for as long as the client likes (the server allows half-open sockets).
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    if (socket.writable && socket.writableLength === 0) socket.write(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    socket.destroy();
  });

  async function handle(routes: HttpRoutes, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q);

    if (pathname === '/graphql') {
      for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
      if (req.method === 'OPTIONS') {
        res.statusCode = 204;
        return void res.end();
      }
      return routes.graphql(req, res, search);
    }
    const webhook = /^\/webhooks\/ucanpay\/([A-Za-z0-9_]{1,40})$/.exec(pathname);
    if (webhook) {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' });
      let raw: Buffer;
      try {
        raw = await readBody(req, routes.webhookBodyLimit);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          closeAfterResponse(req, res);
          return json(res, 413, { received: false, error: error.message });
        }
        throw error;
      }
      // The content type is not consulted: UCanPay's contract names none, and the signature over
      // these exact bytes (checked before they are parsed) is what makes them a UCanPay event.
      const reply = await routes.webhooks.receive(webhook[1], raw, req.headers['ucanpay-signature']);
      if (reply.status === 400) closeAfterResponse(req, res);
      return json(res, reply.status, reply.body);
    }
    if (pathname === '/health' || pathname === '/health/live') return json(res, 200, { status: 'ok' });
    if (pathname === '/health/ready') {
      const ok = await routes.ready().catch(() => false);
      return json(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable' });
    }
    if (routes.ide && (pathname === IDE_PATH || pathname.startsWith(`${IDE_PATH}/`))) return routes.ide(req, res, pathname);
    if (pathname === '/demo/return') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      return void res.end(demoReturnPage(new URLSearchParams(search)));
    }
    if (pathname === '/') {
      res.statusCode = 302;
      res.setHeader('location', routes.ide ? IDE_PATH : '/graphql');
      return void res.end();
    }
    return json(res, 404, { error: `no route for ${req.method} ${pathname}` });
  }

  const drain: HttpDrain = {
    begin() {
      if (draining) return;
      draining = true;
      // No new connections; open idle ones are closed, busy ones after their answer.
      server.close();
      for (const socket of sockets) {
        if ((inFlight.get(socket) ?? 0) === 0 && !upgraded.has(socket)) socket.end();
      }
    },
    idle() {
      if (active === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    get inFlight() {
      return active;
    },
  };

  return {
    server,
    connections,
    drain,
    closeAll: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
