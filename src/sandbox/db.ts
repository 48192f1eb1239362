/**
 * A small promise wrapper around the raw `sqlite3` driver. One connection per
 * sandbox; every caller goes through the sandbox's mutex, so statements never
 * interleave inside a transaction. The sandbox's SQL is fixed text with bound
 * parameters, so each statement is prepared once and reused (one trip through
 * libuv per call instead of prepare, run and finalize). This is the sandbox's
 * own code, not the gateway's driver: the sandbox shares nothing with what it
 * checks.
 */
import sqlite3 from 'sqlite3';

export type SqlParam = string | number | bigint | null | Buffer;

export interface RunResult {
  lastID: number;
  changes: number;
}

/** Distinct statement texts kept prepared; the sandbox has a few dozen. */
const MAX_STATEMENTS = 200;

export class Db {
  private closed = false;
  private readonly statements = new Map<string, Promise<sqlite3.Statement>>();

  private constructor(private readonly raw: sqlite3.Database) {}

  static open(filename: string): Promise<Db> {
    return new Promise((resolve, reject) => {
      const raw: sqlite3.Database = new sqlite3.Database(filename, (err) => {
        if (err) reject(err);
        else resolve(new Db(raw));
      });
    });
  }

  /** The prepared statement for `sql` (prepared on first use; a text that fails to prepare is not kept). */
  private statement(sql: string): Promise<sqlite3.Statement> {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = new Promise<sqlite3.Statement>((resolve, reject) => {
        const stmt = this.raw.prepare(sql, (err: Error | null) => (err ? reject(err) : resolve(stmt)));
      });
      prepared.catch(() => this.statements.delete(sql));
      this.statements.set(sql, prepared);
      if (this.statements.size > MAX_STATEMENTS) {
        const [oldest, stmt] = this.statements.entries().next().value as [string, Promise<sqlite3.Statement>];
        this.statements.delete(oldest);
        void stmt.then(
          (s) => s.finalize(),
          () => undefined,
        );
      }
    }
    return prepared;
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<RunResult> {
    const stmt = await this.statement(sql);
    return new Promise((resolve, reject) => {
      stmt.run(params as SqlParam[], function onRun(this: sqlite3.RunResult, err: Error | null) {
        if (err) {
          stmt.reset();
          reject(err);
        } else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  /** The first row (`all`, not sqlite3's `get`: a reused statement is always stepped to its end). */
  get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return this.all<T>(sql, params).then((rows) => rows[0]);
  }

  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    const stmt = await this.statement(sql);
    return new Promise((resolve, reject) => {
      stmt.all(params as SqlParam[], (err: Error | null, rows: T[]) => {
        if (err) {
          stmt.reset();
          reject(err);
        } else resolve(rows);
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const statements = [...this.statements.values()];
    this.statements.clear();
    // sqlite3_close fails while statements are unfinalized.
    await Promise.all(
      statements.map((p) =>
        p.then(
          (stmt) => new Promise<void>((r) => stmt.finalize(() => r())),
          () => undefined,
        ),
      ),
    );
    return new Promise((resolve, reject) => {
      this.raw.close((err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }
}
