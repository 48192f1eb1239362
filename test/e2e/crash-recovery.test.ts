import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, CreateSubscriptionDocument, GetPaymentDocument, GetSubscriptionDocument } from '../../src/client/generated/graphql';
import { PaymentEntity } from '../../src/entities';
import { checkout, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * UCanPay processed the order but its answer never reached the gateway — the
 * same state a crash between "call UCanPay" and "save the answer" leaves. The
 * caller's retry with the same key, or reconciliation, must finish the job
 * with exactly one order at UCanPay.
 */
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ UCANPAY_MAX_ATTEMPTS: '1', RECONCILE_STALE_AFTER_SECONDS: '0' });
});
afterAll(async () => {
  await gw?.stop();
});

const input = (ref: string) => ({
  amount: 4200,
  currency: 'USD',
  description: 'Lost answer',
  returnUrl: 'https://shop.example/r',
  merchantReference: ref,
});

async function loseNextCreateAnswer() {
  await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', {
    endpoint: 'POST /payment/unifiedorder',
    count: 1,
    drop: true,
    when: 'after',
  });
}

async function ordersFor(ref: string) {
  return (await sandboxCall<{ orders: Array<{ order_id: string }> }>(gw.sandboxUrl, 'GET', `/sandbox/orders?merchant_id=mch_demo&out_trade_no=${ref}`)).orders;
}

describe('an answer lost after UCanPay created the order', () => {
  it('the retry with the same key adopts the one order instead of making a second', async () => {
    await loseNextCreateAnswer();
    const first = await gw.gql(CreatePaymentDocument, { input: { ...input('LOST-1'), idempotencyKey: 'lost-1' } });
    expect(first.errors?.[0].extensions).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(await ordersFor('LOST-1')).toHaveLength(1); // UCanPay has it; the gateway does not know yet

    const retry = await gw.gql(CreatePaymentDocument, { input: { ...input('LOST-1'), idempotencyKey: 'lost-1' } });
    const payment = (retry.data!.createPayment as { payment: { id: string; providerOrderId: string; checkoutUrl: string } }).payment;
    const orders = await ordersFor('LOST-1');
    expect(orders).toHaveLength(1);
    expect(payment.providerOrderId).toBe(orders[0].order_id);
    await checkout(payment.checkoutUrl, 'authorize');
    await eventually(async () => (await gw.gql(GetPaymentDocument, { id: payment.id })).data!.payment!.status === 'PAID');
  });

  it('without a retry, reconciliation finds the order by merchant reference and the payment completes', async () => {
    await loseNextCreateAnswer();
    const first = await gw.gql(CreatePaymentDocument, { input: { ...input('LOST-2'), idempotencyKey: 'lost-2' } });
    expect(first.errors?.[0].extensions?.code).toBe('PROVIDER_UNAVAILABLE');
    const row = await gw.app.db.manager.findOneOrFail(PaymentEntity, { where: { merchantReference: 'LOST-2' } });
    expect(row).toMatchObject({ status: 'PENDING', providerOrderId: null });

    await gw.app.services.reconciliation.runOnce();
    const adopted = await gw.app.db.manager.findOneOrFail(PaymentEntity, { where: { id: row.id } });
    const orders = await ordersFor('LOST-2');
    expect(orders).toHaveLength(1);
    expect(adopted.providerOrderId).toBe(orders[0].order_id);
    expect(adopted.checkoutUrl).toBeTruthy();
  });
});

describe('a subscription webhook that never arrives', () => {
  it('reconciliation asks UCanPay and the mandate authorization still lands', async () => {
    const now = new Date((await sandboxCall<{ now: string }>(gw.sandboxUrl, 'GET', '/sandbox/clock')).now);
    const res = await gw.gql(CreateSubscriptionDocument, {
      input: {
        customer: { id: 'cus_lost', email: 'lost@example.com', name: 'Lost' },
        amount: 900,
        currency: 'USD',
        interval: 'MONTH',
        startDate: now.toISOString().slice(0, 10),
        returnUrl: 'https://shop.example/r',
      },
    });
    const sub = (res.data!.createSubscription as { subscription: { id: string; authorizationUrl: string } }).subscription;
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'drop', count: 1, types: ['subscription.activated'] } });
    await checkout(sub.authorizationUrl, 'authorize');
    await new Promise((r) => setTimeout(r, 300));
    expect((await gw.gql(GetSubscriptionDocument, { id: sub.id })).data!.subscription!.status).toBe('PENDING_AUTHORIZATION');

    await eventually(async () => {
      await gw.app.services.reconciliation.runOnce();
      return (await gw.gql(GetSubscriptionDocument, { id: sub.id })).data!.subscription!.status === 'ACTIVE';
    });
    const active = (await gw.gql(GetSubscriptionDocument, { id: sub.id })).data!.subscription!;
    expect(active.charges).toHaveLength(1);
  });
});
