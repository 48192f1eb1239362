import type { IncomingHttpHeaders } from 'node:http';

/**
 * Request headers whose values are logged: ones known to carry no
 * credential. Every other header (Authorization, X-Api-Key, Api-Key,
 * X-Auth, Idempotency-Key, cookies, signatures, anything new) is logged by
 * name only — an allow-list, so a credential under a name nobody thought of
 * never reaches a log line at any level.
 */
export const LOGGED_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'apollo-require-preflight',
  'apollographql-client-name',
  'apollographql-client-version',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'host',
  'origin',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-version',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-forwarded-for',
  'x-forwarded-proto',
]);

/** Values longer than this are cut (a 16 KiB User-Agent is no use in a log). */
const MAX_VALUE = 200;

/** The allow-listed headers with their values, plus the names (only) of the others. */
export function loggedHeaders(headers: IncomingHttpHeaders): { [name: string]: string | string[] | undefined; otherHeaders?: string[] } {
  const out: Record<string, string> = {};
  const other: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (LOGGED_HEADERS.has(name)) {
      const text = Array.isArray(value) ? value.join(', ') : value;
      out[name] = text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
    } else other.push(name.slice(0, 64));
  }
  return other.length ? { ...out, otherHeaders: other.slice(0, 50) } : out;
}

/** Query parameters whose values are logged; every other value becomes "[redacted]" (`?api_key=…`, `?api-key=…`, …). */
const LOGGED_PARAMS: ReadonlySet<string> = new Set(['operationName']);

/** The path and the query string's parameter names; values only for LOGGED_PARAMS. */
export function loggedUrl(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  if (q === -1) return raw.slice(0, 300);
  const path = raw.slice(0, q).slice(0, 300);
  const params = raw
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .slice(0, 20)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = (eq === -1 ? pair : pair.slice(0, eq)).slice(0, 64);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // keep it encoded
      }
      if (eq === -1) return '[redacted]';
      return LOGGED_PARAMS.has(decoded) ? `${name}=${pair.slice(eq + 1, eq + 1 + MAX_VALUE)}` : `${name}=[redacted]`;
    });
  return `${path}?${params.join('&')}`;
}
