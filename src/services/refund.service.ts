import type { Database, Tx } from '../db/database';
import { MerchantEntity, PaymentEntity, RefundEntity } from '../entities';
import { invalidInput, notFound } from '../domain/errors';
import { newId } from '../domain/ids';
import { applyRefundSnapshot, paidStatusFor, REFUND_MACHINE, refundTotals, type RefundStatus } from '../domain/refund-state';
import { checkAmount, checkReference, checkText, idempotencyKeyOf } from '../domain/validation';
import type { EventBus } from '../events/pubsub';
import { UCanPayError, type UCanPayRefund } from '../ucanpay';
import { requireMerchant, requirePaymentReader, unauthenticated } from './access';
import type { IdempotencyService } from './idempotency.service';
import { createOnce, type Aggregate, type CreateOutcome } from './idempotent-create';
import type { Principal } from './merchant.service';
import { childrenOf } from './children';
import { paginate } from './pagination';
import type { PaymentService } from './payment.service';
import type { Logger } from '../logger';
import { amountMismatch } from './amount-check';
import type { ProviderClients } from './provider';
import { providerFailure, snapshotOfRefund, type AppliedProviderState } from './provider-facts';
import { followVersions, writeVersioned } from './versioned';
import { refreshCause, withCause } from './cause';

export interface RefundPaymentRequest {
  paymentId: string;
  amount?: number | null;
  reason?: string | null;
  merchantReference?: string | null;
  idempotencyKey?: string | null;
}

/** What refundPayment can come to; the GraphQL layer maps each to a member of RefundPaymentResult. */
export type RefundPaymentOutcome = CreateOutcome<RefundMade, RefundRefusal>;

/** refundPayment made (or replays) a refund. */
type RefundMade = { kind: 'refund'; refund: RefundEntity; payment: PaymentEntity; replayed: boolean };

/** Refunds, to the idempotent create and reconciliation. */
export const REFUND: Aggregate<RefundEntity> = {
  name: 'refund',
  entity: RefundEntity,
  unsent: (r) => r.providerRefundId === null && r.status === 'PROCESSING',
  refused: (r) => r.status === 'FAILED' && r.providerRefundId === null && Boolean(r.failureCode),
};

export interface RefundListFilter {
  paymentId?: string | null;
  status?: RefundStatus | null;
  first: number;
  after?: string | null;
}

const REFUNDABLE_STATUSES = new Set(['PAID', 'PARTIALLY_REFUNDED']);

/** The typed refusals of a refund's own (a taken merchant reference is the protocol's), kept as its key's outcome (docs/errors.md). */
type RefundRefusal =
  | { kind: 'exceedsPayment'; requestedAmount: number; refundableAmount: number; currency: string }
  | { kind: 'notRefundable'; paymentStatus: string; reason: string };

/**
 * Refunds. The refundable amount comes from the gateway's own record: a
 * refund is reserved (written PROCESSING) under the payment's row lock
 * before UCanPay is called, so concurrent refunds can never together exceed
 * the paid amount; a FAILED refund frees its amount again.
 */
export class RefundService {
  constructor(
    private readonly db: Database,
    private readonly providers: ProviderClients,
    private readonly events: EventBus,
    private readonly idempotency: IdempotencyService,
    private readonly payments: PaymentService,
    private readonly log: Pick<Logger, 'error' | 'warn'>,
  ) {}

