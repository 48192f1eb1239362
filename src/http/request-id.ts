import type { IncomingMessage } from 'node:http';
import { newId } from '../domain/ids';

const ids = new WeakMap<IncomingMessage, string>();

/**
 * Request ids a caller may choose: a UUID, a W3C trace id (32 hex digits),
 * or an id this gateway made (`req_` + 26 base32 digits). Nothing else — a
 * caller's free-form value would be written on every log line at info, and
 * a credential sent there by mistake with it.
 */
const CLIENT_REQUEST_ID = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-f]{32}|req_[0-9a-hjkmnp-tv-z]{26})$/;

/**
 * The request's id: the caller's `X-Request-Id` when it has one of the
 * accepted formats (CLIENT_REQUEST_ID), otherwise a new `req_…`. The same
 * value for every use of one request: the access log, the GraphQL context,
 * the `x-request-id` response header and `extensions.requestId` of errors.
 */
export function requestIdOf(req: IncomingMessage): string {
  let id = ids.get(req);
  if (!id) {
    const header = req.headers['x-request-id'];
    id = typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : newId('req');
    ids.set(req, id);
  }
  return id;
}
