import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MERCHANT, OTHER, orderBody, startSandbox, uniq, type TestSandbox } from './helpers';

let sb: TestSandbox;

beforeAll(async () => {
  sb = await startSandbox();
});

afterAll(async () => {
  await sb?.stop();
});

describe('Idempotency-Key', () => {
  it('same key + same body replays the first response byte for byte, even after the order changed', async () => {
    const key = uniq('idem');
    const body = orderBody();
    const first = await sb.api('POST', '/payment/unifiedorder', body, { idem: key });
    expect(first.status).toBe(200);
    await sb.checkout(first.body.order_id, 'authorize');
    const replay = await sb.api('POST', '/payment/unifiedorder', body, { idem: key });
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(first.text);
    expect(replay.body.status).toBe('PENDING');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    // Without the key the same out_trade_no returns the current state.
    expect((await sb.api('POST', '/payment/unifiedorder', body)).body.status).toBe('PAID');
    // Key order of the JSON body does not matter.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect((await sb.api('POST', '/payment/unifiedorder', reordered, { idem: key })).text).toBe(first.text);
  });

  it('same key + different body → 409 IDEMPOTENCY_CONFLICT (also across endpoints)', async () => {
    const key = uniq('idem');
    await sb.api('POST', '/payment/unifiedorder', orderBody(), { idem: key });
    const other = await sb.api('POST', '/payment/unifiedorder', orderBody(), { idem: key });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    const elsewhere = await sb.api('POST', '/subscriptions/cancel', { subscription_id: 'sub_x' }, { idem: key });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('error answers are replayed with their status too', async () => {
    const key = uniq('idem');
    const body = orderBody({ amount: -1 });
    const a = await sb.api('POST', '/payment/unifiedorder', body, { idem: key });
    const b = await sb.api('POST', '/payment/unifiedorder', body, { idem: key });
    expect(a.status).toBe(400);
    expect(b.status).toBe(400);
    expect(b.text).toBe(a.text);
  });

  it('keys are scoped per merchant', async () => {
    const key = uniq('shared');
    const mine = await sb.api('POST', '/payment/unifiedorder', orderBody(), { idem: key });
    const theirs = await sb.api('POST', '/payment/unifiedorder', orderBody({}, OTHER.merchantId), { idem: key, key: OTHER.secretKey });
    expect(mine.status).toBe(200);
    expect(theirs.status).toBe(200);
    expect(theirs.body.merchant_id).toBe(OTHER.merchantId);
    expect(theirs.body.order_id).not.toBe(mine.body.order_id);
  });

  it('keys are 1 to 255 characters', async () => {
    expect((await sb.api('POST', '/payment/unifiedorder', orderBody(), { idem: 'k'.repeat(255) })).status).toBe(200);
    const long = await sb.api('POST', '/payment/unifiedorder', orderBody(), { idem: 'k'.repeat(256) });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('INVALID_REQUEST');
    expect(long.body.error.message).toContain('Idempotency-Key');
    expect((await sb.api('POST', '/payment/unifiedorder', orderBody(), { idem: '' })).status).toBe(400);
  });

  it('concurrent retries with one key create one refund and all get the same answer', async () => {
    const order = await sb.payOrder({ amount: 5000 });
    const key = uniq('idem');
    const body = { merchant_id: MERCHANT.merchantId, transaction_id: order.transaction_id, out_refund_no: uniq('R'), amount: 3000, reason: 'dup' };
    const results = await Promise.all(Array.from({ length: 6 }, () => sb.api('POST', '/payment/refund', body, { idem: key })));
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const refunds = (await sb.api('GET', `/sandbox/refunds?merchant_id=${MERCHANT.merchantId}`, undefined, { key: null })).body.refunds;
    expect(refunds.filter((r: any) => r.transaction_id === order.transaction_id)).toHaveLength(1);
    const log = (await sb.api('GET', '/sandbox/requests?endpoint=POST%20/payment/refund', undefined, { key: null })).body.requests;
    expect(log.filter((e: any) => e.idempotency_key === key)).toHaveLength(6);
  });
});
