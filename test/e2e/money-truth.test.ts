import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { print, type ExecutionResult } from 'graphql';
import { CreatePaymentDocument, GetPaymentDocument, RefundPaymentDocument, type RefundPaymentMutation } from '../../src/client/generated/graphql';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { PaymentEntity, RefundEntity, WebhookEventEntity } from '../../src/entities';
import { createLogger } from '../../src/logger';
import { signWebhookPayload, UCanPayClient } from '../../src/ucanpay';
import { dropPostgresSchema, freshPostgresSchema } from '../helpers/databases';
import { checkout, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * The fixed cases of issue 12: interleavings with a slow UCanPay in which the
 * gateway's own record disagreed with UCanPay's. The gateway and the sandbox
 * run in this process, so both read the moved clock (Date.now is shifted:
 * the sandbox clock is real time + its offset, the gateway's expiries and
 * claim leases are Date.now): no wall-clock sleeps past an expiry or a lease.
 * Waits are bounded by performance.now, which the shift does not touch.
 */
const realNow = Date.now.bind(Date);
let shift = 0;
function moveClock(ms: number): void {
  shift += ms;
}

let gw: TestGateway;
let logLines: Array<{ level: number; msg: string; [k: string]: unknown }>;
/** The gateway's database for the cases run on both (SQLite unless a `describe.each` says postgres). */
let database: 'sqlite' | 'postgres' = 'sqlite';
let pgSchema: string | undefined;

/** Starts this test's gateway; false when the case needs PostgreSQL and it is not running (notice printed). */
async function start(env: Record<string, string> = {}, sandbox: Record<string, unknown> = {}): Promise<boolean> {
  logLines = [];
  const sink = { write: (line: string) => void logLines.push(JSON.parse(line)) };
  const dbEnv: Record<string, string> = {};
  if (database === 'postgres') {
    const pg = await freshPostgresSchema('money_truth');
    if (!pg) return false;
    pgSchema = pg.schema;
    const url = new URL(pg.url);
    url.searchParams.set('schema', pg.schema);
    dbEnv.DATABASE_URL = url.toString();
  }
  gw = await startGateway(
    { UCANPAY_MAX_ATTEMPTS: '1', RECONCILE_STALE_AFTER_SECONDS: '0', LOG_LEVEL: 'warn', ...dbEnv, ...env },
    { logger: createLogger('warn', sink), sandbox },
  );
  return true;
}

beforeEach(() => {
  shift = 0;
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + shift);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await gw?.stop();
  gw = undefined as unknown as TestGateway;
  if (pgSchema) await dropPostgresSchema(pgSchema);
  pgSchema = undefined;
});

/** Polls until `check` is truthy; bounded by real time (`eventually` uses performance.now, which the shifted Date.now does not move). */
const waitFor = <T>(check: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> => eventually(check, ms);

const fault = (rule: object) => sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', rule);

interface SandboxOrder {
  order_id: string;
  status: string;
  transaction_id: string | null;
  amount: number;
  expires_at: string;
}
async function ordersFor(ref: string): Promise<SandboxOrder[]> {
  return (await sandboxCall<{ orders: SandboxOrder[] }>(gw.sandboxUrl, 'GET', `/sandbox/orders?merchant_id=mch_demo&out_trade_no=${ref}`)).orders;
}
async function requestsTo(endpoint: string): Promise<unknown[]> {
  return (await sandboxCall<{ requests: unknown[] }>(gw.sandboxUrl, 'GET', `/sandbox/requests?endpoint=${encodeURIComponent(endpoint)}`)).requests;
}
/** Every webhook UCanPay has for the order has been delivered (or given up). */
async function webhooksSettled(orderId: string): Promise<boolean> {
  const { events } = await sandboxCall<{ events: Array<{ object_id: string; state: string }> }>(gw.sandboxUrl, 'GET', '/sandbox/webhooks');
  return events.filter((e) => e.object_id === orderId).every((e) => !['pending', 'held'].includes(e.state));
}

const input = (ref: string, key: string, over: object = {}) => ({
  input: {
    amount: 4200,
    currency: 'USD',
    description: 'Money truth',
    returnUrl: 'https://shop.example/r',
    merchantReference: ref,
    expiresInSeconds: 60,
    idempotencyKey: key,
    ...over,
  },
});

type PaymentView = { id: string; status: string; checkoutUrl?: string | null; transactionId?: string | null; providerOrderId?: string | null };

async function payment(id: string, refresh = false): Promise<PaymentView> {
  const res = await gw.gql(GetPaymentDocument, { id, refresh });
  if (!res.data?.payment) throw new Error(JSON.stringify(res));
  return res.data.payment;
}

/** The customer tries to pay; a closed order answers 409 (the order cannot be paid). */
async function customerPays(checkoutUrl: string): Promise<'paid' | 'refused'> {
  try {
    await checkout(checkoutUrl, 'authorize');
    return 'paid';
  } catch (error) {
    if (/answered 409/.test(String(error))) return 'refused';
    throw error;
  }
}

const CLOSED = ['FAILED', 'CANCELLED', 'EXPIRED'];
const CAPTURED = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];

