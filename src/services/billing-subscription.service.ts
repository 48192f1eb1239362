import type { Database, Tx } from '../db/database';
import { BillingSubscriptionEntity, MerchantEntity, SubscriptionChargeEntity, type PendingTerms } from '../entities';
import { GatewayError, invalidInput, notFound } from '../domain/errors';
import { newId } from '../domain/ids';
import {
  acceptsSnapshot,
  BILLING_INTERVALS,
  type BillingInterval,
  type Freshness,
  SUBSCRIPTION_MACHINE,
  type SubscriptionStatus,
} from '../domain/billing-subscription-state';
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
import type { Logger } from '../logger';
import { UCanPayError, type UCanPaySubscription } from '../ucanpay';
import { requireMerchant } from './access';
import type { IdempotencyService } from './idempotency.service';
import { createOnce, type Aggregate, type CreateOutcome, type ProviderRefused } from './idempotent-create';
import type { Principal } from './merchant.service';
import { childrenOf } from './children';
import { paginate } from './pagination';
import type { ProviderClients } from './provider';
import { providerFailure, type AppliedProviderState } from './provider-facts';
import { followVersions, writeVersioned, type VersionedWrite } from './versioned';
import { refreshCause, withCause } from './cause';

export interface CreateSubscriptionRequest {
  customer: { id: string; email: string; name: string };
  amount: number;
  currency: string;
  interval: string;
  intervalCount?: number | null;
  startDate?: string | null;
  trialDays?: number | null;
  returnUrl?: string | null;
  merchantReference?: string | null;
  metadata?: Record<string, unknown> | null;
  idempotencyKey?: string | null;
}

export interface UpdateSubscriptionRequest {
  id: string;
  amount?: number | null;
  interval?: string | null;
  intervalCount?: number | null;
  metadata?: Record<string, unknown> | null;
}

/** What createSubscription can come to; the GraphQL layer maps each to a member of CreateSubscriptionResult. */
export type CreateSubscriptionOutcome = CreateOutcome<SubscriptionMade>;

/** createSubscription made (or replays) a subscription. */
type SubscriptionMade = { kind: 'subscription'; subscription: BillingSubscriptionEntity; replayed: boolean };

/** What updateSubscription can come to (UpdateSubscriptionResult). */
export type UpdateSubscriptionOutcome =
  | { kind: 'subscription'; subscription: BillingSubscriptionEntity }
  | { kind: 'subscriptionClosed'; status: SubscriptionStatus }
  | ProviderRefused;

/** What cancelSubscription can come to (CancelSubscriptionResult); `replayed`: it was cancelled already. */
export type CancelSubscriptionOutcome = { kind: 'subscription'; subscription: BillingSubscriptionEntity; replayed: boolean } | ProviderRefused;

/** Billing subscriptions, to the idempotent create and reconciliation. */
export const SUBSCRIPTION: Aggregate<BillingSubscriptionEntity> = {
  name: 'subscription',
  entity: BillingSubscriptionEntity,
  unsent: (s) => s.providerSubscriptionId === null && s.status === 'PENDING_AUTHORIZATION',
  refused: (s) => s.providerSubscriptionId === null && Boolean(s.failureCode),
};

export interface SubscriptionListFilter {
  status?: SubscriptionStatus | null;
  customerId?: string | null;
  first: number;
  after?: string | null;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{2,}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Billing subscriptions (recurring payments). Creation is idempotent like
 * payments; every provider snapshot (webhook, refresh, reconciliation, the
 * answers to update/cancel) goes through `applyProviderState`, which drops stale
 * snapshots, records each charge once and publishes after commit.
 */
export class BillingSubscriptionService {
  constructor(
    private readonly db: Database,
    private readonly providers: ProviderClients,
    private readonly events: EventBus,
    private readonly idempotency: IdempotencyService,
    private readonly notifyUrl: (merchantId: string) => string,
    private readonly log: Logger,
  ) {}