  async refund(principal: Principal | null, input: RefundPaymentRequest, headerKey?: string): Promise<RefundPaymentOutcome> {
    const merchantId = requireMerchant(principal, 'refundPayment');
    if (typeof input.paymentId !== 'string' || !/^pay_[0-9a-z]{26}$/.test(input.paymentId)) {
      throw invalidInput('input.paymentId', 'must be the id of one of your payments (pay_…)');
    }
    const fields = {
      paymentId: input.paymentId,
      amount: input.amount == null ? null : checkAmount('input.amount', input.amount),
      reason: input.reason == null ? 'requested_by_customer' : checkText('input.reason', input.reason, { max: 500 }),
      merchantReference: input.merchantReference == null ? null : checkReference('input.merchantReference', input.merchantReference),
    };
    const request = {
      operation: 'refundPayment',
      merchantId,
      key: idempotencyKeyOf(input.idempotencyKey, headerKey),
      input: fields,
      refusalResourceId: fields.paymentId,
    };
    return createOnce<RefundEntity, UCanPayRefund, RefundMade, RefundRefusal>({ db: this.db, idempotency: this.idempotency, log: this.log }, request, {
      aggregate: REFUND,
      open: (tx) => this.reserve(tx, merchantId, fields),
      opened: (tx, refund) => {
        const snapshot = Object.assign(new RefundEntity(), refund);
        tx.afterCommit(() => this.events.publish('refundUpdated', refund.id, snapshot));
      },
      send: (refund) => this.createAtProvider(refund),
      save: (tx, current, result) => this.save(tx, current, result),
      saveRefusal: (tx, current, { providerCode, message }) =>
        this.applyRefundChange(tx, current, { status: 'FAILED', failureCode: providerCode, failureMessage: message }),
      replay: async (tx, refund) => {
        const payment = await this.db.findOneByOrFail(PaymentEntity, { id: refund.paymentId }, { tx });
        return { kind: 'refund', refund, payment, replayed: true };
      },
    });
  }

  /**
   * Under the payment's row lock: the amount still refundable decides, and
   * the refund is built PROCESSING for that amount (its reservation).
   */
  private async reserve(
    tx: Tx,
    merchantId: string,
    fields: { paymentId: string; amount: number | null; reason: string; merchantReference: string | null },
  ): Promise<{ row: RefundEntity } | { refusal: RefundRefusal }> {
    const payment = await this.db.findOneBy(PaymentEntity, { id: fields.paymentId, merchantId }, { tx, forUpdate: true });
    if (!payment) throw notFound('payment', fields.paymentId);
    if (!REFUNDABLE_STATUSES.has(payment.status)) {
      return { refusal: { kind: 'notRefundable', paymentStatus: payment.status, reason: `the payment is ${payment.status}, not paid` } };
    }
    const refunds = await tx.manager.find(RefundEntity, { where: { paymentId: payment.id }, select: { status: true, amount: true } });
    const { refundableAmount } = refundTotals(payment.amount, refunds);
    if (refundableAmount === 0) {
      return {
        refusal: { kind: 'notRefundable', paymentStatus: payment.status, reason: 'the whole paid amount is already refunded or being refunded' },
      };
    }
    const amount = fields.amount ?? refundableAmount;
    if (amount > refundableAmount) {
      return { refusal: { kind: 'exceedsPayment', requestedAmount: amount, refundableAmount, currency: payment.currency } };
    }
    const now = new Date();
    const id = newId('ref', now.getTime());
    const row = Object.assign(new RefundEntity(), {
      id,
      merchantId,
      paymentId: payment.id,
      merchantReference: fields.merchantReference ?? id,
      status: 'PROCESSING',
      amount,
      currency: payment.currency,
      reason: fields.reason,
      providerRefundId: null,
      failureCode: null,
      failureMessage: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
      succeededAt: null,
      syncedAt: null,
    } satisfies RefundEntity);
    return { row };
  }

  /** Asks UCanPay to refund, under a key derived from our refund id: every attempt, retry or resumption sends the same key. */
  private async createAtProvider(refund: RefundEntity): Promise<UCanPayRefund> {
    const payment = await this.db.findOneByOrFail(PaymentEntity, { id: refund.paymentId });
    const merchant = await this.db.findOneByOrFail(MerchantEntity, { id: refund.merchantId });
    return this.providers
      .for(merchant)
      .createRefund(
        { transactionId: payment.transactionId ?? '', outRefundNo: refund.merchantReference, amount: refund.amount, reason: refund.reason },
        { idempotencyKey: refund.id },
      );
  }

