import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, GetPaymentDocument, ListPaymentsDocument, PaymentUpdatedDocument } from '../../src/client/generated/graphql';
import { checkout, collect, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.stop();
});

let seq = 0;
function paymentInput(overrides: Record<string, unknown> = {}) {
  seq++;
  return {
    amount: 1999,
    currency: 'USD',
    description: `Order ${seq}`,
    returnUrl: 'https://shop.example/return',
    ...overrides,
  };
}

async function createPayment(overrides: Record<string, unknown> = {}) {
  const res = await gw.gql(CreatePaymentDocument, { input: paymentInput(overrides) as never });
  expect(res.errors).toBeUndefined();
  const result = res.data!.createPayment;
  if (result.__typename !== 'CreatePaymentPayload') throw new Error(`expected a payment, got ${JSON.stringify(result)}`);
  return result.payment;
}

async function sandboxOrders(query = '') {
  return (
    await sandboxCall<{ orders: Array<{ order_id: string; out_trade_no: string; status: string }> }>(
      gw.sandboxUrl,
      'GET',
      `/sandbox/orders?merchant_id=mch_demo${query}`,
    )
  ).orders;
}

describe('createPayment', () => {
  it('creates the payment and its UCanPay checkout, and shows the client secret to the merchant', async () => {
    const payment = await createPayment({ merchantReference: 'A-1001', metadata: { cart: '42' } });
    expect(payment).toMatchObject({
      status: 'PENDING',
      amount: 1999,
      currency: 'USD',
      merchantReference: 'A-1001',
      metadata: { cart: '42' },
      version: 2,
    });
    expect(payment.checkoutUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/checkout\//);
    expect(payment.providerOrderId).toBeTruthy();
    expect(payment.clientSecret).toMatch(new RegExp(`^${payment.id}_secret_`));
    const orders = await sandboxOrders('&out_trade_no=A-1001');
    expect(orders).toHaveLength(1);
    expect(orders[0].order_id).toBe(payment.providerOrderId);
  });

  it.each([
    [{ amount: 0 }, 'input.amount'],
    [{ amount: -5 }, 'input.amount'],
    [{ currency: 'XYZ' }, 'input.currency'],
    [{ currency: 'usd' }, 'input.currency'],
    [{ returnUrl: 'not a url' }, 'input.returnUrl'],
    [{ returnUrl: 'javascript:alert(1)' }, 'input.returnUrl'],
    [{ description: 'x'.repeat(501) }, 'input.description'],
    [{ merchantReference: 'has spaces' }, 'input.merchantReference'],
    [{ metadata: { n: 1 } }, 'input.metadata.n'],
    [{ expiresInSeconds: 5 }, 'input.expiresInSeconds'],
    [{ idempotencyKey: 'k'.repeat(256) }, 'input.idempotencyKey'],
  ])('rejects bad input %j as BAD_USER_INPUT naming %s, and sends nothing to UCanPay', async (overrides, field) => {
    const before = (await sandboxOrders()).length;
    const res = await gw.gql(CreatePaymentDocument, { input: paymentInput(overrides) as never });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, retryable: false });
    expect(res.errors?.[0].message).toContain(field);
    expect((await sandboxOrders()).length).toBe(before);
    const list = await gw.gql(ListPaymentsDocument, { first: 100 });
    expect(list.data!.payments.edges.some((e) => e.node.description === `Order ${seq}`)).toBe(false);
  });

  it('rejects a float amount before any resolver runs, naming the field', async () => {
    const res = await gw.gql(CreatePaymentDocument, { input: paymentInput({ amount: 19.99 }) as never });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('amount');
  });

  it('accepts zero- and three-decimal currencies in minor units', async () => {
    expect(await createPayment({ amount: 500, currency: 'JPY' })).toMatchObject({ amount: 500, currency: 'JPY' });
    expect(await createPayment({ amount: 1234, currency: 'KWD' })).toMatchObject({ amount: 1234, currency: 'KWD' });
  });

  it('returns MerchantReferenceInUseError for a reused merchant reference without an idempotency key', async () => {
    await createPayment({ merchantReference: 'DUP-1' });
    const res = await gw.gql(CreatePaymentDocument, { input: paymentInput({ merchantReference: 'DUP-1' }) as never });
    expect(res.data!.createPayment).toMatchObject({ __typename: 'MerchantReferenceInUseError', code: 'MERCHANT_REFERENCE_IN_USE' });
  });
});

