import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreatePaymentDocument,
  GetPaymentDocument,
  GetRefundDocument,
  ListPaymentsWithRefundsDocument,
  ListRefundsDocument,
  PaymentUpdatedDocument,
  PaymentWithRefundsDocument,
  RefundPaymentDocument,
  RefundUpdatedDocument,
} from '../../src/client/generated/graphql';
import { signWebhookPayload } from '../../src/ucanpay';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { checkout, collect, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';
import { dataStatements, statementsOf } from '../helpers/query-count';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ RECONCILE_INTERVAL_MS: '200', RECONCILE_STALE_AFTER_SECONDS: '1' });
});
afterAll(async () => {
  await gw?.stop();
});

async function paidPayment(amount = 10_000, currency = 'USD') {
  const res = await gw.gql(CreatePaymentDocument, {
    input: { amount, currency, description: 'Refund test', returnUrl: 'https://shop.example/r' },
  });
  const created = res.data!.createPayment;
  if (created.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(res));
  await checkout(created.payment.checkoutUrl!, 'authorize');
  return eventually(async () => {
    const p = (await gw.gql(GetPaymentDocument, { id: created.payment.id })).data!.payment!;
    return p.status === 'PAID' ? p : null;
  });
}

async function refund(input: { paymentId: string; amount?: number; idempotencyKey?: string; merchantReference?: string; reason?: string }) {
  const res = await gw.gql(RefundPaymentDocument, { input });
  expect(res.errors).toBeUndefined();
  return res.data!.refundPayment;
}

async function settledRefund(id: string) {
  return eventually(async () => {
    const r = (await gw.gql(GetRefundDocument, { id })).data!.refund!;
    return r.status !== 'PROCESSING' ? r : null;
  });
}

async function sandboxRefunds() {
  return (
    await sandboxCall<{ refunds: Array<{ refund_id: string; amount: number; status: string; transaction_id: string }> }>(
      gw.sandboxUrl,
      'GET',
      '/sandbox/refunds?merchant_id=mch_demo',
    )
  ).refunds;
}

