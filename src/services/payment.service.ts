import { In } from 'typeorm';
import type { Database, Tx } from '../db/database';
import { MerchantEntity, PaymentEntity } from '../entities';
import { notFound, providerFailure } from '../domain/errors';
import { newId } from '../domain/ids';
import { applySnapshot, isClosedUnpaid, isCorrection, type PaymentFacts } from '../domain/payment-state';
import { snapshotOfOrder } from '../domain/payment-events';
import {
  checkAmount,
  checkCurrency,
    checkIntRange,
  idempotencyKeyOf,
  checkMetadata,
  checkReference,
  checkText,
  checkUrl,
  requestHash,
} from '../domain/validation';
import type { EventBus } from '../events/pubsub';
import { UCanPayError, type UCanPayOrder } from '../ucanpay';
import { requireMerchant, requirePaymentReader } from './access';
import { newClientSecret, type Principal } from './merchant.service';
import { paginate } from './pagination';
import { followVersions, writeVersioned } from './versioned';
import { recordCreated } from './event-log';
import { refreshCause, withCause } from './cause';
import type { IdempotencyService } from './idempotency.service';
import type { ProviderClients } from './provider';
import type { Logger } from '../logger';
import { amountMismatch } from './amount-check';

/** `failureCode` of a payment whose UCanPay order was created for another amount or currency. */
export const AMOUNT_MISMATCH = 'AMOUNT_MISMATCH';

export interface CreatePaymentRequest {
  amount: number;
  currency: string;
  description: string;
  returnUrl: string;
  merchantReference?: string | null;
  metadata?: Record<string, unknown> | null;
  expiresInSeconds?: number | null;
  idempotencyKey?: string | null;
}

/** What createPayment can come to; the GraphQL layer maps each to a member of CreatePaymentResult. */
export type CreatePaymentOutcome =
  | { kind: 'payment'; payment: PaymentEntity; replayed: boolean }
  | { kind: 'idempotencyConflict'; idempotencyKey: string }
  | { kind: 'merchantReferenceInUse'; merchantReference: string }
  | { kind: 'providerRefused'; providerCode: string; message: string };

export interface PaymentListFilter {
  first: number;
  after?: string | null;
  status?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/**
 * Payments: creation (idempotent, row first, UCanPay after), reads, and the
 * one path by which UCanPay's view of a payment is applied (webhooks,
 * refresh and reconciliation all end in `applyOrder`).
 */
export class PaymentService {
  constructor(
    private readonly db: Database,
    private readonly providers: ProviderClients,
    private readonly events: EventBus,
    private readonly idempotency: IdempotencyService,
    private readonly publicUrl: string,
    private readonly log: Pick<Logger, 'error' | 'warn'>,
    private readonly now: () => number = Date.now,
  ) {}

  notifyUrl(merchantId: string): string {
    return `${this.publicUrl}/webhooks/ucanpay/${merchantId}`;
  }

  async create(principal: Principal | null, input: CreatePaymentRequest, headerKey?: string): Promise<CreatePaymentOutcome> {
    const merchantId = requireMerchant(principal, 'createPayment');
    const fields = {
      amount: checkAmount('input.amount', input.amount),
      currency: checkCurrency('input.currency', input.currency),
      description: checkText('input.description', input.description, { max: 500 }),
      returnUrl: checkUrl('input.returnUrl', input.returnUrl),
      merchantReference: input.merchantReference == null ? null : checkReference('input.merchantReference', input.merchantReference),
      metadata: checkMetadata('input.metadata', input.metadata),
      expiresInSeconds: input.expiresInSeconds == null ? 1800 : checkIntRange('input.expiresInSeconds', input.expiresInSeconds, 60, 86_400),
    };
    const key = idempotencyKeyOf(input.idempotencyKey, headerKey);
    const hash = requestHash(fields);

    const claim = await this.claim(merchantId, key, hash, fields);
    if (claim.kind !== 'call') return claim.outcome;
    return this.createAtProvider(claim.payment, key, claim.token);
  }