  /**
   * Records UCanPay's answer to a create (under the row lock). Another amount
   * than asked: linked but not applied, so the amount stays reserved (never
   * refunded twice) until the operator settles it.
   */
  private async save(tx: Tx, current: RefundEntity, result: UCanPayRefund): Promise<RefundMade> {
    const applies = !this.mismatched(current, result);
    const saved = await this.applyRefundChange(tx, current, {
      ...((applies ? applyRefundSnapshot(current, snapshotOfRefund(result)) : null) ?? {}),
      providerRefundId: result.refundId,
      syncedAt: new Date(),
    });
    return { kind: 'refund', refund: saved.refund, payment: saved.payment, replayed: false };
  }

  /**
   * Writes a refund change and, when the refund newly succeeded, the payment's
   * refunded amount and status (PARTIALLY_REFUNDED / REFUNDED), publishing
   * both after commit.
   */
  async applyRefundChange(
    tx: Tx,
    refund: RefundEntity,
    changes: Partial<RefundEntity> | null,
  ): Promise<{ refund: RefundEntity; payment: PaymentEntity; changed: boolean }> {
    const before = refund.version;
    const updated = await writeVersioned(tx, RefundEntity, refund, changes, {
      states: REFUND_MACHINE,
      events: this.events,
      topic: 'refundUpdated',
      log: this.log,
    });
    const payment = await this.db.findOneByOrFail(PaymentEntity, { id: refund.paymentId }, { tx, forUpdate: true });
    if (updated.version === before || updated.status !== 'SUCCEEDED') return { refund: updated, payment, changed: updated.version !== before };
    const refunds = await tx.manager.find(RefundEntity, { where: { paymentId: payment.id }, select: { status: true, amount: true } });
    const { refundedAmount } = refundTotals(payment.amount, refunds);
    const paymentChanges: Partial<PaymentEntity> = {};
    if (refundedAmount > payment.refundedAmount) paymentChanges.refundedAmount = refundedAmount;
    const status = paidStatusFor(payment.amount, Math.max(refundedAmount, payment.refundedAmount));
    if (REFUNDABLE_STATUSES.has(payment.status) && status !== payment.status && status !== 'PAID') paymentChanges.status = status;
    const savedPayment = await this.payments.applyChange(tx, payment, Object.keys(paymentChanges).length ? paymentChanges : null);
    return { refund: updated, payment: savedPayment, changed: true };
  }

  /** Applies UCanPay's view of a refund (webhook, refresh, reconciliation) through the state machine. */
  async applyProviderState(tx: Tx, refund: RefundEntity, snapshot: UCanPayRefund): Promise<AppliedProviderState<RefundEntity>> {
    if (this.mismatched(refund, snapshot)) return { entity: refund, outcome: 'mismatch' };
    const changes: Partial<RefundEntity> = { ...(applyRefundSnapshot(refund, snapshotOfRefund(snapshot)) ?? {}), syncedAt: new Date() };
    if (refund.providerRefundId === null) changes.providerRefundId = snapshot.refundId;
    const applied = await this.applyRefundChange(tx, refund, changes);
    return { entity: applied.refund, outcome: applied.changed ? 'applied' : 'unchanged' };
  }

  /**
   * UCanPay's refund is for another amount or currency than the refund (then
   * nothing of it is applied and the refund's amount stays reserved, so the
   * payment can never be refunded past what was paid; see amount-check.ts).
   */
  private mismatched(refund: RefundEntity, snapshot: UCanPayRefund): boolean {
    return amountMismatch(this.log, 'refund', refund, snapshot, {
      refundId: refund.id,
      paymentId: refund.paymentId,
      merchantId: refund.merchantId,
      providerRefundId: snapshot.refundId,
    });
  }

