import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Database } from '../db/database';
import { EventEntity, IdempotencyKeyEntity, WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEventEntity } from '../entities';
import { KEY_RETENTION_MS } from './idempotency.service';

export interface RetentionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface RetentionOptions {
  /** How often a pass runs; 0 disables the loop (`runOnce` still works). */
  intervalMs: number;
  /** Idempotency keys are deleted once older than this (≥ 24 h: UCanPay keeps its keys at least that long). */
  idempotencyKeyRetentionMs: number;
  /** Webhook inbox rows are deleted once received longer ago than this (beyond UCanPay's redelivery horizon). */
  webhookInboxRetentionMs: number;
  /** Events of the event log are deleted once older than this (EVENT_RETENTION_DAYS, at least 30 days). Absent: kept. */
  eventRetentionMs?: number;
  /** Rows deleted per transaction: what one batch holds the SQLite writer or its PostgreSQL row locks for. */
  batchSize: number;
  /** Pause between two batches of a pass, so queued writes run in between (default 5 ms). */
  pauseMs?: number;
}

/** What one pass deleted, per table, and in how many batches (transactions). */
export interface RetentionReport {
  idempotencyKeys: number;
  webhookEvents: number;
  events: number;
  /** Outbound webhook deliveries (settled) and their attempts, kept as long as the events. */
  webhookDeliveries: number;
  webhookDeliveryAttempts: number;
  batches: number;
}

/**
 * One table the pass prunes: which rows are due (parameters `$now`-style are
 * filled in by `params`) and the index-ordered column the batch is taken by.
 */
interface RetentionTarget {
  name: keyof Omit<RetentionReport, 'batches'>;
  entity: EntityTarget<ObjectLiteral>;
  due: string;
  orderBy: string;
  params(now: number): number[];
}

/**
 * Deletes what the gateway no longer needs, so the tables that only ever grew
 * (idempotency keys, the webhook inbox) stay the size of their window:
 *
 * - an idempotency key once it is older than its retention and its request
 *   is not in flight (`IN_PROGRESS` with a lease still running is kept,
 *   however old);
 * - a webhook inbox row once it was received longer ago than the inbox
 *   window, which is longer than UCanPay's redelivery horizon: a redelivery
 *   inside the window is still recognised as a duplicate. (One after it
 *   would be applied again through the state machines, which refuse a stale
 *   snapshot: `unchanged`, never a second effect.)
 *
 * Deletes run in bounded batches, one transaction each, oldest first through
 * an index, with a pause between batches, so a pass over millions of rows
 * never holds the SQLite writer (or PostgreSQL row locks) for longer than one
 * batch. It runs on every instance: on PostgreSQL each batch takes its rows
 * `FOR UPDATE SKIP LOCKED`, so two instances pruning at once take different
 * rows, and a key a request holds locked right now (a claim in progress) is
 * skipped; on SQLite the transaction is serialized with every other write.
 */
