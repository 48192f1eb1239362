import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Tx } from '../../src/db/database';
import { MerchantEntity } from '../../src/entities';
import { createInMemoryEventBus } from '../../src/events/pubsub';
import { EventLog, type ReadEvent } from '../../src/services/event-log';
import { testMerchant } from '../helpers/entities';
import { dropPostgresSchema, freshPostgresSchema } from '../helpers/databases';
import { eventually } from '../helpers/gateway';

/**
 * The outbox gap, forced: transaction A records an event (the lower
 * sequence number) and stays open; transaction B records one and commits.
 * A consumer paging the log must not get past B while A may still commit
 * below it, and once A ends it sees A's event, then B's: nothing skipped,
 * nothing twice.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp() {
  const pg = await freshPostgresSchema('event_log');
  if (!pg) return undefined;
  cleanups.push(() => dropPostgresSchema(pg.schema));
  const db = await openDatabase(pg);
  cleanups.push(() => db.close());
  const log = new EventLog(db, createInMemoryEventBus());
  await db.transaction((tx) => tx.manager.insert(MerchantEntity, testMerchant('mer_pg')));
  return { db, log };
}

function record(log: EventLog, tx: Tx, objectId: string) {
  return log.record(tx, { merchantId: 'mer_pg', type: 'payment.created', objectType: 'payment', objectId, objectVersion: 1, data: { id: objectId } });
}

/** An open transaction that has recorded one event; `end` commits it (or rolls it back). */
async function openWriter(db: Database, log: EventLog, objectId: string) {
  let release!: (commit: boolean) => void;
  const decided = new Promise<boolean>((resolve) => (release = resolve));
  let recorded!: () => void;
  const started = new Promise<void>((resolve) => (recorded = resolve));
  const done = db
    .transaction(async (tx) => {
      await record(log, tx, objectId);
      recorded();
      if (!(await decided)) throw new Error('rolled back on purpose');
    })
    .catch((error: Error) => {
      if (error.message !== 'rolled back on purpose') throw error;
    });
  await started;
  const end = async (commit: boolean) => {
    release(commit);
    await done;
  };
  cleanups.push(() => end(false));
  return { end };
}

/** Pages from `after` until the log has nothing more to give now. */
async function drain(log: EventLog, after: string | null): Promise<{ events: ReadEvent[]; cursor: string | null }> {
  const events: ReadEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await log.page('mer_pg', { first: 1, after: cursor });
    events.push(...page.edges.map((e) => e.node));
    cursor = page.pageInfo.endCursor ?? cursor;
    if (!page.pageInfo.hasNextPage) return { events, cursor };
  }
}

describe('event log cursor on PostgreSQL', () => {
  it('never lets a reader past an event that commits late (lower sequence, later commit)', async () => {
    const setup = await setUp();
    if (!setup) return;
    const { db, log } = setup;
    await db.transaction((tx) => record(log, tx, 'pay_before'));
    const first = await eventually(async () => {
      const read = await drain(log, null);
      return read.events.length === 1 ? read : null;
    }, 20_000);

    const a = await openWriter(db, log, 'pay_late');
    await db.transaction((tx) => record(log, tx, 'pay_early'));
    const seqs = (await db.dataSource.query('SELECT object_id, seq FROM events ORDER BY seq')) as Array<{ object_id: string; seq: number }>;
    // The classic gap: A holds the lower sequence number, B (committed) the higher one.
    expect(seqs.map((r) => r.object_id)).toEqual(['pay_before', 'pay_early']);
    expect(Number((await db.dataSource.query(`SELECT count(*) AS n FROM events`))[0].n)).toBe(2);

    // While A is open, B's committed event is held back: a cursor past it could skip A's.
    const whileOpen = await drain(log, first.cursor);
    expect(whileOpen.events).toEqual([]);
    expect(whileOpen.cursor).toBe(first.cursor);
    // By its id (no cursor involved) B's event is there at once.
    const [{ id: earlyId }] = (await db.dataSource.query(`SELECT id FROM events WHERE object_id = 'pay_early'`)) as Array<{ id: string }>;
    expect((await log.get('mer_pg', earlyId))?.objectId).toBe('pay_early');

    await a.end(true);
    const after = await eventually(async () => {
      const read = await drain(log, whileOpen.cursor);
      return read.events.length >= 2 ? read : null;
    }, 20_000);
    expect(after.events.map((e) => e.objectId)).toEqual(['pay_late', 'pay_early']);
    // And from the start: each event once, in cursor order.
    expect((await drain(log, null)).events.map((e) => e.objectId)).toEqual(['pay_before', 'pay_late', 'pay_early']);
  });

  it('a late transaction that rolls back leaves no event and releases the ones behind it', async () => {
    const setup = await setUp();
    if (!setup) return;
    const { db, log } = setup;
    const a = await openWriter(db, log, 'pay_rolled_back');
    await db.transaction((tx) => record(log, tx, 'pay_committed'));
    expect((await drain(log, null)).events).toEqual([]);
    await a.end(false);
    const read = await eventually(async () => {
      const r = await drain(log, null);
      return r.events.length ? r : null;
    }, 20_000);
    expect(read.events.map((e) => e.objectId)).toEqual(['pay_committed']);
  });
});
