import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { ApiKeyEntity, MerchantEntity, PaymentEntity } from '../../src/entities';
import { freshPostgresSchema, tempSqlitePath } from '../helpers/databases';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

function payment(id: string, overrides: Partial<PaymentEntity> = {}): PaymentEntity {
  const at = new Date(1_700_000_000_123);
  return Object.assign(new PaymentEntity(), {
    id,
    merchantId: 'mer_f',
    merchantReference: `ref-${id}`,
    status: 'PAID',
    amount: 1234,
    currency: 'KWD',
    description: "Ünïcode “quotes” and 'single'",
    returnUrl: 'https://shop.example/r?a=1&b=2',
    metadata: { order: '42', nested: 'x' },
    expiresInSeconds: 1800,
    clientSecret: `${id}_secret_abc`,
    providerOrderId: 'ord_1',
    checkoutUrl: null,
    transactionId: 'txn_1',
    refundedAmount: 0,
    failureCode: null,
    failureMessage: null,
    version: 3,
    expiresAt: new Date(at.getTime() + 1800_000),
    paidAt: at,
    createdAt: at,
    updatedAt: new Date(at.getTime() + 5),
    syncedAt: null,
    ...overrides,
  } satisfies PaymentEntity);
}

async function checkEquivalence(db: Database) {
  await db.transaction(async (tx) => {
    await tx.manager.insert(MerchantEntity, {
      id: 'mer_f',
      name: 'F',
      ucanpayMerchantId: 'mch_f',
      ucanpaySecretKey: 'sk',
      ucanpayWebhookSecret: 'wh',
      createdAt: new Date(1_700_000_000_000),
    });
    await tx.manager.insert(PaymentEntity, [payment('pay_a'), payment('pay_b', { status: 'PENDING', paidAt: null, transactionId: null, metadata: {} })]);
    await tx.manager.insert(ApiKeyEntity, {
      id: 'key_1',
      merchantId: 'mer_f',
      keyHash: 'h'.repeat(64),
      keyPrefix: 'gw_abcde',
      createdAt: new Date(1_700_000_000_000),
      revokedAt: new Date(1_700_000_100_000),
    });
  });
  for (let round = 0; round < 3; round++) {
    for (const where of [{ id: 'pay_a', merchantId: 'mer_f' }, { id: 'pay_b' }, { id: 'pay_a', merchantId: 'mer_other' }, { id: 'nope' }]) {
      const fast = await db.findOneBy(PaymentEntity, where);
      const slow = await db.manager.findOne(PaymentEntity, { where });
      expect(fast).toEqual(slow);
      if (fast) expect(fast).toBeInstanceOf(PaymentEntity);
    }
    expect(await db.findOneBy(MerchantEntity, { id: 'mer_f' })).toEqual(await db.manager.findOne(MerchantEntity, { where: { id: 'mer_f' } }));
    const key = await db.findOneBy(ApiKeyEntity, { keyHash: 'h'.repeat(64) });
    expect(key).toEqual(await db.manager.findOne(ApiKeyEntity, { where: { keyHash: 'h'.repeat(64) } }));
    expect(key?.revokedAt).toEqual(new Date(1_700_000_100_000));
  }
  // Inside a transaction (and locking the row on PostgreSQL) it sees the transaction's own writes.
  await db.transaction(async (tx) => {
    await tx.manager.update(PaymentEntity, { id: 'pay_b' }, { status: 'FAILED' });
    const locked = await db.findOneBy(PaymentEntity, { id: 'pay_b' }, { tx, forUpdate: true });
    expect(locked?.status).toBe('FAILED');
    expect(locked).toEqual(
      await tx.manager.findOne(PaymentEntity, { where: { id: 'pay_b' }, ...(db.kind === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {}) }),
    );
    await expect(db.findOneByOrFail(PaymentEntity, { id: 'nope' }, { tx, forUpdate: true })).rejects.toThrow(/Could not find any entity/);
  });
  // Values it does not handle itself (here a number) take TypeORM's path, with TypeORM's answer.
  expect(await db.findOneBy(PaymentEntity, { amount: 1234, id: 'pay_a' })).toEqual(await db.manager.findOne(PaymentEntity, { where: { id: 'pay_a' } }));
}

describe('Database.findOneBy', () => {
  it('returns exactly what manager.findOne returns, on SQLite', async () => {
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('find'), synchronous: 'FULL' });
    opened.push(db);
    await checkEquivalence(db);
  });

  it('returns exactly what manager.findOne returns, on PostgreSQL', async () => {
    const pg = await freshPostgresSchema('find');
    if (!pg) return;
    const db = await openDatabase(pg);
    opened.push(db);
    await checkEquivalence(db);
  });
});