describe('refundPayment', () => {
  it('partial, partial, then the remainder: PARTIALLY_REFUNDED → REFUNDED, pushed live', async () => {
    const payment = await paidPayment(10_000);
    const sub = collect(gw.ws(), PaymentUpdatedDocument, { id: payment.id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PAID');

    const first = await refund({ paymentId: payment.id, amount: 3000, reason: 'damaged' });
    if (first.__typename !== 'RefundPaymentPayload') throw new Error(JSON.stringify(first));
    expect(first.refund).toMatchObject({ status: 'PROCESSING', amount: 3000, currency: 'USD', reason: 'damaged' });
    expect(first.payment.refundableAmount).toBe(7000);
    expect((await settledRefund(first.refund.id)).status).toBe('SUCCEEDED');
    await sub.until((v) => v.data?.paymentUpdated.status === 'PARTIALLY_REFUNDED');

    const second = await refund({ paymentId: payment.id, amount: 2000 });
    if (second.__typename !== 'RefundPaymentPayload') throw new Error(JSON.stringify(second));
    await settledRefund(second.refund.id);

    const rest = await refund({ paymentId: payment.id });
    if (rest.__typename !== 'RefundPaymentPayload') throw new Error(JSON.stringify(rest));
    expect(rest.refund.amount).toBe(5000);
    await settledRefund(rest.refund.id);
    await sub.until((v) => v.data?.paymentUpdated.status === 'REFUNDED');

    const final = (await gw.gql(PaymentWithRefundsDocument, { id: payment.id })).data!.payment!;
    expect(final).toMatchObject({ status: 'REFUNDED', refundedAmount: 10_000, refundableAmount: 0 });
    expect(final.refunds.map((r) => [r.amount, r.status])).toEqual([
      [3000, 'SUCCEEDED'],
      [2000, 'SUCCEEDED'],
      [5000, 'SUCCEEDED'],
    ]);
    const order = await sandboxCall<{ status: string; refunded_amount: number }>(
      gw.sandboxUrl,
      'GET',
      `/sandbox/orders?merchant_id=mch_demo&out_trade_no=${payment.merchantReference}`,
    );
    expect((order as unknown as { orders: Array<{ status: string; refunded_amount: number }> }).orders[0]).toMatchObject({
      status: 'REFUNDED',
      refunded_amount: 10_000,
    });

    const again = await refund({ paymentId: payment.id, amount: 1 });
    expect(again).toMatchObject({ __typename: 'PaymentNotRefundableError', code: 'PAYMENT_NOT_REFUNDABLE', paymentStatus: 'REFUNDED' });
    sub.unsubscribe();
  });

  it('an over-refund is a typed error with the refundable amount, and nothing reaches UCanPay', async () => {
    const payment = await paidPayment(5000);
    const before = (await sandboxRefunds()).length;
    const res = await refund({ paymentId: payment.id, amount: 5001 });
    expect(res).toMatchObject({ __typename: 'RefundExceedsPaymentError', code: 'REFUND_EXCEEDS_PAYMENT', refundableAmount: 5000, requestedAmount: 5001 });
    expect((await sandboxRefunds()).length).toBe(before);
  });

  it('refunding an unpaid payment is a typed error', async () => {
    const res = await gw.gql(CreatePaymentDocument, {
      input: { amount: 700, currency: 'USD', description: 'unpaid', returnUrl: 'https://shop.example/r' },
    });
    const created = res.data!.createPayment as { payment: { id: string } };
    expect(await refund({ paymentId: created.payment.id })).toMatchObject({
      __typename: 'PaymentNotRefundableError',
      paymentStatus: 'PENDING',
    });
  });

  it('bad input is BAD_USER_INPUT naming the field; an unknown payment is NOT_FOUND', async () => {
    const payment = await paidPayment(1000);
    const bad = await gw.gql(RefundPaymentDocument, { input: { paymentId: payment.id, amount: 0 } });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount' });
    const missing = await gw.gql(RefundPaymentDocument, { input: { paymentId: 'pay_0000000000000000000000zzzz' } });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('10 concurrent refunds of 40% each: at most 2 accepted, at the gateway and at UCanPay', async () => {
    const payment = await paidPayment(10_000);
    const results = await Promise.all(Array.from({ length: 10 }, () => refund({ paymentId: payment.id, amount: 4000 })));
    const accepted = results.filter((r) => r.__typename === 'RefundPaymentPayload');
    expect(accepted).toHaveLength(2);
    expect(results.filter((r) => r.__typename === 'RefundExceedsPaymentError')).toHaveLength(8);
    const atSandbox = (await sandboxRefunds()).filter((r) => r.transaction_id === payment.transactionId);
    expect(atSandbox).toHaveLength(2);
    expect(atSandbox.reduce((sum, r) => sum + r.amount, 0)).toBe(8000);
  });

  it('is idempotent: the same key replays, other input conflicts, one refund at UCanPay', async () => {
    const payment = await paidPayment(3000);
    const input = { paymentId: payment.id, amount: 1000, idempotencyKey: 'refund-key-1' };
    const first = await refund(input);
    const again = await refund(input);
    expect(again).toMatchObject({ __typename: 'RefundPaymentPayload', replayed: true });
    expect((again as { refund: { id: string } }).refund.id).toBe((first as { refund: { id: string } }).refund.id);
    expect(await refund({ ...input, amount: 999 })).toMatchObject({ __typename: 'IdempotencyConflictError' });
    expect((await sandboxRefunds()).filter((r) => r.transaction_id === payment.transactionId)).toHaveLength(1);
  });

  it('a refund UCanPay fails ends FAILED and its amount is refundable again', async () => {
    const payment = await paidPayment(2000);
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { refunds: { count: 1, failure_code: 'PROVIDER_ERROR' } });
    const res = await refund({ paymentId: payment.id, amount: 2000 });
    if (res.__typename !== 'RefundPaymentPayload') throw new Error(JSON.stringify(res));
    const sub = collect(gw.ws(), RefundUpdatedDocument, { id: res.refund.id });
    await sub.until((v) => v.data?.refundUpdated.status === 'FAILED');
    const after = (await gw.gql(PaymentWithRefundsDocument, { id: payment.id })).data!.payment!;
    expect(after).toMatchObject({ status: 'PAID', refundedAmount: 0, refundableAmount: 2000 });
    expect(after.refunds[0]).toMatchObject({ status: 'FAILED', failureCode: 'PROVIDER_ERROR' });
    const retry = await refund({ paymentId: payment.id, amount: 2000 });
    expect(retry.__typename).toBe('RefundPaymentPayload');
    sub.unsubscribe();
  });

  it('zero- and three-decimal currencies refund in minor units', async () => {
    const jpy = await paidPayment(1500, 'JPY');
    expect(await refund({ paymentId: jpy.id, amount: 500 })).toMatchObject({ refund: { amount: 500, currency: 'JPY' } });
    const kwd = await paidPayment(12_345, 'KWD');
    const res = await refund({ paymentId: kwd.id, amount: 12_346 });
    expect(res).toMatchObject({ __typename: 'RefundExceedsPaymentError', refundableAmount: 12_345, currency: 'KWD' });
  });

  it('a client secret reads the payment’s refunds but cannot create one', async () => {
    const payment = await paidPayment(4000);
    const done = await refund({ paymentId: payment.id, amount: 1000 });
    const token = payment.clientSecret!;
    const read = await gw.gql(PaymentWithRefundsDocument, { id: payment.id }, { token });
    expect(read.data!.payment!.refunds).toHaveLength(1);
    const refundRead = await gw.gql(GetRefundDocument, { id: (done as { refund: { id: string } }).refund.id }, { token });
    expect(refundRead.data!.refund!.amount).toBe(1000);
    const create = await gw.gql(RefundPaymentDocument, { input: { paymentId: payment.id, amount: 100 } }, { token });
    expect(create.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('refund webhooks', () => {
  it('a duplicated refund.succeeded is applied once', async () => {
    const payment = await paidPayment(6000);
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'duplicate', count: 1, types: ['refund.succeeded'] } });
    const res = await refund({ paymentId: payment.id, amount: 1000 });
    const done = await settledRefund((res as { refund: { id: string } }).refund.id);
    expect(done.status).toBe('SUCCEEDED');
    await new Promise((r) => setTimeout(r, 300));
    const p = (await gw.gql(PaymentWithRefundsDocument, { id: payment.id })).data!.payment!;
    expect(p).toMatchObject({ refundedAmount: 1000, status: 'PARTIALLY_REFUNDED' });
    expect(done.version).toBe((await gw.gql(GetRefundDocument, { id: done.id })).data!.refund!.version);
  });

  it('a dropped refund webhook is repaired by reconciliation', async () => {
    const payment = await paidPayment(6000);
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'drop', count: 1, types: ['refund.succeeded'] } });
    const res = await refund({ paymentId: payment.id, amount: 6000 });
    const sub = collect(gw.ws(), RefundUpdatedDocument, { id: (res as { refund: { id: string } }).refund.id });
    await sub.until((v) => v.data?.refundUpdated.status === 'SUCCEEDED', 15_000);
    expect((await gw.gql(GetPaymentDocument, { id: payment.id })).data!.payment!.status).toBe('REFUNDED');
    sub.unsubscribe();
  });

  it('a late refund.failed cannot undo a succeeded refund', async () => {
    const payment = await paidPayment(6000);
    const res = await refund({ paymentId: payment.id, amount: 100 });
    const done = await settledRefund((res as { refund: { id: string } }).refund.id);
    const body = JSON.stringify({
      id: 'evt_late_refund_failed',
      type: 'refund.failed',
      created: Math.floor(Date.now() / 1000) - 60,
      data: {
        object: {
          refund_id: done.providerRefundId,
          out_refund_no: done.merchantReference,
          transaction_id: payment.transactionId,
          amount: 100,
          currency: 'USD',
          status: 'FAILED',
          failure_code: 'X',
        },
      },
    });
    const answer = await fetch(`${gw.app.url}/webhooks/ucanpay/${gw.app.demo.merchantId}`, {
      method: 'POST',
      headers: { 'ucanpay-signature': signWebhookPayload(SANDBOX_DEFAULTS.webhookSecret, body, Math.floor(Date.now() / 1000)) },
      body,
    });
    expect(await answer.json()).toEqual({ received: true, outcome: 'unchanged' });
    expect((await gw.gql(GetRefundDocument, { id: done.id })).data!.refund!.status).toBe('SUCCEEDED');
  });
});

describe('a refund event for another amount than the refund', () => {
  it('is acknowledged as mismatch and not applied; the payment is credited with what it asked, not what the event says', async () => {
    const payment = await paidPayment(6000);
    const res = await refund({ paymentId: payment.id, amount: 1000 });
    const created = (res as { refund: { id: string; merchantReference: string } }).refund;
    const providerRefundId = await eventually(async () => (await gw.gql(GetRefundDocument, { id: created.id })).data!.refund!.providerRefundId);
    const body = JSON.stringify({
      id: 'evt_refund_mismatch',
      type: 'refund.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          refund_id: providerRefundId,
          out_refund_no: created.merchantReference,
          transaction_id: payment.transactionId,
          amount: 5000,
          currency: 'USD',
          status: 'SUCCEEDED',
        },
      },
    });
    const answer = await fetch(`${gw.app.url}/webhooks/ucanpay/${gw.app.demo.merchantId}`, {
      method: 'POST',
      headers: { 'ucanpay-signature': signWebhookPayload(SANDBOX_DEFAULTS.webhookSecret, body, Math.floor(Date.now() / 1000)) },
      body,
    });
    expect(await answer.json()).toEqual({ received: true, outcome: 'mismatch' });
    // The sandbox's own refund.succeeded (1000) settles it.
    const done = await settledRefund(created.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', amount: 1000 });
    expect((await gw.gql(PaymentWithRefundsDocument, { id: payment.id })).data!.payment!).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedAmount: 1000 });
  });
});

describe('refund lists', () => {
  it('lists refunds by payment and status', async () => {
    const payment = await paidPayment(9000);
    await refund({ paymentId: payment.id, amount: 1000 });
    await refund({ paymentId: payment.id, amount: 2000 });
    const list = (await gw.gql(ListRefundsDocument, { paymentId: payment.id, first: 10 })).data!.refunds;
    expect(list.edges.map((e) => e.node.amount)).toEqual([2000, 1000]);
  });

  it('payments with their refunds: a constant number of SQL queries', async () => {
    const counts: number[] = [];
    for (const first of [2, 20]) {
      // Only this request's own statements: reconciliation, webhooks or other requests running meanwhile are not counted.
      const { result, statements } = await statementsOf([gw.app.db.readDataSource, gw.app.db.dataSource], (headers) =>
        gw.gql(ListPaymentsWithRefundsDocument, { first }, { headers }),
      );
      expect(result.errors).toBeUndefined();
      expect(result.data!.payments.edges.length).toBeGreaterThan(1);
      counts.push(dataStatements(statements).length);
    }
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[0]).toBe(counts[1]);
    expect(counts[1]).toBeLessThanOrEqual(2);
  });
});
