import type { Database, Tx } from '../db/database';
import { MerchantEntity, PaymentEntity, RefundEntity } from '../entities';
import { invalidInput, notFound, providerFailure } from '../domain/errors';
import { newId } from '../domain/ids';
import { applyRefundSnapshot, paidStatusFor, refundTotals, type RefundStatus } from '../domain/refund-state';
import { snapshotOfRefund } from '../domain/refund-events';
import { checkAmount, checkReference, checkText, idempotencyKeyOf, requestHash } from '../domain/validation';
import type { EventBus } from '../events/pubsub';
import { UCanPayError, type UCanPayRefund } from '../ucanpay';
import { requireMerchant, requirePaymentReader, unauthenticated } from './access';
import type { IdempotencyService } from './idempotency.service';
import type { Principal } from './merchant.service';
import { childrenOf } from './children';
import { paginate } from './pagination';
import type { PaymentService } from './payment.service';
import type { Logger } from '../logger';
import { amountMismatch } from './amount-check';
import type { ProviderClients } from './provider';
import { followVersions, writeVersioned } from './versioned';
import { recordCreated } from './event-log';
import { refreshCause, withCause } from './cause';

export interface RefundPaymentRequest {
  paymentId: string;
  amount?: number | null;
  reason?: string | null;
  merchantReference?: string | null;
  idempotencyKey?: string | null;
}

export type RefundPaymentOutcome =
  | { kind: 'refund'; refund: RefundEntity; payment: PaymentEntity; replayed: boolean }
  | { kind: 'exceedsPayment'; requestedAmount: number; refundableAmount: number; currency: string; replayed: boolean }
  | { kind: 'notRefundable'; paymentStatus: string; reason: string; replayed: boolean }
  | { kind: 'idempotencyConflict'; idempotencyKey: string }
  | { kind: 'merchantReferenceInUse'; merchantReference: string }
  | { kind: 'providerRefused'; providerCode: string; message: string };

export interface RefundListFilter {
  paymentId?: string | null;
  status?: RefundStatus | null;
  first: number;
  after?: string | null;
}

const REFUNDABLE_STATUSES = new Set(['PAID', 'PARTIALLY_REFUNDED']);

