/**
 * UCanPayClient against the real sandbox over real HTTP: every endpoint,
 * every contract error code the sandbox can produce, and retries under
 * injected faults (asserting attempt counts and exactly-once creation from
 * the sandbox's own inspection endpoints).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandbox } from '../../src/sandbox';
import {
  toWebhookEvent,
  UCanPayClient,
  UCanPayError,
  verifyWebhookSignature,
  type UCanPayWebhookEvent,
  type CreateOrderInput,
  type UCanPayAttemptInfo,
  type UCanPayClientOptions,
  type UCanPayErrorCode,
} from '../../src/ucanpay';

const MERCHANT = { merchantId: 'mch_client', secretKey: 'sk_test_client_0123456789abcdef', webhookSecret: 'whsec_client_0123456789abcdef' };
const OTHER = { merchantId: 'mch_other', secretKey: 'sk_test_other_0123456789abcdef', webhookSecret: 'whsec_other_0123456789abcdef' };

let sandbox: Awaited<ReturnType<typeof createSandbox>>;
let receiver: Server;
let notifyUrl: string;
let dir: string;
let seq = 0;

/** Every webhook delivery the receiver got, verified with the client's verifier. */
interface Delivery {
  verdict: ReturnType<typeof verifyWebhookSignature>;
  event?: UCanPayWebhookEvent;
  parseError?: unknown;
}
const deliveries: Delivery[] = [];

const uniq = (prefix: string): string => `${prefix}-${process.pid}-${++seq}`;
const today = (): string => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ucanpay-client-'));
  // Webhooks go to a receiver that checks them with verifyWebhookSignature + toWebhookEvent
  // (204 when valid, 400 otherwise so the sandbox retries).
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const verdict = verifyWebhookSignature({ header: req.headers['ucanpay-signature'], rawBody, secret: MERCHANT.webhookSecret });
      const d: Delivery = { verdict };
      if (verdict.ok) {
        try {
          d.event = toWebhookEvent(JSON.parse(rawBody.toString('utf8')));
        } catch (err) {
          d.parseError = err;
        }
      }
      deliveries.push(d);
      res.writeHead(verdict.ok && d.event ? 204 : 400).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/ucanpay`;
  sandbox = await createSandbox({
    port: 0,
    dbPath: join(dir, 'sandbox.sqlite'),
    merchants: [MERCHANT, OTHER],
    webhookRetry: { baseMs: 20, maxAttempts: 2, maxDelayMs: 50 },
    refundDelayMs: 50,
    tickMs: 50,
  });
});

afterAll(async () => {
  await sandbox?.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await sb('DELETE', '/sandbox/faults');
  await sb('DELETE', '/sandbox/requests');
});

// --- sandbox helpers -------------------------------------------------------

async function sb<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

function fault(rule: Record<string, unknown>): Promise<unknown> {
  return sb('POST', '/sandbox/faults', rule);
}

async function requests(endpoint: string): Promise<{ endpoint: string; idempotency_key: string | null; status: number }[]> {
  const { requests: list } = await sb('GET', `/sandbox/requests?endpoint=${encodeURIComponent(endpoint)}`);
  return list;
}

async function ordersNamed(outTradeNo: string): Promise<{ order_id: string }[]> {
  const q = new URLSearchParams({ merchant_id: MERCHANT.merchantId, out_trade_no: outTradeNo });
  const { orders } = await sb('GET', `/sandbox/orders?${q}`);
  return orders;
}

/** Acts on the hosted checkout page like the customer would. */
async function checkout(id: string, action: 'authorize' | 'decline' | 'cancel'): Promise<URL> {
  const res = await fetch(`${sandbox.url}/checkout/${encodeURIComponent(id)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action }).toString(),
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  await res.text();
  expect(res.status).toBe(303);
  return new URL(res.headers.get('location')!);
}

function client(over: Partial<UCanPayClientOptions> = {}): { c: UCanPayClient; attempts: UCanPayAttemptInfo[] } {
  const attempts: UCanPayAttemptInfo[] = [];
  const c = new UCanPayClient({
    baseUrl: sandbox.url,
    merchantId: MERCHANT.merchantId,
    secretKey: MERCHANT.secretKey,
    timeoutMs: 2000,
    baseDelayMs: 10,
    maxDelayMs: 40,
    onAttempt: (a) => attempts.push(a),
    ...over,
  });
  return { c, attempts };
}

