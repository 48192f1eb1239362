import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/**
 * Reads a request body into memory, failing fast past `limit` bytes (a
 * declared Content-Length over it fails before a byte is read). On failure
 * the rest of the body is NOT read: answer with `closeAfterResponse`, so the
 * connection ends instead of being drained for the next request.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.pause();
      return reject(new BodyTooLargeError(limit));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/**
 * The answer being prepared is the last on this connection: `connection:
 * close`, and once it is written the socket is destroyed. Node would
 * otherwise read (and discard) the rest of a refused body to reach the
 * next request on a keep-alive connection — 100 GB if the client says so.
 */
export function closeAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  res.shouldKeepAlive = false;
  res.setHeader('connection', 'close');
  // Node ends the socket after a `connection: close` answer and destroys it once
  // the FIN is out; a client that reads nothing is destroyed a second later anyway.
  res.once('finish', () => setTimeout(() => socket.destroy(), 1000).unref());
  res.once('close', () => {
    if (!res.writableFinished) socket.destroy();
  });
}

/** Media types whose bodies are parsed as JSON (parameters such as `charset` are allowed). */
const JSON_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/json', 'application/graphql-response+json']);

/**
 * True for `application/json` and `application/graphql-response+json`, with
 * or without parameters. Anything else, including types that merely contain
 * "json" (`text/json`, `application/jsonp`), is not JSON here: answer 415.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const type = header.split(';')[0].trim().toLowerCase();
  return JSON_MEDIA_TYPES.has(type);
}
