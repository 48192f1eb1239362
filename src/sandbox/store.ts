/**
 * Durable state of the sandbox in its own SQLite file (WAL). Objects are
 * kept as JSON documents with the columns needed for lookups and due-work
 * queries. All access is serialized by one mutex (`exclusive`), and every
 * mutating operation runs in a transaction (`tx`).
 */
import { Db, type SqlParam } from './db';
import { Mutex } from './mutex';
import type { Merchant, OrderRecord, RefundRecord, SubscriptionRecord } from './types';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS merchants (
  merchant_id TEXT PRIMARY KEY,
  secret_key TEXT NOT NULL UNIQUE,
  webhook_secret TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
  order_id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  out_trade_no TEXT NOT NULL,
  transaction_id TEXT,
  status TEXT NOT NULL,
  expires_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  data TEXT NOT NULL,
  UNIQUE (merchant_id, out_trade_no)
);
CREATE INDEX IF NOT EXISTS orders_pending_expiry ON orders (status, expires_ms);
CREATE UNIQUE INDEX IF NOT EXISTS orders_transaction ON orders (transaction_id) WHERE transaction_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS refunds (
  refund_id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  out_refund_no TEXT NOT NULL,
  order_id TEXT NOT NULL,
  status TEXT NOT NULL,
  amount INTEGER NOT NULL,
  due_real_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  data TEXT NOT NULL,
  UNIQUE (merchant_id, out_refund_no)
);
CREATE INDEX IF NOT EXISTS refunds_order ON refunds (order_id);
CREATE INDEX IF NOT EXISTS refunds_processing ON refunds (status, due_real_ms);
CREATE TABLE IF NOT EXISTS subscriptions (
  subscription_id TEXT PRIMARY KEY,
  merchant_id TEXT NOT NULL,
  out_subscription_no TEXT NOT NULL,
  status TEXT NOT NULL,
  next_due_ms INTEGER,
  created_ms INTEGER NOT NULL,
  data TEXT NOT NULL,
  UNIQUE (merchant_id, out_subscription_no)
);
CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions (next_due_ms) WHERE next_due_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
  merchant_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_real_ms INTEGER NOT NULL,
  PRIMARY KEY (merchant_id, idem_key)
);
CREATE TABLE IF NOT EXISTS outbox (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  object_id TEXT NOT NULL,
  type TEXT NOT NULL,
  notify_url TEXT,
  body TEXT NOT NULL,
  created INTEGER NOT NULL,
  lane TEXT NOT NULL,
  delivery_seq INTEGER,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  remaining INTEGER NOT NULL DEFAULT 1,
  delivered_count INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  next_attempt_ms INTEGER NOT NULL,
  bad_sig_first INTEGER NOT NULL DEFAULT 0,
  fault TEXT,
  hold_group TEXT,
  created_real_ms INTEGER NOT NULL,
  delivered_real_ms INTEGER
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_real_ms);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state);
CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created_real_ms);
CREATE INDEX IF NOT EXISTS outbox_merchant ON outbox (merchant_id);
`;

export type OutboxState = 'pending' | 'held' | 'delivered' | 'failed' | 'dropped' | 'skipped';

export interface OutboxRow {
  row_id: number;
  event_id: string;
  merchant_id: string;
  object_id: string;
  type: string;
  notify_url: string | null;
  body: string;
  created: number;
  lane: string;
  delivery_seq: number | null;
  state: OutboxState;
  attempts: number;
  failures: number;
  remaining: number;
  delivered_count: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_ms: number;
  bad_sig_first: number;
  fault: string | null;
  hold_group: string | null;
  created_real_ms: number;
  delivered_real_ms: number | null;
}

export interface NewOutboxRow {
  event_id: string;
  merchant_id: string;
  object_id: string;
  type: string;
  notify_url: string | null;
  body: string;
  created: number;
  lane: string;
  state: OutboxState;
  remaining: number;
  next_attempt_ms: number;
  bad_sig_first: boolean;
  fault: string | null;
  hold_group: string | null;
}

export interface IdempotencyRecord {
  fingerprint: string;
  status: number;
  body: string;
}

type Hook = () => void;

/** The tables that keep one JSON record per row in `data`. */
type RecordTable = 'orders' | 'refunds' | 'subscriptions';

export class Store {
  private readonly mutex = new Mutex();
  private inTx = false;
  private afterCommit: Hook[] = [];

  private constructor(readonly db: Db) {}

  static async open(filename: string): Promise<Store> {
    const db = await Db.open(filename);
    try {
      await db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      await db.exec(SCHEMA);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    return new Store(db);
  }

  /** Runs `fn` alone (FIFO). Not re-entrant: never call from inside another `exclusive`. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(fn);
  }

  /** A transaction; must be called from inside `exclusive`. Hooks registered with `onCommit` run after COMMIT. */
  async tx<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTx) return fn();
    this.inTx = true;
    await this.db.run('BEGIN IMMEDIATE');
    let result: T;
    try {
      result = await fn();
      await this.db.run('COMMIT');
    } catch (err) {
      this.afterCommit = [];
      this.inTx = false;
      await this.db.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.inTx = false;
    const hooks = this.afterCommit;
    this.afterCommit = [];
    for (const hook of hooks) hook();
    return result;
  }

  /** `exclusive` + `tx`. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(() => this.tx(fn));
  }

  /** Runs `hook` after the current transaction commits (at once when none is open). */
  onCommit(hook: Hook): void {
    if (this.inTx) this.afterCommit.push(hook);
    else hook();
  }

  async close(): Promise<void> {
    await this.mutex.idle();
    await this.db.close();
  }

  // ---------------------------------------------------------------- meta
  async getMeta(key: string): Promise<string | undefined> {
    const row = await this.db.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]);
    return row?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  // ----------------------------------------------------------- merchants
  async upsertMerchant(m: Merchant, nowMs: number): Promise<void> {
    await this.db.run(
      `INSERT INTO merchants (merchant_id, secret_key, webhook_secret, name, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (merchant_id) DO UPDATE SET secret_key = excluded.secret_key,
         webhook_secret = excluded.webhook_secret, name = excluded.name`,
      [m.merchant_id, m.secret_key, m.webhook_secret, m.name, nowMs],
    );
  }

  getMerchant(merchantId: string): Promise<Merchant | undefined> {
    return this.db.get<Merchant>('SELECT merchant_id, secret_key, webhook_secret, name FROM merchants WHERE merchant_id = ?', [merchantId]);
  }

  getMerchantByKey(secretKey: string): Promise<Merchant | undefined> {
    return this.db.get<Merchant>('SELECT merchant_id, secret_key, webhook_secret, name FROM merchants WHERE secret_key = ?', [secretKey]);
  }

  // -------------------------------------------------------------- orders
  async saveOrder(o: OrderRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO orders (order_id, merchant_id, out_trade_no, transaction_id, status, expires_ms, created_ms, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (order_id) DO UPDATE SET transaction_id = excluded.transaction_id, status = excluded.status,
         expires_ms = excluded.expires_ms, data = excluded.data`,
      [o.order_id, o.merchant_id, o.out_trade_no, o.transaction_id, o.status, o.expires_at, o.created_at, JSON.stringify(o)],
    );
  }

  /** One record of a table (objects are stored as JSON in `data`); `where` may end in ORDER BY … LIMIT. */
  private async one<T>(table: RecordTable, where: string, params: SqlParam[]): Promise<T | undefined> {
    const row = await this.db.get<{ data: string }>(`SELECT data FROM ${table} WHERE ${where}`, params);
    return row ? (JSON.parse(row.data) as T) : undefined;
  }

  /** Records of a table, oldest first; `conditions` are ANDed (none: every row). */
  private async many<T>(table: RecordTable, conditions: Array<[string, SqlParam]>, order = 'created_ms, rowid'): Promise<T[]> {
    const where = conditions.length ? `WHERE ${conditions.map(([c]) => c).join(' AND ')}` : '';
    const rows = await this.db.all<{ data: string }>(
      `SELECT data FROM ${table} ${where} ORDER BY ${order}`,
      conditions.map(([, v]) => v),
    );
    return rows.map((r) => JSON.parse(r.data) as T);
  }

  private oneOrder(where: string, params: SqlParam[]): Promise<OrderRecord | undefined> {
    return this.one('orders', where, params);
  }

  getOrder(orderId: string): Promise<OrderRecord | undefined> {
    return this.oneOrder('order_id = ?', [orderId]);
  }

  getOrderByOutTradeNo(merchantId: string, outTradeNo: string): Promise<OrderRecord | undefined> {
    return this.oneOrder('merchant_id = ? AND out_trade_no = ?', [merchantId, outTradeNo]);
  }

  getOrderByTransaction(merchantId: string, transactionId: string): Promise<OrderRecord | undefined> {
    return this.oneOrder('merchant_id = ? AND transaction_id = ?', [merchantId, transactionId]);
  }

  /** The PENDING order that expires first, if it expires at or before `nowMs`. */
  nextExpiringOrder(nowMs: number): Promise<OrderRecord | undefined> {
    return this.oneOrder("status = 'PENDING' AND expires_ms <= ? ORDER BY expires_ms, created_ms LIMIT 1", [nowMs]);
  }

  listOrders(merchantId?: string, outTradeNo?: string): Promise<OrderRecord[]> {
    return this.many('orders', [
      ...(merchantId !== undefined ? [['merchant_id = ?', merchantId] as [string, SqlParam]] : []),
      ...(outTradeNo !== undefined ? [['out_trade_no = ?', outTradeNo] as [string, SqlParam]] : []),
    ]);
  }

  // ------------------------------------------------------------- refunds
  async saveRefund(r: RefundRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO refunds (refund_id, merchant_id, out_refund_no, order_id, status, amount, due_real_ms, created_ms, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (refund_id) DO UPDATE SET status = excluded.status, due_real_ms = excluded.due_real_ms, data = excluded.data`,
      [r.refund_id, r.merchant_id, r.out_refund_no, r.order_id, r.status, r.amount, r.due_real_ms, r.created_at, JSON.stringify(r)],
    );
  }

  private oneRefund(where: string, params: SqlParam[]): Promise<RefundRecord | undefined> {
    return this.one('refunds', where, params);
  }

  getRefund(refundId: string): Promise<RefundRecord | undefined> {
    return this.oneRefund('refund_id = ?', [refundId]);
  }

  getRefundByOutRefundNo(merchantId: string, outRefundNo: string): Promise<RefundRecord | undefined> {
    return this.oneRefund('merchant_id = ? AND out_refund_no = ?', [merchantId, outRefundNo]);
  }

  /** Sum of the order's refunds that are PROCESSING or SUCCEEDED. */
  async committedRefundTotal(orderId: string): Promise<number> {
    const row = await this.db.get<{ total: number | null }>("SELECT SUM(amount) AS total FROM refunds WHERE order_id = ? AND status <> 'FAILED'", [orderId]);
    return row?.total ?? 0;
  }

  async succeededRefundTotal(orderId: string): Promise<number> {
    const row = await this.db.get<{ total: number | null }>("SELECT SUM(amount) AS total FROM refunds WHERE order_id = ? AND status = 'SUCCEEDED'", [orderId]);
    return row?.total ?? 0;
  }

  dueRefunds(realNowMs: number): Promise<RefundRecord[]> {
    return this.many('refunds', [["status = 'PROCESSING' AND due_real_ms <= ?", realNowMs]], 'due_real_ms, created_ms, rowid');
  }

  async nextRefundDue(): Promise<number | undefined> {
    const row = await this.db.get<{ due: number | null }>("SELECT MIN(due_real_ms) AS due FROM refunds WHERE status = 'PROCESSING'");
    return row?.due ?? undefined;
  }

  listRefunds(merchantId?: string): Promise<RefundRecord[]> {
    return this.many('refunds', merchantId === undefined ? [] : [['merchant_id = ?', merchantId]]);
  }

  // ------------------------------------------------------- subscriptions
  async saveSubscription(s: SubscriptionRecord, nextDueMs: number | null): Promise<void> {
    await this.db.run(
      `INSERT INTO subscriptions (subscription_id, merchant_id, out_subscription_no, status, next_due_ms, created_ms, data)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (subscription_id) DO UPDATE SET status = excluded.status, next_due_ms = excluded.next_due_ms, data = excluded.data`,
      [s.subscription_id, s.merchant_id, s.out_subscription_no, s.status, nextDueMs, s.created_at, JSON.stringify(s)],
    );
  }

  private oneSubscription(where: string, params: SqlParam[]): Promise<SubscriptionRecord | undefined> {
    return this.one('subscriptions', where, params);
  }

  getSubscription(subscriptionId: string): Promise<SubscriptionRecord | undefined> {
    return this.oneSubscription('subscription_id = ?', [subscriptionId]);
  }

  getSubscriptionByNo(merchantId: string, outSubscriptionNo: string): Promise<SubscriptionRecord | undefined> {
    return this.oneSubscription('merchant_id = ? AND out_subscription_no = ?', [merchantId, outSubscriptionNo]);
  }

  async nextDueSubscription(nowMs: number): Promise<{ sub: SubscriptionRecord; dueMs: number } | undefined> {
    const row = await this.db.get<{ data: string; next_due_ms: number }>(
      'SELECT data, next_due_ms FROM subscriptions WHERE next_due_ms IS NOT NULL AND next_due_ms <= ? ORDER BY next_due_ms, created_ms, rowid LIMIT 1',
      [nowMs],
    );
    return row ? { sub: JSON.parse(row.data) as SubscriptionRecord, dueMs: row.next_due_ms } : undefined;
  }

  listSubscriptions(merchantId?: string): Promise<SubscriptionRecord[]> {
    return this.many('subscriptions', merchantId === undefined ? [] : [['merchant_id = ?', merchantId]]);
  }

  // --------------------------------------------------------- idempotency
  getIdempotency(merchantId: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.db.get<IdempotencyRecord>('SELECT fingerprint, status, body FROM idempotency WHERE merchant_id = ? AND idem_key = ?', [merchantId, key]);
  }

  async putIdempotency(merchantId: string, key: string, rec: IdempotencyRecord, realNowMs: number): Promise<void> {
    await this.db.run('INSERT OR IGNORE INTO idempotency (merchant_id, idem_key, fingerprint, status, body, created_real_ms) VALUES (?, ?, ?, ?, ?, ?)', [
      merchantId,
      key,
      rec.fingerprint,
      rec.status,
      rec.body,
      realNowMs,
    ]);
  }

  /** Deletes up to `limit` idempotency records made before `olderThanRealMs`, oldest first; returns how many. */
  async pruneIdempotency(olderThanRealMs: number, limit: number): Promise<number> {
    const { changes } = await this.db.run(
      'DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE created_real_ms < ? ORDER BY created_real_ms LIMIT ?)',
      [olderThanRealMs, limit],
    );
    return changes;
  }

  /**
   * Deletes up to `limit` outbox events made before `olderThanRealMs` that
   * will never be sent again (delivered, failed, dropped, skipped), oldest
   * first; pending and held events stay, however old. Returns how many.
   */
  async pruneOutbox(olderThanRealMs: number, limit: number): Promise<number> {
    const { changes } = await this.db.run(
      `DELETE FROM outbox WHERE row_id IN (SELECT row_id FROM outbox WHERE created_real_ms < ?
         AND state IN ('delivered', 'failed', 'dropped', 'skipped') ORDER BY created_real_ms LIMIT ?)`,
      [olderThanRealMs, limit],
    );
    return changes;
  }

  // -------------------------------------------------------------- outbox
  async insertOutbox(r: NewOutboxRow, realNowMs: number): Promise<number> {
    const res = await this.db.run(
      `INSERT INTO outbox (event_id, merchant_id, object_id, type, notify_url, body, created, lane, state, remaining,
         next_attempt_ms, bad_sig_first, fault, hold_group, created_real_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.event_id,
        r.merchant_id,
        r.object_id,
        r.type,
        r.notify_url,
        r.body,
        r.created,
        r.lane,
        r.state,
        r.remaining,
        r.next_attempt_ms,
        r.bad_sig_first ? 1 : 0,
        r.fault,
        r.hold_group,
        realNowMs,
      ],
    );
    return res.lastID;
  }

  /** Pending rows in delivery order. */
  pendingOutbox(): Promise<Pick<OutboxRow, 'row_id' | 'lane' | 'next_attempt_ms'>[]> {
    return this.db.all("SELECT row_id, lane, next_attempt_ms FROM outbox WHERE state = 'pending' ORDER BY COALESCE(delivery_seq, row_id), row_id");
  }

  getOutbox(rowId: number): Promise<OutboxRow | undefined> {
    return this.db.get<OutboxRow>('SELECT * FROM outbox WHERE row_id = ?', [rowId]);
  }

  heldOutbox(group?: string): Promise<OutboxRow[]> {
    return group === undefined
      ? this.db.all<OutboxRow>("SELECT * FROM outbox WHERE state = 'held' ORDER BY row_id")
      : this.db.all<OutboxRow>("SELECT * FROM outbox WHERE state = 'held' AND hold_group = ? ORDER BY row_id", [group]);
  }

  /** After a restart: pending events are due at once (except never-attempted `delay` fault events). */
  async resetPendingSchedule(realNowMs: number): Promise<void> {
    await this.db.run("UPDATE outbox SET next_attempt_ms = ? WHERE state = 'pending' AND next_attempt_ms > ? AND NOT (fault = 'delay' AND attempts = 0)", [
      realNowMs,
      realNowMs,
    ]);
  }

  async releaseHeld(rowId: number, deliverySeq: number, realNowMs: number): Promise<void> {
    await this.db.run("UPDATE outbox SET state = 'pending', delivery_seq = ?, next_attempt_ms = ? WHERE row_id = ? AND state = 'held'", [
      deliverySeq,
      realNowMs,
      rowId,
    ]);
  }

  async recordAttempt(
    rowId: number,
    patch: {
      state: OutboxState;
      attempts: number;
      failures: number;
      remaining: number;
      delivered_count: number;
      last_status: number | null;
      last_error: string | null;
      next_attempt_ms: number;
      delivered_real_ms: number | null;
    },
  ): Promise<void> {
    await this.db.run(
      `UPDATE outbox SET state = ?, attempts = ?, failures = ?, remaining = ?, delivered_count = ?, last_status = ?,
         last_error = ?, next_attempt_ms = ?, delivered_real_ms = COALESCE(delivered_real_ms, ?) WHERE row_id = ?`,
      [
        patch.state,
        patch.attempts,
        patch.failures,
        patch.remaining,
        patch.delivered_count,
        patch.last_status,
        patch.last_error,
        patch.next_attempt_ms,
        patch.delivered_real_ms,
        rowId,
      ],
    );
  }

  listOutbox(merchantId?: string): Promise<OutboxRow[]> {
    return merchantId === undefined
      ? this.db.all<OutboxRow>('SELECT * FROM outbox ORDER BY row_id')
      : this.db.all<OutboxRow>('SELECT * FROM outbox WHERE merchant_id = ? ORDER BY row_id', [merchantId]);
  }
}
