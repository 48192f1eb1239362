import fs from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import type { Config } from '../config';
import { entities } from '../entities';
import { migrations } from '../../migrations';
import { Database } from './database';
import { bindNumericParameters } from './internals/numeric-binding';
import { sqliteDriver } from './internals/sqlite-driver';
import { widenKeysForPostgres } from './internals/wide-keys';

const MIGRATION_LOCK = 'ucanpay-gateway:migrations';

/** SQLite: how long a statement waits for another connection's lock (PRAGMA busy_timeout) unless configured. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

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
      busyTimeout: config.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
      // No long-stack-trace mode, prepared statements reused (see internals/sqlite-driver.ts).
      driver: sqliteDriver,
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
  if (config.type === 'sqlite') bindNumericParameters(dataSource);
  else widenKeysForPostgres(dataSource);
  try {
    if (config.type === 'sqlite') {
      // FULL: a committed payment survives a power cut. NORMAL (opt-in) may lose the last commits.
      await dataSource.query(`PRAGMA synchronous = ${config.synchronous}`);
      await dataSource.query('PRAGMA foreign_keys = ON');
    } else if (config.schema) {
      await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${config.schema}"`);
    }
    if (config.type === 'postgres') {
      // Instances started together on a new database would race on the same
      // migrations: one runs them, the others wait and then find nothing to do.
      // A session lock: held on one dedicated connection for the whole run.
      const lock = dataSource.createQueryRunner();
      await lock.connect();
      try {
        await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [MIGRATION_LOCK]);
        await dataSource.runMigrations({ transaction: 'each' });
      } finally {
        await lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [MIGRATION_LOCK]).catch(() => undefined);
        await lock.release();
      }
    } else {
      await dataSource.runMigrations({ transaction: 'each' });
    }
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  if (config.type === 'postgres' || config.path === ':memory:') return new Database(dataSource, config.type);
  const readSource = new DataSource({
    type: 'sqlite',
    database: config.path,
    entities,
    synchronize: false,
    busyTimeout: config.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    driver: sqliteDriver,
  });
  await readSource.initialize();
  bindNumericParameters(readSource);
  // A write through this connection would be a bug: make it fail loudly.
  await readSource.query('PRAGMA query_only = ON');
  return new Database(dataSource, config.type, readSource);
}
