/**
 * A small promise wrapper around the raw `sqlite3` driver. One connection per
 * sandbox; every caller goes through the sandbox's mutex, so statements never
 * interleave inside a transaction.
 */
import sqlite3 from 'sqlite3';

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
      const raw = new sqlite3.Database(filename, (err) => {
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

  get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.raw.get(sql, params as SqlParam[], (err: Error | null, row: T | undefined) => {
        if (err) reject(err);
        else resolve(row);
      });
    });
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
