import sqlite3 from 'sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { MerchantEntity } from '../../src/entities';
import { tempSqlitePath } from '../helpers/databases';
import { testMerchant } from '../helpers/entities';

const opened: Database[] = [];
const holders: sqlite3.Database[] = [];
afterEach(async () => {
  await Promise.all(holders.splice(0).map((h) => new Promise((r) => h.close(r))));
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

const merchant = (id: string) => testMerchant(id);

/** Another connection (as another process would) that takes the write lock and keeps it until `release()`. */
async function holdWriteLock(file: string): Promise<{ release: () => Promise<void> }> {
  const holder = new sqlite3.Database(file);
  holders.push(holder);
  const exec = (sql: string) => new Promise<void>((resolve, reject) => holder.exec(sql, (err) => (err ? reject(err) : resolve())));
  await exec('BEGIN IMMEDIATE');
  return { release: () => exec('COMMIT') };
}

/** A transaction that reads first and then writes, as every money path does. */
function readThenWrite(db: Database, id: string) {
  return db.transaction(async (tx) => {
    await tx.manager.findOne(MerchantEntity, { where: { id: 'nobody' } });
    await tx.manager.insert(MerchantEntity, merchant(id));
    return id;
  });
}

describe('SQLite busy timeout', () => {
  it('a writer waits for a lock another connection holds briefly, instead of failing with SQLITE_BUSY', async () => {
    const file = tempSqlitePath('busy');
    const db = await openDatabase({ type: 'sqlite', path: file, synchronous: 'NORMAL', busyTimeoutMs: 5000 });
    opened.push(db);
    const lock = await holdWriteLock(file);
    const started = Date.now();
    const write = readThenWrite(db, 'm1');
    setTimeout(() => void lock.release(), 400);
    await expect(write).resolves.toBe('m1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(await db.manager.count(MerchantEntity, { where: { id: 'm1' } })).toBe(1);
  });

  it('every connection, the read connection too, has the configured busy timeout', async () => {
    const file = tempSqlitePath('busy-read');
    const db = await openDatabase({ type: 'sqlite', path: file, synchronous: 'NORMAL', busyTimeoutMs: 5000 });
    opened.push(db);
    const timeouts = await Promise.all(
      [db.dataSource, db.readDataSource].map(async (source) => ((await source.query('PRAGMA busy_timeout')) as Array<Record<string, number>>)[0]),
    );
    expect(timeouts.map((row) => Object.values(row)[0])).toEqual([5000, 5000]);
  });

  it('a lock held past the timeout fails that transaction with SQLITE_BUSY after the timeout, and writes nothing', async () => {
    const file = tempSqlitePath('busy-past');
    const db = await openDatabase({ type: 'sqlite', path: file, synchronous: 'NORMAL', busyTimeoutMs: 300 });
    opened.push(db);
    const lock = await holdWriteLock(file);
    const started = Date.now();
    const error = await readThenWrite(db, 'm2').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'SQLITE_BUSY' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await lock.release();
    expect(await db.manager.count(MerchantEntity, { where: { id: 'm2' } })).toBe(0);
    // The database is usable again at once.
    await expect(readThenWrite(db, 'm3')).resolves.toBe('m3');
  });
});
