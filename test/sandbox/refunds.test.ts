import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MERCHANT, OTHER, startReceiver, startSandbox, uniq, waitUntil, type Receiver, type TestSandbox } from './helpers';

let sb: TestSandbox;
let rx: Receiver;

beforeAll(async () => {
  // Long enough that a refund is still PROCESSING when the next request lands, even on a loaded machine.
  sb = await startSandbox({ refundDelayMs: 500 });
  rx = await startReceiver();
});

afterAll(async () => {
  await sb?.stop();
  await rx?.stop();
});

function refundBody(transactionId: string, amount: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { merchant_id: MERCHANT.merchantId, transaction_id: transactionId, out_refund_no: uniq('R'), amount, reason: 'customer asked', ...extra };
}

async function refundStatus(id: string): Promise<any> {
  return (await sb.api('GET', `/payment/refund/status?refund_id=${id}`)).body;
}

describe('POST /payment/refund', () => {
  it('PROCESSING → SUCCEEDED after the delay; order PARTIALLY_REFUNDED then REFUNDED; refund.succeeded webhooks', async () => {
    const order = await sb.payOrder({ amount: 1000, notify_url: rx.url });
    const r1 = await sb.api('POST', '/payment/refund', refundBody(order.transaction_id, 400));
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ status: 'PROCESSING', amount: 400, currency: 'USD', transaction_id: order.transaction_id });
    expect(r1.body.refund_id).toMatch(/^rf_/);
    await waitUntil(async () => (await refundStatus(r1.body.refund_id)).status === 'SUCCEEDED', 3000, 'refund success');
    const after1 = await sb.orderStatus(order.order_id);
    expect(after1).toMatchObject({ status: 'PARTIALLY_REFUNDED', refunded_amount: 400 });
    expect((await refundStatus(r1.body.refund_id)).succeeded_at).toBeTruthy();

    const r2 = await sb.api('POST', '/payment/refund', refundBody(order.transaction_id, 600));
    expect(r2.status).toBe(200);
    await waitUntil(async () => (await sb.orderStatus(order.order_id)).status === 'REFUNDED', 3000, 'full refund');
    expect((await sb.orderStatus(order.order_id)).refunded_amount).toBe(1000);

    const hooks = await rx.waitFor(2, 5000, (r) => r.event.type === 'refund.succeeded' && r.event.data.object.transaction_id === order.transaction_id);
    expect(hooks.map((h) => h.event.data.object.refund_id).sort()).toEqual([r1.body.refund_id, r2.body.refund_id].sort());
    expect(hooks.every((h) => h.event.data.object.status === 'SUCCEEDED')).toBe(true);

    // Fully refunded: anything more exceeds the payment.
    const more = await sb.api('POST', '/payment/refund', refundBody(order.transaction_id, 1));
    expect(more.status).toBe(422);
    expect(more.body.error.code).toBe('REFUND_EXCEEDS_PAYMENT');
  });

  it('looks refunds up by refund_id or out_refund_no; other merchants get 404 REFUND_NOT_FOUND', async () => {
    const order = await sb.payOrder();
    const body = refundBody(order.transaction_id, 100);
    const r = await sb.api('POST', '/payment/refund', body);
    const byNo = await sb.api('GET', `/payment/refund/status?out_refund_no=${encodeURIComponent(String(body.out_refund_no))}`);
    expect(byNo.body.refund_id).toBe(r.body.refund_id);
    const foreign = await sb.api('GET', `/payment/refund/status?refund_id=${r.body.refund_id}`, undefined, { key: OTHER.secretKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('REFUND_NOT_FOUND');
    expect((await sb.api('GET', '/payment/refund/status?refund_id=rf_nope')).status).toBe(404);
    expect((await sb.api('GET', '/payment/refund/status')).status).toBe(400);
  });

  it('same out_refund_no: same parameters → the same refund, different → 409 ORDER_CONFLICT', async () => {
    const order = await sb.payOrder();
    const body = refundBody(order.transaction_id, 100);
    const a = await sb.api('POST', '/payment/refund', body);
    const b = await sb.api('POST', '/payment/refund', body);
    expect(b.status).toBe(200);
    expect(b.body.refund_id).toBe(a.body.refund_id);
    const c = await sb.api('POST', '/payment/refund', { ...body, amount: 101 });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe('ORDER_CONFLICT');
  });

  it('422 PAYMENT_NOT_PAID for unpaid orders, 404 ORDER_NOT_FOUND for unknown or foreign transactions, 400 for bad input', async () => {
    const failed = await sb.createOrder({ amount: 1002 });
    await sb.checkout(failed.order_id, 'authorize');
    // A failed order has no transaction id: unknown transaction.
    expect((await sb.api('POST', '/payment/refund', refundBody('txn_unknown', 100))).body.error.code).toBe('ORDER_NOT_FOUND');
    const paid = await sb.payOrder();
    const foreign = await sb.api(
      'POST',
      '/payment/refund',
      { ...refundBody(paid.transaction_id, 100), merchant_id: OTHER.merchantId },
      { key: OTHER.secretKey },
    );
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('ORDER_NOT_FOUND');
    for (const [field, patch] of [
      ['amount', { amount: 0 }],
      ['amount', { amount: 1.5 }],
      ['transaction_id', { transaction_id: '' }],
      ['out_refund_no', { out_refund_no: 7 }],
    ] as const) {
      const r = await sb.api('POST', '/payment/refund', refundBody(paid.transaction_id, 100, patch));
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain(field);
    }
    const tooMuch = await sb.api('POST', '/payment/refund', refundBody(paid.transaction_id, 2000));
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('REFUND_EXCEEDS_PAYMENT');
  });

  it('422 PAYMENT_NOT_PAID for PENDING, FAILED, CANCELLED and EXPIRED orders (named by order_id / out_trade_no)', async () => {
    const pending = await sb.createOrder();
    expect((await sb.orderStatus(pending.order_id)).transaction_id).toBeNull();
    const failed = await sb.createOrder();
    await sb.checkout(failed.order_id, 'decline');
    const cancelled = await sb.createOrder();
    await sb.checkout(cancelled.order_id, 'cancel');
    const expiring = await sb.createOrder({ expires_in: 60 });
    await sb.advance(61);
    for (const o of [pending, failed, cancelled, expiring]) {
      const r = await sb.api('POST', '/payment/refund', {
        merchant_id: MERCHANT.merchantId,
        order_id: o.order_id,
        out_refund_no: uniq('R'),
        amount: 100,
        reason: 'x',
      });
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('PAYMENT_NOT_PAID');
    }
    const byNo = await sb.api('POST', '/payment/refund', {
      merchant_id: MERCHANT.merchantId,
      out_trade_no: pending.out_trade_no,
      out_refund_no: uniq('R'),
      amount: 100,
    });
    expect(byNo.body.error.code).toBe('PAYMENT_NOT_PAID');
    expect((await sb.orderStatus(pending.order_id)).status).toBe('PENDING');

    const paid = await sb.payOrder({ amount: 500 });
    const viaOrderId = await sb.api('POST', '/payment/refund', {
      merchant_id: MERCHANT.merchantId,
      order_id: paid.order_id,
      out_refund_no: uniq('R'),
      amount: 100,
    });
    expect(viaOrderId.status).toBe(200);
    expect(viaOrderId.body.transaction_id).toBe(paid.transaction_id);
  });

  it('refunds still work on a paid order after a long clock jump', async () => {
    const paid = await sb.payOrder({ amount: 500 });
    // Expire-able? No: a paid order is never closed by the clock, and refunds still work after a clock jump.
    await sb.advance(7200);
    const r = await sb.api('POST', '/payment/refund', refundBody(paid.transaction_id, 500));
    expect(r.status).toBe(200);
  });

  it('10 concurrent 40% refunds: exactly 2 accepted, never more than paid', async () => {
    const order = await sb.payOrder({ amount: 10_000 });
    const results = await Promise.all(Array.from({ length: 10 }, () => sb.api('POST', '/payment/refund', refundBody(order.transaction_id, 4000))));
    const ok = results.filter((r) => r.status === 200);
    const rejected = results.filter((r) => r.status === 422);
    expect(ok).toHaveLength(2);
    expect(rejected).toHaveLength(8);
    expect(rejected.every((r) => r.body.error.code === 'REFUND_EXCEEDS_PAYMENT')).toBe(true);
    await waitUntil(async () => (await sb.orderStatus(order.order_id)).refunded_amount === 8000, 3000, 'refunds settled');
    expect((await sb.orderStatus(order.order_id)).status).toBe('PARTIALLY_REFUNDED');
  });

  it('refund fault: the next refund ends FAILED with refund.failed, and a failed refund frees the amount again', async () => {
    const order = await sb.payOrder({ amount: 1000, notify_url: rx.url });
    const f = await sb.api('POST', '/sandbox/faults', { refunds: { count: 1, failure_code: 'PROVIDER_ERROR' } }, { key: null });
    expect(f.status).toBe(201);
    const r = await sb.api('POST', '/payment/refund', refundBody(order.transaction_id, 1000));
    expect(r.body.status).toBe('PROCESSING');
    // While PROCESSING it counts against the paid amount.
    expect((await sb.api('POST', '/payment/refund', refundBody(order.transaction_id, 1))).body.error.code).toBe('REFUND_EXCEEDS_PAYMENT');
    await waitUntil(async () => (await refundStatus(r.body.refund_id)).status === 'FAILED', 3000, 'refund failure');
    expect(await refundStatus(r.body.refund_id)).toMatchObject({ failure_code: 'PROVIDER_ERROR', succeeded_at: null });
    const [hook] = await rx.waitFor(1, 5000, (x) => x.event.type === 'refund.failed' && x.event.data.object.refund_id === r.body.refund_id);
    expect(hook.event.data.object.status).toBe('FAILED');
    expect(await sb.orderStatus(order.order_id)).toMatchObject({ status: 'PAID', refunded_amount: 0 });
    const retry = await sb.api('POST', '/payment/refund', refundBody(order.transaction_id, 1000));
    expect(retry.status).toBe(200);
    await waitUntil(async () => (await sb.orderStatus(order.order_id)).status === 'REFUNDED', 3000, 'refunded');
  });

  it('lists refunds for inspection', async () => {
    const list = await sb.api('GET', `/sandbox/refunds?merchant_id=${MERCHANT.merchantId}`, undefined, { key: null });
    expect(list.body.refunds.length).toBeGreaterThan(5);
    expect(list.body.refunds.every((r: any) => r.merchant_id === MERCHANT.merchantId)).toBe(true);
  });
});
