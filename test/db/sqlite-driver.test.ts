import sqlite3 from 'sqlite3';
import { MoreThan } from 'typeorm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isUniqueViolation, openDatabase, type Database } from '../../src/db/database';
import { sqliteDriver, StatementCachingDatabase } from '../../src/db/internals/sqlite-driver';
import { MerchantEntity, PaymentEntity } from '../../src/entities';
import { tempSqlitePath } from '../helpers/databases';
import { testMerchant } from '../helpers/entities';
import { testPayment } from '../helpers/entities';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

const merchant = (id: string, name = `Merchant ${id}`) => testMerchant(id, { name });

function connection(db: Database): StatementCachingDatabase {
  return (db.dataSource.driver as unknown as { databaseConnection: StatementCachingDatabase }).databaseConnection;
}

describe('the sqlite3 driver TypeORM gets', () => {
  it('never turns on long stack traces, and opens caching connections', async () => {
    expect(sqliteDriver.verbose()).toBe(sqliteDriver);
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('driver'), synchronous: 'FULL' });
    opened.push(db);
    expect(connection(db)).toBeInstanceOf(StatementCachingDatabase);
    expect(connection(db)).toBeInstanceOf(sqlite3.Database);
  });

  it('reuses prepared statements from the second call on, with the same results, counts and errors', async () => {
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('driver'), synchronous: 'FULL' });
    opened.push(db);
    const conn = connection(db);
    const before = conn.cachedStatements;
    for (let i = 0; i < 5; i++) {
      await db.transaction((tx) => tx.manager.insert(MerchantEntity, merchant(`m${i}`)));
      expect(await db.manager.findOne(MerchantEntity, { where: { id: `m${i}` } })).toEqual(merchant(`m${i}`));
      expect(await db.manager.findOne(MerchantEntity, { where: { id: 'absent' } })).toBeNull();
    }
    expect(conn.cachedStatements).toBeGreaterThan(before);
    // UPDATE through a cached statement still reports the affected rows.
    for (let i = 0; i < 3; i++) {
      const result = await db.transaction((tx) => tx.manager.update(MerchantEntity, { id: 'm1' }, { name: `renamed ${i}` }));
      expect(result.affected).toBe(1);
      const none = await db.transaction((tx) => tx.manager.update(MerchantEntity, { id: 'absent' }, { name: 'x' }));
      expect(none.affected).toBe(0);
    }
    expect((await db.manager.findOneByOrFail(MerchantEntity, { id: 'm1' })).name).toBe('renamed 2');
    // Constraint errors keep their code and message, every time, and the statement stays usable.
    for (let i = 0; i < 3; i++) {
      const error = await db.transaction((tx) => tx.manager.insert(MerchantEntity, merchant('m0'))).catch((e: unknown) => e);
      expect(isUniqueViolation(error)).toBe(true);
      expect(String((error as Error).message)).toMatch(/SQLITE_CONSTRAINT: UNIQUE constraint failed: merchants\.id/);
    }
    expect(await db.manager.count(MerchantEntity)).toBe(5);
  });

  it('prepares nothing for one-off statement texts, and closes cleanly with statements prepared', async () => {
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('driver'), synchronous: 'FULL' });
    const conn = connection(db);
    const before = conn.cachedStatements;
    // Raw SQL with the values written in: every one of these texts is new.
    for (let i = 0; i < 5; i++) await db.dataSource.manager.query(`SELECT ${i} AS n`);
    await Promise.resolve();
    expect(conn.cachedStatements).toBe(before);
    for (let i = 0; i < 4; i++) await db.dataSource.manager.find(PaymentEntity, { where: { merchantId: 'none' } });
    expect(conn.cachedStatements).toBeGreaterThan(before);
    await expect(db.close()).resolves.toBeUndefined();
  });

  it('binds numbers instead of writing them into the SQL text: writes that differ only in numbers share one prepared statement, values stay exact INTEGERs', async () => {
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('driver'), synchronous: 'FULL' });
    opened.push(db);
    const conn = connection(db);
    const texts = new Set<string>();
    const run = vi.spyOn(conn, 'run');
    const amounts = [0, 1, 2 ** 31, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
    for (const [i, amount] of amounts.entries()) {
      const at = new Date(1_700_000_000_000 + i * 1_000_003);
      await db.transaction((tx) =>
        tx.manager.insert(
          PaymentEntity,
          testPayment(`pay_n${i}`, 'mer_n', {
            merchantReference: `ref-${i}`,
            amount,
            currency: 'USD',
            description: 'd',
            returnUrl: 'https://shop.example/r',
            expiresInSeconds: 1800 + i,
            createdAt: at,
            updatedAt: at,
          }),
        ),
      );
      await db.transaction((tx) => tx.manager.update(PaymentEntity, { id: `pay_n${i}` }, { version: 2 + i, refundedAmount: i }));
    }
    for (const call of run.mock.calls) texts.add(String(call[0]));
    run.mockRestore();
    const inserts = [...texts].filter((t) => t.startsWith('INSERT INTO "payments"'));
    const updates = [...texts].filter((t) => t.startsWith('UPDATE "payments"'));
    expect(inserts).toHaveLength(1);
    expect(updates).toHaveLength(1);
    expect(inserts[0]).not.toMatch(/\b1800\b|\b1700000000000\b/);
    // Exact values, stored as INTEGER, compared numerically, LIMIT still works.
    const stored = (await db.manager.query('SELECT id, amount, typeof(amount) AS t, typeof(created_at) AS tc, version FROM payments ORDER BY id')) as Array<{
      id: string;
      amount: number;
      t: string;
      tc: string;
      version: number;
    }>;
    expect(stored.map((r) => r.amount)).toEqual(amounts);
    expect(new Set(stored.map((r) => `${r.t}/${r.tc}`))).toEqual(new Set(['integer/integer']));
    expect(stored.map((r) => r.version)).toEqual([2, 3, 4, 5, 6]);
    const big = await db.manager.find(PaymentEntity, { where: { amount: MoreThan(2 ** 31) }, order: { amount: 'ASC' }, take: 1 });
    expect(big.map((p) => p.amount)).toEqual([2 ** 40 + 7]);
    const read = await db.manager.findOneByOrFail(PaymentEntity, { id: 'pay_n4' });
    expect(read.amount).toBe(Number.MAX_SAFE_INTEGER);
    expect(read.createdAt).toEqual(new Date(1_700_000_000_000 + 4 * 1_000_003));
    expect(read.expiresInSeconds).toBe(1804);
  });
});
