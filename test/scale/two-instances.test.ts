/**
 * Scale-out: two gateway *processes* sharing one PostgreSQL schema and one
 * Redis (a channel prefix of this run's own), both talking to one external
 * UCanPay sandbox started here. Without PostgreSQL or Redis (and CI unset)
 * every test passes with a printed notice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreatePaymentDocument,
  GetPaymentDocument,
  GetRefundDocument,
  ListPaymentsDocument,
  PaymentWithRefundsDocument,
  RefundPaymentDocument,
} from '../../src/client/generated/graphql';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { createSandbox, type SandboxHandle } from '../../src/sandbox';
import { signWebhookPayload } from '../../src/ucanpay';
import { scaleOutServices } from '../helpers/databases';
import { checkout, collect, eventually, sandboxCall } from '../helpers/gateway';
import { killRedisSubscribers, SPAWN_HOOK_TIMEOUT_MS, spawnGateway, type GatewayProcess } from '../helpers/instances';
import { paymentSucceededEvent } from '../helpers/webhook-events';

/** A's Redis subscriber waits this long before reconnecting: the window in which its events are lost. */
const RECONNECT_MS = 2000;

type Services = NonNullable<Awaited<ReturnType<typeof scaleOutServices>>>;
let services: Services | undefined;
let sandbox: SandboxHandle | undefined;
let sandboxDir: string | undefined;
let a: GatewayProcess;
let b: GatewayProcess;

beforeAll(async () => {
  services = await scaleOutServices('two_instances');
  if (!services) return;
  sandboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-scale-sandbox-'));
  sandbox = await createSandbox({
    port: 0,
    dbPath: path.join(sandboxDir, 'sandbox.sqlite'),
    merchants: [{ ...SANDBOX_DEFAULTS, name: 'Demo Shop' }],
    webhookRetry: { baseMs: 50, maxAttempts: 6, maxDelayMs: 500 },
    tickMs: 200,
    // Slow enough that a refund settles while a test holds a Redis subscriber down.
    refundDelayMs: 1200,
  });
  const env = {
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    UCANPAY_BASE_URL: sandbox.url,
    TEST_REDIS_CHANNEL_PREFIX: services.channelPrefix,
  };
  // One after the other: the first one runs the migrations and seeds the demo merchant.
  a = await spawnGateway('A', { ...env, TEST_REDIS_RECONNECT_MS: String(RECONNECT_MS) });
  b = await spawnGateway('B', env);
}, SPAWN_HOOK_TIMEOUT_MS);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await sandbox?.stop().catch(() => undefined);
  if (sandboxDir) fs.rmSync(sandboxDir, { recursive: true, force: true });
  await services?.drop();
});

let seq = 0;
async function createPayment(on: GatewayProcess, overrides: Record<string, unknown> = {}) {
  seq++;
  const res = await on.gql(CreatePaymentDocument, {
    input: { amount: 10_000, currency: 'USD', description: `Scale ${seq}`, returnUrl: 'https://shop.example/r', ...overrides } as never,
  });
  const result = res.data?.createPayment;
  if (result?.__typename !== 'CreatePaymentPayload') throw new Error(`createPayment on ${on.name}: ${JSON.stringify(res)}\n${on.logs()}`);
  return result.payment;
}

async function paymentOn(on: GatewayProcess, id: string) {
  return (await on.gql(GetPaymentDocument, { id })).data!.payment!;
}

async function paidPayment(on: GatewayProcess) {
  const payment = await createPayment(on);
  await checkout(payment.checkoutUrl!, 'authorize');
  return eventually(async () => {
    const p = await paymentOn(on, payment.id);
    return p.status === 'PAID' ? p : null;
  });
}

