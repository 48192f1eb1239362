import fs from 'node:fs';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { MerchantEntity } from '../../src/entities';
import { tempSqlitePath } from '../helpers/databases';
import { testMerchant } from '../helpers/entities';

/**
 * src/db/internals relies on TypeORM and sqlite3 internals (its README.md).
 * Each test names one of them and fails, saying which, when an upgrade
 * changes it: read src/db/internals/README.md before changing the pins.
 */
const pkg = JSON.parse(fs.readFileSync(path.resolve('package.json'), 'utf8')) as { dependencies: Record<string, string> };
const installed = (name: string) => (JSON.parse(fs.readFileSync(path.resolve('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('internals'), synchronous: 'NORMAL' });
});
afterAll(async () => {
  await db?.close();
});

const merchant = (id: string) => testMerchant(id);

describe('the TypeORM and sqlite3 internals src/db/internals relies on', () => {
  it('pins: typeorm 0.3.31 and sqlite3 6.0.1, exactly, in package.json and installed', () => {
    expect(pkg.dependencies.typeorm, 'package.json must pin typeorm exactly (src/db/internals/README.md)').toBe('0.3.31');
    expect(pkg.dependencies.sqlite3, 'package.json must pin sqlite3 exactly (src/db/internals/README.md)').toBe('6.0.1');
    expect(installed('typeorm')).toBe('0.3.31');
    expect(installed('sqlite3')).toBe('6.0.1');
  });

  it('sqlite-driver.ts: TypeORM sends statements as run/all(sql, parameters, callback), and BEGIN TRANSACTION to start one', async () => {
    const raw = db.dataSource.driver as unknown as { databaseConnection: sqlite3.Database };
    const seen: Array<{ method: string; sql: string; args: number }> = [];
    const connection = raw.databaseConnection as unknown as Record<'run' | 'all', (...a: unknown[]) => unknown>;
    const originals = { run: connection.run, all: connection.all };
    for (const method of ['run', 'all'] as const) {
      connection[method] = function (this: unknown, ...args: unknown[]) {
        seen.push({ method, sql: String(args[0]), args: args.length });
        return originals[method].apply(this, args);
      };
    }
    try {
      await db.transaction(async (tx) => {
        await tx.manager.findOne(MerchantEntity, { where: { id: 'x' } });
        await tx.manager.insert(MerchantEntity, merchant('guard-1'));
      });
    } finally {
      connection.run = originals.run;
      connection.all = originals.all;
    }
    expect(seen.length, 'TypeORM no longer calls databaseConnection.run/all: the statement cache is bypassed').toBeGreaterThan(2);
    expect(
      seen.every((s) => s.args === 3),
      'TypeORM calls run/all with other arguments than (sql, parameters, callback)',
    ).toBe(true);
    expect(seen[0].sql, 'TypeORM starts SQLite transactions with another text: BEGIN IMMEDIATE no longer applies').toBe('BEGIN TRANSACTION');
  });

  it('sqlite-driver.ts: new sqlite3.Statement(db, sql, callback) prepares a statement', async () => {
    const raw = new sqlite3.Database(':memory:');
    const Statement = sqlite3.Statement as unknown as new (d: sqlite3.Database, sql: string, cb: (err: Error | null) => void) => sqlite3.Statement;
    await new Promise<void>((resolve, reject) => {
      const stmt = new Statement(raw, 'SELECT 1 AS one', (err) => {
        if (err) return reject(err);
        stmt.all([], (e: Error | null, rows: unknown[]) => (e ? reject(e) : (expect(rows).toEqual([{ one: 1 }]), stmt.finalize(() => resolve()))));
      });
    });
    await new Promise((r) => raw.close(r));
  });

  it('numeric-binding.ts: driver.escapeQueryWithParameters(sql, parameters, native) returns [text, values]', () => {
    const driver = db.dataSource.driver as unknown as { escapeQueryWithParameters?: (s: string, p: object, n: object) => [string, unknown[]] };
    expect(typeof driver.escapeQueryWithParameters, 'SqliteDriver.escapeQueryWithParameters is gone').toBe('function');
    const [text, values] = driver.escapeQueryWithParameters!('SELECT :a AS a, :b AS b', { a: 5, b: 'x' }, {});
    expect(text).toBe('SELECT ? AS a, ? AS b');
    expect(values).toEqual([5, 'x']);
  });

  it('finder.ts: EntityMetadata.create, ColumnMetadata.setEntityValue, driver.prepareHydratedValue hydrate a row as TypeORM does', async () => {
    await db.transaction(async (tx) => void (await tx.manager.insert(MerchantEntity, merchant('guard-2'))));
    const metadata = db.dataSource.getMetadata(MerchantEntity) as unknown as { create?: unknown; columns: Array<{ setEntityValue?: unknown }> };
    expect(typeof metadata.create, 'EntityMetadata.create is gone').toBe('function');
    expect(typeof metadata.columns[0].setEntityValue, 'ColumnMetadata.setEntityValue is gone').toBe('function');
    expect(typeof (db.dataSource.driver as unknown as { prepareHydratedValue?: unknown }).prepareHydratedValue, 'driver.prepareHydratedValue is gone').toBe(
      'function',
    );
    const fast = await db.findOneBy(MerchantEntity, { id: 'guard-2' });
    const typeorm = await db.manager.findOne(MerchantEntity, { where: { id: 'guard-2' } });
    expect(fast).toEqual(typeorm);
    expect(fast).toBeInstanceOf(MerchantEntity);
    expect(fast!.createdAt).toEqual(new Date(1_700_000_000_123));
  });

  it('transaction-state.ts: the query runner keeps isTransactionActive and transactionDepth', async () => {
    const runner = db.dataSource.createQueryRunner();
    try {
      const state = runner as unknown as Record<string, unknown>;
      expect('isTransactionActive' in state && typeof state.isTransactionActive, 'QueryRunner.isTransactionActive is gone').toBe('boolean');
      expect(typeof state.transactionDepth, 'QueryRunner.transactionDepth is gone').toBe('number');
    } finally {
      await runner.release();
    }
  });
});