/**
 * Invariants 1 and 2 for one merchant reference, once its webhooks have
 * settled: one order; the gateway's status (after a refresh) is UCanPay's;
 * a capture at UCanPay is PAID at the gateway with the same transaction id.
 */
async function expectGatewayAgreesWithUCanPay(paymentId: string, ref: string): Promise<void> {
  const orders = await ordersFor(ref);
  expect(orders).toHaveLength(1);
  await waitFor(() => webhooksSettled(orders[0].order_id));
  const seen = await payment(paymentId);
  if (CAPTURED.includes(orders[0].status)) expect(seen.status).toBe(orders[0].status); // without a refresh too
  const refreshed = await payment(paymentId, true);
  expect(refreshed.status).toBe(orders[0].status);
  if (CAPTURED.includes(orders[0].status)) expect(refreshed.transactionId).toBe(orders[0].transaction_id);
  // The same record over graphql-ws.
  const overWs = await wsQuery(paymentId);
  expect(overWs).toMatchObject({ status: refreshed.status, transactionId: refreshed.transactionId, checkoutUrl: refreshed.checkoutUrl });
}

async function wsQuery(id: string): Promise<PaymentView> {
  const result = await new Promise<ExecutionResult<{ payment: PaymentView }>>((resolve, reject) => {
    let value: ExecutionResult<{ payment: PaymentView }> | undefined;
    gw.ws().subscribe<{ payment: PaymentView }>(
      { query: print(GetPaymentDocument), variables: { id } },
      { next: (v) => void (value = v as ExecutionResult<{ payment: PaymentView }>), error: reject, complete: () => resolve(value!) },
    );
  });
  if (!result.data) throw new Error(JSON.stringify(result));
  return result.data.payment;
}

describe.each(['sqlite', 'postgres'] as const)('on %s', (kind) => {
  beforeEach(() => {
    database = kind;
  });
  afterEach(() => {
    database = 'sqlite';
  });

  describe('reconciliation races a same-key retry near the expiry (issue 12, reproduction 1)', () => {
    it('the retry that is creating the order keeps reconciliation from failing the payment; no FAILED payment with a checkout page', async () => {
      if (!(await start({ UCANPAY_TIMEOUT_MS: '10000' }))) return;
      const ref = 'RACE-1';
      await fault({ endpoint: 'POST /payment/unifiedorder', status: 503 });
      const first = await gw.gql(CreatePaymentDocument, input(ref, 'race-1'));
      expect(first.errors?.[0].extensions).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });

      moveClock(58_000); // two seconds before the payment's expiry
      await fault({ endpoint: 'GET /payment/status', latency_ms: 2500, when: 'after' });
      await fault({ endpoint: 'POST /payment/unifiedorder', latency_ms: 5000, when: 'after' });
      const reconciling = gw.app.services.reconciliation.runOnce();
      await waitFor(async () => (await requestsTo('GET /payment/status')).length > 0); // UCanPay has said "no such order"
      const retry = gw.gql(CreatePaymentDocument, input(ref, 'race-1'));
      await waitFor(async () => (await ordersFor(ref)).length === 1); // UCanPay has created the order; its answer is slow
      moveClock(3_000); // the expiry passes while both answers are on their way
      await reconciling;
      const answer = await retry;

      const result = answer.data?.createPayment;
      if (result?.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(answer));
      if (CLOSED.includes(result.payment.status)) expect(result.payment.checkoutUrl).toBeNull();
      const stored = await payment(result.payment.id);
      if (CLOSED.includes(stored.status)) expect(stored.checkoutUrl).toBeNull();
      if (result.payment.checkoutUrl) await customerPays(result.payment.checkoutUrl);
      await expectGatewayAgreesWithUCanPay(result.payment.id, ref);
    });
  });

  describe('a UCanPay call longer than the old 60 s claim lease (issue 12, reproduction 2)', () => {
    it('reconciliation leaves a payment alone while its create call may still run; the late order is born expired and never payable', async () => {
      if (!(await start({ UCANPAY_TIMEOUT_MS: '70000' }))) return;
      const ref = 'LEASE-1';
      await fault({ endpoint: 'POST /payment/unifiedorder', latency_ms: 3000, when: 'before' });
      const creating = gw.gql(CreatePaymentDocument, input(ref, 'lease-1'));
      await waitFor(async () => (await requestsTo('POST /payment/unifiedorder')).length > 0);
      moveClock(61_000); // 61 s into the call (timeout 70 s): past the payment's expiry and the old lease
      await gw.app.services.reconciliation.runOnce();
      const answer = await creating;

      const result = answer.data?.createPayment;
      if (result?.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(answer));
      if (CLOSED.includes(result.payment.status)) expect(result.payment.checkoutUrl).toBeNull();
      if (result.payment.checkoutUrl) await customerPays(result.payment.checkoutUrl);
      await expectGatewayAgreesWithUCanPay(result.payment.id, ref);
      expect(logLines.filter((l) => l.level >= 50)).toEqual([]);
    });
  });
});

