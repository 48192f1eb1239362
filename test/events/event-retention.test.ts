import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/db/database';
import { EventEntity, MerchantEntity } from '../../src/entities';
import { createInMemoryEventBus } from '../../src/events/pubsub';
import { EventLog } from '../../src/services/event-log';
import { RetentionService } from '../../src/services/retention.service';
import { testMerchant } from '../helpers/entities';
import { dropPostgresSchema, freshPostgresSchema, tempSqlitePath } from '../helpers/databases';

const DAY = 86_400_000;
const quiet = { info: () => undefined, warn: () => undefined };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `count` events recorded `ageDays` ago, in transactions of 50. */
async function recordAged(db: Database, count: number, ageDays: number): Promise<void> {
  const log = new EventLog(db, createInMemoryEventBus(), () => Date.now() - ageDays * DAY);
  for (let i = 0; i < count; i += 50) {
    await db.transaction(async (tx) => {
      for (let j = i; j < Math.min(count, i + 50); j++) {
        await log.record(tx, {
          merchantId: 'mer_r',
          type: 'payment.created',
          objectType: 'payment',
          objectId: `pay_${ageDays}_${j}`,
          objectVersion: 1,
          data: {},
        });
      }
    });
  }
}

function retention(db: Database, batchSize = 100) {
  return new RetentionService(
    db,
    { intervalMs: 0, idempotencyKeyRetentionMs: 48 * 3600_000, webhookInboxRetentionMs: 7 * DAY, batchSize, pauseMs: 0, eventRetentionMs: 30 * DAY },
    quiet,
  );
}

describe('event retention', () => {
  it('keeps events EVENT_RETENTION_DAYS (30 at least, the default) and prunes the older ones (SQLite file)', async () => {
    expect(loadConfig({}).retention.eventDays).toBe(30);
    expect(loadConfig({ EVENT_RETENTION_DAYS: '90' }).retention.eventDays).toBe(90);
    expect(() => loadConfig({ EVENT_RETENTION_DAYS: '7' })).toThrow(/EVENT_RETENTION_DAYS/);
    const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('event-retention'), synchronous: 'NORMAL' });
    cleanups.push(() => db.close());
    await db.transaction((tx) => tx.manager.insert(MerchantEntity, testMerchant('mer_r')));
    await recordAged(db, 250, 31);
    await recordAged(db, 20, 29);
    const report = await retention(db).runOnce();
    expect(report.events).toBe(250);
    const left = await db.manager.find(EventEntity, { select: { objectId: true } });
    expect(left).toHaveLength(20);
    expect(left.every((e) => e.objectId.startsWith('pay_29_'))).toBe(true);
  });

  it('on PostgreSQL, two instances pruning at once delete every expired event between them, and nothing younger', async () => {
    const pg = await freshPostgresSchema('event_retention');
    if (!pg) return;
    cleanups.push(() => dropPostgresSchema(pg.schema));
    const one = await openDatabase(pg);
    cleanups.push(() => one.close());
    const two = await openDatabase(pg);
    cleanups.push(() => two.close());
    await one.transaction((tx) => tx.manager.insert(MerchantEntity, testMerchant('mer_r')));
    await recordAged(one, 600, 40);
    await recordAged(one, 10, 1);
    const [a, b] = await Promise.all([retention(one, 50).runOnce(), retention(two, 50).runOnce()]);
    expect(a.events + b.events).toBe(600);
    expect(Number((await one.dataSource.query('SELECT count(*) AS n FROM events'))[0].n)).toBe(10);
  });
});
