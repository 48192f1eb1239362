import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
export async function freshPostgresSchema(
  name: string,
): Promise<{ type: 'postgres'; url: string; schema: string } | undefined> {
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
