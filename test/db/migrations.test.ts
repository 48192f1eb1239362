import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { migrations } from '../../migrations';
import { freshPostgresSchema, tempSqlitePath } from '../helpers/databases';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

async function expectMigratedAndInSync(db: Database): Promise<void> {
  const applied = await db.dataSource.query('SELECT name FROM migrations ORDER BY id');
  expect(applied.map((r: { name: string }) => r.name)).toEqual(migrations.map((m) => m.name));
  // The entities describe exactly what the migrations built: nothing left to synchronize.
  const diff = await db.dataSource.driver.createSchemaBuilder().log();
  expect(diff.upQueries.map((q) => q.query)).toEqual([]);
}

describe('migrations', () => {
  it('build the whole schema on a new SQLite file, in WAL mode with synchronous=FULL', async () => {
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('migrate'), synchronous: 'FULL' });
    opened.push(db);
    await expectMigratedAndInSync(db);
    expect(await db.dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    // 2 = FULL
    expect(await db.dataSource.query('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
  });

  it('are not run twice when the gateway restarts on the same file', async () => {
    const file = tempSqlitePath('restart');
    await (await openDatabase({ type: 'sqlite', path: file, synchronous: 'FULL' })).close();
    const db = await openDatabase({ type: 'sqlite', path: file, synchronous: 'NORMAL' });
    opened.push(db);
    await expectMigratedAndInSync(db);
    expect(await db.dataSource.query('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
  });

  it('build the same schema on PostgreSQL', async () => {
    const pg = await freshPostgresSchema('migrate');
    if (!pg) return;
    const db = await openDatabase(pg);
    opened.push(db);
    await expectMigratedAndInSync(db);
    const tables = await db.dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [pg.schema]);
    expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual(
      expect.arrayContaining(['merchants', 'api_keys', 'payments', 'idempotency_keys', 'webhook_events', 'migrations']),
    );
    // The event log's key is 64-bit: a 32-bit sequence would run out (src/db/internals/wide-keys.ts).
    const [seq] = await db.dataSource.query(
      `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'events' AND column_name = 'seq'`,
      [pg.schema],
    );
    expect(seq.data_type).toBe('bigint');
  });
});
