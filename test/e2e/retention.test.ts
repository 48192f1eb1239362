/**
 * Retention: idempotency keys and webhook inbox rows are deleted after their
 * window by a pass in bounded batches, never a key whose request is still in
 * flight, and never so long a writer waits behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { ExecutionResult } from 'graphql';
import { CreatePaymentDocument, GetPaymentDocument } from '../../src/client/generated/graphql';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { IdempotencyKeyEntity, WebhookEventEntity } from '../../src/entities';
import { signWebhookPayload } from '../../src/ucanpay';
import { dropPostgresSchema, freshPostgresSchema } from '../helpers/databases';
import { eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';
import { paymentSucceededEvent } from '../helpers/webhook-events';

const HOUR = 3600_000;

const input = (key: string, amount = 1500) => ({
  amount,
  currency: 'USD',
  description: 'Retention',
  returnUrl: 'https://shop.example/r',
  idempotencyKey: key,
});

type Created = NonNullable<ExecutionResult<import('../../src/client/generated/graphql').CreatePaymentMutation>['data']>['createPayment'];

async function overHttp(gw: TestGateway, key: string, amount?: number): Promise<Created> {
  const res = await gw.gql(CreatePaymentDocument, { input: input(key, amount) });
  if (!res.data) throw new Error(JSON.stringify(res));
  return res.data.createPayment;
}

async function overWs<T, V>(gw: TestGateway, doc: TypedDocumentNode<T, V>, variables: V): Promise<ExecutionResult<T>> {
  const client = gw.ws();
  for await (const result of client.iterate<T>({ query: print(doc), variables: variables as Record<string, unknown> })) return result as ExecutionResult<T>;
  throw new Error('no result over graphql-ws');
}

function paymentOf(result: Created) {
  if (result.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(result));
  return result;
}

/** Moves a key's clock back by `ms` (created and expiry), as if it had been claimed that long ago. */
async function age(gw: TestGateway, key: string, ms: number): Promise<void> {
  const row = await gw.app.db.manager.findOneByOrFail(IdempotencyKeyEntity, { merchantId: gw.app.demo.merchantId, key });
  await gw.app.db.transaction((tx) =>
    tx.manager.update(
      IdempotencyKeyEntity,
      { merchantId: row.merchantId, key },
      { createdAt: new Date(row.createdAt.getTime() - ms), expiresAt: new Date(row.expiresAt.getTime() - ms) },
    ),
  );
}

const keyRow = (gw: TestGateway, key: string) => gw.app.db.manager.findOneBy(IdempotencyKeyEntity, { merchantId: gw.app.demo.merchantId, key });

