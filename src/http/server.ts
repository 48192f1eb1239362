import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger';
import { BodyTooLargeError, readBody } from './body';
import { sendError } from './graphql-handler';
import { demoReturnPage } from './demo-return-page';
import { IDE_PATH, type IdeHandler } from './ide';
import { requestIdOf } from './request-id';
import type { WebhookService } from '../services/webhook.service';

export interface HttpRoutes {
  graphql: (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void>;
  webhooks: WebhookService;
  ready: () => Promise<boolean>;
  log: Logger;
  webhookBodyLimit: number;
  /** The offline GraphiQL at /graphiql (development only: absent when the landing page is off). */
  ide?: IdeHandler;
}

const CORS_HEADERS: Record<string, string> = {
  // Credentials are bearer tokens, never cookies, so any origin may call.
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, idempotency-key, apollo-require-preflight, x-request-id',
  'access-control-max-age': '600',
};

/** One node:http server: /graphql (HTTP; WebSocket upgrades are attached by the app), webhooks, health. */
export function createHttpServer(getRoutes: () => HttpRoutes | undefined): { server: http.Server; closeAll: () => void } {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const routes = getRoutes();
    if (!routes) {
      res.statusCode = 503;
      return void res.end('starting');
    }
    const requestId = requestIdOf(req);
    const started = process.hrtime.bigint();
    res.setHeader('x-request-id', requestId);
    // Headers are logged; src/logger.ts redacts authorization, signatures and cookies from every line.
    routes.log.debug({ requestId, req: { method: req.method, url: req.url, headers: req.headers } }, 'http request received');
    res.on('finish', () => {
      const pathname = (req.url ?? '/').split('?')[0];
      if (pathname === '/graphql') return; // the Apollo plugin logs GraphQL requests
      const line = { requestId, method: req.method, path: pathname, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      if (pathname.startsWith('/webhooks/')) routes.log.info(line, 'http request');
      else routes.log.debug(line, 'http request');
    });
    handle(routes, req, res).catch((error) => {
      routes.log.error({ err: error, requestId, url: req.url }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'INTERNAL_SERVER_ERROR', `Internal server error (requestId ${requestId})`, true);
      else res.destroy();
    });
  });
  // Slow or endless requests must not hold sockets (WebSocket upgrades are not affected).
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 100;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
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
        if (error instanceof BodyTooLargeError) return json(res, 413, { received: false, error: error.message });
        throw error;
      }
      const reply = await routes.webhooks.receive(webhook[1], raw, req.headers['ucanpay-signature']);
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

  return {
    server,
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
