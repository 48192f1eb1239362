import { randomBytes, randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/** `length` base32 digits of a non-negative integer below 2^53 (the low 5·length bits). */
function encode(value: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/** Random bytes drawn from a pooled CSPRNG buffer (one system call per 400 ids, each byte used once). */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** 16 base32 digits (80 bits) of fresh randomness. */
function random80(): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const o = poolOffset;
  poolOffset += 10;
  // Two 40-bit halves, each exact as a Number.
  const high = pool[o] * 2 ** 32 + pool.readUInt32BE(o + 1);
  const low = pool[o + 5] * 2 ** 32 + pool.readUInt32BE(o + 6);
  return encode(high, 8) + encode(low, 8);
}

/**
 * A prefixed, time-ordered, unguessable id: `pay_01jd…` — 10 characters of
 * millisecond time then 16 of randomness (80 bits), so ids sort by creation.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${encode(now, 10)}${random80()}`;
}

/** A random URL-safe secret with `bytes` of entropy. */
export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
