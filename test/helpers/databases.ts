import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-gw-test-'));

/** A path for a new SQLite file in this test process's temp folder. */
export function tempSqlitePath(name: string): string {
  return path.join(tempRoot, `${name}-${randomBytes(4).toString('hex')}.sqlite`);
}

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let postgresUp: boolean | undefined;

/**
 * A new, empty PostgreSQL schema for one test, or undefined when PostgreSQL
 * is not running and CI is unset (the test then passes with a printed
 * notice). Under CI a missing PostgreSQL fails the test.
 */
export async function freshPostgresSchema(name: string): Promise<{ type: 'postgres'; url: string; schema: string } | undefined> {
  const schema = `t_${name.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const client = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    postgresUp = true;
  } catch (error) {
    if (process.env.CI) throw new Error(`PostgreSQL is required under CI at ${POSTGRES_URL}: ${String(error)}`);
    if (postgresUp !== false) console.warn(`[skip] PostgreSQL not reachable at ${POSTGRES_URL}; PostgreSQL tests skipped`);
    postgresUp = false;
    return undefined;
  }
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { type: 'postgres', url: url.toString(), schema };
}

/** Drops a schema made by `freshPostgresSchema` (and everything in it). */
export async function dropPostgresSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

let redisUp: boolean | undefined;

/**
 * Redis for one test file: its URL and a channel prefix of its own, so test
 * files running at the same time on the same Redis never hear each other's
 * events. Undefined when Redis is not running and CI is unset (the test then
 * passes with a printed notice); under CI a missing Redis fails the test.
 */
export async function freshRedisPrefix(name: string): Promise<{ url: string; prefix: string } | undefined> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    redisUp = true;
  } catch (error) {
    if (process.env.CI) throw new Error(`Redis is required under CI at ${REDIS_URL}: ${String(error)}`);
    if (redisUp !== false) console.warn(`[skip] Redis not reachable at ${REDIS_URL}; Redis tests skipped`);
    redisUp = false;
    return undefined;
  } finally {
    probe.disconnect();
  }
  return { url: REDIS_URL, prefix: `t:${name.replace(/\W/g, '_')}:${randomBytes(4).toString('hex')}:` };
}

/**
 * PostgreSQL (a fresh schema) and Redis (a fresh channel prefix) for a
 * scale-out test, or undefined with a printed notice when either is missing
 * and CI is unset. `databaseUrl` is a DATABASE_URL for the gateway.
 */
export async function scaleOutServices(name: string): Promise<
  | {
      databaseUrl: string;
      schema: string;
      postgres: { type: 'postgres'; url: string; schema: string };
      redisUrl: string;
      channelPrefix: string;
      drop(): Promise<void>;
    }
  | undefined
> {
  const redis = await freshRedisPrefix(name);
  if (!redis) return undefined;
  const pg = await freshPostgresSchema(name);
  if (!pg) return undefined;
  const url = new URL(pg.url);
  url.searchParams.set('schema', pg.schema);
  return {
    databaseUrl: url.toString(),
    schema: pg.schema,
    postgres: pg,
    redisUrl: redis.url,
    channelPrefix: redis.prefix,
    drop: () => dropPostgresSchema(pg.schema),
  };
}
