/**
 * Event payloads on the wire. They are entity objects whose timestamps are
 * `Date`s, which plain JSON turns into strings. Guessing from the string
 * ("looks like an ISO date") would also turn a customer's description or
 * metadata value into a Date, so the encoder lists where the Dates were and
 * the decoder revives exactly those:
 *
 *   { "p": <payload as JSON>, "d": [["createdAt"], ["paidAt"], …] }
 *
 * Works for any topic's payload (nested objects and arrays included) without
 * a per-entity field list.
 */
export function encodePayload(payload: unknown): string {
  const dates: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    if (value instanceof Date) {
      if (!Number.isNaN(value.getTime())) dates.push(path);
      return;
    }
    if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
    }
  };
  walk(payload, []);
  return JSON.stringify({ p: payload, d: dates });
}

/** The inverse of `encodePayload`; throws on anything it did not produce. */
export function decodePayload(raw: string | Buffer): unknown {
  const envelope = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8')) as { p?: unknown; d?: unknown };
  if (!envelope || typeof envelope !== 'object' || !('p' in envelope) || !Array.isArray(envelope.d)) {
    throw new Error('not an event payload envelope');
  }
  let payload = envelope.p;
  for (const path of envelope.d as unknown[]) {
    if (!Array.isArray(path)) continue;
    if (path.length === 0) {
      payload = reviveDate(payload);
      continue;
    }
    let holder = payload as Record<string, unknown> | null;
    for (const key of path.slice(0, -1)) holder = holder && typeof holder === 'object' ? (holder[String(key)] as Record<string, unknown>) : null;
    const last = String(path[path.length - 1]);
    if (holder && typeof holder === 'object' && Object.hasOwn(holder, last)) {
      holder[last] = reviveDate(holder[last]);
    }
  }
  return payload;
}

function reviveDate(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date;
}
