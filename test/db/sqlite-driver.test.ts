import sqlite3 from 'sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isUniqueViolation, openDatabase, type Database } from '../../src/db/database';
import { sqliteDriver, StatementCachingDatabase } from '../../src/db/sqlite-driver';
import { MerchantEntity, PaymentEntity } from '../../src/entities';
import { tempSqlitePath } from '../helpers/databases';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

function merchant(id: string, name = `Merchant ${id}`): MerchantEntity {
  return Object.assign(new MerchantEntity(), {
    id,
    name,
    ucanpayMerchantId: `mch_${id}`,
    ucanpaySecretKey: 'sk',
    ucanpayWebhookSecret: 'whsec',
    createdAt: new Date(1_700_000_000_123),
  });
}

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
    // Numbers are written into the SQL text by TypeORM on SQLite: every one of these texts is new.
    for (let i = 0; i < 5; i++) await db.dataSource.manager.query(`SELECT ${i} AS n`);
    await Promise.resolve();
    expect(conn.cachedStatements).toBe(before);
    for (let i = 0; i < 4; i++) await db.dataSource.manager.find(PaymentEntity, { where: { merchantId: 'none' } });
    expect(conn.cachedStatements).toBeGreaterThan(before);
    await expect(db.close()).resolves.toBeUndefined();
  });
});