function orderInput(over: Partial<CreateOrderInput> = {}): CreateOrderInput {
  return {
    outTradeNo: uniq('A'),
    amount: 1999,
    currency: 'USD',
    description: 'Green tea',
    returnUrl: 'http://127.0.0.1:9/return',
    notifyUrl,
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<UCanPayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a UCanPayError').toBeInstanceOf(UCanPayError);
  return err as UCanPayError;
}

async function expectCode(p: Promise<unknown>, code: UCanPayErrorCode, retryable: boolean, httpStatus?: number): Promise<UCanPayError> {
  const e = await failure(p);
  expect({ code: e.code, retryable: e.retryable }).toEqual({ code, retryable });
  if (httpStatus !== undefined) expect(e.httpStatus).toBe(httpStatus);
  return e;
}

async function paidOrder(c: UCanPayClient, amount = 1999) {
  const created = await c.createOrder(orderInput({ amount }), { idempotencyKey: uniq('k') });
  await checkout(created.orderId, 'authorize');
  const paid = await c.getOrder({ orderId: created.orderId });
  expect(paid.status).toBe('PAID');
  return paid;
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

// --- endpoints ---------------------------------------------------------------

describe('endpoints', () => {
  it('createOrder / getOrder (both lookups), idempotent replay, checkout → PAID', async () => {
    const { c } = client();
    const input = orderInput({ metadata: { cart: 'c-1' } });
    const key = uniq('k');
    const created = await c.createOrder(input, { idempotencyKey: key });
    expect(created).toMatchObject({ outTradeNo: input.outTradeNo, status: 'PENDING', amount: 1999, currency: 'USD', refundedAmount: 0 });
    expect(created.orderId).toBeTruthy();
    expect(created.payUrl).toContain(`/checkout/${created.orderId}`);
    expect(created.expiresAt).toBeInstanceOf(Date);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.expiresAt!.getTime() - created.createdAt!.getTime()).toBe(1800 * 1000);

    const again = await c.createOrder(input, { idempotencyKey: key });
    expect(again.orderId).toBe(created.orderId);
    const sameOutTradeNo = await c.createOrder(input, { idempotencyKey: uniq('k') });
    expect(sameOutTradeNo.orderId).toBe(created.orderId);
    expect(await ordersNamed(input.outTradeNo)).toHaveLength(1);

    const byId = await c.getOrder({ orderId: created.orderId });
    const byNo = await c.getOrder({ outTradeNo: input.outTradeNo });
    expect(byId).toMatchObject({ orderId: created.orderId, status: 'PENDING', amount: 1999, currency: 'USD', refundedAmount: 0 });
    expect(byNo.orderId).toBe(created.orderId);

    const back = await checkout(created.orderId, 'authorize');
    expect(back.searchParams.get('status')).toBe('PAID');
    const paid = await c.getOrder({ orderId: created.orderId });
    expect(paid.status).toBe('PAID');
    expect(paid.transactionId).toBeTruthy();
    expect(paid.paidAt).toBeInstanceOf(Date);
  });

  it('declined and magic-amount checkouts give FAILED orders with failure codes', async () => {
    const { c } = client();
    const a = await c.createOrder(orderInput({ amount: 1002 }), { idempotencyKey: uniq('k') });
    await checkout(a.orderId, 'authorize');
    expect(await c.getOrder({ orderId: a.orderId })).toMatchObject({ status: 'FAILED', failureCode: 'CARD_DECLINED' });
    const b = await c.createOrder(orderInput({ amount: 1051 }), { idempotencyKey: uniq('k') });
    await checkout(b.orderId, 'authorize');
    expect(await c.getOrder({ orderId: b.orderId })).toMatchObject({ status: 'FAILED', failureCode: 'INSUFFICIENT_FUNDS' });
    const d = await c.createOrder(orderInput(), { idempotencyKey: uniq('k') });
    await checkout(d.orderId, 'cancel');
    expect((await c.getOrder({ orderId: d.orderId })).status).toBe('CANCELLED');
  });

  it('createRefund / getRefund (both lookups) → SUCCEEDED, order PARTIALLY_REFUNDED then REFUNDED', async () => {
    const { c } = client();
    const paid = await paidOrder(c, 2000);
    const outRefundNo = uniq('R');
    const refund = await c.createRefund({ transactionId: paid.transactionId!, outRefundNo, amount: 500, reason: 'damaged' }, { idempotencyKey: uniq('k') });
    expect(refund).toMatchObject({ outRefundNo, transactionId: paid.transactionId, amount: 500, currency: 'USD', status: 'PROCESSING' });
    expect(refund.createdAt).toBeInstanceOf(Date);

    const done = await until(
      () => c.getRefund({ refundId: refund.refundId }),
      (r) => r.status !== 'PROCESSING',
    );
    expect(done.status).toBe('SUCCEEDED');
    expect(done.succeededAt).toBeInstanceOf(Date);
    expect((await c.getRefund({ outRefundNo })).refundId).toBe(refund.refundId);
    expect(await c.getOrder({ orderId: paid.orderId })).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedAmount: 500 });

    const rest = await c.createRefund(
      { transactionId: paid.transactionId!, outRefundNo: uniq('R'), amount: 1500, reason: 'rest' },
      { idempotencyKey: uniq('k') },
    );
    await until(
      () => c.getRefund({ refundId: rest.refundId }),
      (r) => r.status !== 'PROCESSING',
    );
    expect(await c.getOrder({ orderId: paid.orderId })).toMatchObject({ status: 'REFUNDED', refundedAmount: 2000 });
  });

  it('subscriptions: create → authorize → get → update → cancel at period end → cancel now', async () => {
    const { c } = client();
    const outSubscriptionNo = uniq('S');
    const sub = await c.createSubscription(
      {
        outSubscriptionNo,
        customer: { id: 'cus_1', email: 'ann@example.com', name: 'Ann' },
        amount: 999,
        currency: 'USD',
        interval: 'MONTH',
        intervalCount: 1,
        startDate: today(),
        notifyUrl,
        returnUrl: 'http://127.0.0.1:9/return',
        metadata: { plan: 'basic' },
      },
      { idempotencyKey: uniq('k') },
    );
    expect(sub).toMatchObject({
      outSubscriptionNo,
      status: 'PENDING_AUTHORIZATION',
      amount: 999,
      currency: 'USD',
      interval: 'MONTH',
      intervalCount: 1,
      cancelAtPeriodEnd: false,
      failedRenewalCount: 0,
    });
    expect(sub.payUrl).toContain(`/checkout/${sub.subscriptionId}`);

    const back = await checkout(sub.subscriptionId, 'authorize');
    expect(back.searchParams.get('subscription_id')).toBe(sub.subscriptionId);
    const active = await c.getSubscription({ subscriptionId: sub.subscriptionId });
    expect(active.status).toBe('ACTIVE');
    expect(active.customer).toMatchObject({ id: 'cus_1' });
    expect(active.currentPeriodEnd).toBeInstanceOf(Date);
    expect(active.authorizedAt).toBeInstanceOf(Date);
    expect(active.charges).toHaveLength(1);
    expect(active.charges[0]).toMatchObject({ status: 'SUCCEEDED', amount: 999, attempt: 1 });

    const updated = await c.updateSubscription({ subscriptionId: sub.subscriptionId, amount: 1499 }, { idempotencyKey: uniq('k') });
    expect(updated.subscriptionId).toBe(sub.subscriptionId);
    // Takes effect from the next period: current terms stay, the change waits as pendingUpdate.
    expect(updated.amount).toBe(999);
    expect(updated.pendingUpdate).toEqual({ amount: 1499, effectiveAt: active.currentPeriodEnd });

    const atEnd = await c.cancelSubscription({ subscriptionId: sub.subscriptionId, atPeriodEnd: true }, { idempotencyKey: uniq('k') });
    expect(atEnd.cancelAtPeriodEnd).toBe(true);
    expect(atEnd.status).not.toBe('CANCELLED');

    const now = await c.cancelSubscription({ subscriptionId: sub.subscriptionId, atPeriodEnd: false }, { idempotencyKey: uniq('k') });
    expect(now.status).toBe('CANCELLED');
    expect(now.cancelledAt).toBeInstanceOf(Date);
    expect((await c.getSubscription({ subscriptionId: sub.subscriptionId })).status).toBe('CANCELLED');

    // ORDER_CLOSED (409), naturally: a cancelled subscription can no longer be updated.
    await expectCode(c.updateSubscription({ subscriptionId: sub.subscriptionId, amount: 10 }, { idempotencyKey: uniq('k') }), 'ORDER_CLOSED', false, 409);
  });
});

