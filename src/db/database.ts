import fs from 'node:fs';
import path from 'node:path';
import { DataSource, type EntityManager } from 'typeorm';
import type { Config } from '../config';
import { entities } from '../entities';
import { migrations } from '../../migrations';

export type DatabaseKind = 'sqlite' | 'postgres';

/** What a unit of work gets: its transaction's manager and a hook for after commit. */
export interface Tx {
  manager: EntityManager;
  /** Runs after the transaction commits (never after a rollback), in order. */
  afterCommit(fn: () => void | Promise<void>): void;
}

/**
 * The one way the gateway writes. On SQLite, TypeORM runs every transaction
 * on one shared connection, so two at once collide ("cannot start a
 * transaction within a transaction") and can leave partial writes: here they
 * are queued and run one at a time. On PostgreSQL they run concurrently on
 * the pool, and correctness comes from unique constraints and row locks.
 */
export class Database {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dataSource: DataSource,
    readonly kind: DatabaseKind,
  ) {}

  /** For reads outside a transaction. Writes go through `transaction`. */
  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /** `FOR UPDATE` on PostgreSQL; nothing on SQLite, where transactions are serialized already. */
  get forUpdate(): { lock?: { mode: 'pessimistic_write' } } {
    return this.kind === 'postgres' ? { lock: { mode: 'pessimistic_write' } } : {};
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.kind === 'postgres') return this.run(work);
    const result = this.queue.then(() => this.run(work));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const callbacks: Array<() => void | Promise<void>> = [];
    const value = await this.dataSource.transaction((manager) =>
      work({ manager, afterCommit: (fn) => void callbacks.push(fn) }),
    );
    // Still inside the SQLite queue: events leave in commit order.
    for (const fn of callbacks) {
      try {
        await fn();
      } catch {
        // An after-commit hook (a publish) must not turn a committed write into an error.
      }
    }
    return value;
  }

  async close(): Promise<void> {
    if (this.kind === 'sqlite') await this.queue;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** True when an insert lost to a unique or primary-key constraint, on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string }; message?: string };
  const code = e?.driverError?.code ?? e?.code;
  if (code === '23505') return true;
  return code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/i.test(e?.message ?? '');
}

/** Opens the database and runs pending migrations (never `synchronize`). */
export async function openDatabase(config: Config['database']): Promise<Database> {
  let dataSource: DataSource;
  if (config.type === 'sqlite') {
    if (config.path !== ':memory:') fs.mkdirSync(path.dirname(config.path), { recursive: true });
    dataSource = new DataSource({
      type: 'sqlite',
      database: config.path,
      entities,
      migrations,
      migrationsRun: false,
      synchronize: false,
      enableWAL: config.path !== ':memory:',
      busyTimeout: 5000,
    });
  } else {
    dataSource = new DataSource({
      type: 'postgres',
      url: config.url,
      schema: config.schema,
      entities,
      migrations,
      synchronize: false,
      extra: { max: 10 },
    });
  }
  await dataSource.initialize();
  try {
    if (config.type === 'sqlite') {
      // FULL: a committed payment survives a power cut. NORMAL (opt-in) may lose the last commits.
      await dataSource.query(`PRAGMA synchronous = ${config.synchronous}`);
      await dataSource.query('PRAGMA foreign_keys = ON');
    } else if (config.schema) {
      await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${config.schema}"`);
    }
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return new Database(dataSource, config.type);
}
