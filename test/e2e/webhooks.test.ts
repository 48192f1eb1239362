import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, GetPaymentDocument, PaymentUpdatedDocument } from '../../src/client/generated/graphql';
import { signWebhookPayload } from '../../src/ucanpay';
import { WebhookEventEntity } from '../../src/entities';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { checkout, collect, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ RECONCILE_INTERVAL_MS: '200', RECONCILE_STALE_AFTER_SECONDS: '1' });
});
afterAll(async () => {
  await gw?.stop();
});

async function newPayment() {
  const res = await gw.gql(CreatePaymentDocument, {
    input: { amount: 2500, currency: 'EUR', description: 'Webhook test', returnUrl: 'https://shop.example/r' },
  });
  const result = res.data!.createPayment;
  if (result.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(res));
  return result.payment;
}

async function status(id: string) {
  return (await gw.gql(GetPaymentDocument, { id })).data!.payment!;
}

function webhookUrl() {
  return `${gw.app.url}/webhooks/ucanpay/${gw.app.demo.merchantId}`;
}

async function postEvent(event: object, { secret = SANDBOX_DEFAULTS.webhookSecret as string, t = Math.floor(Date.now() / 1000) } = {}) {
  const body = JSON.stringify(event);
  const res = await fetch(webhookUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ucanpay-signature': signWebhookPayload(secret, body, t) },
    body,
  });
  return { status: res.status, body: (await res.json()) as { received: boolean; outcome?: string; error?: string } };
}

function orderEvent(id: string, type: string, order: Record<string, unknown>, created = Math.floor(Date.now() / 1000)) {
  return { id, type, created, data: { object: { amount: 2500, currency: 'EUR', refunded_amount: 0, ...order } } };
}