// --- contract errors -----------------------------------------------------------

describe('contract errors (natural)', () => {
  it('INVALID_REQUEST (400) for a bad field', async () => {
    const { c, attempts } = client();
    const e = await expectCode(c.createOrder(orderInput({ currency: 'usd' }), { idempotencyKey: uniq('k') }), 'INVALID_REQUEST', false, 400);
    expect(e.message).toContain('currency');
    expect(e.attempts).toBe(1);
    expect(attempts).toHaveLength(1);
    expect(await requests('POST /payment/unifiedorder')).toHaveLength(1);
  });

  it('AUTHENTICATION_FAILED (401) for a wrong key, never echoing it', async () => {
    const wrongKey = 'sk_test_wrong_0000000000000000';
    const { c } = client({ secretKey: wrongKey });
    const e = await expectCode(c.getOrder({ orderId: 'ord_x' }), 'AUTHENTICATION_FAILED', false, 401);
    expect(e.message).not.toContain(wrongKey);
    expect(await requests('GET /payment/status')).toHaveLength(1);
  });

  it("PERMISSION_DENIED (403) when merchant_id is not the key's merchant", async () => {
    const { c } = client({ merchantId: OTHER.merchantId });
    await expectCode(c.createOrder(orderInput(), { idempotencyKey: uniq('k') }), 'PERMISSION_DENIED', false, 403);
    expect(await requests('POST /payment/unifiedorder')).toHaveLength(1);
  });

  it('ORDER_NOT_FOUND / REFUND_NOT_FOUND / SUBSCRIPTION_NOT_FOUND (404)', async () => {
    const { c } = client();
    await expectCode(c.getOrder({ orderId: 'ord_missing' }), 'ORDER_NOT_FOUND', false, 404);
    await expectCode(c.getOrder({ outTradeNo: 'missing' }), 'ORDER_NOT_FOUND', false, 404);
    await expectCode(
      c.createRefund({ transactionId: 'txn_missing', outRefundNo: uniq('R'), amount: 1, reason: 'x' }, { idempotencyKey: uniq('k') }),
      'ORDER_NOT_FOUND',
      false,
      404,
    );
    await expectCode(c.getRefund({ refundId: 'rf_missing' }), 'REFUND_NOT_FOUND', false, 404);
    await expectCode(c.getSubscription({ subscriptionId: 'sub_missing' }), 'SUBSCRIPTION_NOT_FOUND', false, 404);
    await expectCode(
      c.cancelSubscription({ subscriptionId: 'sub_missing', atPeriodEnd: false }, { idempotencyKey: uniq('k') }),
      'SUBSCRIPTION_NOT_FOUND',
      false,
      404,
    );
    expect(await requests('GET /payment/status')).toHaveLength(2);
    expect(await requests('GET /subscriptions/status')).toHaveLength(1);
  });

  it('ORDER_CONFLICT and IDEMPOTENCY_CONFLICT (409)', async () => {
    const { c } = client();
    const input = orderInput();
    const key = uniq('k');
    await c.createOrder(input, { idempotencyKey: key });
    await expectCode(c.createOrder({ ...input, amount: 2999 }, { idempotencyKey: uniq('k') }), 'ORDER_CONFLICT', false, 409);
    await expectCode(c.createOrder({ ...input, description: 'other' }, { idempotencyKey: key }), 'IDEMPOTENCY_CONFLICT', false, 409);
    expect(await ordersNamed(input.outTradeNo)).toHaveLength(1);
  });

  it('REFUND_EXCEEDS_PAYMENT (422)', async () => {
    const { c } = client();
    const paid = await paidOrder(c, 1000);
    await expectCode(
      c.createRefund({ transactionId: paid.transactionId!, outRefundNo: uniq('R'), amount: 1001, reason: 'x' }, { idempotencyKey: uniq('k') }),
      'REFUND_EXCEEDS_PAYMENT',
      false,
      422,
    );
    expect(await requests('POST /payment/refund')).toHaveLength(1);
  });
});

