import { In } from 'typeorm';
import type { Database, Tx } from '../db/database';
import { MerchantEntity, PaymentEntity } from '../entities';
import { notFound } from '../domain/errors';
import { newId } from '../domain/ids';
import { applySnapshot, isClosedUnpaid, PAYMENT_MACHINE, type PaymentFacts } from '../domain/payment-state';
import { checkAmount, checkCurrency, checkIntRange, idempotencyKeyOf, checkMetadata, checkReference, checkText, checkUrl } from '../domain/validation';
import type { EventBus } from '../events/pubsub';
import { UCanPayError, type UCanPayOrder } from '../ucanpay';
import { requireMerchant, requirePaymentReader } from './access';
import { newClientSecret, type Principal } from './merchant.service';
import { paginate } from './pagination';
import { followVersions, writeVersioned } from './versioned';
import type { IdempotencyService } from './idempotency.service';
import { createOnce, refusalOf, type Aggregate, type CreateOutcome, type ProviderRefused } from './idempotent-create';
import type { ProviderClients } from './provider';
import type { Logger } from '../logger';
import { amountMismatch } from './amount-check';
import { providerFailure, snapshotOfOrder, type AppliedProviderState } from './provider-facts';
import { refreshCause, withCause } from './cause';

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
export type CreatePaymentOutcome = CreateOutcome<PaymentMade>;

/** createPayment made (or replays) a payment. */
type PaymentMade = { kind: 'payment'; payment: PaymentEntity; replayed: boolean };

