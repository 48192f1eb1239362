import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signWebhookPayload, verifyWebhookSignature } from '../../src/ucanpay';

interface Vector {
  secret: string;
  t: number;
  raw_body: string;
  header: string;
  v1?: string;
  valid: boolean;
  note?: string;
}
const vectors: Vector[] = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'ucanpay-webhook-vectors.json'), 'utf8')).vectors;

const SECRET = 'whsec_test_3f9a1c';
const BODY = '{"id":"evt_x","type":"payment.succeeded","created":1764000000,"data":{"object":{}}}';
const T = 1_764_000_000;

describe('webhook signature vectors', () => {
  it('has vectors', () => expect(vectors.length).toBeGreaterThanOrEqual(5));

  for (const [i, v] of vectors.entries()) {
    it(`vector ${i} (${v.note ?? (v.valid ? 'valid' : 'invalid')}) as string and as Buffer`, () => {
      for (const rawBody of [v.raw_body, Buffer.from(v.raw_body, 'utf8')]) {
        const result = verifyWebhookSignature({ header: v.header, rawBody, secret: v.secret, nowSeconds: v.t });
        if (v.valid) expect(result).toEqual({ ok: true, timestamp: v.t });
        else expect(result).toEqual({ ok: false, reason: 'bad_signature' });
      }
    });
    if (v.v1 && v.valid) {
      it(`vector ${i}: signer reproduces v1`, () => {
        expect(signWebhookPayload(v.secret, v.raw_body, v.t)).toBe(`t=${v.t},v1=${v.v1}`);
        expect(signWebhookPayload(v.secret, Buffer.from(v.raw_body, 'utf8'), v.t)).toBe(`t=${v.t},v1=${v.v1}`);
      });
    }
  }
});

describe('verifyWebhookSignature', () => {
  const header = signWebhookPayload(SECRET, BODY, T);
  const verify = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
    verifyWebhookSignature({ header, rawBody: BODY, secret: SECRET, nowSeconds: T, ...over });

  it('accepts a fresh signature, within tolerance both ways', () => {
    expect(verify({})).toEqual({ ok: true, timestamp: T });
    expect(verify({ nowSeconds: T + 300 })).toEqual({ ok: true, timestamp: T });
    expect(verify({ nowSeconds: T - 300 })).toEqual({ ok: true, timestamp: T });
  });

  it('rejects a stale timestamp (t - 301)', () => {
    const stale = signWebhookPayload(SECRET, BODY, T - 301);
    expect(verify({ header: stale })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('rejects a timestamp too far in the future', () => {
    const future = signWebhookPayload(SECRET, BODY, T + 301);
    expect(verify({ header: future })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verify({ nowSeconds: T - 301 })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('honours a custom tolerance', () => {
    expect(verify({ nowSeconds: T + 10, toleranceSeconds: 5 })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verify({ nowSeconds: T + 10, toleranceSeconds: 10 }).ok).toBe(true);
  });

  it('uses the real clock by default', () => {
    const now = Math.floor(Date.now() / 1000);
    const h = signWebhookPayload(SECRET, BODY, now);
    expect(verifyWebhookSignature({ header: h, rawBody: BODY, secret: SECRET })).toEqual({ ok: true, timestamp: now });
  });

  it.each([undefined, null, '', '   '])('missing header %j', (h) => {
    expect(verify({ header: h as string | undefined })).toEqual({ ok: false, reason: 'missing_header' });
  });

  const sig = header.split(',')[1]!;
  it.each([
    ['no t', sig],
    ['no v1', `t=${T}`],
    ['t not a number', `t=abc,${sig}`],
    ['t negative', `t=-5,${sig}`],
    ['t twice', `t=${T},t=${T},${sig}`],
    ['part without =', `t=${T},${sig},garbage`],
    ['empty v1', `t=${T},v1=`],
    ['not key=value', 'hello'],
  ])('malformed header: %s', (_name, h) => {
    expect(verify({ header: h })).toEqual({ ok: false, reason: 'malformed_header' });
  });

  it('tampered body', () => {
    expect(verify({ rawBody: BODY.replace('evt_x', 'evt_y') })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify({ rawBody: `${BODY} ` })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('tampered timestamp (signature bound to t)', () => {
    expect(verify({ header: header.replace(`t=${T}`, `t=${T + 1}`) })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('wrong secret', () => {
    expect(verify({ secret: 'whsec_other' })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify({ secret: '' })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('v1 values of the wrong length or not hex never match', () => {
    expect(verify({ header: `t=${T},v1=abcd` })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify({ header: `t=${T},v1=${'z'.repeat(64)}` })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('several v1 values: any valid one suffices, in any position; upper-case hex and spaces tolerated', () => {
    const good = sig.slice(3);
    expect(verify({ header: `t=${T},v1=${'0'.repeat(64)},v1=${good}` }).ok).toBe(true);
    expect(verify({ header: `t=${T},v1=${good},v1=${'0'.repeat(64)}` }).ok).toBe(true);
    expect(verify({ header: `t=${T}, v1=abc, v1=${good.toUpperCase()}` }).ok).toBe(true);
    expect(verify({ header: `v0=${'1'.repeat(64)},t=${T},v1=${good}` }).ok).toBe(true);
    expect(verify({ header: `t=${T},v1=${'0'.repeat(64)},v1=${'1'.repeat(64)}` })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts the header as an array (repeated header) and Uint8Array bodies', () => {
    expect(verify({ header: [header] }).ok).toBe(true);
    expect(verify({ rawBody: new Uint8Array(Buffer.from(BODY)) }).ok).toBe(true);
  });

  it('treats the body as UTF-8 bytes', () => {
    const body = '{"note":"ünïcode ✓"}';
    const h = signWebhookPayload('sëcret', body, T);
    expect(verifyWebhookSignature({ header: h, rawBody: Buffer.from(body, 'utf8'), secret: 'sëcret', nowSeconds: T }).ok).toBe(true);
    expect(verifyWebhookSignature({ header: h, rawBody: Buffer.from(body, 'latin1'), secret: 'sëcret', nowSeconds: T }).ok).toBe(false);
  });
});
