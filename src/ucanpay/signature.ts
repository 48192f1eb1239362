/**
 * UCanPay webhook signatures.
 *
 * Header: `UCanPay-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]` where
 * `v1 = lowercase hex HMAC-SHA256(webhook secret, "<t>.<raw body>")`, secret
 * and body as UTF-8 bytes. Verify against the RAW request body (the exact
 * bytes received), never against re-serialized JSON.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the HTTP header carrying the signature. */
export const UCANPAY_SIGNATURE_HEADER = 'UCanPay-Signature';

/** Default tolerance, in seconds, between `t` and the receiver's clock (both directions). */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

function toBuffer(body: Buffer | Uint8Array | string): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function hmac(secret: string, t: number, rawBody: Buffer): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${t}.`, 'utf8').update(rawBody).digest();
}

/**
 * Signs a webhook body: returns the full header value `t=<t>,v1=<hex>`.
 * @param secret the merchant's webhook secret
 * @param rawBody the exact body bytes (a string is taken as UTF-8)
 * @param t unix seconds
 */
export function signWebhookPayload(secret: string, rawBody: Buffer | Uint8Array | string, t: number): string {
  if (!Number.isSafeInteger(t) || t < 0) throw new RangeError('t must be a non-negative integer of unix seconds');
  return `t=${t},v1=${hmac(secret, t, toBuffer(rawBody)).toString('hex')}`;
}

/** Why a signature was rejected. */
export type WebhookSignatureFailure = 'missing_header' | 'malformed_header' | 'stale_timestamp' | 'bad_signature';

export type WebhookSignatureResult = { ok: true; timestamp: number } | { ok: false; reason: WebhookSignatureFailure };

export interface VerifyWebhookSignatureInput {
  /** The `UCanPay-Signature` header value (an array, as Node may give repeated headers, is accepted: first value). */
  header: string | string[] | null | undefined;
  /** The exact body bytes received (a string is taken as UTF-8). */
  rawBody: Buffer | Uint8Array | string;
  /** The merchant's webhook secret. */
  secret: string;
  /** The receiver's clock in unix seconds (default: now). */
  nowSeconds?: number;
  /** Maximum |now − t| in seconds (default 300). */
  toleranceSeconds?: number;
}

/**
 * Verifies a webhook signature: parses `t` and every `v1`, rejects `t` more
 * than `toleranceSeconds` in the past or the future, and accepts when any one
 * `v1` equals the expected HMAC (constant-time comparison). Unknown schemes
 * (e.g. `v0=`) are ignored. Never throws.
 */
export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): WebhookSignatureResult {
  const headerValue = Array.isArray(input.header) ? input.header[0] : input.header;
  if (typeof headerValue !== 'string' || headerValue.trim() === '') return { ok: false, reason: 'missing_header' };
  if (typeof input.secret !== 'string' || input.secret.length === 0) return { ok: false, reason: 'bad_signature' };

  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of headerValue.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'malformed_header' };
    const key = trimmed.slice(0, eq).trim();
    const value = trimmed.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return { ok: false, reason: 'malformed_header' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      // A v1 that is not 64 hex digits can never match; keep looking at the others.
      if (HEX_SHA256.test(value)) candidates.push(value.toLowerCase());
      else if (value === '') return { ok: false, reason: 'malformed_header' };
    }
  }
  if (timestamp === undefined) return { ok: false, reason: 'malformed_header' };
  if (candidates.length === 0) {
    // No usable v1 at all: either none was given (malformed) or all were garbage (bad).
    return { ok: false, reason: /(^|,)\s*v1=/.test(headerValue) ? 'bad_signature' : 'malformed_header' };
  }

  const tolerance = input.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > tolerance) return { ok: false, reason: 'stale_timestamp' };

  const expected = hmac(input.secret, timestamp, toBuffer(input.rawBody));
  let matched = false;
  for (const hex of candidates) {
    const given = Buffer.from(hex, 'hex');
    // Equal lengths are guaranteed by the 64-hex-digit check; compare every candidate (no early exit).
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched ? { ok: true, timestamp } : { ok: false, reason: 'bad_signature' };
}