  async create(principal: Principal | null, input: CreateSubscriptionRequest, headerKey?: string): Promise<CreateSubscriptionOutcome> {
    const merchantId = requireMerchant(principal, 'createSubscription');
    const customer = input.customer ?? ({} as CreateSubscriptionRequest['customer']);
    if (typeof customer.email !== 'string' || customer.email.length > 254 || !EMAIL.test(customer.email)) {
      throw invalidInput('input.customer.email', 'must be an email address');
    }
    const today = new Date().toISOString().slice(0, 10);
    const startDate = input.startDate ?? today;
    if (typeof startDate !== 'string' || !ISO_DATE.test(startDate) || Number.isNaN(Date.parse(`${startDate}T00:00:00Z`))) {
      throw invalidInput('input.startDate', 'must be a date YYYY-MM-DD');
    }
    if (startDate < today) throw invalidInput('input.startDate', `must be today (${today}) or later`);
    const fields = {
      customerId: checkText('input.customer.id', customer.id, { max: 100 }),
      customerEmail: customer.email,
      customerName: checkText('input.customer.name', customer.name, { max: 200 }),
      amount: checkAmount('input.amount', input.amount),
      currency: checkCurrency('input.currency', input.currency),
      interval: checkInterval('input.interval', input.interval),
      intervalCount: input.intervalCount == null ? 1 : checkIntRange('input.intervalCount', input.intervalCount, 1, 1000),
      startDate,
      trialDays: input.trialDays == null ? 0 : checkIntRange('input.trialDays', input.trialDays, 0, 730),
      returnUrl: input.returnUrl == null ? null : checkUrl('input.returnUrl', input.returnUrl),
      merchantReference: input.merchantReference == null ? null : checkReference('input.merchantReference', input.merchantReference),
      metadata: checkMetadata('input.metadata', input.metadata),
    };
    const request = {
      operation: 'createSubscription',
      merchantId,
      key: idempotencyKeyOf(input.idempotencyKey, headerKey),
      input: fields,
    };
    return createOnce<BillingSubscriptionEntity, UCanPaySubscription, SubscriptionMade>(
      { db: this.db, idempotency: this.idempotency, log: this.log },
      request,
      {
        aggregate: SUBSCRIPTION,
        open: async () => ({ row: firstRow(merchantId, fields) }),
        send: (sub) => this.createAtProvider(sub),
        save: async (tx, current, snapshot) => ({
          kind: 'subscription',
          subscription: (await this.applyProviderState(tx, current, snapshot)).entity,
          replayed: false,
        }),
        saveRefusal: (tx, current, { providerCode, message }) =>
          writeVersioned(
            tx,
            BillingSubscriptionEntity,
            current,
            { status: 'CANCELLED', cancelledAt: new Date(), failureCode: providerCode, failureMessage: message },
            this.writes(),
          ),
        replay: async (_tx, subscription) => ({ kind: 'subscription', subscription, replayed: true }),
      },
    );
  }

  /** Asks UCanPay to create the subscription, under a key derived from our id: every attempt, retry or resumption sends the same key. */
  private async createAtProvider(sub: BillingSubscriptionEntity): Promise<UCanPaySubscription> {
    const merchant = await this.db.findOneByOrFail(MerchantEntity, { id: sub.merchantId });
    return this.providers.for(merchant).createSubscription(
      {
        outSubscriptionNo: sub.merchantReference,
        customer: { id: sub.customerId, email: sub.customerEmail, name: sub.customerName },
        amount: sub.amount,
        currency: sub.currency,
        interval: sub.interval,
        intervalCount: sub.intervalCount,
        startDate: sub.startDate,
        trialDays: sub.trialDays || undefined,
        notifyUrl: this.notifyUrl(sub.merchantId),
        returnUrl: sub.returnUrl ?? undefined,
        metadata: sub.metadata,
      },
      { idempotencyKey: sub.id },
    );
  }

