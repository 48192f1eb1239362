/**
 * Request validation. Every failure is a 400 INVALID_REQUEST whose message
 * starts with the offending field's name. `null` counts as absent for
 * optional fields.
 */
import { amountProblem, currencyProblem } from './currencies';
import { apiError, invalid } from './errors';
import { INTERVALS, type Interval } from './periods';
import type { Merchant, Metadata } from './types';

export type Body = Record<string, unknown>;

export const LIMITS = {
  identifier: 128,
  description: 1000,
  reason: 500,
  url: 2048,
  metadataKeys: 50,
  metadataKey: 40,
  metadataValue: 500,
  customerField: 255,
  email: 254,
  maxExpiresIn: 30 * 86_400,
  maxTrialDays: 730,
  maxIntervalCount: 1000,
} as const;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function isRecord(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asBody(v: unknown): Body {
  if (!isRecord(v)) throw invalid('body', 'must be a JSON object');
  return v;
}

function present(b: Body, field: string): boolean {
  return b[field] !== undefined && b[field] !== null;
}

export function reqString(b: Body, field: string, max: number, label = field): string {
  const v = b[field];
  if (v === undefined || v === null) throw invalid(label, 'is required');
  if (typeof v !== 'string') throw invalid(label, 'must be a string');
  if (v.trim().length === 0) throw invalid(label, 'must not be empty');
  if (v.length > max) throw invalid(label, `must be at most ${max} characters`);
  return v;
}

export function optString(b: Body, field: string, max: number, label = field): string | null {
  return present(b, field) ? reqString(b, field, max, label) : null;
}

/** An identifier (out_trade_no, ids): 1..128 characters, no control characters. */
export function reqIdentifier(b: Body, field: string, label = field): string {
  const v = reqString(b, field, LIMITS.identifier, label);
  if (CONTROL.test(v)) throw invalid(label, 'must not contain control characters');
  return v;
}

export function reqAmount(b: Body, field = 'amount'): number {
  if (!present(b, field)) throw invalid(field, 'is required');
  const problem = amountProblem(b[field]);
  if (problem) throw invalid(field, problem);
  return b[field] as number;
}

export function reqCurrency(b: Body, field = 'currency'): string {
  if (!present(b, field)) throw invalid(field, 'is required');
  const problem = currencyProblem(b[field]);
  if (problem) throw invalid(field, problem);
  return b[field] as string;
}

export function checkUrl(v: unknown, label: string): string {
  if (typeof v !== 'string') throw invalid(label, 'must be an http(s) URL string');
  if (v.length > LIMITS.url) throw invalid(label, `must be at most ${LIMITS.url} characters`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw invalid(label, 'must be a valid absolute http(s) URL');
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) throw invalid(label, 'must be a valid absolute http(s) URL');
  return v;
}

export function reqUrl(b: Body, field: string): string {
  if (!present(b, field)) throw invalid(field, 'is required');
  return checkUrl(b[field], field);
}

export function optUrl(b: Body, field: string): string | null {
  return present(b, field) ? checkUrl(b[field], field) : null;
}

export function optInt(b: Body, field: string, min: number, max: number, label = field): number | null {
  if (!present(b, field)) return null;
  const v = b[field];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(label, 'must be an integer');
  if (v < min || v > max) throw invalid(label, `must be between ${min} and ${max}`);
  return v;
}

export function optBool(b: Body, field: string): boolean | null {
  if (!present(b, field)) return null;
  if (typeof b[field] !== 'boolean') throw invalid(field, 'must be a boolean');
  return b[field] as boolean;
}

export function optMetadata(b: Body, field = 'metadata'): Metadata | null {
  if (!present(b, field)) return null;
  const v = b[field];
  if (!isRecord(v)) throw invalid(field, 'must be an object of string values');
  const keys = Object.keys(v);
  if (keys.length > LIMITS.metadataKeys) throw invalid(field, `must have at most ${LIMITS.metadataKeys} keys`);
  const out: Metadata = {};
  for (const k of keys) {
    if (k.length === 0 || k.length > LIMITS.metadataKey) throw invalid(`${field}.${k.slice(0, 40)}`, `key must be 1 to ${LIMITS.metadataKey} characters`);
    const val = v[k];
    if (typeof val !== 'string') throw invalid(`${field}.${k}`, 'must be a string');
    if (val.length > LIMITS.metadataValue) throw invalid(`${field}.${k}`, `must be at most ${LIMITS.metadataValue} characters`);
    out[k] = val;
  }
  return out;
}

export function optInterval(b: Body, field = 'interval'): Interval | null {
  if (!present(b, field)) return null;
  const v = b[field];
  if (typeof v !== 'string' || !(INTERVALS as readonly string[]).includes(v)) throw invalid(field, `must be one of ${INTERVALS.join(', ')}`);
  return v as Interval;
}

export function reqInterval(b: Body, field = 'interval'): Interval {
  const v = optInterval(b, field);
  if (v === null) throw invalid(field, 'is required');
  return v;
}

/** A calendar date `YYYY-MM-DD` that exists; returns its UTC midnight in ms. */
export function reqIsoDate(b: Body, field: string): { date: string; ms: number } {
  if (!present(b, field)) throw invalid(field, 'is required');
  const v = b[field];
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw invalid(field, 'must be an ISO date YYYY-MM-DD');
  const ms = Date.parse(`${v}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== v) throw invalid(field, 'must be a valid calendar date');
  return { date: v, ms };
}

export function optEmail(v: unknown, label: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > LIMITS.email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) {
    throw invalid(label, 'must be a valid e-mail address');
  }
  return v;
}

/**
 * `merchant_id` in a body (or query) must be the authenticated merchant's.
 * `required` for the calls whose contract lists it.
 */
export function checkMerchantField(value: unknown, merchant: Merchant, required: boolean): void {
  if (value === undefined || value === null) {
    if (required) throw invalid('merchant_id', 'is required');
    return;
  }
  if (typeof value !== 'string') throw invalid('merchant_id', 'must be a string');
  if (value !== merchant.merchant_id) throw apiError('PERMISSION_DENIED', 'merchant_id does not belong to this API key');
}
