import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Database, Tx } from '../db/database';
import { isUniqueViolation } from '../db/database';
import { BillingSubscriptionEntity, MerchantEntity, PaymentEntity, RefundEntity, WebhookEventEntity } from '../entities';
import {
  toWebhookEvent,
  verifyWebhookSignature,
  UCanPayError,
  type UCanPayOrder,
  type UCanPayRefund,
  type UCanPaySubscription,
  type UCanPayWebhookEvent,
} from '../ucanpay';
import type { PaymentService } from './payment.service';
import type { AppliedProviderState, ProviderStateOutcome } from './provider-facts';
import type { RefundService } from './refund.service';
import type { BillingSubscriptionService } from './billing-subscription.service';
import { withCause } from './cause';

export interface WebhookLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** The HTTP answer to a webhook delivery. 2xx stops UCanPay's retries; 4xx says "this will never work". */
export interface WebhookReply {
  status: number;
  body: { received: boolean; outcome?: string; error?: string };
  /**
   * What the service read from a verified delivery, for the metrics and
   * tracing wrappers (so they do not parse the body again); never sent.
   */
  event?: { type: string; created?: Date; providerOrderId?: string };
}

type KnownEvent = Exclude<UCanPayWebhookEvent, { kind: 'unknown' }>;
type KnownType = KnownEvent['type'];
/** The object an event of type T carries (UCanPayOrder for a `payment.*` type, …). */
type ObjectOf<T extends KnownType> = KnownEvent extends infer E ? (E extends { type: infer U; object: infer O } ? (T extends U ? O : never) : never) : never;

/** What an event did to its object: the object's id and the outcome, or null when the gateway has no such object. */
type EventEffect = { objectId: string; outcome: ProviderStateOutcome } | null;

/** How one event type is applied. */
interface EventRoute<O extends { status: string }> {
  /** The statuses its object may carry (another one makes the event malformed); any status when absent. */
  statuses?: readonly O['status'][];
  /** Locks the object the event is about and applies UCanPay's view of it through the owning service, in the caller's transaction. */
  apply(tx: Tx, merchantId: string, object: O): Promise<EventEffect>;
}

type EventRoutes = { [T in KnownType]: EventRoute<ObjectOf<T>> };

/** The route of an event's type, typed by that type's object (one lookup, no cast). */
function routeOf<T extends KnownType>(routes: EventRoutes, type: T): EventRoute<ObjectOf<T>> {
  return routes[type];
}

/**
 * Webhook ingestion: verify the signature over the raw bytes, store the event
 * id once (the inbox), and hand the event's object to the owning service's
 * `applyProviderState` (the one table `routes`: event type → apply), which
 * goes through the state machine in the same transaction and publishes after
 * commit.
 */
export class WebhookService {
  /** THE table: each event type UCanPay sends → the statuses its object may carry, and the owning service's apply. */
  private readonly routes: EventRoutes;