  /** New terms from the next period; the subscription shows them as `pendingUpdate` until then. */
  async update(principal: Principal | null, input: UpdateSubscriptionRequest): Promise<UpdateSubscriptionOutcome> {
    const merchantId = requireMerchant(principal, 'updateSubscription');
    const changes = {
      amount: input.amount == null ? undefined : checkAmount('input.amount', input.amount),
      interval: input.interval == null ? undefined : checkInterval('input.interval', input.interval),
      intervalCount: input.intervalCount == null ? undefined : checkIntRange('input.intervalCount', input.intervalCount, 1, 1000),
      metadata: input.metadata == null ? undefined : checkMetadata('input.metadata', input.metadata),
    };
    if (Object.values(changes).every((v) => v === undefined)) {
      throw invalidInput('input', 'needs at least one of amount, interval, intervalCount, metadata');
    }
    const sub = await this.find(merchantId, input.id);
    if (sub.status === 'CANCELLED' || sub.status === 'UNPAID') return { kind: 'subscriptionClosed', status: sub.status };
    this.requireCreated(sub);
    // Scoped to the version it changes: a retry of this update replays, a later one is new.
    const key = `${sub.id}:update:${sub.version}:${requestHash(changes).slice(0, 16)}`;
    const result = await this.call(sub, (client) =>
      client.updateSubscription({ subscriptionId: sub.providerSubscriptionId!, ...stripUndefined(changes) }, { idempotencyKey: key }),
    );
    if (result.kind === 'refused') {
      if (result.code === 'ORDER_CLOSED') return { kind: 'subscriptionClosed', status: (await this.refresh(sub)).status };
      return { kind: 'providerRefused', providerCode: result.code, message: result.message };
    }
    return { kind: 'subscription', subscription: await this.applyFresh(sub.id, result.value) };
  }

  /** Cancels now or at the period's end. Cancelling a cancelled subscription returns it unchanged. */
  async cancel(principal: Principal | null, input: { id: string; atPeriodEnd?: boolean | null }): Promise<CancelSubscriptionOutcome> {
    const merchantId = requireMerchant(principal, 'cancelSubscription');
    const atPeriodEnd = input.atPeriodEnd ?? false;
    const sub = await this.find(merchantId, input.id);
    if (sub.status === 'CANCELLED' || (atPeriodEnd && sub.cancelAtPeriodEnd)) {
      return { kind: 'subscription', subscription: sub, replayed: true };
    }
    this.requireCreated(sub);
    const result = await this.call(sub, (client) =>
      client.cancelSubscription(
        { subscriptionId: sub.providerSubscriptionId!, atPeriodEnd },
        { idempotencyKey: `${sub.id}:cancel:${atPeriodEnd ? 'period-end' : 'now'}` },
      ),
    );
    if (result.kind === 'refused') return { kind: 'providerRefused', providerCode: result.code, message: result.message };
    return { kind: 'subscription', subscription: await this.applyFresh(sub.id, result.value), replayed: false };
  }

  /** Calls UCanPay about a created subscription; a retryable failure is thrown as PROVIDER_UNAVAILABLE, a refusal returned (a check's thrown). */
  private async call<T>(
    sub: BillingSubscriptionEntity,
    fn: (client: ReturnType<ProviderClients['for']>) => Promise<T>,
    action: 'create' | 'check' = 'create',
  ): Promise<{ kind: 'ok'; value: T } | { kind: 'refused'; code: string; message: string }> {
    const merchant = await this.db.findOneByOrFail(MerchantEntity, { id: sub.merchantId });
    try {
      return { kind: 'ok', value: await fn(this.providers.for(merchant)) };
    } catch (error) {
      if (!(error instanceof UCanPayError)) throw error;
      // One mapping for every UCanPay error (provider-facts.ts); a thrown one leaves the key usable.
      const failure = providerFailure(error, 'subscription', action);
      if (failure.kind === 'thrown' || action === 'check') throw failure.error;
      return { kind: 'refused', code: failure.providerCode, message: failure.message };
    }
  }

  private requireCreated(sub: BillingSubscriptionEntity): void {
    if (sub.providerSubscriptionId === null) {
      throw new GatewayError(
        'PROVIDER_UNAVAILABLE',
        'The subscription is not created at UCanPay yet; retry createSubscription with the same idempotencyKey first',
      );
    }
  }

  private applyFresh(id: string, snapshot: UCanPaySubscription): Promise<BillingSubscriptionEntity> {
    return this.db.transaction(async (tx) => (await this.applyProviderState(tx, await this.lock(tx, id), snapshot)).entity);
  }

  /** How a billing subscription is written: through its state table, published on `subscriptionUpdated`. */
  private writes(): VersionedWrite<BillingSubscriptionEntity, 'subscriptionUpdated'> {
    return { states: SUBSCRIPTION_MACHINE, events: this.events, topic: 'subscriptionUpdated', log: this.log };
  }

  private lock(tx: Tx, id: string): Promise<BillingSubscriptionEntity> {
    return this.db.findOneByOrFail(BillingSubscriptionEntity, { id }, { tx, forUpdate: true });
  }

