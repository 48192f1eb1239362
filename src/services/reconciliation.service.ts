import type { Database } from '../db/database';
import { PaymentEntity, RefundEntity } from '../entities';
import type { RefundService } from './refund.service';
import type { IdempotencyService } from './idempotency.service';
import type { PaymentService } from './payment.service';
import { UCanPayError } from '../ucanpay';

export interface ReconcileLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Converges stuck objects with UCanPay, so a lost webhook never leaves one
 * pending forever: every PENDING payment not heard of for `staleAfterSeconds`
 * (or past its expiry) is checked with GET /payment/status, every PROCESSING
 * refund with GET /payment/refund/status.
 */
export class ReconciliationService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly payments: PaymentService,
    private readonly refunds: RefundService,
    private readonly idempotency: IdempotencyService,
    private readonly db: Database,
    private readonly options: { intervalMs: number; staleAfterSeconds: number; batchSize?: number },
    private readonly log: ReconcileLogger,
  ) {}

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; concurrent calls share the pass in flight. Returns how many payments changed. */
  runOnce(): Promise<number> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
    }
    return this.running as Promise<number>;
  }

  private async pass(): Promise<number> {
    const staleBefore = Date.now() - this.options.staleAfterSeconds * 1000;
    const take = this.options.batchSize ?? 100;
    const payments = await this.db.manager
      .createQueryBuilder(PaymentEntity, 'p')
      .where("p.status = 'PENDING'")
      .andWhere('((p.updated_at < :staleBefore AND (p.synced_at IS NULL OR p.synced_at < :staleBefore)) OR p.expires_at < :now)', {
        staleBefore,
        now: Date.now(),
      })
      .orderBy('p.updated_at', 'ASC')
      .take(take)
      .getMany();
    const refunds = await this.db.manager
      .createQueryBuilder(RefundEntity, 'r')
      .where("r.status = 'PROCESSING'")
      .andWhere('r.updated_at < :staleBefore AND (r.synced_at IS NULL OR r.synced_at < :staleBefore)', { staleBefore })
      .orderBy('r.updated_at', 'ASC')
      .take(take)
      .getMany();
    let changed = 0;
    const check = async (kind: string, record: { id: string; version: number; status: string }, unsent: boolean, refresh: () => Promise<{ version: number; status: string }>) => {
      try {
        if (unsent && (await this.idempotency.inFlight(record.id))) return;
        const after = await refresh();
        if (after.version !== record.version) {
          changed++;
          this.log.info({ id: record.id, status: after.status }, `reconciled ${kind} with UCanPay`);
        }
      } catch (error) {
        const detail = error instanceof UCanPayError ? error.toJSON() : { message: (error as Error).message };
        this.log.warn({ id: record.id, error: detail }, `reconciliation could not check ${kind}`);
      }
    };
    for (const p of payments) await check('payment', p, p.providerOrderId === null, () => this.payments.refresh(p.merchantId, p.id));
    for (const r of refunds) await check('refund', r, r.providerRefundId === null, () => this.refunds.refresh(r));
    return changed;
  }
}