  constructor(
    private readonly db: Database,
    private readonly payments: PaymentService,
    private readonly refunds: RefundService,
    private readonly subscriptions: BillingSubscriptionService,
    private readonly log: WebhookLogger,
  ) {
    const order: EventRoute<UCanPayOrder>['apply'] = (tx, merchantId, o) =>
      this.applyTo(tx, PaymentEntity, { merchantId, providerOrderId: o.orderId }, { merchantId, merchantReference: o.outTradeNo }, (payment) =>
        this.payments.applyProviderState(tx, payment, o),
      );
    const refund: EventRoute<UCanPayRefund>['apply'] = (tx, merchantId, r) =>
      this.applyTo(tx, RefundEntity, { merchantId, providerRefundId: r.refundId }, { merchantId, merchantReference: r.outRefundNo }, (row) =>
        this.refunds.applyProviderState(tx, row, r),
      );
    const subscription: EventRoute<UCanPaySubscription>['apply'] = (tx, merchantId, s) =>
      this.applyTo(
        tx,
        BillingSubscriptionEntity,
        { merchantId, providerSubscriptionId: s.subscriptionId },
        { merchantId, merchantReference: s.outSubscriptionNo },
        (sub) => this.subscriptions.applyProviderState(tx, sub, s),
      );
    this.routes = {
      'payment.succeeded': { statuses: ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'], apply: order },
      'payment.failed': { statuses: ['FAILED'], apply: order },
      'payment.cancelled': { statuses: ['CANCELLED'], apply: order },
      'payment.expired': { statuses: ['EXPIRED'], apply: order },
      'refund.succeeded': { statuses: ['SUCCEEDED'], apply: refund },
      'refund.failed': { statuses: ['FAILED'], apply: refund },
      'subscription.activated': { apply: subscription },
      'subscription.renewed': { apply: subscription },
      'subscription.renewal_failed': { apply: subscription },
      'subscription.past_due': { apply: subscription },
      'subscription.updated': { apply: subscription },
      'subscription.cancelled': { apply: subscription },
    };
  }

  async receive(merchantId: string, rawBody: Buffer, signature: string | string[] | undefined): Promise<WebhookReply> {
    const merchant = await this.db.findOneBy(MerchantEntity, { id: merchantId });
    if (!merchant) return reject(404, 'unknown merchant');
    const verdict = verifyWebhookSignature({ header: signature, rawBody, secret: merchant.ucanpayWebhookSecret });
    if (!verdict.ok) {
      this.log.warn({ merchantId, reason: verdict.reason }, 'webhook rejected: signature');
      return reject(400, `signature rejected: ${verdict.reason}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return reject(400, 'body is not valid JSON');
    }
    let event: UCanPayWebhookEvent;
    try {
      event = toWebhookEvent(json);
    } catch (error) {
      if (error instanceof UCanPayError) return reject(400, error.message);
      throw error;
    }
    if (event.id.length > 100) return reject(400, 'event id must be at most 100 characters');
    if (event.kind === 'unknown') {
      this.log.info({ merchantId, eventId: event.id, type: event.type }, 'webhook ignored: unknown event type');
      return { ...accept('ignored'), event: { type: event.type } };
    }
    const read = { type: event.type, created: event.created, providerOrderId: event.kind === 'order' ? event.object.orderId : undefined };
    const route = routeOf(this.routes, event.type);
    if (route.statuses && !route.statuses.includes(event.object.status)) {
      return { ...reject(400, `event type ${event.type} does not match object status ${event.object.status}`), event: read };
    }
    return { ...(await this.record(merchantId, event, (tx) => route.apply(tx, merchantId, event.object))), event: read };
  }

  /** In one transaction: the inbox row (once per event id) and the event's effect on its object. */
  private async record(merchantId: string, event: KnownEvent, apply: (tx: Tx) => Promise<EventEffect>): Promise<WebhookReply> {
    try {
      // The event log names this UCanPay event as the cause of what it changes (src/services/cause.ts).
      return await withCause({ kind: 'ucanpay_webhook', id: event.id }, () =>
        this.db.transaction(async (tx) => {
          if (await this.db.findOneBy(WebhookEventEntity, { merchantId, eventId: event.id }, { tx })) return accept('duplicate');
          const applied = await apply(tx);
          if (applied === null) this.log.warn({ merchantId, eventId: event.id, type: event.type }, 'webhook for an unknown object');
          // mismatch: the order's (refund's) amount or currency is not the payment's (refund's); acknowledged (a retry would say the same), not applied, logged.
          // contradicted: UCanPay captured a payment the gateway had closed; applied as PAID (the truth), logged at error by PaymentService.
          const outcome = applied?.outcome ?? 'ignored';
          await tx.manager.insert(WebhookEventEntity, {
            merchantId,
            eventId: event.id,
            type: event.type,
            outcome,
            objectId: applied?.objectId ?? null,
            eventCreatedAt: event.created,
            receivedAt: new Date(),
          });
          return accept(outcome);
        }),
      );
    } catch (error) {
      // PostgreSQL: the same event arrived at two instances at once; the other one applied it.
      if (isUniqueViolation(error)) return accept('duplicate');
      throw error;
    }
  }

  /**
   * Locks the object an event is about — by UCanPay's id, else by the
   * merchant's reference (before the id was known) — and applies UCanPay's
   * view of it; null when the gateway has no such object.
   */
  private async applyTo<T extends ObjectLiteral & { id: string }>(
    tx: Tx,
    entity: EntityTarget<T>,
    byProviderId: Partial<T>,
    byReference: Partial<T>,
    apply: (row: T) => Promise<AppliedProviderState<T>>,
  ): Promise<EventEffect> {
    const row =
      (await this.db.findOneBy(entity, byProviderId, { tx, forUpdate: true })) ?? (await this.db.findOneBy(entity, byReference, { tx, forUpdate: true }));
    return row ? { objectId: row.id, outcome: (await apply(row)).outcome } : null;
  }
}

function accept(outcome: string): WebhookReply {
  return { status: 200, body: { received: true, outcome } };
}

function reject(status: number, error: string): WebhookReply {
  return { status, body: { received: false, error } };
}