  /**
   * Step 1, one transaction: claim the idempotency key and write the payment
   * in its first state. Returns what to do next: call UCanPay, or answer now.
   */
  private claim(
    merchantId: string,
    key: string | null,
    hash: string,
    fields: Pick<PaymentEntity, 'amount' | 'currency' | 'description' | 'returnUrl' | 'metadata' | 'expiresInSeconds'> & {
      merchantReference: string | null;
    },
  ): Promise<{ kind: 'call'; payment: PaymentEntity; token: string | null } | { kind: 'answer'; outcome: CreatePaymentOutcome }> {
    return this.idempotency.claiming(merchantId, key, async (tx) => {
      const earlier = await this.idempotency.earlier(
        tx,
        merchantId,
        key,
        'createPayment',
        hash,
        (id) => tx.manager.findOneOrFail(PaymentEntity, { where: { id } }),
        (p) => p.providerOrderId === null && p.status === 'PENDING',
      );
      if (earlier?.kind === 'conflict') return answer({ kind: 'idempotencyConflict', idempotencyKey: key! });
      if (earlier?.kind === 'refused') return answer(earlier.outcome as CreatePaymentOutcome);
      if (earlier?.kind === 'call') return { kind: 'call' as const, payment: earlier.resource, token: earlier.token };
      if (earlier?.kind === 'replay') return answer(this.storedOutcome(earlier.resource));
      if (fields.merchantReference !== null) {
        const taken = await tx.manager.exists(PaymentEntity, { where: { merchantId, merchantReference: fields.merchantReference } });
        if (taken) {
          const refusal = { kind: 'merchantReferenceInUse' as const, merchantReference: fields.merchantReference };
          // The key's outcome for good (docs/errors.md): the same key and input get this answer again.
          await this.idempotency.refuse(tx, merchantId, key, 'createPayment', hash, '', refusal);
          return answer(refusal);
        }
      }
      const now = new Date(this.now());
      const id = newId('pay', now.getTime());
      const payment = Object.assign(new PaymentEntity(), {
        ...fields,
        id,
        merchantId,
        merchantReference: fields.merchantReference ?? id,
        status: 'PENDING',
        clientSecret: newClientSecret(id),
        providerOrderId: null,
        checkoutUrl: null,
        transactionId: null,
        refundedAmount: 0,
        failureCode: null,
        failureMessage: null,
        version: 1,
        expiresAt: null,
        paidAt: null,
        createdAt: now,
        updatedAt: now,
        syncedAt: null,
      } satisfies PaymentEntity);
      // The row is complete: no re-read of column defaults after the insert (TypeORM's default costs a SELECT).
      await tx.manager.createQueryBuilder().insert().into(PaymentEntity).values(payment).updateEntity(false).execute();
      await recordCreated(tx, PaymentEntity, payment);
      const token = key === null ? null : await this.idempotency.claim(tx, merchantId, key, 'createPayment', hash, id);
      return { kind: 'call' as const, payment, token };
    });
  }

  /** The result a retry with the same key gets: the first outcome, with the payment as it is now. */
  private storedOutcome(payment: PaymentEntity, replayed = true): CreatePaymentOutcome {
    if (payment.status === 'FAILED' && payment.providerOrderId === null && payment.failureCode) {
      return { kind: 'providerRefused', providerCode: payment.failureCode, message: payment.failureMessage ?? 'UCanPay refused the payment' };
    }
    return { kind: 'payment', payment, replayed };
  }

  /** When the payment stops being payable: its creation plus `expiresInSeconds` (sent to UCanPay as `time_expire`). */
  deadline(payment: PaymentEntity): number {
    return payment.createdAt.getTime() + payment.expiresInSeconds * 1000;
  }

