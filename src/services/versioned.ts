import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Tx } from '../db/database';
import type { EventBus, Topics } from '../events/pubsub';
import type { Logger } from '../logger';
import { invalidInput } from '../domain/errors';
import { IllegalTransition, type StateMachine } from '../domain/state-machine';
import { recordChange } from './event-log';

/** A record the gateway versions: every visible change bumps `version` and is published once. */
export interface Versioned extends ObjectLiteral {
  id: string;
  merchantId: string;
  status: string;
  version: number;
  updatedAt: Date;
  syncedAt: Date | null;
}

/** What the write path needs of an aggregate besides the row: its state table, where it is published, where a refusal is logged. */
export interface VersionedWrite<T extends Versioned, K extends keyof Topics> {
  states: StateMachine<T['status']>;
  events: EventBus;
  topic: K;
  log: Pick<Logger, 'error'>;
}

/** Fields whose change alone is bookkeeping, not news: no version bump, no push. */
const QUIET = new Set(['syncedAt']);

/**
 * The one write path of a versioned record: writes `changes` inside `tx`.
 * When any visible field really changes, the version goes up by one and the
 * new state is published on `topic` after commit (never for a rolled-back
 * write).
 *
 * A status change must be a move `states` allows (forwards through its
 * table, or one of its corrections); anything else is a bug in the caller:
 * it is logged at error, nothing is written or published, and the thrown
 * IllegalTransition rolls the caller's transaction back (a client sees
 * INTERNAL_SERVER_ERROR). Writing the same status, or only other fields, is
 * no move.
 */
