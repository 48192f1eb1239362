import { createHash } from 'node:crypto';
import { amountProblem, currencyProblem } from './money';
import { invalidInput } from './errors';

/** Shared input checks. Each throws BAD_USER_INPUT naming the field, before anything is written or sent. */

export function checkAmount(field: string, value: unknown): number {
  const problem = amountProblem(value);
  if (problem) throw invalidInput(field, problem);
  return value as number;
}

export function checkCurrency(field: string, value: unknown): string {
  const problem = currencyProblem(value);
  if (problem) throw invalidInput(field, problem);
  return value as string;
}

export function checkText(field: string, value: unknown, { min = 1, max }: { min?: number; max: number }): string {
  if (typeof value !== 'string') throw invalidInput(field, 'must be a string');
  const text = value.trim();
  if (text.length < min) throw invalidInput(field, min === 1 ? 'must not be empty' : `must have at least ${min} characters`);
  if (text.length > max) throw invalidInput(field, `must be at most ${max} characters (got ${text.length})`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) throw invalidInput(field, 'must not contain control characters');
  return text;
}

export function checkUrl(field: string, value: unknown): string {
  const text = checkText(field, value, { max: 2048 });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidInput(field, 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidInput(field, 'must be an absolute http or https URL');
  if (url.username || url.password) throw invalidInput(field, 'must not contain credentials');
  return url.toString();
}

const REFERENCE = /^[A-Za-z0-9_\-.:]{1,64}$/;

export function checkReference(field: string, value: unknown): string {
  if (typeof value !== 'string' || !REFERENCE.test(value)) {
    throw invalidInput(field, 'must be 1 to 64 characters of A-Z a-z 0-9 _ - . :');
  }
  return value;
}

export function checkIntRange(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidInput(field, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function checkIdempotencyKey(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 255) {
    throw invalidInput(field, 'must be 1 to 255 characters');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalidInput(field, 'must not contain control characters');
  return value;
}

/** The request's idempotency key: the input field, else the Idempotency-Key header, else none. */
export function idempotencyKeyOf(inputKey: string | null | undefined, headerKey: string | undefined): string | null {
  if (inputKey != null) return checkIdempotencyKey('input.idempotencyKey', inputKey);
  if (headerKey != null) return checkIdempotencyKey('Idempotency-Key header', headerKey);
  return null;
}

export function checkMetadata(field: string, value: unknown): Record<string, string> {
  if (value == null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidInput(field, 'must be an object of string values');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 20) throw invalidInput(field, `may have at most 20 keys (got ${entries.length})`);
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    if (key.length < 1 || key.length > 40) throw invalidInput(`${field}.${key.slice(0, 40)}`, 'keys must be 1 to 40 characters');
    if (typeof v !== 'string') throw invalidInput(`${field}.${key}`, 'must be a string');
    if (v.length > 500) throw invalidInput(`${field}.${key}`, 'must be at most 500 characters');
    out[key] = v;
  }
  return out;
}

/** SHA-256 of a value's canonical JSON (sorted keys): equal inputs hash equally. */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