describe('contract errors (injected)', () => {
  const cases: [UCanPayErrorCode, number, boolean][] = [
    ['ORDER_CLOSED', 409, false],
    ['ORDER_ALREADY_PAID', 409, false],
    ['PAYMENT_NOT_PAID', 422, false],
    ['CARD_DECLINED', 422, false],
    ['INSUFFICIENT_FUNDS', 422, false],
    ['RATE_LIMITED', 429, true],
    ['PROVIDER_ERROR', 500, true],
    ['SERVICE_UNAVAILABLE', 503, true],
    ['SERVICE_UNAVAILABLE', 502, true],
    ['GATEWAY_TIMEOUT', 504, true],
  ];
  it.each(cases)('%s (%i) → retryable %s, attempts as expected', async (code, status, retryable) => {
    const maxAttempts = 2;
    const { c } = client({ maxAttempts });
    await fault({ endpoint: 'POST /payment/unifiedorder', count: 10, status, code, ...(status === 429 ? { retry_after: 0 } : {}) });
    const e = await expectCode(c.createOrder(orderInput(), { idempotencyKey: uniq('k') }), code, retryable, status);
    const expected = retryable ? maxAttempts : 1;
    expect(e.attempts).toBe(expected);
    expect(await requests('POST /payment/unifiedorder')).toHaveLength(expected);
  });
});