  /**
   * Applies a provider snapshot: records every charge it lists once (by the
   * provider's charge id), then, unless the snapshot is older than what is
   * stored, takes its state. A stale snapshot never moves the period back.
   */
  async applyProviderState(tx: Tx, sub: BillingSubscriptionEntity, snapshot: UCanPaySubscription): Promise<AppliedProviderState<BillingSubscriptionEntity>> {
    const newCharges = await this.recordCharges(tx, sub, snapshot);
    const before = sub.version;
    const stored: Freshness = [sub.currentPeriodEnd?.getTime() ?? 0, sub.providerChargeCount, sub.providerUpdatedAt?.getTime() ?? 0];
    const incoming: Freshness = [snapshot.currentPeriodEnd?.getTime() ?? 0, snapshot.charges.length, snapshot.updatedAt?.getTime() ?? 0];
    let changes: Partial<BillingSubscriptionEntity> = { syncedAt: new Date() };
    if (sub.providerSubscriptionId === null) {
      changes.providerSubscriptionId = snapshot.subscriptionId;
    }
    if (snapshot.payUrl && !sub.authorizationUrl) changes.authorizationUrl = snapshot.payUrl;
    if (acceptsSnapshot({ status: sub.status, freshness: stored }, { status: snapshot.status, freshness: incoming })) {
      changes = {
        ...changes,
        status: snapshot.status,
        amount: snapshot.amount,
        interval: snapshot.interval,
        intervalCount: snapshot.intervalCount,
        currentPeriodStart: snapshot.currentPeriodStart ?? sub.currentPeriodStart,
        currentPeriodEnd: snapshot.currentPeriodEnd ?? sub.currentPeriodEnd,
        nextBillingAt: snapshot.nextBillingAt ?? null,
        cancelAtPeriodEnd: snapshot.cancelAtPeriodEnd,
        cancelledAt: snapshot.cancelledAt ?? sub.cancelledAt,
        failedRenewalCount: snapshot.failedRenewalCount,
        pendingUpdate: pendingTerms(snapshot),
        providerChargeCount: snapshot.charges.length,
        providerUpdatedAt: snapshot.updatedAt ?? sub.providerUpdatedAt,
      };
    }
    // A new charge is news even when the rest of the snapshot is stale.
    if (newCharges > 0 && Object.keys(changes).length <= 3)
      changes = { ...changes, providerChargeCount: Math.max(sub.providerChargeCount, snapshot.charges.length) };
    const updated = await writeVersioned(tx, BillingSubscriptionEntity, sub, changes, this.writes());
    return { entity: updated, outcome: updated.version !== before ? 'applied' : 'unchanged' };
  }

  /** Inserts the charges not seen before; a charge delivered in three webhooks is one row. */
  private async recordCharges(tx: Tx, sub: BillingSubscriptionEntity, snapshot: UCanPaySubscription): Promise<number> {
    if (!snapshot.charges.length) return 0;
    const known = await tx.manager.find(SubscriptionChargeEntity, {
      where: { subscriptionId: sub.id },
      select: { id: true, providerChargeId: true, status: true },
    });
    const byProviderId = new Map(known.map((c) => [c.providerChargeId, c]));
    let added = 0;
    for (const charge of snapshot.charges) {
      const existing = byProviderId.get(charge.chargeId);
      if (existing) {
        if (existing.status === 'PENDING' && charge.status !== 'PENDING') {
          await tx.manager.update(SubscriptionChargeEntity, { id: existing.id }, { status: charge.status, failureCode: charge.failureCode ?? null });
        }
        continue;
      }
      await tx.manager.insert(SubscriptionChargeEntity, {
        id: newId('chg'),
        merchantId: sub.merchantId,
        subscriptionId: sub.id,
        providerChargeId: charge.chargeId,
        amount: charge.amount,
        currency: charge.currency ?? sub.currency,
        status: charge.status,
        failureCode: charge.failureCode ?? null,
        periodStart: charge.periodStart,
        periodEnd: charge.periodEnd,
        createdAt: charge.createdAt ?? new Date(),
      });
      added++;
    }
    return added;
  }

  async get(principal: Principal | null, id: string, refresh = false): Promise<BillingSubscriptionEntity> {
    const merchantId = requireMerchant(principal, 'subscription');
    const sub = await this.find(merchantId, id);
    return refresh ? withCause(refreshCause(principal), () => this.refresh(sub)) : sub;
  }

