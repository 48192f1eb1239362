import type { IncomingMessage } from 'node:http';
import { newId } from '../domain/ids';

const ids = new WeakMap<IncomingMessage, string>();

/**
 * The request's id: the caller's `X-Request-Id` when it is a plain token
 * (1-64 of A-Z a-z 0-9 _ . -), otherwise a new `req_…`. The same value for
 * every use of one request: the access log, the GraphQL context, the
 * `x-request-id` response header and `extensions.requestId` of errors.
 */
export function requestIdOf(req: IncomingMessage): string {
  let id = ids.get(req);
  if (!id) {
    const header = req.headers['x-request-id'];
    id = typeof header === 'string' && /^[\w.-]{1,64}$/.test(header) ? header : newId('req');
    ids.set(req, id);
  }
  return id;
}
