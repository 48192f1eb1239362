import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { MerchantEntity } from '../../src/entities';
import { tempSqlitePath } from '../helpers/databases';
import { testMerchant } from '../helpers/entities';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

async function sqlite(): Promise<Database> {
  const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('group'), synchronous: 'FULL' });
  opened.push(db);
  return db;
}

const merchant = (id: string) => testMerchant(id);

async function ids(db: Database): Promise<string[]> {
  return (await db.manager.find(MerchantEntity, { order: { id: 'ASC' } })).map((m) => m.id);
}

describe('SQLite group commit (Database.transaction)', () => {
  it('shares one COMMIT among transactions queued together, in order, each seeing the ones before it', async () => {
    const db = await sqlite();
    const seen: number[] = [];
    const order: string[] = [];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction(async (tx) => {
          seen.push(await tx.manager.count(MerchantEntity));
          await tx.manager.insert(MerchantEntity, merchant(`m${String(i).padStart(2, '0')}`));
          tx.afterCommit(() => void order.push(`hook ${i}`));
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // Run one after another: each saw exactly the rows of those before it.
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => `hook ${i}`));
    expect(db.stats.transactions).toBe(20);
    // The first ran alone; the 19 queued behind it shared one COMMIT.
    expect(db.stats.commits).toBe(2);
  });

  it('rolls a failing transaction back to its savepoint alone; the others of its batch commit', async () => {
    const db = await sqlite();
    const hooks: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.manager.insert(MerchantEntity, merchant(`a${String(i).padStart(2, '0')}`));
          tx.afterCommit(() => void hooks.push(i));
          if (i % 3 === 1) throw new Error(`boom ${i}`);
          // A unique violation inside a unit is that unit's failure only.
          if (i === 5) await tx.manager.insert(MerchantEntity, merchant('a00'));
          await tx.manager.insert(MerchantEntity, merchant(`b${String(i).padStart(2, '0')}`));
          return i;
        }),
      ),
    );
    const failed = [1, 4, 5, 7, 10];
    results.forEach((r, i) => expect(r.status).toBe(failed.includes(i) ? 'rejected' : 'fulfilled'));
    expect((results[4] as PromiseRejectedResult).reason.message).toBe('boom 4');
    expect(String((results[5] as PromiseRejectedResult).reason.message)).toMatch(/UNIQUE/);
    const rows = await ids(db);
    for (let i = 0; i < 12; i++) {
      const key = String(i).padStart(2, '0');
      expect(rows.includes(`a${key}`)).toBe(!failed.includes(i));
      expect(rows.includes(`b${key}`)).toBe(!failed.includes(i));
    }
    expect(hooks).toEqual([0, 2, 3, 6, 8, 9, 11]);
  });

  it('fails every finished transaction of a batch whose COMMIT cannot happen, and runs the rest again', async () => {
    const db = await sqlite();
    const hooks: string[] = [];
    const unit = (id: string, sabotage = false) =>
      db.transaction(async (tx) => {
        await tx.manager.insert(MerchantEntity, merchant(id));
        // Ends the shared transaction under the batch's feet (as SQLite does on e.g. SQLITE_FULL).
        if (sabotage) await tx.manager.query('ROLLBACK');
        tx.afterCommit(() => void hooks.push(id));
        return id;
      });
    const results = await Promise.allSettled([unit('first'), unit('x1'), unit('x2'), unit('x3', true), unit('y1'), unit('y2')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    // Nothing of the broken batch was answered as committed, and nothing of it is there.
    expect(await ids(db)).toEqual(['first', 'y1', 'y2']);
    expect(hooks).toEqual(['first', 'y1', 'y2']);
    // The database keeps working afterwards.
    await expect(unit('after')).resolves.toBe('after');
  });

  it('answers nobody before the COMMIT that makes their write durable', async () => {
    const db = await sqlite();
    const runner = db.dataSource.createQueryRunner();
    const original = runner.commitTransaction.bind(runner);
    const events: string[] = [];
    runner.commitTransaction = async () => {
      events.push('commit start');
      await original();
      events.push('commit done');
    };
    await Promise.all(
      ['p', 'q', 'r'].map((id) => db.transaction(async (tx) => tx.manager.insert(MerchantEntity, merchant(id))).then(() => events.push(`answered ${id}`))),
    );
    runner.commitTransaction = original;
    expect(events).toEqual(['commit start', 'commit done', 'answered p', 'commit start', 'commit done', 'answered q', 'answered r']);
  });
});