  /** Asks UCanPay (GET /subscriptions/status) and applies any change. */
  async refresh(sub: BillingSubscriptionEntity): Promise<BillingSubscriptionEntity> {
    if (sub.providerSubscriptionId === null) return sub;
    const result = await this.call(sub, (client) => client.getSubscription({ subscriptionId: sub.providerSubscriptionId! }), 'check');
    if (result.kind === 'refused') throw new Error('unreachable: a refused check is thrown');
    return this.applyFresh(sub.id, result.value);
  }

  list(principal: Principal | null, filter: SubscriptionListFilter) {
    const merchantId = requireMerchant(principal, 'subscriptions');
    const qb = this.db.manager.createQueryBuilder(BillingSubscriptionEntity, 's').where('s.merchant_id = :merchantId', { merchantId });
    if (filter.status) qb.andWhere('s.status = :status', { status: filter.status });
    if (filter.customerId) qb.andWhere('s.customer_id = :customerId', { customerId: filter.customerId });
    return paginate(qb, 's', { first: filter.first, after: filter.after, idPrefix: 'sub' });
  }

  /** Charges of many subscriptions in one query (the chargesBySubscriptionId DataLoader). */
  chargesBySubscriptionIds(ids: readonly string[]): Promise<SubscriptionChargeEntity[][]> {
    return childrenOf(this.db, SubscriptionChargeEntity, { column: 'subscription_id', key: 'subscriptionId' }, ids, ['period_start', 'created_at']);
  }

  async follow(principal: Principal | null, id: string): Promise<AsyncIterable<BillingSubscriptionEntity>> {
    const merchantId = requireMerchant(principal, 'subscriptionUpdated');
    return followVersions(
      this.events,
      'subscriptionUpdated',
      id,
      () => this.db.findOneBy(BillingSubscriptionEntity, { id, merchantId }),
      () => notFound('subscription', id),
    );
  }

  private async find(merchantId: string, id: string): Promise<BillingSubscriptionEntity> {
    const sub = typeof id === 'string' ? await this.db.findOneBy(BillingSubscriptionEntity, { id, merchantId }) : null;
    if (!sub) throw notFound('subscription', String(id));
    return sub;
  }
}

/** A new subscription in its first state (PENDING_AUTHORIZATION, not yet sent to UCanPay). */
function firstRow(
  merchantId: string,
  fields: Pick<
    BillingSubscriptionEntity,
    | 'customerId'
    | 'customerEmail'
    | 'customerName'
    | 'amount'
    | 'currency'
    | 'interval'
    | 'intervalCount'
    | 'startDate'
    | 'trialDays'
    | 'returnUrl'
    | 'metadata'
  > & { merchantReference: string | null },
): BillingSubscriptionEntity {
  const now = new Date();
  const id = newId('sub', now.getTime());
  return Object.assign(new BillingSubscriptionEntity(), {
    ...fields,
    id,
    merchantId,
    merchantReference: fields.merchantReference ?? id,
    status: 'PENDING_AUTHORIZATION',
    authorizationUrl: null,
    providerSubscriptionId: null,
    currentPeriodStart: null,
    currentPeriodEnd: null,
    nextBillingAt: null,
    cancelAtPeriodEnd: false,
    cancelledAt: null,
    failedRenewalCount: 0,
    pendingUpdate: null,
    failureCode: null,
    failureMessage: null,
    providerChargeCount: 0,
    providerUpdatedAt: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
    syncedAt: null,
  } satisfies BillingSubscriptionEntity);
}

function checkInterval(field: string, value: unknown): BillingInterval {
  if (typeof value !== 'string' || !(BILLING_INTERVALS as readonly string[]).includes(value)) {
    throw invalidInput(field, `must be one of ${BILLING_INTERVALS.join(', ')}`);
  }
  return value as BillingInterval;
}

function pendingTerms(snapshot: UCanPaySubscription): PendingTerms | null {
  const p = snapshot.pendingUpdate;
  if (!p) return null;
  return stripUndefined({
    amount: p.amount,
    interval: p.interval,
    intervalCount: p.intervalCount,
    metadata: p.metadata,
    effectiveAt: p.effectiveAt?.toISOString(),
  });
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