  async get(principal: Principal | null, id: string, refresh = false): Promise<RefundEntity> {
    if (!principal) throw unauthenticated();
    const refund = await this.db.findOneBy(RefundEntity, { id, merchantId: principal.merchantId });
    if (!refund) throw notFound('refund', id);
    requirePaymentReader(principal, refund.paymentId, 'refund', id);
    return refresh ? withCause(refreshCause(principal), () => this.refresh(refund)) : refund;
  }

  /** Asks UCanPay (GET /payment/refund/status) and applies any change. */
  async refresh(refund: RefundEntity): Promise<RefundEntity> {
    const merchant = await this.db.findOneByOrFail(MerchantEntity, { id: refund.merchantId });
    let snapshot: UCanPayRefund;
    try {
      snapshot = await this.providers
        .for(merchant)
        .getRefund(refund.providerRefundId ? { refundId: refund.providerRefundId } : { outRefundNo: refund.merchantReference });
    } catch (error) {
      if (error instanceof UCanPayError && error.code === 'REFUND_NOT_FOUND' && refund.providerRefundId === null) {
        return this.abandonIfNeverCreated(refund);
      }
      if (error instanceof UCanPayError) throw providerFailure(error, 'refund', 'check').error;
      throw error;
    }
    return this.db.transaction(async (tx) => {
      const current = await this.db.findOneByOrFail(RefundEntity, { id: refund.id }, { tx, forUpdate: true });
      return (await this.applyProviderState(tx, current, snapshot)).entity;
    });
  }

  /**
   * UCanPay never received this refund (every attempt failed) and nobody is
   * retrying it: it fails, which frees its reserved amount. "Nobody is
   * retrying" is read in the same transaction as the write, with the claim
   * rows locked, so a same-key retry cannot take the claim over in between.
   */
  private async abandonIfNeverCreated(refund: RefundEntity): Promise<RefundEntity> {
    if (Date.now() - refund.createdAt.getTime() < ABANDON_AFTER_MS) return refund;
    return this.db.transaction(async (tx) => {
      const current = await this.db.findOneByOrFail(RefundEntity, { id: refund.id }, { tx, forUpdate: true });
      if (!REFUND.unsent(current)) return current;
      if (await this.idempotency.inFlight(current.id, tx)) return current;
      const changes = { status: 'FAILED', failureCode: 'PROVIDER_UNAVAILABLE', failureMessage: 'UCanPay could not be reached; nothing was refunded' } as const;
      return (await this.applyRefundChange(tx, current, changes)).refund;
    });
  }

  list(principal: Principal | null, filter: RefundListFilter) {
    const merchantId = requireMerchant(principal, 'refunds');
    const qb = this.db.manager.createQueryBuilder(RefundEntity, 'r').where('r.merchant_id = :merchantId', { merchantId });
    if (filter.paymentId) qb.andWhere('r.payment_id = :paymentId', { paymentId: filter.paymentId });
    if (filter.status) qb.andWhere('r.status = :status', { status: filter.status });
    return paginate(qb, 'r', { first: filter.first, after: filter.after, idPrefix: 'ref' });
  }

  /** Refunds of many payments in one query (the refundsByPaymentId DataLoader). */
  byPaymentIds(paymentIds: readonly string[]): Promise<RefundEntity[][]> {
    return childrenOf(this.db, RefundEntity, { column: 'payment_id', key: 'paymentId' }, paymentIds, ['created_at', 'id']);
  }

  async follow(principal: Principal | null, id: string): Promise<AsyncIterable<RefundEntity>> {
    const refund = await this.get(principal, id);
    return followVersions(
      this.events,
      'refundUpdated',
      id,
      () => this.db.findOneBy(RefundEntity, { id, merchantId: refund.merchantId }),
      () => notFound('refund', id),
    );
  }
}

/** A refund UCanPay never heard of is given up after this long (its requests' retries are long over). */
const ABANDON_AFTER_MS = 10 * 60_000;