// --- retries --------------------------------------------------------------------

describe('retries', () => {
  const ENDPOINT = 'POST /payment/unifiedorder';

  async function expectOneOrder(outTradeNo: string, orderId: string): Promise<void> {
    const orders = await ordersNamed(outTradeNo);
    expect(orders.map((o) => o.order_id)).toEqual([orderId]);
  }

  async function expectSameKey(n: number, key: string): Promise<void> {
    const seen = await requests(ENDPOINT);
    expect(seen).toHaveLength(n);
    expect(seen.every((r) => r.idempotency_key === key)).toBe(true);
  }

  it('429 with Retry-After: waits at least Retry-After (real time), one order', async () => {
    await fault({ endpoint: ENDPOINT, count: 1, status: 429, code: 'RATE_LIMITED', retry_after: 1 });
    const { c, attempts } = client();
    const input = orderInput();
    const started = Date.now();
    const o = await c.createOrder(input, { idempotencyKey: 'k-429-' + input.outTradeNo });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(attempts[0]).toMatchObject({ ok: false, code: 'RATE_LIMITED', httpStatus: 429, willRetry: true });
    expect(attempts[0]!.delayMs).toBeGreaterThanOrEqual(1000);
    await expectSameKey(2, 'k-429-' + input.outTradeNo);
    await expectOneOrder(input.outTradeNo, o.orderId);
  });

  it('503 twice then success: 3 attempts, same key, one order', async () => {
    await fault({ endpoint: ENDPOINT, count: 2, status: 503, code: 'SERVICE_UNAVAILABLE' });
    const { c, attempts } = client();
    const input = orderInput();
    const key = uniq('k');
    const o = await c.createOrder(input, { idempotencyKey: key });
    expect(attempts.map((a) => a.ok)).toEqual([false, false, true]);
    await expectSameKey(3, key);
    await expectOneOrder(input.outTradeNo, o.orderId);
  });

  it('latency beyond timeoutMs: TIMEOUT then success, one order', async () => {
    await fault({ endpoint: ENDPOINT, count: 1, latency_ms: 800 });
    const { c, attempts } = client({ timeoutMs: 300 });
    const input = orderInput();
    const key = uniq('k');
    const o = await c.createOrder(input, { idempotencyKey: key });
    expect(attempts[0]).toMatchObject({ ok: false, code: 'TIMEOUT', willRetry: true });
    expect(attempts[0]!.durationMs).toBeGreaterThanOrEqual(290);
    expect(attempts.at(-1)!.ok).toBe(true);
    // Let the slow first attempt finish on the sandbox side before counting.
    await new Promise((r) => setTimeout(r, 700));
    await expectSameKey(attempts.length, key);
    await expectOneOrder(input.outTradeNo, o.orderId);
    expect((await c.getOrder({ orderId: o.orderId })).status).toBe('PENDING');
  });

  it('drop (before): NETWORK_ERROR then success, one order', async () => {
    await fault({ endpoint: ENDPOINT, count: 1, drop: true });
    const { c, attempts } = client();
    const input = orderInput();
    const key = uniq('k');
    const o = await c.createOrder(input, { idempotencyKey: key });
    expect(attempts[0]).toMatchObject({ ok: false, code: 'NETWORK_ERROR', willRetry: true });
    await expectSameKey(2, key);
    await expectOneOrder(input.outTradeNo, o.orderId);
  });

  it('drop after processing: the answer is lost, the retry returns the same order', async () => {
    await fault({ endpoint: ENDPOINT, count: 1, drop: true, when: 'after' });
    const { c, attempts } = client();
    const input = orderInput();
    const key = uniq('k');
    const o = await c.createOrder(input, { idempotencyKey: key });
    expect(attempts.map((a) => a.ok)).toEqual([false, true]);
    await expectSameKey(2, key);
    await expectOneOrder(input.outTradeNo, o.orderId);
  });

  it('503 after processing: retried with the same key → the same order', async () => {
    await fault({ endpoint: ENDPOINT, count: 1, status: 503, code: 'SERVICE_UNAVAILABLE', when: 'after' });
    const { c, attempts } = client();
    const input = orderInput();
    const key = uniq('k');
    const o = await c.createOrder(input, { idempotencyKey: key });
    expect(attempts.map((a) => a.ok)).toEqual([false, true]);
    await expectSameKey(2, key);
    await expectOneOrder(input.outTradeNo, o.orderId);
  });

  it('refund 500 after processing: retried → exactly one refund', async () => {
    const { c } = client();
    const paid = await paidOrder(c, 3000);
    await sb('DELETE', '/sandbox/requests');
    await fault({ endpoint: 'POST /payment/refund', count: 1, status: 500, code: 'PROVIDER_ERROR', when: 'after' });
    const outRefundNo = uniq('R');
    const key = uniq('k');
    const r = await c.createRefund({ transactionId: paid.transactionId!, outRefundNo, amount: 1000, reason: 'x' }, { idempotencyKey: key });
    const seen = await requests('POST /payment/refund');
    expect(seen.map((s) => s.idempotency_key)).toEqual([key, key]);
    const { refunds } = await sb('GET', `/sandbox/refunds?merchant_id=${MERCHANT.merchantId}`);
    expect(refunds.filter((x: { out_refund_no: string }) => x.out_refund_no === outRefundNo).map((x: { refund_id: string }) => x.refund_id)).toEqual([
      r.refundId,
    ]);
  });

  it('GETs are retried too (500 then 504)', async () => {
    const { c } = client();
    const o = await c.createOrder(orderInput(), { idempotencyKey: uniq('k') });
    await fault({ endpoint: 'GET /payment/status', count: 1, status: 500, code: 'PROVIDER_ERROR' });
    await fault({ endpoint: 'GET /payment/status', count: 1, status: 504, code: 'GATEWAY_TIMEOUT' });
    const got = await c.getOrder({ orderId: o.orderId });
    expect(got.orderId).toBe(o.orderId);
    expect(await requests('GET /payment/status')).toHaveLength(3);
  });

  it('no retry on a 4xx: exactly one request', async () => {
    await fault({ endpoint: ENDPOINT, count: 5, status: 400, code: 'INVALID_REQUEST', message: 'amount must be positive' });
    const { c, attempts } = client();
    const e = await expectCode(c.createOrder(orderInput(), { idempotencyKey: uniq('k') }), 'INVALID_REQUEST', false, 400);
    expect(e.attempts).toBe(1);
    expect(attempts).toHaveLength(1);
    expect(await requests(ENDPOINT)).toHaveLength(1);
  });

  it('exhausted retries: retryable error with attempts = maxAttempts, no order', async () => {
    await fault({ endpoint: ENDPOINT, count: 20, status: 503, code: 'SERVICE_UNAVAILABLE' });
    const { c, attempts } = client({ maxAttempts: 4 });
    const input = orderInput();
    const e = await expectCode(c.createOrder(input, { idempotencyKey: uniq('k') }), 'SERVICE_UNAVAILABLE', true, 503);
    expect(e.attempts).toBe(4);
    expect(attempts).toHaveLength(4);
    expect(attempts.at(-1)!.willRetry).toBe(false);
    expect(await requests(ENDPOINT)).toHaveLength(4);
    expect(await ordersNamed(input.outTradeNo)).toHaveLength(0);
  });

  it('exhausted timeouts: TIMEOUT with attempts = maxAttempts', async () => {
    await fault({ endpoint: 'GET /payment/status', count: 3, latency_ms: 400 });
    const { c } = client({ timeoutMs: 100, maxAttempts: 3 });
    const e = await expectCode(c.getOrder({ orderId: 'ord_whatever' }), 'TIMEOUT', true);
    expect(e.attempts).toBe(3);
    expect(e.httpStatus).toBeUndefined();
  });
});