  /**
   * Step 2, outside any transaction: create the order at UCanPay; step 3:
   * save the answer. `token` is this request's claim on the key: an answer
   * that arrives after the claim was taken over is a late writer (it records
   * UCanPay's facts but completes nothing).
   *
   * Past its expiry a payment is never sent: an order created then could be
   * paid after the gateway (or reconciliation) gave up on it. The request
   * only looks for an order an earlier attempt may have made, and adopts it
   * or fails the payment.
   */
  private async createAtProvider(payment: PaymentEntity, key: string | null, token: string | null): Promise<CreatePaymentOutcome> {
    const merchant = await this.merchant(payment.merchantId);
    const client = this.providers.for(merchant);
    const expired = this.now() >= this.deadline(payment);
    let order: UCanPayOrder;
    try {
      order = expired
        ? await client.getOrder({ outTradeNo: payment.merchantReference })
        : await client.createOrder(
            {
              outTradeNo: payment.merchantReference,
              amount: payment.amount,
              currency: payment.currency,
              description: payment.description,
              returnUrl: payment.returnUrl,
              notifyUrl: this.notifyUrl(payment.merchantId),
              expiresIn: payment.expiresInSeconds,
              // Absolute: an order UCanPay creates after the deadline (a slow or late call) is born expired.
              expiresAt: new Date(this.deadline(payment)),
              metadata: payment.metadata,
            },
            // Derived from our payment id: every attempt, retry or resumption sends the same key.
            { idempotencyKey: payment.id },
          );
    } catch (error) {
      if (!(error instanceof UCanPayError)) throw error;
      if (expired && error.code === 'ORDER_NOT_FOUND') {
        const saved = await this.save(payment.id, key, token, async (tx, current) =>
          this.applyChange(tx, current, current.status === 'PENDING' && current.providerOrderId === null ? NEVER_CREATED : null),
        );
        return this.storedOutcome(saved, false);
      }
      // One mapping for every UCanPay error (src/domain/errors.ts): thrown ones leave the key usable.
      const failure = providerFailure(error, 'payment', expired ? 'check' : undefined);
      if (failure.kind === 'thrown') {
        if (key !== null) await this.idempotency.release(payment.merchantId, key, token ?? undefined);
        throw failure.error;
      }
      const { providerCode, message } = failure;
      await this.save(payment.id, key, token, (tx, current) =>
        this.applyChange(
          tx,
          current,
          current.status !== 'PENDING' || current.providerOrderId !== null ? null : { status: 'FAILED', failureCode: providerCode, failureMessage: message },
        ),
      );
      return { kind: 'providerRefused', providerCode, message };
    }
    if (this.mismatched(payment, order)) {
      // Never offered for payment: the customer would be asked for another sum than the merchant's.
      const message = `UCanPay created order ${order.orderId} for ${order.amount} ${order.currency} instead of ${payment.amount} ${payment.currency}`;
      const saved = await this.save(payment.id, key, token, (tx, current) =>
        this.applyChange(
          tx,
          current,
          current.status !== 'PENDING' ? null : { status: 'FAILED', providerOrderId: order.orderId, failureCode: AMOUNT_MISMATCH, failureMessage: message },
        ),
      );
      return { kind: 'payment', payment: saved, replayed: false };
    }
    const saved = await this.save(payment.id, key, token, async (tx, current, late) => {
      if (late) {
        this.log.warn(
          { paymentId: current.id, merchantId: current.merchantId, providerOrderId: order.orderId, status: current.status },
          'UCanPay answered a create after the request lost its idempotency claim; its order is recorded, the key is left to the request that holds it',
        );
      }
      return (await this.applyOrder(tx, current, order)).payment;
    });
    return { kind: 'payment', payment: saved, replayed: false };
  }

  /**
   * Applies a change to a payment under a row lock (bumping its version when
   * anything visible changed, publishing after commit) and completes the
   * idempotency claim — unless the claim is no longer this request's (`late`):
   * then the change still records UCanPay's facts, and the key stays with the
   * request that took it over.
   */
  private async save(
    paymentId: string,
    key: string | null,
    token: string | null,
    change: (tx: Tx, current: PaymentEntity, late: boolean) => Promise<PaymentEntity>,
  ): Promise<PaymentEntity> {
    return this.db.transaction(async (tx) => {
      const current = await this.db.findOneByOrFail(PaymentEntity, { id: paymentId }, { tx, forUpdate: true });
      const ours = key === null || token === null || (await this.idempotency.holds(tx, current.merchantId, key, token));
      const updated = await change(tx, current, !ours);
      if (key !== null && ours) await this.idempotency.complete(tx, current.merchantId, key, token ?? undefined);
      return updated;
    });
  }

