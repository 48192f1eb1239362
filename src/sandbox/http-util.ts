import type { IncomingMessage, ServerResponse } from 'node:http';

export interface BodyResult {
  body: Buffer;
  tooLarge: boolean;
  /** The client went away before the body ended. */
  aborted: boolean;
}

/** Reads the request body; past `limit` bytes it keeps draining (up to a hard cap) but flags `tooLarge`. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const hardCap = Math.max(limit * 16, 1 << 20);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limit;
    let done = false;
    const finish = (aborted: boolean): void => {
      if (done) return;
      done = true;
      resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge, aborted });
    };
    if (Number(req.headers['content-length'] ?? 0) > hardCap) {
      req.pause();
      finish(false);
      return;
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
      if (size > hardCap) {
        req.pause();
        finish(false);
      }
    });
    req.on('end', () => finish(false));
    req.on('error', () => finish(true));
    req.on('close', () => finish(!req.complete));
  });
}

export interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

function send(res: ServerResponse, contentType: string, reply: Reply): void {
  if (res.headersSent || res.destroyed || res.writableEnded) return;
  res.writeHead(reply.status, {
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(reply.body)),
    'Cache-Control': 'no-store',
    ...(reply.headers ?? {}),
  });
  res.end(reply.body);
}

export function sendJson(res: ServerResponse, reply: Reply): void {
  send(res, 'application/json; charset=utf-8', reply);
}

export function sendHtml(res: ServerResponse, reply: Reply): void {
  send(res, 'text/html; charset=utf-8', { ...reply, headers: { 'X-Content-Type-Options': 'nosniff', ...(reply.headers ?? {}) } });
}

export function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, body: JSON.stringify(value), headers };
}
