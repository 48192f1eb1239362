import { AsyncResource } from 'node:async_hooks';
import { EntityNotFoundError, type DataSource, type EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { compileFinder, hydrate, quotedTablePath, type Finder } from './internals/finder';
import { forgetFailedTransaction } from './internals/transaction-state';
import { isDatabaseBusy } from '../domain/driver-errors';

export { openDatabase, DEFAULT_BUSY_TIMEOUT_MS } from './open';
export { isUniqueViolation } from '../domain/driver-errors';

export type DatabaseKind = 'sqlite' | 'postgres';

/** What a unit of work gets: its transaction's manager and a hook for after commit. */
export interface Tx {
  manager: EntityManager;
  /** Runs after the transaction commits (never after a rollback), in order. */
  afterCommit(fn: () => void | Promise<void>): void;
}

/** Metrics hooks (src/metrics): each transaction's time from submission to its end, and each COMMIT's batch size. */
export interface DatabaseObserver {
  transaction(outcome: 'commit' | 'rollback' | 'busy', seconds: number): void;
  commit(transactions: number): void;
}

/** At most this many queued SQLite transactions share one commit. */
export const MAX_GROUP_COMMIT = 64;

interface Unit {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The one way the gateway writes. On SQLite, TypeORM runs every transaction
 * on one shared connection, so two at once collide ("cannot start a
 * transaction within a transaction") and can leave partial writes: here they
 * are queued and run one at a time. On PostgreSQL they run concurrently on
 * the pool, and correctness comes from unique constraints and row locks.
 *
 * Group commit (SQLite): with `synchronous=FULL` every COMMIT waits for an
 * fsync, which caps one-at-a-time transactions at the disk's fsync rate. So
 * the transactions that queued up while one batch was committing run next as
 * one SQLite transaction, each inside its own SAVEPOINT, and share one
 * COMMIT. Each keeps its own all-or-nothing (a failing one is rolled back to
 * its savepoint, alone), they run in submission order and see each other's
 * writes exactly as if run one after another, and none is answered before
 * the COMMIT that makes it durable. If that COMMIT fails, every transaction
 * of the batch fails. Nothing waits to form a batch: alone, a transaction
 * runs at once, as before.
 */
export class Database {
  private pending: Unit[] = [];
  private draining: Promise<void> | null = null;
  /** Committed transactions and the COMMITs they took (fewer with group commit). */
  readonly stats = { transactions: 0, commits: 0 };
  private readonly finders = new Map<string, Finder | null>();
  /** Set by the app when metrics are on. */
  observer?: DatabaseObserver;
  /** Set by the app when tracing is on: runs each transaction inside a span. */
  around?: <T>(run: () => Promise<T>) => Promise<T>;

  constructor(
    readonly dataSource: DataSource,
    readonly kind: DatabaseKind,
    /**
     * SQLite: a second, read-only connection for reads outside transactions.
     * TypeORM runs every transaction on the one shared connection, so a read
     * sent there while a transaction is open sees its uncommitted writes —
     * half of a change, or one about to be rolled back. In WAL mode the
     * second connection sees only committed data and never blocks the writer.
     */
    private readonly readSource?: DataSource,
  ) {}

  /** For reads outside a transaction (on SQLite: committed data only). Writes go through `transaction`. */
  get manager(): EntityManager {
    return (this.readSource ?? this.dataSource).manager;
  }

  /** The data source reads outside transactions use (the writer's on PostgreSQL and in-memory SQLite). */
  get readDataSource(): DataSource {
    return this.readSource ?? this.dataSource;
  }

  /**
   * One row by equal columns: what `manager.findOne(target, { where })`
   * returns, faster. TypeORM's query builder costs more than the query itself
   * on SQLite (bench/README.md), so the SELECT is built once per entity and
   * column set, its prepared statement is reused (internals/sqlite-driver.ts), and the
   * row is hydrated the way TypeORM hydrates it (same driver conversions and
   * transformers). With `tx` it reads inside that transaction, and
   * `forUpdate` adds `FOR UPDATE` on PostgreSQL. This is the one way services
   * read a row, inside a transaction or not (docs/architecture.md).
   * Anything but plain string values on plain columns goes to TypeORM.
   */
  async findOneBy<T extends ObjectLiteral>(target: EntityTarget<T>, where: Partial<T>, options: { tx?: Tx; forUpdate?: boolean } = {}): Promise<T | null> {
    const manager = options.tx?.manager ?? this.manager;
    const metadata = this.dataSource.getMetadata(target);
    const keys = Object.keys(where);
    const lock = Boolean(options.forUpdate) && this.kind === 'postgres';
    const cacheKey = `${metadata.name}\u0000${lock}\u0000${keys.join('\u0000')}`;
    let finder = this.finders.get(cacheKey);
    if (finder === undefined) {
      finder = compileFinder(this.dataSource, metadata, keys, lock);
      this.finders.set(cacheKey, finder);
    }
    const values = keys.map((k) => (where as Record<string, unknown>)[k]);
    if (finder === null || values.some((v) => typeof v !== 'string')) {
      return manager.findOne(target, { where, ...(options.forUpdate ? this.lockForUpdate : {}) } as never);
    }
    const rows = (await manager.query(finder.sql, values)) as Array<Record<string, unknown>>;
    if (!rows.length) return null;
    return hydrate<T>(this.dataSource, metadata, finder, rows[0]);
  }

  /** `findOneBy`, or TypeORM's EntityNotFoundError (as `findOneOrFail` throws). */
  async findOneByOrFail<T extends ObjectLiteral>(target: EntityTarget<T>, where: Partial<T>, options: { tx?: Tx; forUpdate?: boolean } = {}): Promise<T> {
    const found = await this.findOneBy(target, where, options);
    if (found === null) throw new EntityNotFoundError(target, { where });
    return found;
  }

  /** The entity's table for hand-written SQL: quoted, and schema-qualified on PostgreSQL. */
  tableName(target: EntityTarget<ObjectLiteral>): string {
    return quotedTablePath(this.dataSource, this.dataSource.getMetadata(target));
  }

  /** Hand-written SQL with `?` placeholders, as this database's driver takes it (`$1`, `$2`, … on PostgreSQL). */
  placeholders(sql: string): string {
    if (this.kind !== 'postgres') return sql;
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  }

  /** `FOR UPDATE` on PostgreSQL; nothing on SQLite, where transactions are serialized already. */
  private get lockForUpdate(): { lock?: { mode: 'pessimistic_write' } } {
    return this.kind === 'postgres' ? { lock: { mode: 'pessimistic_write' } } : {};
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.around) return this.around(() => this.observed(work));
    return this.observed(work);
  }

  private async observed<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (!this.observer) return this.submit(work);
    const observer = this.observer;
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const value = await this.submit(work);
      observer.transaction('commit', seconds());
      return value;
    } catch (error) {
      observer.transaction(isDatabaseBusy(error) ? 'busy' : 'rollback', seconds());
      throw error;
    }
  }

  private submit<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.kind === 'postgres') return this.run(work);
    return new Promise<T>((resolve, reject) => {
      // Bound to the submitter's async context: the drain loop runs it, yet what it reads from
      // AsyncLocalStorage (the cause its event log entries record) is its own caller's.
      this.pending.push({ work: AsyncResource.bind(work), resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  private async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const callbacks: Array<() => void | Promise<void>> = [];
    const value = await this.dataSource.transaction((manager) => work({ manager, afterCommit: (fn) => void callbacks.push(fn) }));
    this.stats.transactions++;
    this.stats.commits++;
    if (this.kind === 'sqlite') this.observer?.commit(1);
    await runAfterCommit(callbacks);
    return value;
  }

  /** SQLite: runs queued transactions, a batch per COMMIT, until none is left. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, MAX_GROUP_COMMIT);
        if (batch.length === 1) {
          const [unit] = batch;
          await this.run(unit.work).then(unit.resolve, unit.reject);
        } else {
          await this.runBatch(batch);
        }
      }
    } finally {
      this.draining = null;
    }
  }

  private async runBatch(batch: Unit[]): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    const done: Array<{ unit: Unit; value: unknown; callbacks: Array<() => void | Promise<void>> }> = [];
    let next = 0;
    let ownError: { error: unknown } | undefined;
    try {
      await runner.startTransaction();
      for (; next < batch.length; next++) {
        const unit = batch[next];
        const callbacks: Array<() => void | Promise<void>> = [];
        await runner.query('SAVEPOINT gw_unit');
        let value: unknown;
        try {
          value = await unit.work({ manager: runner.manager, afterCommit: (fn) => void callbacks.push(fn) });
        } catch (error) {
          ownError = { error };
          // If SQLite already abandoned the whole transaction, this throws and the batch fails below.
          await runner.query('ROLLBACK TO SAVEPOINT gw_unit');
          await runner.query('RELEASE SAVEPOINT gw_unit');
          unit.reject(error);
          ownError = undefined;
          continue;
        }
        await runner.query('RELEASE SAVEPOINT gw_unit');
        done.push({ unit, value, callbacks });
      }
      await runner.commitTransaction();
      this.stats.transactions += done.length;
      this.stats.commits++;
      this.observer?.commit(done.length);
    } catch (error) {
      await runner.rollbackTransaction().catch(async () => {
        // TypeORM keeps its "active" flag when ROLLBACK fails (SQLite may have rolled back already).
        forgetFailedTransaction(runner);
        await runner.query('ROLLBACK').catch(() => undefined);
      });
      // Nothing of this batch is committed: the finished ones fail with the cause; the
      // one that was running when it broke got it too (or its own error); the rest go again.
      for (const { unit } of done) unit.reject(error);
      if (next < batch.length) {
        batch[next].reject(ownError ? ownError.error : error);
        this.pending.unshift(...batch.slice(next + 1));
      }
      return;
    }
    // Still inside the SQLite queue: events leave in commit order.
    for (const { unit, value, callbacks } of done) {
      await runAfterCommit(callbacks);
      unit.resolve(value);
    }
  }

  async close(): Promise<void> {
    if (this.kind === 'sqlite') await this.draining;
    if (this.readSource?.isInitialized) await this.readSource.destroy();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

async function runAfterCommit(callbacks: Array<() => void | Promise<void>>): Promise<void> {
  for (const fn of callbacks) {
    try {
      await fn();
    } catch {
      // An after-commit hook (a publish) must not turn a committed write into an error.
    }
  }
}