  /** Writes `changes` (if any visible one) with version + 1 and publishes after commit. */
  applyChange(tx: Tx, current: PaymentEntity, changes: Partial<PaymentEntity> | null): Promise<PaymentEntity> {
    return writeVersioned(tx, PaymentEntity, current, changes, { events: this.events, topic: 'paymentUpdated' });
  }

  /**
   * Applies UCanPay's view of an order (webhook, refresh, reconciliation or
   * the create answer) through the state machine, inside the caller's
   * transaction. The checkout page is attached only to a payment that can
   * still be paid. A capture of a payment the gateway had closed (FAILED,
   * CANCELLED, EXPIRED) is recorded as the truth and reported `contradicted`,
   * with an error line: the gateway's record said otherwise.
   */
  async applyOrder(
    tx: Tx,
    payment: PaymentEntity,
    order: UCanPayOrder,
  ): Promise<{ payment: PaymentEntity; changed: boolean; mismatch?: true; contradicted?: true }> {
    if (this.mismatched(payment, order)) return { payment, changed: false, mismatch: true };
    const snapshot = snapshotOfOrder(order);
    const transition = applySnapshot(payment, snapshot);
    const before = { version: payment.version, status: payment.status, failureCode: payment.failureCode };
    const changes: Partial<PaymentEntity> = { ...(transition ?? {}), syncedAt: new Date() };
    const status = transition?.status ?? payment.status;
    if (payment.providerOrderId === null) {
      changes.providerOrderId = order.orderId;
      // Only a payment still open gets its checkout page: one the gateway has closed is never handed one, even when UCanPay proves it paid.
      if (payment.status === 'PENDING' && !isClosedUnpaid(status)) changes.checkoutUrl = order.payUrl ?? null;
    }
    if (snapshot.transactionId && payment.transactionId && snapshot.transactionId !== payment.transactionId) {
      this.log.error(
        { paymentId: payment.id, merchantId: payment.merchantId, providerOrderId: order.orderId, recorded: payment.transactionId, reported: snapshot.transactionId },
        'UCanPay reported another transaction id for a paid payment; the recorded one is kept',
      );
    }
    if (order.expiresAt && !payment.expiresAt) changes.expiresAt = order.expiresAt;
    const updated = await this.applyChange(tx, payment, changes);
    const contradicted = transition?.status !== undefined && isCorrection(before.status, transition.status);
    if (contradicted) {
      this.log.error(
        {
          paymentId: payment.id,
          merchantId: payment.merchantId,
          providerOrderId: order.orderId,
          recordedStatus: before.status,
          recordedFailureCode: before.failureCode,
          providerStatus: transition.status,
        },
        `UCanPay captured a payment the gateway had recorded as ${before.status}; recorded as ${transition.status} (contradicted)`,
      );
      return { payment: updated, changed: true, contradicted: true };
    }
    return { payment: updated, changed: updated.version !== before.version };
  }

  async get(principal: Principal | null, id: string, refresh = false): Promise<PaymentEntity> {
    const merchantId = requirePaymentReader(principal, id);
    if (refresh) return withCause(refreshCause(principal), () => this.refresh(merchantId, id));
    const payment = await this.db.findOneBy(PaymentEntity, { id, merchantId });
    if (!payment) throw notFound('payment', id);
    return payment;
  }

  /** UCanPay's order is for another amount or currency than the payment (then nothing of it is applied; see amount-check.ts). */
  private mismatched(payment: PaymentEntity, order: UCanPayOrder): boolean {
    return amountMismatch(this.log, 'order', payment, order, { paymentId: payment.id, merchantId: payment.merchantId, providerOrderId: order.orderId });
  }

