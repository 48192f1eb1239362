import { In, type EntityTarget, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import type { Database } from '../db/database';
import { BillingSubscriptionEntity, PaymentEntity, RefundEntity } from '../entities';
import { REFUND, type RefundService } from './refund.service';
import { SUBSCRIPTION, type BillingSubscriptionService } from './billing-subscription.service';
import type { IdempotencyService } from './idempotency.service';
import { PAYMENT, type PaymentService } from './payment.service';
import { UCanPayError } from '../ucanpay';
import { withCause, type Cause } from './cause';

/** What the event log names as the cause of reconciliation's writes. */
const RECONCILIATION: Cause = { kind: 'reconciliation', id: null };

export interface ReconcileLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A row the loop can converge: versioned, with the time it was last synced (or claimed). */
export interface Reconcilable extends ObjectLiteral {
  id: string;
  version: number;
  status: string;
  syncedAt: Date | null;
}

/** Epoch milliseconds a due-condition may use (`:now`, `:staleBefore`). */
export interface DueTimes {
  now: number;
  /** now − RECONCILE_STALE_AFTER_SECONDS. */
  staleBefore: number;
}

/**
 * One kind of object the loop converges with UCanPay. Adding a kind (billing
 * subscriptions, …) is one more entry in `kinds`: the claiming, the
 * skip-while-in-flight rule and the logging are shared.
 */
export interface ReconcileKind<T extends Reconcilable = Reconcilable> {
  /** For logs: "reconciled payment with UCanPay". */
  name: string;
  entity: EntityTarget<T>;
  /**
   * Adds this kind's "due" conditions to `qb` (alias `alias`, raw column
   * names, parameters `:now`, `:staleBefore` and `:recheckSince` are set). The claim adds
   * "not synced or claimed within the lease" itself.
   */
  due(qb: SelectQueryBuilder<T>, alias: string): SelectQueryBuilder<T>;
  /** Not yet sent to UCanPay (the aggregate's own predicate, as the create uses it): skipped while a request may still be sending it. */
  unsent(row: T): boolean;
  /** Asks UCanPay and applies the answer; returns the row after. */
  check(row: T): Promise<{ version: number; status: string }>;
}

/** How long a payment failed on the gateway's own inference (PROVIDER_UNAVAILABLE) is still checked with UCanPay. */
export const INFERRED_FAILURE_RECHECK_MS = 24 * 3600_000;

/** A claimed row and the syncedAt it had, to give the claim back if the check fails. */
export interface Claimed<T> {
  row: T;
  previousSyncedAt: Date | null;
  claimedAt: Date;
}

/**
 * Claims up to `take` due rows of one kind for this instance, atomically, so
 * that instances running the loop at the same time never check the same row:
 * in one transaction the due rows are selected `FOR UPDATE SKIP LOCKED` on
 * PostgreSQL (rows another instance is claiming right now are skipped, not
 * waited for) and their `synced_at` is set to now, which makes them not due
 * for `leaseMs`. On SQLite the transaction is serialized already.
 *
 * Every due query is ANDed with `synced_at IS NULL OR synced_at < now −
 * leaseMs`: whatever a kind calls due, a row claimed (or synced) within the
 * lease is never claimed again.
 */
export async function claimDue<T extends Reconcilable>(
  db: Database,
  kind: ReconcileKind<T>,
  options: { take: number; times: DueTimes; leaseMs: number },
): Promise<Array<Claimed<T>>> {
  return db.transaction(async (tx) => {
    const alias = 'c';
    const parameters = {
      now: options.times.now,
      staleBefore: options.times.staleBefore,
      leaseBefore: options.times.now - options.leaseMs,
      recheckSince: options.times.now - INFERRED_FAILURE_RECHECK_MS,
    };
    // Two index ranges on (status, synced_at), never checked first, then least recently checked: rows claimed
    // within the lease are outside both ranges, so a pass reads the due rows (and the few not due yet), not
    // every row it has checked before. (One "IS NULL OR <" condition would leave status as the only range.)
    const select = (lease: string, take: number) => {
      const qb = kind
        .due(tx.manager.createQueryBuilder(kind.entity, alias), alias)
        .andWhere(lease)
        .setParameters(parameters)
        .orderBy(`${alias}.synced_at`, 'ASC')
        .limit(take);
      if (db.kind === 'postgres') qb.setLock('pessimistic_write').setOnLocked('skip_locked');
      return qb.getMany();
    };
    const rows = await select(`${alias}.synced_at IS NULL`, options.take);
    if (rows.length < options.take) rows.push(...(await select(`${alias}.synced_at < :leaseBefore`, options.take - rows.length)));
    if (rows.length === 0) return [];
    const claimedAt = new Date();
    await tx.manager
      .createQueryBuilder()
      .update(kind.entity)
      .set({ syncedAt: claimedAt } as never)
      .where({ id: In(rows.map((r) => r.id)) })
      .execute();
    return rows.map((row) => ({ row, previousSyncedAt: row.syncedAt, claimedAt }));
  });
}

/**
 * Converges stuck objects with UCanPay, so a lost webhook never leaves one
 * pending forever: every PENDING payment not heard of for `staleAfterSeconds`
 * (or past its expiry) is checked with GET /payment/status, every PROCESSING
 * refund with GET /payment/refund/status, every subscription whose renewal is
 * overdue (or whose mandate or dunning went quiet) with GET /subscriptions/status.
 *
 * It runs on every instance. Rows are claimed before they are checked (see
 * `claimDue`), so with several instances each due row is checked by one of
 * them once per `staleAfterSeconds`, not once per instance. A check that
 * fails gives its claim back, so the next pass (on any instance) retries it.
 */
export class ReconciliationService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopping = false;
  /** Metrics hook: per kind and pass, the rows claimed as due, those checked with UCanPay and those that changed. */
  observer?: (kind: string, counts: { due: number; checked: number; changed: number }) => void;
  private readonly kinds: ReconcileKind[];

  constructor(
    private readonly payments: PaymentService,
    private readonly refunds: RefundService,
    private readonly subscriptions: BillingSubscriptionService,
    private readonly idempotency: IdempotencyService,
    private readonly db: Database,
    private readonly options: { intervalMs: number; staleAfterSeconds: number; batchSize?: number; now?: () => number },
    private readonly log: ReconcileLogger,
  ) {
    const paymentKind: ReconcileKind<PaymentEntity> = {
      name: 'payment',
      entity: PaymentEntity,
      // `+column`: a filter only, so that the claim's range is (status, synced_at) (see claimDue).
      due: (qb, a) => qb.where(`${a}.status = 'PENDING'`).andWhere(`+${a}.updated_at < :staleBefore`),
      unsent: PAYMENT.unsent,
      check: (p) => this.payments.refresh(p.merchantId, p.id),
    };
    // Past its expiry but heard of recently: its own kind, so that both conditions are index ranges.
    const expiredPaymentKind: ReconcileKind<PaymentEntity> = {
      ...paymentKind,
      name: 'payment past expiry',
      due: (qb, a) => qb.where(`${a}.status = 'PENDING'`).andWhere(`+${a}.expires_at < :now`),
    };
    const refundKind: ReconcileKind<RefundEntity> = {
      name: 'refund',
      entity: RefundEntity,
      due: (qb, a) => qb.where(`${a}.status = 'PROCESSING'`).andWhere(`+${a}.updated_at < :staleBefore`),
      unsent: REFUND.unsent,
      check: (r) => this.refunds.refresh(r),
    };
    // A renewal UCanPay should have made by now.
    const subscriptionKind: ReconcileKind<BillingSubscriptionEntity> = {
      name: 'subscription',
      entity: BillingSubscriptionEntity,
      due: (qb, a) =>
        qb
          .where(`${a}.status IN ('TRIALING', 'ACTIVE', 'PAST_DUE')`)
          .andWhere(`+${a}.next_billing_at < :now`)
          .andWhere(`${a}.provider_subscription_id IS NOT NULL`),
      unsent: SUBSCRIPTION.unsent,
      check: (s) => this.subscriptions.refresh(s),
    };
    // A mandate or a dunning step gone quiet: its own kind, so that both conditions are index ranges.
    const quietSubscriptionKind: ReconcileKind<BillingSubscriptionEntity> = {
      ...subscriptionKind,
      name: 'subscription gone quiet',
      due: (qb, a) =>
        qb
          .where(`${a}.status IN ('PENDING_AUTHORIZATION', 'PAST_DUE')`)
          .andWhere(`+${a}.updated_at < :staleBefore`)
          .andWhere(`${a}.provider_subscription_id IS NOT NULL`),
    };
    // For a day, payments the gateway failed on its own inference: a late UCanPay capture is found even if its webhook is lost
    // (docs/money-truth.md). A kind of its own, so its own batch: these rows never crowd out the PENDING ones.
    const inferredFailureKind: ReconcileKind<PaymentEntity> = {
      name: 'payment failed by inference',
      entity: PaymentEntity,
      due: (qb, a) =>
        qb
          // The range is (failure_code, created_at): the last day's inferred failures, whatever the table holds
          // (`status || ''`: a filter, not the (status, synced_at) range every FAILED payment would be in).
          .where(`${a}.status || '' = 'FAILED' AND ${a}.failure_code = 'PROVIDER_UNAVAILABLE'`)
          .andWhere(`${a}.created_at > :recheckSince AND +${a}.updated_at < :staleBefore`),
      unsent: PAYMENT.unsent,
      check: (p) => this.payments.refresh(p.merchantId, p.id),
    };
    this.kinds = [paymentKind, expiredPaymentKind, refundKind, subscriptionKind, quietSubscriptionKind, inferredFailureKind] as unknown as ReconcileKind[];
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // A pass in flight stops after the object it is checking; the rest of its claims are given back.
    this.stopping = true;
    await this.running;
    this.stopping = false;
  }

  /** One pass; concurrent calls share the pass in flight. Returns how many objects changed. */
  runOnce(): Promise<number> {
    if (!this.running) {
      this.running = withCause(RECONCILIATION, () => this.pass()).finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /**
   * How long a claim keeps other instances off a row: the stale window (a row
   * checked within it is not stale), at least a second so a zero window
   * cannot let two instances claim the same row in the same instant.
   */
  private get leaseMs(): number {
    return Math.max(this.options.staleAfterSeconds * 1000, 1000);
  }

  private async pass(): Promise<number> {
    const now = (this.options.now ?? Date.now)();
    const times: DueTimes = { now, staleBefore: now - this.options.staleAfterSeconds * 1000 };
    const take = this.options.batchSize ?? 100;
    let changed = 0;
    for (const kind of this.kinds) {
      let claimed: Array<Claimed<Reconcilable>>;
      try {
        claimed = await claimDue(this.db, kind, { take, times, leaseMs: this.leaseMs });
      } catch (error) {
        this.log.warn({ kind: kind.name, err: (error as Error).message }, 'reconciliation could not claim due rows');
        continue;
      }
      const counts = { due: claimed.length, checked: 0, changed: 0 };
      for (const [i, claim] of claimed.entries()) {
        if (this.stopping) {
          for (const rest of claimed.slice(i)) await this.release(kind, rest.row.id, rest.previousSyncedAt, rest.claimedAt);
          break;
        }
        counts.checked++;
        if (await this.check(kind, claim)) {
          changed++;
          counts.changed++;
        }
      }
      this.observer?.(kind.name, counts);
      if (this.stopping) return changed;
    }
    return changed;
  }

  /** Checks one claimed row; true when it changed. */
  private async check(kind: ReconcileKind, { row, previousSyncedAt, claimedAt }: Claimed<Reconcilable>): Promise<boolean> {
    try {
      if (kind.unsent(row) && (await this.idempotency.inFlight(row.id))) return false;
      const after = await kind.check(row);
      if (after.version === row.version) return false;
      this.log.info({ id: row.id, status: after.status }, `reconciled ${kind.name} with UCanPay`);
      return true;
    } catch (error) {
      const detail = error instanceof UCanPayError ? error.toJSON() : { message: (error as Error).message };
      this.log.warn({ id: row.id, error: detail }, `reconciliation could not check ${kind.name}`);
      await this.release(kind, row.id, previousSyncedAt, claimedAt);
      return false;
    }
  }

  /** Gives a claim back (unless something synced the row since), so the next pass retries it. */
  private async release(kind: ReconcileKind, id: string, previous: Date | null, claimedAt: Date): Promise<void> {
    try {
      await this.db.transaction((tx) =>
        tx.manager
          .createQueryBuilder()
          .update(kind.entity)
          .set({ syncedAt: previous } as never)
          .where('id = :id AND synced_at = :claimedAt', { id, claimedAt: claimedAt.getTime() })
          .execute(),
      );
    } catch (error) {
      this.log.warn({ id, err: (error as Error).message }, 'reconciliation could not release its claim');
    }
  }
}
