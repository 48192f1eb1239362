import sqlite3 from 'sqlite3';

/**
 * The sqlite3 module as TypeORM gets it (`driver` option), with two changes
 * that measurably matter on the hot paths (bench/README.md):
 *
 * - `verbose()` is a no-op. TypeORM calls it on load; it patches sqlite3
 *   process-wide to build an Error and `util.inspect` every argument of every
 *   call (long stack traces): 6–7 % of the CPU of a `payment(id)` query, in
 *   the sandbox's statements too. Errors keep their code and message.
 * - Prepared statements are reused. `Database#all/run(sql)` prepares,
 *   executes and finalizes a statement per call: three trips through the libuv
 *   thread pool. Here the second call of a given SELECT/INSERT/UPDATE/DELETE
 *   (or transaction-control) text runs as before and prepares a statement in
 *   the background; later calls bind and run that statement (one trip). (Not
 *   the first: a text seen once — raw SQL with values written in — may
 *   never come again and is not worth preparing. TypeORM would write every
 *   numeric parameter into the text on SQLite; database.ts has it bind them,
 *   so its INSERT/UPDATE texts repeat.)
 *   Results, errors and
 *   `this.lastID/changes` in callbacks are the same; `all` and `run` step
 *   every statement to its end (TypeORM on SQLite never uses RETURNING), so a
 *   cached statement never stays busy and never holds a read snapshot.
 * - Transactions begin IMMEDIATE. TypeORM sends a deferred `BEGIN
 *   TRANSACTION`: its first SELECT takes a read snapshot and the first write
 *   then upgrades it to the write lock. SQLite never runs the busy handler for
 *   that upgrade (it could deadlock), so while any other connection or
 *   process held the lock, the write failed with SQLITE_BUSY at once (16–32
 *   ms into a mutation) whatever `busy_timeout` said. `BEGIN IMMEDIATE`
 *   takes the write lock first, where `busy_timeout` applies. The gateway's
 *   transactions all write, and they are serialized per process anyway.
 */

/** Statements worth keeping prepared: data access, and the fixed transaction-control texts (BEGIN, COMMIT, savepoints). */
const CACHEABLE = /^(SELECT |INSERT |UPDATE |DELETE |BEGIN|COMMIT|ROLLBACK|SAVEPOINT |RELEASE )/;
/** Distinct statement texts kept prepared (least recently used go first). */
export const STATEMENT_CACHE_SIZE = 256;
/** Statement texts seen once, remembered to recognise the second time. */
const SEEN_ONCE_SIZE = 1024;

type Params = unknown[] | undefined;
type Callback = (this: sqlite3.RunResult, err: Error | null, rows?: unknown[]) => void;
interface Slot {
  stmt: sqlite3.Statement;
  ready: boolean;
}

/** `new Statement(db, sql, callback)`: the callback gets null once prepared (the typings omit the constructor). */
const PreparedStatement = sqlite3.Statement as unknown as new (db: sqlite3.Database, sql: string, callback: (err: Error | null) => void) => sqlite3.Statement;

/** TypeORM's transaction start on SQLite, and what it becomes (see above). */
const DEFERRED_BEGIN = 'BEGIN TRANSACTION';
const IMMEDIATE_BEGIN = 'BEGIN IMMEDIATE TRANSACTION';

export class StatementCachingDatabase extends sqlite3.Database {
  private readonly statements = new Map<string, Slot>();
  private readonly seenOnce = new Set<string>();
  private closing = false;

  override all(sql: string, ...args: any[]): this {
    if (sql === DEFERRED_BEGIN) sql = IMMEDIATE_BEGIN;
    const stmt = args.length === 2 && typeof args[1] === 'function' ? this.statementFor(sql, args[0]) : undefined;
    if (!stmt) return super.all(sql, ...args);
    stmt.all((args[0] as Params) ?? [], this.resettingOnError(stmt, args[1] as Callback));
    return this;
  }

  override run(sql: string, ...args: any[]): this {
    if (sql === DEFERRED_BEGIN) sql = IMMEDIATE_BEGIN;
    const stmt = args.length === 2 && typeof args[1] === 'function' ? this.statementFor(sql, args[0]) : undefined;
    if (!stmt) return super.run(sql, ...args);
    stmt.run((args[0] as Params) ?? [], this.resettingOnError(stmt, args[1] as Callback));
    return this;
  }

  override close(callback?: (err: Error | null) => void): void {
    this.closing = true;
    const slots = [...this.statements.values()];
    this.statements.clear();
    // sqlite3_close fails while statements are unfinalized; each finalize runs after that statement's queued calls.
    void Promise.all(slots.map((slot) => new Promise<void>((resolve) => slot.stmt.finalize(() => resolve())))).then(() => super.close(callback));
  }

  /** Number of prepared statements kept (tests). */
  get cachedStatements(): number {
    return this.statements.size;
  }

  /** A ready prepared statement for `sql`, or undefined (then one is prepared for next time, when worth it). */
  private statementFor(sql: string, params: unknown): sqlite3.Statement | undefined {
    if (params !== undefined && !Array.isArray(params)) return undefined;
    const slot = this.statements.get(sql);
    if (slot) {
      if (!slot.ready) return undefined;
      this.statements.delete(sql);
      this.statements.set(sql, slot);
      return slot.stmt;
    }
    if (this.closing || !CACHEABLE.test(sql)) return undefined;
    if (!this.seenOnce.delete(sql)) {
      this.seenOnce.add(sql);
      if (this.seenOnce.size > SEEN_ONCE_SIZE) this.seenOnce.delete(this.seenOnce.values().next().value as string);
      return undefined;
    }
    const fresh: Slot = { stmt: undefined as unknown as sqlite3.Statement, ready: false };
    fresh.stmt = new PreparedStatement(this, sql, (err: Error | null) => {
      if (!err) fresh.ready = true;
      else if (this.statements.get(sql) === fresh) this.statements.delete(sql);
    });
    this.statements.set(sql, fresh);
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const [oldestSql, oldest] = this.statements.entries().next().value as [string, Slot];
      this.statements.delete(oldestSql);
      oldest.stmt.finalize();
    }
    return undefined;
  }

  /** After an error the statement is reset, so that it never stays mid-step. */
  private resettingOnError(stmt: sqlite3.Statement, callback: Callback): Callback {
    return function (this: sqlite3.RunResult, err, rows) {
      if (err) stmt.reset();
      return callback.call(this, err, rows);
    };
  }
}

/** What `new DataSource({ type: 'sqlite', driver })` loads instead of `require('sqlite3')`. */
export const sqliteDriver: typeof sqlite3 = Object.assign(Object.create(sqlite3) as typeof sqlite3, {
  Database: StatementCachingDatabase,
  verbose: () => sqliteDriver,
});