// --- webhooks and renewals (real sandbox data through the mappers) ----------------

describe('sandbox webhooks through verifyWebhookSignature + toWebhookEvent', () => {
  const forOrder = (orderId: string) => deliveries.filter((d) => d.event?.kind === 'order' && d.event.object.orderId === orderId);

  it('payment.succeeded arrives signed, verifies and parses', async () => {
    const { c } = client();
    const paid = await paidOrder(c);
    const got = await until(
      async () => forOrder(paid.orderId),
      (l) => l.length > 0,
    );
    expect(got).toHaveLength(1);
    const event = got[0]!.event!;
    expect(event.type).toBe('payment.succeeded');
    expect(event.kind === 'order' && event.object).toMatchObject({ status: 'PAID', transactionId: paid.transactionId, amount: 1999 });
    expect(deliveries.every((d) => d.parseError === undefined)).toBe(true);
  });

  it('a bad_signature fault is rejected by the verifier; the correctly signed retry passes', async () => {
    await fault({ webhooks: { mode: 'bad_signature', count: 1, types: ['payment.succeeded'] } });
    const before = deliveries.length;
    const { c } = client();
    const paid = await paidOrder(c);
    await until(
      async () => forOrder(paid.orderId),
      (l) => l.length > 0,
    );
    const verdicts = deliveries.slice(before).map((d) => (d.verdict.ok ? 'ok' : d.verdict.reason));
    expect(verdicts).toEqual(['bad_signature', 'ok']);
  });
});