describe('UCanPay captures a payment the gateway had failed (a provider without time_expire)', () => {
  /** The gateway gives the payment up (503, then reconciliation past its expiry), then the lost request's order appears at UCanPay. */
  async function failedPaymentWithLateOrder(ref: string) {
    await fault({ endpoint: 'POST /payment/unifiedorder', status: 503 });
    const first = await gw.gql(CreatePaymentDocument, input(ref, `late-${ref}`));
    expect(first.errors?.[0].extensions?.code).toBe('PROVIDER_UNAVAILABLE');
    moveClock(61_000);
    await gw.app.services.reconciliation.runOnce();
    const row = await gw.app.db.manager.findOneOrFail(PaymentEntity, { where: { merchantReference: ref } });
    expect(row).toMatchObject({ status: 'FAILED', failureCode: 'PROVIDER_UNAVAILABLE', checkoutUrl: null });
    // What a provider that ignores time_expire does with a request that reached it late: a live order.
    const client = new UCanPayClient({ baseUrl: gw.sandboxUrl, merchantId: SANDBOX_DEFAULTS.merchantId, secretKey: SANDBOX_DEFAULTS.secretKey });
    const order = await client.createOrder(
      {
        outTradeNo: ref,
        amount: 4200,
        currency: 'USD',
        description: 'Money truth',
        returnUrl: 'https://shop.example/r',
        notifyUrl: gw.app.services.payments.notifyUrl(gw.app.demo.merchantId),
        expiresIn: 600,
      },
      { idempotencyKey: `late-order-${ref}` },
    );
    return { paymentId: row.id, order };
  }

  it('the payment.succeeded webhook records PAID, answers outcome "contradicted" and logs an error', async () => {
    await start();
    const { paymentId, order } = await failedPaymentWithLateOrder('LATE-1');
    await checkout(order.payUrl!, 'authorize');
    await waitFor(() => webhooksSettled(order.orderId));
    const events = await gw.app.db.manager.find(WebhookEventEntity, { where: { objectId: paymentId } });
    expect(events.map((e) => [e.type, e.outcome])).toContainEqual(['payment.succeeded', 'contradicted']);
    expect(await payment(paymentId)).toMatchObject({ status: 'PAID', failureCode: null, checkoutUrl: null });
    await expectGatewayAgreesWithUCanPay(paymentId, 'LATE-1');
    const errors = logLines.filter((l) => l.level >= 50);
    expect(errors.map((l) => l.msg).join('\n')).toMatch(/contradicted/);
    expect(errors[0]).toMatchObject({ paymentId, recordedStatus: 'FAILED', providerStatus: 'PAID' });
  });

  it('with the webhook lost, reconciliation finds the capture within its bound', async () => {
    await start();
    const { paymentId, order } = await failedPaymentWithLateOrder('LATE-2');
    await fault({ webhooks: { mode: 'drop', count: 1, types: ['payment.succeeded'] } });
    await checkout(order.payUrl!, 'authorize');
    moveClock(1_000);
    await gw.app.services.reconciliation.runOnce();
    expect(await payment(paymentId)).toMatchObject({ status: 'PAID', providerOrderId: order.orderId });
    expect(
      logLines
        .filter((l) => l.level >= 50)
        .map((l) => l.msg)
        .join('\n'),
    ).toMatch(/contradicted/);
  });
});

