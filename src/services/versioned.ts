import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Tx } from '../db/database';
import type { EventBus, Topics } from '../events/pubsub';

/** A record the gateway versions: every visible change bumps `version` and is published once. */
export interface Versioned extends ObjectLiteral {
  id: string;
  merchantId: string;
  version: number;
  updatedAt: Date;
  syncedAt: Date | null;
}

/** Fields whose change alone is bookkeeping, not news: no version bump, no push. */
const QUIET = new Set(['syncedAt']);

/**
 * Writes `changes` inside `tx`. When any visible field really changes, the
 * version goes up by one and the new state is published on `topic` after
 * commit (never for a rolled-back write).
 */
export async function writeVersioned<T extends Versioned, K extends keyof Topics>(
  tx: Tx,
  target: EntityTarget<T>,
  current: T,
  changes: Partial<T> | null,
  publish: { events: EventBus; topic: K },
): Promise<T> {
  if (!changes) return current;
  const visible = Object.entries(changes).some(([k, v]) => !QUIET.has(k) && !sameValue(v, current[k]));
  if (!visible) {
    if (changes.syncedAt) await tx.manager.update(target, { id: current.id } as never, { syncedAt: changes.syncedAt } as never);
    return Object.assign(current, changes.syncedAt ? { syncedAt: changes.syncedAt } : {});
  }
  const updated = Object.assign(current, changes, { version: current.version + 1, updatedAt: new Date() });
  await tx.manager.update(target, { id: current.id } as never, { ...changes, version: updated.version, updatedAt: updated.updatedAt } as never);
  const snapshot = Object.assign(Object.create(Object.getPrototypeOf(updated)), updated) as T;
  tx.afterCommit(() => publish.events.publish(publish.topic, snapshot.id, snapshot as unknown as Topics[K]));
  return updated;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

/**
 * A live view of one record: subscribes first (so no change falls between
 * the read and the subscription), loads the current state, then yields it
 * and every later version once, in order. Older or repeated versions (e.g.
 * from another instance) are dropped. `load` returning null means not found.
 */
export async function followVersions<K extends keyof Topics>(
  events: EventBus,
  topic: K,
  id: string,
  load: () => Promise<Topics[K] | null>,
  notFound: () => Error,
): Promise<AsyncIterable<Topics[K]>> {
  const updates = events.subscribe(topic, id);
  const current = await load();
  if (!current) {
    await updates.return?.();
    throw notFound();
  }
  const merchantId = (current as Versioned).merchantId;
  return (async function* () {
    try {
      let version = (current as Versioned).version;
      yield current;
      for await (const next of updates) {
        const record = next as Versioned;
        if (record.merchantId !== merchantId || record.version <= version) continue;
        version = record.version;
        yield next;
      }
    } finally {
      await updates.return?.();
    }
  })();
}
