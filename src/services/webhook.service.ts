import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Database, Tx } from '../db/database';
import { isUniqueViolation } from '../db/database';
import { BillingSubscriptionEntity, MerchantEntity, PaymentEntity, RefundEntity, WebhookEventEntity } from '../entities';
import { mapPaymentEvent, type PaymentEventEffect } from '../domain/payment-events';
import { mapRefundEvent, type RefundEventEffect } from '../domain/refund-events';
import { ORDER_EVENT_TYPES, REFUND_EVENT_TYPES, SUBSCRIPTION_EVENT_TYPES, toWebhookEvent, verifyWebhookSignature, UCanPayError } from '../ucanpay';
import type { PaymentService } from './payment.service';
import type { RefundService } from './refund.service';
import type { SubscriptionService } from './subscription.service';
import { withCause } from './cause';

export interface WebhookLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** The HTTP answer to a webhook delivery. 2xx stops UCanPay's retries; 4xx says "this will never work". */
export interface WebhookReply {
  status: number;
  body: { received: boolean; outcome?: string; error?: string };
}

const KNOWN_TYPES = new Set<string>([...ORDER_EVENT_TYPES, ...REFUND_EVENT_TYPES, ...SUBSCRIPTION_EVENT_TYPES]);

/**
 * Webhook ingestion: verify the signature over the raw bytes, store the event
 * id once (the inbox), map the snapshot by a pure function, apply it through
 * the state machine in the same transaction, publish after commit.
 */
export class WebhookService {
  constructor(
    private readonly db: Database,
    private readonly payments: PaymentService,
    private readonly refunds: RefundService,
    private readonly subscriptions: SubscriptionService,
    private readonly log: WebhookLogger,
  ) {}

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
    const type = (json as { type?: unknown })?.type;
    const eventId = (json as { id?: unknown })?.id;
    if (typeof type !== 'string' || typeof eventId !== 'string' || eventId.length < 1 || eventId.length > 100) {
      return reject(400, 'event needs a string id (1-100 characters) and type');
    }
    if (!KNOWN_TYPES.has(type)) {
      this.log.info({ merchantId, eventId, type }, 'webhook ignored: unknown event type');
      return accept('ignored');
    }
    let event;
    try {
      event = toWebhookEvent(json);
    } catch (error) {
      if (error instanceof UCanPayError) return reject(400, error.message);
      throw error;
    }
    const effect =
      event.kind === 'order'
        ? mapPaymentEvent(event.type, event.object)
        : event.kind === 'refund'
          ? mapRefundEvent(event.type, event.object)
          : { providerSubscriptionId: event.object.subscriptionId, merchantReference: event.object.outSubscriptionNo };
    if (!effect) return reject(400, `event type ${event.type} does not match object status ${event.object.status}`);

    try {
      // The event log names this UCanPay event as the cause of what it changes (src/services/cause.ts).
      return await withCause({ kind: 'ucanpay_webhook', id: event.id }, () => this.db.transaction(async (tx) => {
        if (await this.db.findOneBy(WebhookEventEntity, { merchantId, eventId: event.id }, { tx })) return accept('duplicate');
        let objectId: string | null = null;
        let changed = false;
        let mismatch = false;
        let contradicted = false;
        if (event.kind === 'order') {
          const { providerOrderId, merchantReference } = effect as PaymentEventEffect;
          const payment = await this.lockTarget(tx, PaymentEntity, { merchantId, providerOrderId }, { merchantId, merchantReference });
          if (payment) {
            objectId = payment.id;
            const applied = await this.payments.applyOrder(tx, payment, event.object);
            changed = applied.changed;
            mismatch = applied.mismatch === true;
            contradicted = applied.contradicted === true;
          }
        } else if (event.kind === 'subscription') {
          const { providerSubscriptionId, merchantReference } = effect as { providerSubscriptionId: string; merchantReference: string };
          const sub = await this.lockTarget(tx, BillingSubscriptionEntity, { merchantId, providerSubscriptionId }, { merchantId, merchantReference });
          if (sub) {
            objectId = sub.id;
            changed = (await this.subscriptions.applySnapshot(tx, sub, event.object)).changed;
          }
        } else {
          const { providerRefundId, merchantReference } = effect as RefundEventEffect;
          const refund = await this.lockTarget(tx, RefundEntity, { merchantId, providerRefundId }, { merchantId, merchantReference });
          if (refund) {
            objectId = refund.id;
            const applied = await this.refunds.applyProviderRefund(tx, refund, event.object);
            changed = applied.changed;
            mismatch = applied.mismatch === true;
          }
        }
        if (objectId === null) this.log.warn({ merchantId, eventId: event.id, type: event.type }, 'webhook for an unknown object');
        // mismatch: the order's (refund's) amount or currency is not the payment's (refund's); acknowledged (a retry would say the same), not applied, logged.
        // contradicted: UCanPay captured a payment the gateway had closed; applied as PAID (the truth), logged at error by PaymentService.
        const outcome = objectId === null ? 'ignored' : mismatch ? 'mismatch' : contradicted ? 'contradicted' : changed ? 'applied' : 'unchanged';
        await tx.manager.insert(WebhookEventEntity, {
          merchantId,
          eventId: event.id,
          type: event.type,
          outcome,
          objectId,
          eventCreatedAt: event.created,
          receivedAt: new Date(),
        });
        return accept(outcome);
      }));
    } catch (error) {
      // PostgreSQL: the same event arrived at two instances at once; the other one applied it.
      if (isUniqueViolation(error)) return accept('duplicate');
      throw error;
    }
  }

  /** The object an event is about, locked: by UCanPay's id, else by the merchant's reference (before the id was known). */
  private async lockTarget<T extends ObjectLiteral>(tx: Tx, entity: EntityTarget<T>, byProviderId: Partial<T>, byReference: Partial<T>): Promise<T | null> {
    return (
      (await this.db.findOneBy(entity, byProviderId, { tx, forUpdate: true })) ??
      (await this.db.findOneBy(entity, byReference, { tx, forUpdate: true }))
    );
  }
}

function accept(outcome: string): WebhookReply {
  return { status: 200, body: { received: true, outcome } };
}

function reject(status: number, error: string): WebhookReply {
  return { status, body: { received: false, error } };
}
