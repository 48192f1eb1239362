import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, ListPaymentsDocument } from '../../src/client/generated/graphql';
import { sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * Another process holding the gateway's SQLite write lock (a backup, an
 * `sqlite3` shell in a transaction): a short hold is waited for, a hold past
 * SQLITE_BUSY_TIMEOUT_MS is a retryable DATABASE_BUSY with nothing written
 * and nothing sent to UCanPay, and the same key then makes exactly one order.
 */
let gw: TestGateway;
let holder: sqlite3.Database;
beforeAll(async () => {
  gw = await startGateway({ SQLITE_BUSY_TIMEOUT_MS: '1500' });
  if (gw.config.database.type !== 'sqlite') throw new Error('this test is about SQLite');
  holder = new sqlite3.Database(gw.config.database.path);
});
afterAll(async () => {
  await new Promise((r) => holder?.close(r));
  await gw?.stop();
});

const exec = (sql: string) => new Promise<void>((resolve, reject) => holder.exec(sql, (err) => (err ? reject(err) : resolve())));

function create(key: string) {
  return gw.gql(CreatePaymentDocument, {
    input: { amount: 1250, currency: 'EUR', description: 'Locked out', returnUrl: 'https://shop.example/return', idempotencyKey: key } as never,
  });
}

async function orderCount(): Promise<number> {
  const { orders } = await sandboxCall<{ orders: unknown[] }>(gw.sandboxUrl, 'GET', '/sandbox/orders?merchant_id=mch_demo');
  return orders.length;
}

async function paymentCount(): Promise<number> {
  const list = await gw.gql(ListPaymentsDocument, { first: 100 });
  return list.data!.payments.edges.length;
}

describe('the SQLite file locked by another process', () => {
  it('a mutation waits for a lock held briefly (shorter than the busy timeout) and succeeds', async () => {
    await exec('BEGIN IMMEDIATE');
    const release = setTimeout(() => void exec('COMMIT'), 500);
    const started = Date.now();
    const res = await create('busy-brief-1');
    clearTimeout(release);
    expect(res.errors).toBeUndefined();
    expect(res.data!.createPayment.__typename).toBe('CreatePaymentPayload');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('a lock held past the busy timeout is a retryable DATABASE_BUSY: nothing written, nothing sent; the same key then makes one order', async () => {
    const [payments, orders] = [await paymentCount(), await orderCount()];
    await exec('BEGIN IMMEDIATE');
    let res: Awaited<ReturnType<typeof create>>;
    try {
      res = await create('busy-past-1');
    } finally {
      await exec('COMMIT');
    }
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'DATABASE_BUSY', retryable: true });
    expect(res.errors?.[0]?.message).toMatch(/locked/);
    expect(await paymentCount()).toBe(payments);
    expect(await orderCount()).toBe(orders);

    const retry = await create('busy-past-1');
    expect(retry.errors).toBeUndefined();
    const result = retry.data!.createPayment;
    if (result.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(result));
    expect(result.replayed).toBe(false);
    expect(await paymentCount()).toBe(payments + 1);
    expect(await orderCount()).toBe(orders + 1);
  });
});