describe('renewals (moves the sandbox clock: keep last)', () => {
  it('a failed renewal shows PAST_DUE, failedRenewalCount and the FAILED charge; the retry recovers', async () => {
    const { c } = client();
    const sub = await c.createSubscription(
      {
        outSubscriptionNo: uniq('S'),
        customer: { id: 'cus_2', email: 'bo@example.com', name: 'Bo' },
        amount: 500,
        currency: 'EUR',
        interval: 'DAY',
        intervalCount: 1,
        startDate: today(),
        notifyUrl,
        returnUrl: 'http://127.0.0.1:9/return',
      },
      { idempotencyKey: uniq('k') },
    );
    await checkout(sub.subscriptionId, 'authorize');
    const active = await c.getSubscription({ subscriptionId: sub.subscriptionId });
    expect(active.status).toBe('ACTIVE');
    const firstCharges = active.charges.length;

    await fault({ charges: { count: 1, failure_code: 'INSUFFICIENT_FUNDS' } });
    await sb('POST', '/sandbox/clock/advance', { seconds: 86_400 + 60 });
    const pastDue = await c.getSubscription({ subscriptionId: sub.subscriptionId });
    expect(pastDue.status).toBe('PAST_DUE');
    expect(pastDue.failedRenewalCount).toBe(1);
    expect(pastDue.nextRetryAt).toBeInstanceOf(Date);
    const failed = pastDue.charges.at(-1)!;
    expect(failed).toMatchObject({ status: 'FAILED', failureCode: 'INSUFFICIENT_FUNDS', amount: 500 });
    expect(failed.periodStart).toBeInstanceOf(Date);
    expect(pastDue.charges.length).toBe(firstCharges + 1);

    await sb('POST', '/sandbox/clock/advance', { seconds: 86_400 + 60 });
    const recovered = await c.getSubscription({ subscriptionId: sub.subscriptionId });
    expect(recovered.status).toBe('ACTIVE');
    expect(recovered.failedRenewalCount).toBe(0);
    expect(recovered.charges.at(-1)!.status).toBe('SUCCEEDED');
  });
});

describe('every webhook the sandbox sent during this file', () => {
  it('verified and parsed (except the injected bad signature)', async () => {
    await new Promise((r) => setTimeout(r, 200)); // let the last deliveries land
    const reasons = deliveries.filter((d) => !d.verdict.ok).map((d) => (d.verdict.ok ? '' : d.verdict.reason));
    expect(reasons).toEqual(['bad_signature']);
    expect(deliveries.filter((d) => d.parseError !== undefined)).toEqual([]);
    const types = new Set(deliveries.flatMap((d) => (d.event ? [d.event.type] : [])));
    for (const t of [
      'payment.succeeded',
      'payment.failed',
      'payment.cancelled',
      'refund.succeeded',
      'subscription.activated',
      'subscription.updated',
      'subscription.cancelled',
      'subscription.renewal_failed',
      'subscription.renewed',
    ]) {
      expect(types, t).toContain(t);
    }
  });
});