async function postEvent(gw: TestGateway, event: object) {
  const body = JSON.stringify(event);
  const res = await fetch(`${gw.app.url}/webhooks/ucanpay/${gw.app.demo.merchantId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ucanpay-signature': signWebhookPayload(SANDBOX_DEFAULTS.webhookSecret, body, Math.floor(Date.now() / 1000)),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as { received: boolean; outcome?: string };
}

const gateways: TestGateway[] = [];
const schemas: string[] = [];
afterAll(async () => {
  for (const gw of gateways.splice(0)) await gw.stop();
  for (const schema of schemas.splice(0)) await dropPostgresSchema(schema);
});

describe('retention of idempotency keys and the webhook inbox (SQLite)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ RETENTION_INTERVAL_MS: '0', UCANPAY_TIMEOUT_MS: '20000' });
    gateways.push(gw);
  });

  // Mutations go over HTTP only (graphql-ws carries queries and subscriptions): what a pass keeps is read over both.
  it('an expired key is gone after a pass and can be used anew; a live one survives and still replays', async () => {
    const first = paymentOf(await overHttp(gw, 'ret-expired-http'));
    const live = paymentOf(await overHttp(gw, 'ret-live'));
    await age(gw, 'ret-expired-http', 49 * HOUR);
    await age(gw, 'ret-live', 47 * HOUR);

    const report = await gw.app.services.retention.runOnce();
    expect(report.idempotencyKeys).toBe(1);
    expect(await keyRow(gw, 'ret-expired-http')).toBeNull();
    expect(await keyRow(gw, 'ret-live')).not.toBeNull();

    // The forgotten key now starts a new payment, even with another amount (no conflict with the old request).
    const again = paymentOf(await overHttp(gw, 'ret-expired-http', 2500));
    expect(again.replayed).toBe(false);
    expect(again.payment.id).not.toBe(first.payment.id);
    expect(again.payment.amount).toBe(2500);
    // The earlier payment is still there, over both transports: only its key went.
    expect((await gw.gql(GetPaymentDocument, { id: first.payment.id })).data?.payment).toMatchObject({ id: first.payment.id, amount: 1500 });
    expect((await overWs(gw, GetPaymentDocument, { id: first.payment.id })).data?.payment).toMatchObject({ id: first.payment.id, amount: 1500 });

    const replay = paymentOf(await overHttp(gw, 'ret-live'));
    expect(replay).toMatchObject({ replayed: true, payment: { id: live.payment.id } });
  });

  it('a key whose request is still talking to UCanPay survives a pass, however old, and its request completes once', async () => {
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { endpoint: 'POST /payment/unifiedorder', latency_ms: 6000 });
    const pending = overHttp(gw, 'ret-in-flight');
    await eventually(async () => (await keyRow(gw, 'ret-in-flight'))?.state === 'IN_PROGRESS', 5000, 20);
    await age(gw, 'ret-in-flight', 30 * 24 * HOUR);

    await gw.app.services.retention.runOnce();
    const during = await keyRow(gw, 'ret-in-flight');
    expect(during?.state).toBe('IN_PROGRESS');

    const created = paymentOf(await pending);
    expect(created.replayed).toBe(false);
    expect(paymentOf(await overHttp(gw, 'ret-in-flight'))).toMatchObject({ replayed: true, payment: { id: created.payment.id } });
  });

  it('a duplicate UCanPay webhook within the inbox window is still recognised; after it, the state machine keeps it harmless', async () => {
    const { payment } = paymentOf(await overHttp(gw, 'ret-webhook'));
    const event = paymentSucceededEvent(payment, { eventId: 'evt_retention_dup_1', transactionId: 'txn_retention_1' });
    expect(await postEvent(gw, event)).toMatchObject({ received: true, outcome: 'applied' });
    // Six days later (inside the 7-day window) the pass keeps the event id.
    await gw.app.db.transaction((tx) =>
      tx.manager.update(WebhookEventEntity, { merchantId: gw.app.demo.merchantId, eventId: event.id }, { receivedAt: new Date(Date.now() - 6 * 24 * HOUR) }),
    );
    await gw.app.services.retention.runOnce();
    expect(await postEvent(gw, event)).toMatchObject({ received: true, outcome: 'duplicate' });

    // Eight days later it is gone; a redelivery that late is applied again and changes nothing.
    await gw.app.db.transaction((tx) =>
      tx.manager.update(WebhookEventEntity, { merchantId: gw.app.demo.merchantId, eventId: event.id }, { receivedAt: new Date(Date.now() - 8 * 24 * HOUR) }),
    );
    expect((await gw.app.services.retention.runOnce()).webhookEvents).toBeGreaterThanOrEqual(1);
    expect(await gw.app.db.manager.findOneBy(WebhookEventEntity, { merchantId: gw.app.demo.merchantId, eventId: event.id })).toBeNull();
    const before = (await gw.gql(GetPaymentDocument, { id: payment.id })).data!.payment!;
    expect(await postEvent(gw, event)).toMatchObject({ received: true, outcome: 'unchanged' });
    expect((await gw.gql(GetPaymentDocument, { id: payment.id })).data!.payment!).toMatchObject({ status: 'PAID', version: before.version });
    expect((await overWs(gw, GetPaymentDocument, { id: payment.id })).data!.payment!).toMatchObject({ status: 'PAID', version: before.version });
  });
});

/**
 * 100,000 expired keys, one pass, and createPayment requests sent one after
 * another while it runs. Asserted: the pass is many short transactions (each
 * at most one batch) and requests are answered while it runs, not after it;
 * the longest wait is printed (timings are not asserted: the machine is shared).
 */
async function blockingCheck(gw: TestGateway, label: string): Promise<void> {
  const db = gw.app.db;
  const merchantId = gw.app.demo.merchantId;
  const now = Date.now();
  const table = db.dataSource
    .getMetadata(IdempotencyKeyEntity)
    .tablePath.split('.')
    .map((p) => `"${p}"`)
    .join('.');
  const columns = '"merchant_id", "key", "operation", "request_hash", "state", "resource_id", "locked_until", "created_at", "expires_at"';
  const values = `'${merchantId}', 'expired-' || n, 'createPayment', '${'0'.repeat(64)}', 'COMPLETED', 'pay_x', 0, ${now - 72 * HOUR} + n, ${now - 24 * HOUR} + n`;
  for (let start = 0; start < 100_000; start += 25_000) {
    const end = start + 25_000 - 1;
    const sql =
      db.kind === 'postgres'
        ? `INSERT INTO ${table} (${columns}) SELECT ${values} FROM generate_series(${start}, ${end}) AS s(n)`
        : `WITH RECURSIVE s(n) AS (SELECT ${start} UNION ALL SELECT n + 1 FROM s WHERE n < ${end}) INSERT INTO ${table} (${columns}) SELECT ${values} FROM s`;
    await db.transaction((tx) => tx.manager.query(sql));
  }
  const transactionsBefore = db.stats.transactions;
  const passStarted = performance.now();
  let passEnded = 0;
  const pass = gw.app.services.retention.runOnce().then((r) => {
    passEnded = performance.now();
    return r;
  });
  const waits: Array<{ ms: number; endedAt: number }> = [];
  let i = 0;
  while (!passEnded) {
    const t0 = performance.now();
    paymentOf(await overHttp(gw, `during-pass-${i++}`));
    waits.push({ ms: performance.now() - t0, endedAt: performance.now() });
  }
  const report = await pass;
  expect(report.idempotencyKeys).toBe(100_000);
  expect(report.batches).toBeGreaterThanOrEqual(100_000 / 500);
  expect(db.stats.transactions - transactionsBefore).toBeGreaterThanOrEqual(report.batches);
  const answeredDuring = waits.filter((w) => w.endedAt < passEnded).length;
  expect(answeredDuring).toBeGreaterThan(0);
  const sorted = waits.map((w) => w.ms).sort((a, b) => a - b);
  console.log(
    `[retention ${label}] pass over 100,000 expired keys: ${Math.round(passEnded - passStarted)} ms in ${report.batches} batches; ` +
      `${waits.length} createPayment meanwhile (${answeredDuring} answered during the pass), ` +
      `p50 ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`,
  );
}

describe('a pass over 100,000 expired keys never holds writers back for long', () => {
  it('on SQLite: many short transactions, createPayment answered throughout', { timeout: 120_000 }, async () => {
    const gw = await startGateway({ RETENTION_INTERVAL_MS: '0', RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' });
    gateways.push(gw);
    await blockingCheck(gw, 'sqlite');
  });

  it('on PostgreSQL: the same', { timeout: 120_000 }, async () => {
    const pg = await freshPostgresSchema('retention');
    if (!pg) return;
    schemas.push(pg.schema);
    const url = new URL(pg.url);
    url.searchParams.set('schema', pg.schema);
    const gw = await startGateway({ DATABASE_URL: url.toString(), RETENTION_INTERVAL_MS: '0', RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' });
    gateways.push(gw);
    await blockingCheck(gw, 'postgres');
  });
});
