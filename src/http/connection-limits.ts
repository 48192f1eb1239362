import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimitOptions {
  /** Open connections in all (HTTP and WebSocket). */
  maxConnections: number;
  /** Open connections of one client address. */
  maxConnectionsPerClient: number;
  /** Lower-case header carrying the client address behind a proxy; unset: the TCP peer. */
  clientAddressHeader?: string;
}

/** Connections over a cap that may wait at once for their 503; more are dropped unanswered. */
const MAX_REFUSING = 64;

/** Seconds a refused client is told to wait (Retry-After). */
export const CONNECTION_RETRY_AFTER_SECONDS = 1;

/**
 * Counts open connections from the TCP accept until the socket closes — an
 * upgraded WebSocket keeps counting, whether or not it ever authenticates —
 * in all and per client address.
 *
 * A connection over a cap is not served: its first request (or WebSocket
 * upgrade) is answered 503 with Retry-After, then it is closed. Without
 * `clientAddressHeader` the per-client cap is decided at accept (TCP peer
 * address); with it, at each request head, from that header's last value
 * (the one the operator's proxy appended; earlier values are the client's
 * own word).
 */
export class ConnectionLimiter {
  private open = 0;
  private refusing = 0;
  private readonly perClient = new Map<string, number>();
  /** The client key a socket is counted under. */
  private readonly keyOf = new WeakMap<Socket, string>();
  /** Sockets to answer 503 and close, with the reason. */
  private readonly refused = new WeakMap<Socket, string>();

  constructor(private readonly options: ConnectionLimitOptions) {}

  get openConnections(): number {
    return this.open;
  }

  /**
   * A new TCP connection. Returns false when it must be destroyed at once
   * (too many are already waiting for their refusal); otherwise it is
   * counted, and may be marked to be refused at its first request.
   */
  accept(socket: Socket): boolean {
    let reason: string | undefined;
    if (this.open >= this.options.maxConnections) reason = 'the gateway is at its connection limit';
    else if (!this.options.clientAddressHeader) {
      const key = socket.remoteAddress ?? 'unknown';
      if ((this.perClient.get(key) ?? 0) >= this.options.maxConnectionsPerClient) reason = 'too many connections from your address';
      else this.count(socket, key);
    }
    if (reason) {
      if (this.refusing >= MAX_REFUSING) return false;
      this.refusing++;
      this.refused.set(socket, reason);
      socket.once('close', () => this.refusing--);
      return true;
    }
    this.open++;
    socket.once('close', () => {
      this.open--;
      this.uncount(socket);
    });
    return true;
  }

  /**
   * A request head (HTTP or upgrade) arrived on `socket`: undefined when it
   * may be served, otherwise why it is refused.
   */
  admit(req: IncomingMessage): string | undefined {
    const socket = req.socket;
    const refused = this.refused.get(socket);
    if (refused) return refused;
    const header = this.options.clientAddressHeader;
    if (!header) return undefined;
    const key = clientAddress(req, header);
    const current = this.keyOf.get(socket);
    if (current === key) return undefined;
    if ((this.perClient.get(key) ?? 0) >= this.options.maxConnectionsPerClient) return 'too many connections from your address';
    this.uncount(socket);
    this.count(socket, key);
    return undefined;
  }

  private count(socket: Socket, key: string): void {
    this.keyOf.set(socket, key);
    this.perClient.set(key, (this.perClient.get(key) ?? 0) + 1);
  }

  private uncount(socket: Socket): void {
    const key = this.keyOf.get(socket);
    if (key === undefined) return;
    this.keyOf.delete(socket);
    const left = (this.perClient.get(key) ?? 1) - 1;
    if (left > 0) this.perClient.set(key, left);
    else this.perClient.delete(key);
  }
}

/** The client's address: the configured header's last value when set (and present), else the TCP peer. */
export function clientAddress(req: IncomingMessage, header?: string): string {
  if (header) {
    const raw = req.headers[header];
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    const last = value?.split(',').pop()?.trim();
    if (last) return last.slice(0, 100);
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/** The 503 body for a refused connection, GraphQL-shaped so a GraphQL client can show it. */
export function connectionRefusalBody(reason: string): string {
  return JSON.stringify({
    errors: [
      {
        message: `Service unavailable: ${reason}; retry in ${CONNECTION_RETRY_AFTER_SECONDS} s`,
        extensions: { code: 'TOO_MANY_CONNECTIONS', retryable: true, retryAfterSeconds: CONNECTION_RETRY_AFTER_SECONDS },
      },
    ],
  });
}

/** Answers a raw socket (a WebSocket upgrade request) with 503 and destroys it once written. */
export function refuseUpgrade(socket: Socket, reason: string): void {
  const body = connectionRefusalBody(reason);
  const head = [
    'HTTP/1.1 503 Service Unavailable',
    `retry-after: ${CONNECTION_RETRY_AFTER_SECONDS}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ].join('\r\n');
  if (!socket.writable) return void socket.destroy();
  socket.end(`${head}\r\n\r\n${body}`, () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}