export class RetentionService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionReport> | undefined;
  private stopping = false;
  private readonly targets: RetentionTarget[];

  constructor(
    private readonly db: Database,
    private readonly options: RetentionOptions,
    private readonly log: RetentionLogger,
  ) {
    this.targets = [
      {
        name: 'idempotencyKeys',
        entity: IdempotencyKeyEntity,
        // expires_at (indexed) is created_at + KEY_RETENTION_MS for every claim; created_at is checked too,
        // so a key is never deleted younger than the retention, whatever expires_at says.
        due: `expires_at < ? AND created_at < ? AND (state <> 'IN_PROGRESS' OR locked_until < ?)`,
        orderBy: 'expires_at',
        params: (now) => [now - options.idempotencyKeyRetentionMs + KEY_RETENTION_MS, now - options.idempotencyKeyRetentionMs, now],
      },
      {
        name: 'webhookEvents',
        entity: WebhookEventEntity,
        due: 'received_at < ?',
        orderBy: 'received_at',
        params: (now) => [now - options.webhookInboxRetentionMs],
      },
      ...(options.eventRetentionMs === undefined
        ? []
        : [
            {
              name: 'events' as const,
              entity: EventEntity,
              due: 'created_at < ?',
              orderBy: 'created_at',
              params: (now: number) => [now - options.eventRetentionMs!],
            },
            {
              name: 'webhookDeliveries' as const,
              entity: WebhookDeliveryEntity,
              due: `status <> 'PENDING' AND updated_at < ?`,
              orderBy: 'updated_at',
              params: (now: number) => [now - options.eventRetentionMs!],
            },
            {
              name: 'webhookDeliveryAttempts' as const,
              entity: WebhookDeliveryAttemptEntity,
              due: 'started_at < ?',
              orderBy: 'started_at',
              params: (now: number) => [now - options.eventRetentionMs!],
            },
          ]),
    ];
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.stopping = false;
    this.timer = setInterval(() => void this.runOnce().catch(() => undefined), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the loop; a pass in progress ends after its current batch. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    await this.running?.catch(() => undefined);
    this.stopping = false;
  }

  /** One pass over every table until nothing is due; concurrent calls share the pass in flight. */
  runOnce(): Promise<RetentionReport> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async pass(): Promise<RetentionReport> {
    const report: RetentionReport = { idempotencyKeys: 0, webhookEvents: 0, events: 0, webhookDeliveries: 0, webhookDeliveryAttempts: 0, batches: 0 };
    const now = Date.now();
    for (const target of this.targets) {
      let from: number | undefined;
      for (;;) {
        if (this.stopping) return report;
        let deleted: number;
        try {
          ({ deleted, from } = await this.deleteBatch(target, now, from));
        } catch (error) {
          this.log.warn({ table: target.name, err: (error as Error).message }, 'retention could not delete a batch');
          break;
        }
        report[target.name] += deleted;
        report.batches++;
        if (deleted < this.options.batchSize) break;
        await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs ?? 5));
      }
    }
    if (report.idempotencyKeys || report.webhookEvents || report.events || report.webhookDeliveries || report.webhookDeliveryAttempts)
      this.log.info({ ...report }, 'retention pass deleted expired rows');
    return report;
  }

  /**
   * Deletes up to `batchSize` due rows of one table in one transaction;
   * returns how many, and where the next batch may start. The rows are found
   * through the table's time index and deleted by their physical address
   * (SQLite rowid, PostgreSQL ctid), so a batch costs its own rows, not a
   * pass over the table's key index. On PostgreSQL the next batch starts at
   * the newest row deleted: the index entries of rows deleted by earlier
   * batches stay until VACUUM, and starting from the oldest again would step
   * over all of them every time.
   */
  private async deleteBatch(target: RetentionTarget, now: number, from: number | undefined): Promise<{ deleted: number; from: number | undefined }> {
    const postgres = this.db.kind === 'postgres';
    const table = this.db.tableName(target.entity);
    const order = this.db.dataSource.driver.escape(target.orderBy);
    const params: number[] = [...target.params(now)];
    let due = target.due;
    if (postgres && from !== undefined) {
      due += ` AND ${order} >= ?`;
      params.push(from);
    }
    params.push(this.options.batchSize);
    const batch = this.db.placeholders(`FROM ${table} WHERE ${due} ORDER BY ${order} LIMIT ?`);
    // PostgreSQL: rows another instance (or a claiming request) holds are skipped, not waited for.
    const sql = postgres
      ? `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid ${batch} FOR UPDATE SKIP LOCKED)) RETURNING ${order}`
      : `DELETE FROM ${table} WHERE rowid IN (SELECT rowid ${batch})`;
    return this.db.transaction(async (tx) => {
      const result = await tx.manager.queryRunner!.query(sql, params, true);
      const deleted = Number(result.affected ?? 0);
      if (!postgres) return { deleted, from };
      const rows = (result.records ?? []) as Array<Record<string, string | number>>;
      const newest = rows.reduce((max, row) => Math.max(max, Number(row[target.orderBy])), from ?? -Infinity);
      return { deleted, from: Number.isFinite(newest) ? newest : from };
    });
  }
}
