/**
 * A small promise wrapper around the raw `sqlite3` driver. One connection per
 * sandbox; every caller goes through the sandbox's mutex, so statements never
 * interleave inside a transaction. The connection reuses prepared statements
 * as the gateway's does (src/db/sqlite-driver.ts): the sandbox's SQL is fixed
 * text with bound parameters, so each statement is prepared once.
 */
import type sqlite3 from 'sqlite3';
import { StatementCachingDatabase } from '../db/sqlite-driver';

export type SqlParam = string | number | bigint | null | Buffer;

export interface RunResult {
  lastID: number;
  changes: number;
}

export class Db {
  private closed = false;

  private constructor(private readonly raw: sqlite3.Database) {}

  static open(filename: string): Promise<Db> {
    return new Promise((resolve, reject) => {
      const raw: sqlite3.Database = new StatementCachingDatabase(filename, (err) => {
        if (err) reject(err);
        else resolve(new Db(raw));
      });
    });
  }

  run(sql: string, params: readonly SqlParam[] = []): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.raw.run(sql, params as SqlParam[], function onRun(this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  /** The first row (`all`, not sqlite3's `get`: a reused statement is always stepped to its end). */
  get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return this.all<T>(sql, params).then((rows) => rows[0]);
  }

  all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.raw.all(sql, params as SqlParam[], (err: Error | null, rows: T[]) => {
        if (err) reject(err);
        else resolve(rows);
      });
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.exec(sql, (err: Error | null) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve, reject) => {
      this.raw.close((err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }
}