export async function writeVersioned<T extends Versioned, K extends keyof Topics>(
  tx: Tx,
  target: EntityTarget<T>,
  current: T,
  changes: Partial<T> | null,
  via: VersionedWrite<T, K>,
): Promise<T> {
  if (!changes) return current;
  const to = changes.status;
  if (to !== undefined && !via.states.allows(current.status, to)) {
    const refused = new IllegalTransition(via.states.name, current.id, current.status, to);
    via.log.error({ aggregate: refused.aggregate, id: current.id, merchantId: current.merchantId, from: refused.from, to: refused.to }, refused.message);
    throw refused;
  }
  const visible = Object.entries(changes).some(([k, v]) => !QUIET.has(k) && !sameValue(v, current[k]));
  if (!visible) {
    if (changes.syncedAt) await tx.manager.update(target, { id: current.id } as never, { syncedAt: changes.syncedAt } as never);
    return Object.assign(current, changes.syncedAt ? { syncedAt: changes.syncedAt } : {});
  }
  const before = { ...current };
  const updated = Object.assign(current, changes, { version: current.version + 1, updatedAt: new Date() });
  await tx.manager.update(target, { id: current.id } as never, { ...changes, version: updated.version, updatedAt: updated.updatedAt } as never);
  await recordChange(tx, target, before, updated); // the event log: one event per visible change, in this transaction
  const snapshot = Object.assign(Object.create(Object.getPrototypeOf(updated)), updated) as T;
  tx.afterCommit(() => via.events.publish(via.topic, snapshot.id, snapshot as unknown as Topics[K]));
  return updated;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

/** How a follower starts. */
export interface FollowOptions {
  /**
   * The version the client already has (resuming after a reconnect): the
   * current state is emitted only when it is newer, and so is everything
   * after it. Absent: the current state is emitted first, whatever it is.
   */
  sinceVersion?: number | null;
}

/**
 * A live view of one record: listens first (so no change falls between the
 * read and the subscription), loads the current state, then yields it and
 * every later version once, in increasing version order. Older or repeated
 * versions (another instance's late publish, a reload) are dropped.
 *
 * Events are at most once (Redis pub/sub): when the bus says some may have
 * been lost (`onResync`, the Redis subscriber reconnected), the record is
 * reloaded from the database and anything newer is emitted, so a subscriber
 * converges on the latest version and is never left stale. `load` returning
 * null means not found.
 */
export async function followVersions<K extends keyof Topics>(
  events: EventBus,
  topic: K,
  id: string,
  load: () => Promise<Topics[K] | null>,
  notFound: () => Error,
  options: FollowOptions = {},
): Promise<AsyncIterableIterator<Topics[K]>> {
  const stream = new VersionStream<Topics[K]>(options.sinceVersion ?? 0);
  const early: Topics[K][] = [];
  let loaded = false;
  const stopListening = await events.listen(topic, id, (record) => (loaded ? stream.offer(record) : void early.push(record)));
  stream.onClose(stopListening);
  let current: Topics[K] | null;
  try {
    current = await load();
  } catch (error) {
    await stream.return();
    throw error;
  }
  if (!current) {
    await stream.return();
    throw notFound();
  }
  stream.merchantId = (current as Versioned).merchantId;
  stream.offer(current);
  loaded = true;
  for (const record of early.splice(0)) stream.offer(record);
  stream.onClose(events.onResync(() => void stream.reload(load)));
  return stream;
}

/** Reload attempts after a resync when the database does not answer; then the next change or resync catches up. */
const RELOAD_DELAYS_MS = [250, 1000, 4000];

/**
 * The iterator behind `followVersions`: a queue of strictly increasing
 * versions of one record of one merchant. `return()` (the client went away)
 * stops the listening at once, even if the stream was never read.
 */
class VersionStream<T> implements AsyncIterableIterator<T> {
  merchantId: string | undefined;
  private readonly queue: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private closed = false;
  private readonly cleanups: Array<() => void> = [];

  constructor(private seen: number) {}

  /** Queues `value` if it is a newer version of the followed record; anything else is dropped. */
  offer(value: T): void {
    const record = value as unknown as Versioned;
    if (this.closed || !record || typeof record !== 'object') return;
    if (record.merchantId !== this.merchantId || !(typeof record.version === 'number' && record.version > this.seen)) return;
    this.seen = record.version;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting({ value, done: false });
    else this.queue.push(value);
  }

  /** Reads the record again (after a resync) and offers it; retries a few times if the database does not answer. */
  async reload(load: () => Promise<T | null>): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const record = await load();
        if (record) this.offer(record);
        return;
      } catch {
        if (attempt >= RELOAD_DELAYS_MS.length) return;
        await new Promise((resolve) => setTimeout(resolve, RELOAD_DELAYS_MS[attempt]).unref());
      }
    }
  }

  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.queue.length = 0;
      for (const cleanup of this.cleanups.splice(0)) {
        try {
          cleanup();
        } catch {
          // Stopping one listener must not keep the others running.
        }
      }
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/**
 * For a `subscribe` resolver whose service follows without options: passes on
 * only versions newer than `sinceVersion` (the client's resume point). The
 * stream's versions only increase, so this equals `followVersions(…,
 * { sinceVersion })`: the current state is skipped when it is not newer.
 */
export async function resumeAfter<T extends { version: number }>(
  sinceVersion: number | null | undefined,
  follow: () => Promise<AsyncIterable<T>>,
): Promise<AsyncIterable<T>> {
  // Access and existence are checked first: a stranger learns nothing from a bad sinceVersion.
  const stream = await follow();
  const inner = stream[Symbol.asyncIterator]();
  if (sinceVersion != null && (!Number.isInteger(sinceVersion) || sinceVersion < 0)) {
    await inner.return?.();
    throw invalidInput('sinceVersion', 'must be a version you received (a whole number, 0 or more)');
  }
  if (sinceVersion == null || sinceVersion === 0) return stream;
  const outer: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        const result = await inner.next();
        if (result.done || result.value.version > sinceVersion) return result;
      }
    },
    return: () => inner.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    throw: (error?: unknown) => inner.throw?.(error) ?? Promise.reject(error),
    [Symbol.asyncIterator]: () => outer,
  };
  return outer;
}