describe('webhook route', () => {
  it('rejects a bad signature, a wrong secret and a stale timestamp with 400, changing nothing', async () => {
    const payment = await newPayment();
    const event = orderEvent('evt_sig_1', 'payment.succeeded', {
      order_id: payment.providerOrderId,
      out_trade_no: payment.merchantReference,
      status: 'PAID',
      transaction_id: 'txn_forged',
    });
    expect((await postEvent(event, { secret: 'whsec_wrong' })).status).toBe(400);
    expect((await postEvent(event, { t: Math.floor(Date.now() / 1000) - 301 })).status).toBe(400);
    const unsigned = await fetch(webhookUrl(), { method: 'POST', body: JSON.stringify(event) });
    expect(unsigned.status).toBe(400);
    expect(await status(payment.id)).toMatchObject({ status: 'PENDING', version: payment.version });
  });

  it('answers 400 to malformed JSON and acknowledges unknown event types without applying them', async () => {
    const body = '{"id": "evt_bad",';
    const t = Math.floor(Date.now() / 1000);
    const res = await fetch(webhookUrl(), {
      method: 'POST',
      headers: { 'ucanpay-signature': signWebhookPayload(SANDBOX_DEFAULTS.webhookSecret, body, t) },
      body,
    });
    expect(res.status).toBe(400);
    expect(await postEvent({ id: 'evt_unknown_1', type: 'payout.created', created: t, data: { object: {} } })).toEqual({
      status: 200,
      body: { received: true, outcome: 'ignored' },
    });
  });

  it('answers 400 to an event whose object has a status its type cannot carry, applying and recording nothing', async () => {
    const payment = await newPayment();
    const ids = { order_id: payment.providerOrderId, out_trade_no: payment.merchantReference };
    const refund = { refund_id: 'rf_nobody', out_refund_no: 'R-nobody', transaction_id: 'txn_x', amount: 100, currency: 'EUR' };
    const refundEvent = (id: string, type: string, status: string) => ({
      id,
      type,
      created: Math.floor(Date.now() / 1000),
      data: { object: { ...refund, status } },
    });
    const wrong: Array<[string, object]> = [
      ['payment.succeeded FAILED', orderEvent('evt_st_1', 'payment.succeeded', { ...ids, status: 'FAILED' })],
      ['payment.expired PAID', orderEvent('evt_st_2', 'payment.expired', { ...ids, status: 'PAID', transaction_id: 'txn_st' })],
      ['payment.failed PENDING', orderEvent('evt_st_3', 'payment.failed', { ...ids, status: 'PENDING' })],
      ['payment.cancelled EXPIRED', orderEvent('evt_st_4', 'payment.cancelled', { ...ids, status: 'EXPIRED' })],
      ['refund.succeeded FAILED', refundEvent('evt_st_5', 'refund.succeeded', 'FAILED')],
      ['refund.failed PROCESSING', refundEvent('evt_st_6', 'refund.failed', 'PROCESSING')],
    ];
    for (const [name, event] of wrong) {
      const res = await postEvent(event);
      expect(res.status, name).toBe(400);
      expect(res.body.error, name).toMatch(/does not match object status/);
    }
    expect(await status(payment.id)).toMatchObject({ status: 'PENDING', version: payment.version });
    expect(await gw.app.db.manager.count(WebhookEventEntity, { where: { eventId: 'evt_st_1' } })).toBe(0);
    // The pairings the contract allows pass the check (about objects the gateway does not have: acknowledged, ignored).
    const nobody = { order_id: 'ord_nobody', out_trade_no: 'A-nobody' };
    const right: Array<[string, object]> = [
      ['payment.succeeded REFUNDED', orderEvent('evt_ok_1', 'payment.succeeded', { ...nobody, status: 'REFUNDED', refunded_amount: 2500 })],
      ['payment.cancelled CANCELLED', orderEvent('evt_ok_2', 'payment.cancelled', { ...nobody, status: 'CANCELLED' })],
      ['refund.failed FAILED', refundEvent('evt_ok_3', 'refund.failed', 'FAILED')],
    ];
    for (const [name, event] of right) expect(await postEvent(event), name).toEqual({ status: 200, body: { received: true, outcome: 'ignored' } });
  });

  it('applies an event once: a duplicate is acknowledged but changes nothing and pushes nothing', async () => {
    const payment = await newPayment();
    const sub = collect(gw.ws(), PaymentUpdatedDocument, { id: payment.id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    const event = orderEvent('evt_dup_1', 'payment.succeeded', {
      order_id: payment.providerOrderId,
      out_trade_no: payment.merchantReference,
      status: 'PAID',
      transaction_id: 'txn_dup_1',
      paid_at: new Date().toISOString(),
    });
    expect((await postEvent(event)).body.outcome).toBe('applied');
    expect((await postEvent(event)).body.outcome).toBe('duplicate');
    await sub.until((v) => v.data?.paymentUpdated.status === 'PAID');
    await new Promise((r) => setTimeout(r, 200));
    expect(sub.values.filter((v) => v.data!.paymentUpdated.status === 'PAID')).toHaveLength(1);
    const rows = await gw.app.db.manager.find(WebhookEventEntity, { where: { eventId: 'evt_dup_1' } });
    expect(rows).toHaveLength(1);
    sub.unsubscribe();
  });

  it('never lets a late snapshot undo a newer state', async () => {
    const payment = await newPayment();
    const ids = { order_id: payment.providerOrderId, out_trade_no: payment.merchantReference, transaction_id: 'txn_late' };
    const now = Math.floor(Date.now() / 1000);
    // The newer state (fully refunded) arrives first, the older PAID snapshot after it.
    await postEvent(orderEvent('evt_late_2', 'payment.succeeded', { ...ids, status: 'REFUNDED', refunded_amount: 2500 }, now));
    expect((await postEvent(orderEvent('evt_late_1', 'payment.succeeded', { ...ids, status: 'PAID' }, now - 60))).body.outcome).toBe('unchanged');
    expect(await status(payment.id)).toMatchObject({ status: 'REFUNDED' });
  });

  it('events signed with another merchant’s secret cannot change this merchant’s payment', async () => {
    const payment = await newPayment();
    const res = await postEvent(
      orderEvent('evt_other_1', 'payment.succeeded', { order_id: payment.providerOrderId, out_trade_no: payment.merchantReference, status: 'PAID' }),
      { secret: 'whsec_of_some_other_merchant' },
    );
    expect(res.status).toBe(400);
    expect((await status(payment.id)).status).toBe('PENDING');
  });
});

describe('an event for another amount or currency than the payment', () => {
  it('is acknowledged as mismatch and not applied: a PAID for another sum never marks the payment paid', async () => {
    const payment = await newPayment(); // 2500 EUR
    const order = { order_id: payment.providerOrderId, out_trade_no: payment.merchantReference, status: 'PAID', transaction_id: 'txn_mm' };
    expect(await postEvent(orderEvent('evt_mm_amount', 'payment.succeeded', { ...order, amount: 1 }))).toEqual({
      status: 200,
      body: { received: true, outcome: 'mismatch' },
    });
    expect(await postEvent(orderEvent('evt_mm_currency', 'payment.succeeded', { ...order, currency: 'USD' }))).toEqual({
      status: 200,
      body: { received: true, outcome: 'mismatch' },
    });
    expect(await status(payment.id)).toMatchObject({ status: 'PENDING', version: payment.version });
    const rows = await gw.app.db.manager.find(WebhookEventEntity, { where: { objectId: payment.id } });
    expect(rows.map((r) => r.outcome).sort()).toEqual(['mismatch', 'mismatch']);
    // The true event is still applied.
    expect((await postEvent(orderEvent('evt_mm_true', 'payment.succeeded', order))).body.outcome).toBe('applied');
    expect(await status(payment.id)).toMatchObject({ status: 'PAID' });
  });
});

describe('webhook faults from the sandbox', () => {
  it('duplicate delivery: one transition, one push', async () => {
    const payment = await newPayment();
    const sub = collect(gw.ws(), PaymentUpdatedDocument, { id: payment.id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'duplicate', count: 1 } });
    await checkout(payment.checkoutUrl!, 'authorize');
    await sub.until((v) => v.data?.paymentUpdated.status === 'PAID');
    const rows = await eventually(async () => {
      const found = await gw.app.db.manager.find(WebhookEventEntity, { where: { objectId: payment.id } });
      return found.length ? found : null;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(rows).toHaveLength(1);
    expect(sub.values.filter((v) => v.data!.paymentUpdated.status === 'PAID')).toHaveLength(1);
    sub.unsubscribe();
  });

  it('bad signature on the first attempt: rejected, then the retry is applied', async () => {
    const payment = await newPayment();
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'bad_signature', count: 1 } });
    await checkout(payment.checkoutUrl!, 'authorize');
    await eventually(async () => (await status(payment.id)).status === 'PAID');
    const { events } = await sandboxCall<{ events: Array<{ type: string; attempts: number; delivered: boolean }> }>(
      gw.sandboxUrl,
      'GET',
      '/sandbox/webhooks?merchant_id=mch_demo',
    );
    expect(events.some((e) => e.type === 'payment.succeeded' && e.delivered && e.attempts >= 2)).toBe(true);
  });

  it('dropped webhook: reconciliation asks UCanPay and the subscriber still hears PAID', async () => {
    const payment = await newPayment();
    const sub = collect(gw.ws(), PaymentUpdatedDocument, { id: payment.id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'drop', count: 1 } });
    await checkout(payment.checkoutUrl!, 'authorize');
    const pushed = await sub.until((v) => v.data?.paymentUpdated.status === 'PAID', 15_000);
    expect(pushed.data!.paymentUpdated.transactionId).toBeTruthy();
    const rows = await gw.app.db.manager.find(WebhookEventEntity, { where: { objectId: payment.id } });
    expect(rows).toHaveLength(0); // the webhook never came: reconciliation did it
    sub.unsubscribe();
  });

  it('refresh: true verifies with UCanPay on demand', async () => {
    const payment = await newPayment();
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'delay', count: 1, delay_ms: 5000 } });
    await checkout(payment.checkoutUrl!, 'authorize');
    const res = await gw.gql(GetPaymentDocument, { id: payment.id, refresh: true });
    expect(res.data!.payment).toMatchObject({ status: 'PAID' });
  });
});