describe('idempotency', () => {
  it('replays the stored payment for the same key and input, and refuses other input with the same key', async () => {
    const input = paymentInput({ idempotencyKey: 'idem-replay-1' });
    const first = await gw.gql(CreatePaymentDocument, { input: input as never });
    const again = await gw.gql(CreatePaymentDocument, { input: input as never });
    expect(first.data!.createPayment).toMatchObject({ __typename: 'CreatePaymentPayload', replayed: false });
    expect(again.data!.createPayment).toMatchObject({ __typename: 'CreatePaymentPayload', replayed: true });
    const [a, b] = [first, again].map((r) => (r.data!.createPayment as { payment: { id: string } }).payment.id);
    expect(b).toBe(a);
    const other = await gw.gql(CreatePaymentDocument, { input: { ...input, amount: 2000 } as never });
    expect(other.data!.createPayment).toMatchObject({
      __typename: 'IdempotencyConflictError',
      code: 'IDEMPOTENCY_CONFLICT',
      idempotencyKey: 'idem-replay-1',
    });
  });

  it('takes the key from the Idempotency-Key header too', async () => {
    const input = paymentInput();
    const headers = { 'idempotency-key': 'idem-header-1' };
    const first = await gw.gql(CreatePaymentDocument, { input: input as never }, { headers });
    const again = await gw.gql(CreatePaymentDocument, { input: input as never }, { headers });
    expect((again.data!.createPayment as { replayed: boolean }).replayed).toBe(true);
    expect((again.data!.createPayment as { payment: { id: string } }).payment.id).toBe((first.data!.createPayment as { payment: { id: string } }).payment.id);
  });

  it('20 concurrent createPayment with one key make one payment and one UCanPay order', async () => {
    const input = paymentInput({ idempotencyKey: 'idem-concurrent-20', merchantReference: 'CONC-20' });
    const results = await Promise.all(Array.from({ length: 20 }, () => gw.gql(CreatePaymentDocument, { input: input as never })));
    const ids = new Set<string>();
    for (const res of results) {
      if (res.errors) {
        // A duplicate that arrives while the first is still talking to UCanPay is told to retry.
        expect(res.errors[0].extensions).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE', retryable: true });
      } else {
        ids.add((res.data!.createPayment as { payment: { id: string } }).payment.id);
      }
    }
    expect(ids.size).toBe(1);
    expect(await sandboxOrders('&out_trade_no=CONC-20')).toHaveLength(1);
    const list = await gw.gql(ListPaymentsDocument, { first: 100 });
    expect(list.data!.payments.edges.filter((e) => e.node.merchantReference === 'CONC-20')).toHaveLength(1);
  });
});

describe('the customer at checkout, seen live over graphql-ws', () => {
  it.each([
    ['authorize', 'PAID'],
    ['decline', 'FAILED'],
    ['cancel', 'CANCELLED'],
  ] as const)('%s → %s pushed to the subscriber and stored', async (action, status) => {
    const payment = await createPayment();
    const sub = collect(gw.ws(), PaymentUpdatedDocument, { id: payment.id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    const back = await checkout(payment.checkoutUrl!, action);
    expect(back.searchParams.get('status')).toBe(status);
    const pushed = await sub.until((v) => v.data?.paymentUpdated.status === status);
    expect(pushed.data!.paymentUpdated.version).toBeGreaterThan(payment.version);
    const stored = (await gw.gql(GetPaymentDocument, { id: payment.id })).data!.payment!;
    expect(stored.status).toBe(status);
    if (status === 'PAID') {
      expect(stored.transactionId).toBeTruthy();
      expect(stored.paidAt).toBeTruthy();
    }
    if (status === 'FAILED') expect(stored.failureCode).toBe('CARD_DECLINED');
    // Versions arrive once each, in order.
    const versions = sub.values.map((v) => v.data!.paymentUpdated.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    sub.unsubscribe();
  });

  it('a magic declining amount fails with INSUFFICIENT_FUNDS', async () => {
    const payment = await createPayment({ amount: 1051 });
    await checkout(payment.checkoutUrl!, 'authorize');
    const stored = await eventually(async () => {
      const p = (await gw.gql(GetPaymentDocument, { id: payment.id })).data!.payment!;
      return p.status === 'FAILED' ? p : null;
    });
    expect(stored.failureCode).toBe('INSUFFICIENT_FUNDS');
  });

  it('expires when the sandbox clock passes expiresAt', async () => {
    const payment = await createPayment({ expiresInSeconds: 600 });
    const sub = collect(gw.ws(), PaymentUpdatedDocument, { id: payment.id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/clock/advance', { seconds: 601 });
    await sub.until((v) => v.data?.paymentUpdated.status === 'EXPIRED');
    sub.unsubscribe();
  });
});