describe('a late snapshot never replaces a newer fact (invariant 4)', () => {
  it('a signed payment.succeeded with a new event id, created 60 s earlier and another transaction_id, keeps the recorded transaction id; refunds still work', async () => {
    await start({}, { refundDelayMs: 50 });
    const created = await gw.gql(CreatePaymentDocument, input('STALE-1', 'stale-1', { expiresInSeconds: 1800 }));
    const paid = created.data!.createPayment;
    if (paid.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(created));
    await checkout(paid.payment.checkoutUrl!, 'authorize');
    const applied = await waitFor(async () => {
      const p = await payment(paid.payment.id);
      return p.status === 'PAID' && p;
    });
    const appliedEvent = await gw.app.db.manager.findOneOrFail(WebhookEventEntity, { where: { objectId: paid.payment.id, type: 'payment.succeeded' } });
    const event = {
      id: 'evt_stale_replay_1',
      type: 'payment.succeeded',
      created: Math.floor(appliedEvent.eventCreatedAt.getTime() / 1000) - 60,
      data: {
        object: {
          order_id: paid.payment.providerOrderId,
          out_trade_no: 'STALE-1',
          status: 'PAID',
          amount: 4200,
          currency: 'USD',
          refunded_amount: 0,
          transaction_id: 'txn_from_a_stale_snapshot',
          paid_at: new Date(Date.now() - 60_000).toISOString(),
        },
      },
    };
    const body = JSON.stringify(event);
    const res = await fetch(`${gw.app.url}/webhooks/ucanpay/${gw.app.demo.merchantId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ucanpay-signature': signWebhookPayload(SANDBOX_DEFAULTS.webhookSecret, body, Math.floor(Date.now() / 1000)),
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(await payment(paid.payment.id)).toMatchObject({ status: 'PAID', transactionId: applied.transactionId });

    const refund = await gw.gql(RefundPaymentDocument, { input: { paymentId: paid.payment.id, amount: 1000, idempotencyKey: 'stale-refund-1' } });
    expect(refund.data?.refundPayment.__typename).toBe('RefundPaymentPayload');
    await waitFor(async () => (await payment(paid.payment.id)).status === 'PARTIALLY_REFUNDED');
  });
});

describe.each(['sqlite', 'postgres'] as const)('on %s', (kind) => {
  beforeEach(() => {
    database = kind;
  });
  afterEach(() => {
    database = 'sqlite';
  });

  describe("a typed refusal is the key's outcome (issue 12, reproduction 3)", () => {
    type RefundResult = RefundPaymentMutation['refundPayment'];

    async function paidPayment(ref: string, amount: number): Promise<{ id: string }> {
      const created = await gw.gql(CreatePaymentDocument, input(ref, `pay-${ref}`, { amount, expiresInSeconds: 1800 }));
      const result = created.data!.createPayment;
      if (result.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(created));
      await checkout(result.payment.checkoutUrl!, 'authorize');
      await waitFor(async () => (await payment(result.payment.id)).status === 'PAID');
      return result.payment;
    }

    async function refundOverHttp(vars: object): Promise<RefundResult> {
      const res = await gw.gql(RefundPaymentDocument, { input: vars as never });
      if (!res.data) throw new Error(JSON.stringify(res));
      return res.data.refundPayment;
    }

    async function refundsAtUCanPay(): Promise<Array<{ amount: number; status: string }>> {
      return (await sandboxCall<{ refunds: Array<{ amount: number; status: string }> }>(gw.sandboxUrl, 'GET', '/sandbox/refunds?merchant_id=mch_demo')).refunds;
    }

    it('REFUND_EXCEEDS_PAYMENT while another refund holds the amount stays the answer after that refund fails (mutations are HTTP only)', async () => {
      if (!(await start({}, { refundDelayMs: 1500 }))) return;
      const paid = await paidPayment('REFUSE-1', 10_000);
      await fault({ refunds: { count: 1, failure_code: 'PROVIDER_ERROR' } });
      const a = await refundOverHttp({ paymentId: paid.id, amount: 6000, idempotencyKey: 'refund-a' });
      expect(a.__typename).toBe('RefundPaymentPayload');
      const b = { paymentId: paid.id, amount: 6000, idempotencyKey: 'refund-b' };
      const refused = await refundOverHttp(b);
      expect(refused).toMatchObject({ __typename: 'RefundExceedsPaymentError', refundableAmount: 4000 });

      if (a.__typename !== 'RefundPaymentPayload') throw new Error('unreachable');
      await waitFor(async () => (await gw.app.db.manager.findOneOrFail(RefundEntity, { where: { id: a.refund.id } })).status === 'FAILED');
      // A failed: 6,000 would fit now. Key B with the same input still gets its first answer, on both transports.
      const again = await refundOverHttp(b);
      expect(again.__typename).toBe('RefundExceedsPaymentError');
      expect(again).toMatchObject({ code: 'REFUND_EXCEEDS_PAYMENT', refundableAmount: 4000, requestedAmount: 6000, replayed: true });
      expect(refused).toMatchObject({ replayed: false });
      expect((await refundsAtUCanPay()).map((r) => [r.amount, r.status])).toEqual([[6000, 'FAILED']]);
      // The same key with another input is a conflict, not a new decision.
      expect(await refundOverHttp({ ...b, amount: 5000 })).toMatchObject({ __typename: 'IdempotencyConflictError' });
    });

    it('PAYMENT_NOT_REFUNDABLE on a PENDING payment stays the answer after it is paid (mutations are HTTP only)', async () => {
      if (!(await start({}, { refundDelayMs: 50 }))) return;
      const created = await gw.gql(CreatePaymentDocument, input('REFUSE-2', 'pay-refuse-2', { amount: 5000, expiresInSeconds: 1800 }));
      const pending = created.data!.createPayment;
      if (pending.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(created));
      const k = { paymentId: pending.payment.id, amount: 5000, idempotencyKey: 'refund-pending' };
      const refused = await refundOverHttp(k);
      expect(refused).toMatchObject({ __typename: 'PaymentNotRefundableError', paymentStatus: 'PENDING' });

      await checkout(pending.payment.checkoutUrl!, 'authorize');
      await waitFor(async () => (await payment(pending.payment.id)).status === 'PAID');
      const again = await refundOverHttp(k);
      expect(again.__typename).toBe('PaymentNotRefundableError');
      expect(again).toMatchObject({ code: 'PAYMENT_NOT_REFUNDABLE', paymentStatus: 'PENDING', replayed: true });
      expect(refused).toMatchObject({ replayed: false });
      expect(await refundsAtUCanPay()).toEqual([]);
      expect(await payment(pending.payment.id)).toMatchObject({ status: 'PAID' });
    });
  });
});

describe('a late writer is fenced by its claim token', () => {
  it('a create answer arriving after another request took the lapsed claim over records the order but completes nothing and warns', async () => {
    await start({ UCANPAY_TIMEOUT_MS: '10000' }); // lease: 10 s + 5 s
    const ref = 'FENCE-1';
    await fault({ endpoint: 'POST /payment/unifiedorder', latency_ms: 3000, when: 'after' });
    const slow = gw.gql(CreatePaymentDocument, input(ref, 'fence-1', { expiresInSeconds: 1800 }));
    await waitFor(async () => (await ordersFor(ref)).length === 1);
    moveClock(16_000); // as if this process had stalled past its lease
    const takeover = await gw.gql(CreatePaymentDocument, input(ref, 'fence-1', { expiresInSeconds: 1800 }));
    const taken = takeover.data?.createPayment;
    if (taken?.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(takeover));
    const late = (await slow).data?.createPayment;
    if (late?.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(late));

    const orders = await ordersFor(ref);
    expect(orders).toHaveLength(1);
    expect(taken.payment).toMatchObject({ status: 'PENDING', providerOrderId: orders[0].order_id });
    expect(late.payment).toMatchObject({ id: taken.payment.id, providerOrderId: orders[0].order_id });
    expect(logLines.filter((l) => l.level === 40).map((l) => l.msg)).toContainEqual(expect.stringMatching(/after the request lost its idempotency claim/));
    const replay = await gw.gql(CreatePaymentDocument, input(ref, 'fence-1', { expiresInSeconds: 1800 }));
    expect(replay.data?.createPayment).toMatchObject({ __typename: 'CreatePaymentPayload', replayed: true, payment: { id: taken.payment.id } });
  });
});