/** Payments, to the idempotent create and reconciliation. */
export const PAYMENT: Aggregate<PaymentEntity> = {
  name: 'payment',
  entity: PaymentEntity,
  unsent: (p) => p.providerOrderId === null && p.status === 'PENDING',
  refused: (p) => p.status === 'FAILED' && p.providerOrderId === null && Boolean(p.failureCode),
};

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
 * refresh and reconciliation all end in `applyProviderState`).
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
    const request = {
      operation: 'createPayment',
      merchantId,
      key: idempotencyKeyOf(input.idempotencyKey, headerKey),
      input: fields,
    };
    return createOnce<PaymentEntity, UCanPayOrder | null, PaymentMade>({ db: this.db, idempotency: this.idempotency, log: this.log }, request, {
      aggregate: PAYMENT,
      open: async () => ({ row: this.firstRow(merchantId, fields) }),
      // Past its expiry a payment is never sent: an order created then could be paid after the gateway (or reconciliation) gave up on it.
      lookUpOnly: (payment) => this.now() >= this.deadline(payment),
      send: (payment, lookUpOnly) => (lookUpOnly ? this.findOrder(payment) : this.createOrder(payment)),
      save: (tx, current, order) => this.save(tx, current, order),
      saveRefusal: (tx, current, { providerCode, message }) =>
        this.applyChange(tx, current, { status: 'FAILED', failureCode: providerCode, failureMessage: message }),
      replay: async (_tx, payment) => ({ kind: 'payment', payment, replayed: true }),
    });
  }

  /** A new payment in its first state (PENDING, not yet sent to UCanPay). */
  private firstRow(
    merchantId: string,
    fields: Pick<PaymentEntity, 'amount' | 'currency' | 'description' | 'returnUrl' | 'metadata' | 'expiresInSeconds'> & {
      merchantReference: string | null;
    },
  ): PaymentEntity {
    const now = new Date(this.now());
    const id = newId('pay', now.getTime());
    return Object.assign(new PaymentEntity(), {
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
  }

  /** When the payment stops being payable: its creation plus `expiresInSeconds` (sent to UCanPay as `time_expire`). */
  deadline(payment: PaymentEntity): number {
    return payment.createdAt.getTime() + payment.expiresInSeconds * 1000;
  }

  /** Creates the order at UCanPay, under a key derived from our payment id: every attempt, retry or resumption sends the same key. */
  private async createOrder(payment: PaymentEntity): Promise<UCanPayOrder> {
    const client = this.providers.for(await this.merchant(payment.merchantId));
    return client.createOrder(
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
      { idempotencyKey: payment.id },
    );
  }

  /** A payment past its deadline: the order an earlier attempt may have made, or null when UCanPay has none. */
  private async findOrder(payment: PaymentEntity): Promise<UCanPayOrder | null> {
    const client = this.providers.for(await this.merchant(payment.merchantId));
    try {
      return await client.getOrder({ outTradeNo: payment.merchantReference });
    } catch (error) {
      if (error instanceof UCanPayError && error.code === 'ORDER_NOT_FOUND') return null;
      throw error;
    }
  }

  /**
   * Records UCanPay's answer to a create (under the row lock): its order, or
   * none (past the deadline, never created: the payment fails). An order for
   * another amount or currency is never offered for payment: the customer
   * would be asked for another sum than the merchant's.
   */
  private async save(tx: Tx, current: PaymentEntity, order: UCanPayOrder | null): Promise<PaymentMade | ProviderRefused> {
    if (order === null) {
      const saved = await this.applyChange(tx, current, PAYMENT.unsent(current) ? NEVER_CREATED : null);
      return refusalOf(PAYMENT, saved) ?? { kind: 'payment', payment: saved, replayed: false };
    }
    if (this.mismatched(current, order)) {
      const message = `UCanPay created order ${order.orderId} for ${order.amount} ${order.currency} instead of ${current.amount} ${current.currency}`;
      const saved = await this.applyChange(
        tx,
        current,
        current.status !== 'PENDING' ? null : { status: 'FAILED', providerOrderId: order.orderId, failureCode: AMOUNT_MISMATCH, failureMessage: message },
      );
      return { kind: 'payment', payment: saved, replayed: false };
    }
    return { kind: 'payment', payment: (await this.applyProviderState(tx, current, order)).entity, replayed: false };
  }

  /** Writes `changes` (if any visible one) through the payment state table, with version + 1, and publishes after commit. */
  applyChange(tx: Tx, current: PaymentEntity, changes: Partial<PaymentEntity> | null): Promise<PaymentEntity> {
    return writeVersioned(tx, PaymentEntity, current, changes, { states: PAYMENT_MACHINE, events: this.events, topic: 'paymentUpdated', log: this.log });
  }

  /**
   * Applies UCanPay's view of an order (webhook, refresh, reconciliation or
   * the create answer) through the state machine, inside the caller's
   * transaction. The checkout page is attached only to a payment that can
   * still be paid. A capture of a payment the gateway had closed (FAILED,
   * CANCELLED, EXPIRED) is recorded as the truth and reported `contradicted`,
   * with an error line: the gateway's record said otherwise.
   */
  async applyProviderState(tx: Tx, payment: PaymentEntity, order: UCanPayOrder): Promise<AppliedProviderState<PaymentEntity>> {
    if (this.mismatched(payment, order)) return { entity: payment, outcome: 'mismatch' };
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
        {
          paymentId: payment.id,
          merchantId: payment.merchantId,
          providerOrderId: order.orderId,
          recorded: payment.transactionId,
          reported: snapshot.transactionId,
        },
        'UCanPay reported another transaction id for a paid payment; the recorded one is kept',
      );
    }
    if (order.expiresAt && !payment.expiresAt) changes.expiresAt = order.expiresAt;
    const updated = await this.applyChange(tx, payment, changes);
    const contradicted = transition?.status !== undefined && PAYMENT_MACHINE.isCorrection(before.status, transition.status);
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
      return { entity: updated, outcome: 'contradicted' };
    }
    return { entity: updated, outcome: updated.version !== before.version ? 'applied' : 'unchanged' };
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
    const payment = await this.db.findOneBy(PaymentEntity, { id, merchantId });
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
      const current = await this.db.findOneByOrFail(PaymentEntity, { id }, { tx, forUpdate: true });
      return (await this.applyProviderState(tx, current, order)).entity;
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
      const current = await this.db.findOneByOrFail(PaymentEntity, { id: payment.id }, { tx, forUpdate: true });
      if (!PAYMENT.unsent(current)) return current;
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

export type { PaymentFacts };