/** Rows of this run's schema, read directly. */
async function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
  const client = new PgClient({ connectionString: services!.postgres.url });
  await client.connect();
  try {
    return (await client.query(query, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const PaymentVersions = parse(`
  subscription PaymentVersions($id: ID!, $sinceVersion: Int) {
    paymentUpdated(id: $id, sinceVersion: $sinceVersion) { id status version paidAt updatedAt }
  }
`) as TypedDocumentNode<
  { paymentUpdated: { id: string; status: string; version: number; paidAt: string | null; updatedAt: string } },
  { id: string; sinceVersion?: number | null }
>;
const RefundVersions = parse(`
  subscription RefundVersions($id: ID!, $sinceVersion: Int) {
    refundUpdated(id: $id, sinceVersion: $sinceVersion) { id status version succeededAt }
  }
`) as TypedDocumentNode<
  { refundUpdated: { id: string; status: string; version: number; succeededAt: string | null } },
  { id: string; sinceVersion?: number | null }
>;

describe('two gateway processes on one PostgreSQL and one Redis', () => {
  it('a client subscribed on A receives the update for a webhook that B received', async () => {
    if (!services) return;
    const payment = await createPayment(b);
    const sub = collect(a.ws(), PaymentVersions, { id: payment.id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    await checkout(payment.checkoutUrl!, 'authorize');
    const pushed = await sub.until((v) => v.data?.paymentUpdated.status === 'PAID');
    expect(pushed.data!.paymentUpdated.version).toBeGreaterThan(payment.version);
    // Dates survived the trip through Redis as real timestamps.
    expect(new Date(pushed.data!.paymentUpdated.paidAt!).getTime()).toBeGreaterThan(0);
    expect(pushed.data!.paymentUpdated.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    // UCanPay called B (the instance that created the payment), never A.
    const { events } = await sandboxCall<{ events: Array<{ object_id: string; notify_url: string; delivered: boolean; type: string }> }>(
      sandbox!.url,
      'GET',
      '/sandbox/webhooks',
    );
    const delivered = events.filter((e) => e.object_id === payment.providerOrderId && e.type === 'payment.succeeded');
    expect(delivered).toHaveLength(1);
    expect(delivered[0].notify_url.startsWith(b.url)).toBe(true);
    sub.unsubscribe();
  });

  it('20 concurrent createPayment with one idempotency key over both instances: one payment, one UCanPay order', async () => {
    if (!services) return;
    const input = {
      amount: 4321,
      currency: 'EUR',
      description: 'Concurrent',
      returnUrl: 'https://shop.example/r',
      idempotencyKey: 'scale-idem-20',
      merchantReference: 'SCALE-20',
    };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).gql(CreatePaymentDocument, { input: input as never })));
    const ids = new Set<string>();
    let created = 0;
    for (const res of results) {
      if (res.errors) {
        // A duplicate arriving while the first is still talking to UCanPay is told to retry.
        expect(res.errors[0].extensions).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE', retryable: true });
        continue;
      }
      const result = res.data!.createPayment;
      // Same key, same input: the payment (new or replayed), never another answer such as MerchantReferenceInUseError.
      if (result.__typename !== 'CreatePaymentPayload') throw new Error(`a duplicate with the same idempotency key got ${JSON.stringify(result)}`);
      ids.add(result.payment.id);
      if (!result.replayed) created++;
    }
    expect(ids.size).toBe(1);
    expect(created).toBe(1);
    const { orders } = await sandboxCall<{ orders: unknown[] }>(sandbox!.url, 'GET', '/sandbox/orders?merchant_id=mch_demo&out_trade_no=SCALE-20');
    expect(orders).toHaveLength(1);
    expect(await sql('SELECT id FROM payments WHERE merchant_reference = $1', ['SCALE-20'])).toHaveLength(1);
    // A retry after the dust settled, on either instance, replays the one payment.
    for (const on of [a, b]) {
      const again = (await on.gql(CreatePaymentDocument, { input: input as never })).data!.createPayment;
      expect(again).toMatchObject({ __typename: 'CreatePaymentPayload', replayed: true, payment: { id: [...ids][0] } });
    }
  });

  it('concurrent refunds on different instances never exceed the paid amount', async () => {
    if (!services) return;
    const payment = await paidPayment(a);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).gql(RefundPaymentDocument, { input: { paymentId: payment.id, amount: 4000 } })),
    );
    const typenames = results.map((r) => r.data?.refundPayment.__typename ?? JSON.stringify(r.errors));
    expect(typenames.filter((t) => t === 'RefundPaymentPayload')).toHaveLength(2);
    expect(typenames.filter((t) => t === 'RefundExceedsPaymentError')).toHaveLength(8);
    const { refunds } = await sandboxCall<{ refunds: Array<{ transaction_id: string; amount: number }> }>(
      sandbox!.url,
      'GET',
      '/sandbox/refunds?merchant_id=mch_demo',
    );
    const atUCanPay = refunds.filter((r) => r.transaction_id === payment.transactionId);
    expect(atUCanPay.reduce((sum, r) => sum + r.amount, 0)).toBe(8000);
    // Both settle at UCanPay (refund webhooks reach A, where the payment was created).
    const settled = await eventually(async () => {
      const p = (await b.gql(PaymentWithRefundsDocument, { id: payment.id })).data!.payment!;
      return p.refundedAmount === 8000 ? p : null;
    });
    expect(settled).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundableAmount: 2000 });
    expect(settled.refunds.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('the same webhook event delivered to both instances at once is applied once', async () => {
    if (!services) return;
    const payment = await createPayment(a);
    const subs = [collect(a.ws(), PaymentVersions, { id: payment.id }), collect(b.ws(), PaymentVersions, { id: payment.id })];
    for (const sub of subs) await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    const eventId = `evt_scale_dup_${Date.now()}`;
    const body = JSON.stringify(paymentSucceededEvent(payment, { eventId, transactionId: 'txn_scale_dup' }));
    const post = (on: GatewayProcess) =>
      fetch(`${on.url}/webhooks/ucanpay/mer_demo`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ucanpay-signature': signWebhookPayload(SANDBOX_DEFAULTS.webhookSecret, body, Math.floor(Date.now() / 1000)),
        },
        body,
      }).then(async (res) => ({ status: res.status, ...((await res.json()) as { outcome?: string }) }));
    const replies = await Promise.all([a, b, a, b, a, b].map(post));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(replies.filter((r) => r.outcome === 'applied')).toHaveLength(1);
    expect(replies.filter((r) => r.outcome === 'duplicate')).toHaveLength(5);
    expect(await sql('SELECT event_id FROM webhook_events WHERE event_id = $1', [eventId])).toHaveLength(1);
    const stored = await paymentOn(b, payment.id);
    expect(stored).toMatchObject({ status: 'PAID', version: payment.version + 1, transactionId: 'txn_scale_dup' });
    for (const sub of subs) await sub.until((v) => v.data?.paymentUpdated.status === 'PAID');
    await new Promise((r) => setTimeout(r, 300));
    for (const sub of subs) {
      expect(sub.values.map((v) => v.data!.paymentUpdated.version)).toEqual([payment.version, payment.version + 1]);
      sub.unsubscribe();
    }
  });

  it('after A’s Redis subscriber connection drops, every subscriber converges on the latest version', async () => {
    if (!services) return;
    const p1 = await createPayment(b);
    const p2 = await createPayment(b);
    const p3 = await paidPayment(b);
    const refund = (await b.gql(RefundPaymentDocument, { input: { paymentId: p3.id, amount: 2500 } })).data!.refundPayment;
    if (refund.__typename !== 'RefundPaymentPayload') throw new Error(JSON.stringify(refund));
    expect(refund.refund.status).toBe('PROCESSING');

    const onA = [
      collect(a.ws(), PaymentVersions, { id: p1.id }),
      collect(a.ws(), PaymentVersions, { id: p1.id }),
      collect(a.ws(), PaymentVersions, { id: p2.id }),
      collect(a.ws(), PaymentVersions, { id: p3.id }),
    ];
    const refundOnA = collect(a.ws(), RefundVersions, { id: refund.refund.id });
    const onB = collect(b.ws(), PaymentVersions, { id: p1.id });
    for (const sub of [...onA, onB]) await sub.until((v) => !!v.data?.paymentUpdated);
    await refundOnA.until((v) => !!v.data?.refundUpdated);

    const killedAt = Date.now();
    expect(await killRedisSubscribers(services.redisUrl, `${services.channelPrefix}subscriber:${a.pid}.`)).toBe(1);
    // Changes while A hears nothing: all of them reach B (webhooks) and are published.
    await checkout(p1.checkoutUrl!, 'authorize');
    await checkout(p2.checkoutUrl!, 'cancel');
    await onB.until((v) => v.data?.paymentUpdated.status === 'PAID');
    if (Date.now() - killedAt < RECONNECT_MS - 300) {
      // The published PAID was lost for A: whatever A's subscribers get later comes from the resync.
      expect(onA[0].values.some((v) => v.data?.paymentUpdated.status === 'PAID')).toBe(false);
    }

    const latest = async (id: string) => (await paymentOn(b, id)).version;
    // Both webhooks applied (the cancel may land after the PAID that B's subscriber just saw).
    await eventually(async () => (await paymentOn(b, p2.id)).status === 'CANCELLED');
    const want = { p1: await latest(p1.id), p2: await latest(p2.id) };
    const lastVersion = (sub: (typeof onA)[number]) => sub.values.at(-1)?.data?.paymentUpdated.version;
    await eventually(async () => lastVersion(onA[0]) === want.p1 && lastVersion(onA[1]) === want.p1 && lastVersion(onA[2]) === want.p2, 10_000);
    await onA[3].until((v) => v.data?.paymentUpdated.status === 'PARTIALLY_REFUNDED');
    await refundOnA.until((v) => v.data?.refundUpdated.status === 'SUCCEEDED');
    expect(lastVersion(onA[3])).toBe(await latest(p3.id));
    const storedRefund = (await b.gql(GetRefundDocument, { id: refund.refund.id })).data!.refund!;
    expect(refundOnA.values.at(-1)!.data!.refundUpdated.version).toBe(storedRefund.version);
    expect(onA[2].values.at(-1)!.data!.paymentUpdated.status).toBe('CANCELLED');
    // Each subscriber saw every version at most once, in increasing order.
    for (const sub of [...onA, onB]) {
      const versions = sub.values.map((v) => v.data!.paymentUpdated.version);
      expect(versions).toEqual([...new Set(versions)].sort((x, y) => x - y));
    }
    // And A's subscriptions are live again: a later change arrives the normal way.
    const before = lastVersion(onA[3])!;
    const more = await b.gql(RefundPaymentDocument, { input: { paymentId: p3.id, amount: 1000 } });
    expect(more.data!.refundPayment.__typename).toBe('RefundPaymentPayload');
    await onA[3].until((v) => (v.data?.paymentUpdated.version ?? 0) > before);
    for (const sub of [...onA, onB, refundOnA]) sub.unsubscribe();
  }, 60_000);

  it('resumes from a version: sinceVersion skips what the client already has', async () => {
    if (!services) return;
    const payment = await paidPayment(b);
    // Up to date: nothing until the next change, which comes first.
    const resumed = collect(a.ws(), PaymentVersions, { id: payment.id, sinceVersion: payment.version });
    // Behind: the current state at once.
    const behind = collect(a.ws(), PaymentVersions, { id: payment.id, sinceVersion: payment.version - 1 });
    await behind.until((v) => v.data?.paymentUpdated.version === payment.version);
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed.values).toEqual([]);
    const refund = await b.gql(RefundPaymentDocument, { input: { paymentId: payment.id, amount: 1000 } });
    expect(refund.data!.refundPayment.__typename).toBe('RefundPaymentPayload');
    const next = await resumed.until((v) => !!v.data?.paymentUpdated);
    expect(next.data!.paymentUpdated.version).toBeGreaterThan(payment.version);
    expect(resumed.values[0]).toBe(next);
    // A bad resume point is bad input, after the access check.
    const bad = collect(a.ws(), PaymentVersions, { id: payment.id, sinceVersion: -1 });
    await expect(bad.until(() => false, 5000)).rejects.toThrow(/BAD_USER_INPUT|sinceVersion/);
    for (const sub of [resumed, behind]) sub.unsubscribe();
    const list = await a.gql(ListPaymentsDocument, { first: 5 });
    expect(list.data!.payments.edges.length).toBeGreaterThan(0);
  });
});