/** The typed refusals a refund key keeps as its outcome (docs/errors.md). */
type RefundRefusal =
  | { kind: 'exceedsPayment'; requestedAmount: number; refundableAmount: number; currency: string }
  | { kind: 'notRefundable'; paymentStatus: string; reason: string }
  | { kind: 'merchantReferenceInUse'; merchantReference: string };

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
    private readonly log: Pick<Logger, 'error'>,
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
    const key = idempotencyKeyOf(input.idempotencyKey, headerKey);
    const hash = requestHash(fields);

    const step = await this.idempotency.claiming(merchantId, key, async (tx) => {
      const earlier = await this.idempotency.earlier(
        tx,
        merchantId,
        key,
        'refundPayment',
        hash,
        (id) => tx.manager.findOneOrFail(RefundEntity, { where: { id } }),
        (r) => r.providerRefundId === null && r.status === 'PROCESSING',
      );
      if (earlier?.kind === 'conflict') return answer({ kind: 'idempotencyConflict', idempotencyKey: key! });
      if (earlier?.kind === 'refused') return answer({ ...(earlier.outcome as RefundRefusal), replayed: true } as RefundPaymentOutcome);
      if (earlier?.kind === 'call') return { kind: 'call' as const, refund: earlier.resource, token: earlier.token };
      if (earlier?.kind === 'replay') return answer(await this.storedOutcome(tx, earlier.resource));
      // A typed "no" is this key's outcome for good: stored with the key and replayed, never decided again.
      const refuse = async (refusal: RefundRefusal) => {
        await this.idempotency.refuse(tx, merchantId, key, 'refundPayment', hash, fields.paymentId, refusal);
        return answer({ ...refusal, replayed: false } as RefundPaymentOutcome);
      };
      const payment = await tx.manager.findOne(PaymentEntity, { where: { id: fields.paymentId, merchantId }, ...this.db.forUpdate });
      if (!payment) throw notFound('payment', fields.paymentId);
      if (!REFUNDABLE_STATUSES.has(payment.status)) {
        return refuse({ kind: 'notRefundable', paymentStatus: payment.status, reason: `the payment is ${payment.status}, not paid` });
      }
      const refunds = await tx.manager.find(RefundEntity, { where: { paymentId: payment.id }, select: { status: true, amount: true } });
      const { refundableAmount } = refundTotals(payment.amount, refunds);
      if (refundableAmount === 0) {
        return refuse({
          kind: 'notRefundable',
          paymentStatus: payment.status,
          reason: 'the whole paid amount is already refunded or being refunded',
        });
      }
      const amount = fields.amount ?? refundableAmount;
      if (amount > refundableAmount) {
        return refuse({ kind: 'exceedsPayment', requestedAmount: amount, refundableAmount, currency: payment.currency });
      }
      if (fields.merchantReference !== null) {
        const taken = await tx.manager.exists(RefundEntity, { where: { merchantId, merchantReference: fields.merchantReference } });
        if (taken) return refuse({ kind: 'merchantReferenceInUse', merchantReference: fields.merchantReference });
      }
      const now = new Date();
      const id = newId('ref', now.getTime());
      const refund = Object.assign(new RefundEntity(), {
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
      await tx.manager.insert(RefundEntity, refund);
      await recordCreated(tx, RefundEntity, refund);
      const token = key === null ? null : await this.idempotency.claim(tx, merchantId, key, 'refundPayment', hash, id);
      const snapshot = Object.assign(new RefundEntity(), refund);
      tx.afterCommit(() => this.events.publish('refundUpdated', id, snapshot));
      return { kind: 'call' as const, refund, token };
    });
    if (step.kind === 'answer') return step.outcome;
    return this.createAtProvider(step.refund, key, step.token);
  }

  /** What a retry with the same key gets: the first outcome, with the objects as they are now. */
  private async storedOutcome(tx: Tx, refund: RefundEntity): Promise<RefundPaymentOutcome> {
    if (refund.status === 'FAILED' && refund.providerRefundId === null && refund.failureCode) {
      return { kind: 'providerRefused', providerCode: refund.failureCode, message: refund.failureMessage ?? 'UCanPay refused the refund' };
    }
    const payment = await tx.manager.findOneOrFail(PaymentEntity, { where: { id: refund.paymentId } });
    return { kind: 'refund', refund, payment, replayed: true };
  }

  private async createAtProvider(refund: RefundEntity, key: string | null, token: string | null): Promise<RefundPaymentOutcome> {
    const payment = await this.db.manager.findOneOrFail(PaymentEntity, { where: { id: refund.paymentId } });
    const merchant = await this.db.manager.findOneOrFail(MerchantEntity, { where: { id: refund.merchantId } });
    let result: UCanPayRefund;
    try {
      result = await this.providers.for(merchant).createRefund(
        { transactionId: payment.transactionId ?? '', outRefundNo: refund.merchantReference, amount: refund.amount, reason: refund.reason },
        { idempotencyKey: refund.id },
      );
    } catch (error) {
      if (!(error instanceof UCanPayError)) throw error;
      // One mapping for every UCanPay error (src/domain/errors.ts): thrown ones leave the key usable.
      const failure = providerFailure(error, 'refund');
      if (failure.kind === 'thrown') {
        if (key !== null) await this.idempotency.release(refund.merchantId, key, token ?? undefined);
        throw failure.error;
      }
      const { providerCode, message } = failure;
      await this.settle(refund.id, key, token, (current) =>
        current.status === 'PROCESSING' && current.providerRefundId === null
          ? { status: 'FAILED', failureCode: providerCode, failureMessage: message }
          : null,
      );
      return { kind: 'providerRefused', providerCode, message };
    }
    // Another amount than asked: linked but not applied, so the amount stays reserved (never refunded twice) until the operator settles it.
    const applies = !this.mismatched(refund, result);
    const saved = await this.settle(refund.id, key, token, (current) => ({
      ...((applies ? applyRefundSnapshot(current, snapshotOfRefund(result)) : null) ?? {}),
      providerRefundId: result.refundId,
      syncedAt: new Date(),
    }));
    return { kind: 'refund', ...saved, replayed: false };
  }

  /**
   * Applies a change to a refund (and what follows for its payment) in one
   * transaction; completes the key if this request (`token`) still holds it
   * (a late writer records UCanPay's answer and leaves the key alone).
   */
  private settle(
    refundId: string,
    key: string | null,
    token: string | null,
    change: (current: RefundEntity) => Partial<RefundEntity> | null,
  ): Promise<{ refund: RefundEntity; payment: PaymentEntity }> {
    return this.db.transaction(async (tx) => {
      const current = await tx.manager.findOneOrFail(RefundEntity, { where: { id: refundId }, ...this.db.forUpdate });
      const result = await this.applyRefundChange(tx, current, change(current));
      // Fenced by the token: a late writer's complete touches no row.
      if (key !== null) await this.idempotency.complete(tx, current.merchantId, key, token ?? undefined);
      return result;
    });
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
    const updated = await writeVersioned(tx, RefundEntity, refund, changes, { events: this.events, topic: 'refundUpdated' });
    const payment = await tx.manager.findOneOrFail(PaymentEntity, { where: { id: refund.paymentId }, ...this.db.forUpdate });
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
  async applyProviderRefund(
    tx: Tx,
    refund: RefundEntity,
    snapshot: UCanPayRefund,
  ): Promise<{ refund: RefundEntity; changed: boolean; mismatch?: true }> {
    if (this.mismatched(refund, snapshot)) return { refund, changed: false, mismatch: true };
    const changes: Partial<RefundEntity> = { ...(applyRefundSnapshot(refund, snapshotOfRefund(snapshot)) ?? {}), syncedAt: new Date() };
    if (refund.providerRefundId === null) changes.providerRefundId = snapshot.refundId;
    return this.applyRefundChange(tx, refund, changes);
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
    const refund = await this.db.manager.findOne(RefundEntity, { where: { id, merchantId: principal.merchantId } });
    if (!refund) throw notFound('refund', id);
    requirePaymentReader(principal, refund.paymentId, 'refund', id);
    return refresh ? withCause(refreshCause(principal), () => this.refresh(refund)) : refund;
  }

  /** Asks UCanPay (GET /payment/refund/status) and applies any change. */
  async refresh(refund: RefundEntity): Promise<RefundEntity> {
    const merchant = await this.db.manager.findOneOrFail(MerchantEntity, { where: { id: refund.merchantId } });
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
      const current = await tx.manager.findOneOrFail(RefundEntity, { where: { id: refund.id }, ...this.db.forUpdate });
      return (await this.applyProviderRefund(tx, current, snapshot)).refund;
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
      const current = await tx.manager.findOneOrFail(RefundEntity, { where: { id: refund.id }, ...this.db.forUpdate });
      if (current.status !== 'PROCESSING' || current.providerRefundId !== null) return current;
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
      () => this.db.manager.findOne(RefundEntity, { where: { id, merchantId: refund.merchantId } }),
      () => notFound('refund', id),
    );
  }
}

/** A refund UCanPay never heard of is given up after this long (its requests' retries are long over). */
const ABANDON_AFTER_MS = 10 * 60_000;

function answer(outcome: RefundPaymentOutcome) {
  return { kind: 'answer' as const, outcome };
}
