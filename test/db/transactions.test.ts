import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { MerchantEntity } from '../../src/entities';
import { freshPostgresSchema, tempSqlitePath } from '../helpers/databases';
import { testMerchant } from '../helpers/entities';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

const merchant = (id: string) => testMerchant(id);

/**
 * 60 transactions at once, each writing two rows with an await between them;
 * every fifth one fails after its first write. All-or-nothing must hold for
 * every one of them.
 */
async function concurrentWrites(db: Database) {
  const events: string[] = [];
  const results = await Promise.allSettled(
    Array.from({ length: 60 }, (_, i) =>
      db.transaction(async (tx) => {
        await tx.manager.insert(MerchantEntity, merchant(`a${i}`));
        await new Promise((r) => setTimeout(r, 1));
        if (i % 5 === 0) throw new Error(`boom ${i}`);
        await tx.manager.insert(MerchantEntity, merchant(`b${i}`));
        tx.afterCommit(() => void events.push(`committed ${i}`));
        return i;
      }),
    ),
  );
  const rows = await db.manager.find(MerchantEntity);
  return { results, ids: new Set(rows.map((r) => r.id)), events };
}

function expectAllOrNothing({ results, ids, events }: Awaited<ReturnType<typeof concurrentWrites>>) {
  results.forEach((result, i) => {
    if (i % 5 === 0) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason.message).toBe(`boom ${i}`);
      expect(ids.has(`a${i}`)).toBe(false);
      expect(ids.has(`b${i}`)).toBe(false);
    } else {
      expect(result).toEqual({ status: 'fulfilled', value: i });
      expect(ids.has(`a${i}`) && ids.has(`b${i}`)).toBe(true);
    }
  });
  expect(ids.size).toBe(96);
  expect(events).toHaveLength(48);
}

describe('Database.transaction', () => {
  it('serializes concurrent transactions on SQLite: no collision, no partial write', async () => {
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('tx'), synchronous: 'FULL' });
    opened.push(db);
    const outcome = await concurrentWrites(db);
    expectAllOrNothing(outcome);
    // On SQLite the queue also fixes the order: hooks run in submission order.
    expect(outcome.events).toEqual(
      Array.from({ length: 60 }, (_, i) => i)
        .filter((i) => i % 5 !== 0)
        .map((i) => `committed ${i}`),
    );
  });

  it('the trap it guards against: raw TypeORM transactions on sqlite3 collide', async () => {
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('raw'), synchronous: 'FULL' });
    opened.push(db);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        db.dataSource.transaction(async (manager) => {
          await manager.insert(MerchantEntity, merchant(`r${i}`));
          await new Promise((r) => setTimeout(r, 5));
        }),
      ),
    );
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
  });

  it('reads outside a transaction never see a SQLite transaction in flight, nor one rolled back', async () => {
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('dirty'), synchronous: 'FULL' });
    opened.push(db);
    let seenDuring: string[] = [];
    const rolledBack = db.transaction(async (tx) => {
      await tx.manager.insert(MerchantEntity, merchant('dirty'));
      seenDuring = (await db.manager.find(MerchantEntity)).map((m) => m.id);
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    expect(seenDuring).toEqual([]);
    expect(await db.manager.find(MerchantEntity)).toEqual([]);
    await db.transaction((tx) => tx.manager.insert(MerchantEntity, merchant('kept')));
    expect((await db.manager.find(MerchantEntity)).map((m) => m.id)).toEqual(['kept']);
  });

  it('runs concurrent transactions on the PostgreSQL pool with the same guarantees', async () => {
    const pg = await freshPostgresSchema('tx');
    if (!pg) return;
    const db = await openDatabase(pg);
    opened.push(db);
    expectAllOrNothing(await concurrentWrites(db));
  });
});