  /** Asks UCanPay for the order's status and applies any change (GET /payment/status). */
  async refresh(merchantId: string, id: string): Promise<PaymentEntity> {
    const payment = await this.db.manager.findOne(PaymentEntity, { where: { id, merchantId } });
    if (!payment) throw notFound('payment', id);
    const merchant = await this.merchant(merchantId);
    let order: UCanPayOrder;
    try {
      order = await this.providers
        .for(merchant)
        .getOrder(payment.providerOrderId ? { orderId: payment.providerOrderId } : { outTradeNo: payment.merchantReference });
    } catch (error) {
      if (error instanceof UCanPayError && error.code === 'ORDER_NOT_FOUND' && payment.providerOrderId === null) {
        return this.abandonIfNeverCreated(payment);
      }
      if (error instanceof UCanPayError) throw providerFailure(error, 'payment', 'check').error;
      throw error;
    }
    return this.db.transaction(async (tx) => {
      const current = await tx.manager.findOneOrFail(PaymentEntity, { where: { id }, ...this.db.forUpdate });
      return (await this.applyOrder(tx, current, order)).payment;
    });
  }

  /**
   * UCanPay never received this payment (every attempt failed) and the time it
   * would have stayed open is over: it can no longer be paid, so it fails.
   * Checked in the same transaction as the write: no request may still hold
   * the payment's idempotency claim (it could be creating the order right
   * now), and the claim rows are locked so a retry cannot take one over in
   * between. An order created anyway (by a provider that ignores
   * `time_expire`) and paid later is recorded as PAID (`contradicted`).
   */
  private async abandonIfNeverCreated(payment: PaymentEntity): Promise<PaymentEntity> {
    if (this.deadline(payment) > this.now()) return payment;
    return this.db.transaction(async (tx) => {
      const current = await tx.manager.findOneOrFail(PaymentEntity, { where: { id: payment.id }, ...this.db.forUpdate });
      if (current.status !== 'PENDING' || current.providerOrderId !== null) return current;
      if (await this.idempotency.inFlight(current.id, tx)) return current;
      return this.applyChange(tx, current, NEVER_CREATED);
    });
  }

  list(principal: Principal | null, filter: PaymentListFilter) {
    const merchantId = requireMerchant(principal, 'payments');
    const qb = this.db.manager.createQueryBuilder(PaymentEntity, 'p').where('p.merchant_id = :merchantId', { merchantId });
    if (filter.status) qb.andWhere('p.status = :status', { status: filter.status });
    if (filter.createdAfter) qb.andWhere('p.created_at > :after', { after: filter.createdAfter.getTime() });
    if (filter.createdBefore) qb.andWhere('p.created_at < :before', { before: filter.createdBefore.getTime() });
    return paginate(qb, 'p', { first: filter.first, after: filter.after, idPrefix: 'pay' });
  }

  /**
   * Checks access, then returns a stream that emits the payment as it is now
   * and every later version once, in order (older or repeated versions,
   * e.g. from another instance, are dropped).
   */
  follow(principal: Principal | null, id: string): Promise<AsyncIterable<PaymentEntity>> {
    const merchantId = requirePaymentReader(principal, id);
    return followVersions(
      this.events,
      'paymentUpdated',
      id,
      () => this.db.findOneBy(PaymentEntity, { id, merchantId }),
      () => notFound('payment', id),
    );
  }

  /** Payments of one merchant by id, in one query (the paymentById DataLoader). */
  byIds(merchantId: string, ids: readonly string[]): Promise<PaymentEntity[]> {
    return this.db.manager.find(PaymentEntity, { where: { merchantId, id: In([...ids]) } });
  }

  private async merchant(id: string): Promise<MerchantEntity> {
    return this.db.findOneByOrFail(MerchantEntity, { id });
  }
}

/** The gateway's own inference: UCanPay never had the order and the payment's time is over. */
const NEVER_CREATED: Partial<PaymentEntity> = {
  status: 'FAILED',
  failureCode: 'PROVIDER_UNAVAILABLE',
  failureMessage: 'UCanPay could not be reached before the payment would have expired',
};

function answer(outcome: CreatePaymentOutcome) {
  return { kind: 'answer' as const, outcome };
}

export type { PaymentFacts };
