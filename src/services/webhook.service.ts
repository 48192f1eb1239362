import type { Database } from '../db/database';
import { isUniqueViolation } from '../db/database';
import { BillingSubscriptionEntity, MerchantEntity, PaymentEntity, RefundEntity, WebhookEventEntity } from '../entities';
import { mapPaymentEvent, type PaymentEventEffect } from '../domain/payment-events';
import { mapRefundEvent, type RefundEventEffect } from '../domain/refund-events';
import { toWebhookEvent, verifyWebhookSignature, UCanPayError } from '../ucanpay';
import { ORDER_EVENT_TYPES, REFUND_EVENT_TYPES, SUBSCRIPTION_EVENT_TYPES } from '../ucanpay/wire';
import type { PaymentService } from './payment.service';
import type { RefundService } from './refund.service';
import type { SubscriptionService } from './subscription.service';

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
    const merchant = await this.db.manager.findOne(MerchantEntity, { where: { id: merchantId } });
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
      return await this.db.transaction(async (tx) => {
        const seen = await tx.manager.exists(WebhookEventEntity, { where: { merchantId, eventId: event.id } });
        if (seen) return accept('duplicate');
        let objectId: string | null = null;
        let changed = false;
        if (event.kind === 'order') {
          const { providerOrderId, merchantReference } = effect as PaymentEventEffect;
          const payment =
            (await tx.manager.findOne(PaymentEntity, { where: { merchantId, providerOrderId }, ...this.db.forUpdate })) ??
            (await tx.manager.findOne(PaymentEntity, { where: { merchantId, merchantReference }, ...this.db.forUpdate }));
          if (payment) {
            objectId = payment.id;
            changed = (await this.payments.applyOrder(tx, payment, event.object)).changed;
          }
        } else if (event.kind === 'subscription') {
          const { providerSubscriptionId, merchantReference } = effect as { providerSubscriptionId: string; merchantReference: string };
          const sub =
            (await tx.manager.findOne(BillingSubscriptionEntity, { where: { merchantId, providerSubscriptionId }, ...this.db.forUpdate })) ??
            (await tx.manager.findOne(BillingSubscriptionEntity, { where: { merchantId, merchantReference }, ...this.db.forUpdate }));
          if (sub) {
            objectId = sub.id;
            changed = (await this.subscriptions.applySnapshot(tx, sub, event.object)).changed;
          }
        } else {
          const { providerRefundId, merchantReference } = effect as RefundEventEffect;
          const refund =
            (await tx.manager.findOne(RefundEntity, { where: { merchantId, providerRefundId }, ...this.db.forUpdate })) ??
            (await tx.manager.findOne(RefundEntity, { where: { merchantId, merchantReference }, ...this.db.forUpdate }));
          if (refund) {
            objectId = refund.id;
            changed = (await this.refunds.applyProviderRefund(tx, refund, event.object)).changed;
          }
        }
        if (objectId === null) this.log.warn({ merchantId, eventId: event.id, type: event.type }, 'webhook for an unknown object');
        const outcome = objectId === null ? 'ignored' : changed ? 'applied' : 'unchanged';
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
      });
    } catch (error) {
      // PostgreSQL: the same event arrived at two instances at once; the other one applied it.
      if (isUniqueViolation(error)) return accept('duplicate');
      throw error;
    }
  }
}

function accept(outcome: string): WebhookReply {
  return { status: 200, body: { received: true, outcome } };
}

function reject(status: number, error: string): WebhookReply {
  return { status, body: { received: false, error } };
}
