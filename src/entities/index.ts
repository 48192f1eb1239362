import { ApiKeyEntity } from './api-key.entity';
import { BillingSubscriptionEntity, type PendingTerms } from './billing-subscription.entity';
import { SubscriptionChargeEntity } from './subscription-charge.entity';
import { IdempotencyKeyEntity, type StoredRefusal } from './idempotency-key.entity';
import { MerchantEntity } from './merchant.entity';
import { PaymentEntity } from './payment.entity';
import { RefundEntity } from './refund.entity';
import { WebhookEventEntity } from './webhook-event.entity';
import { EventEntity } from './event.entity';
import { WebhookEndpointEntity } from './webhook-endpoint.entity';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, type DeliveredEvent, type WebhookDeliveryStatus } from './webhook-delivery.entity';

export type { PendingTerms, StoredRefusal, DeliveredEvent, WebhookDeliveryStatus };
export {
  ApiKeyEntity,
  BillingSubscriptionEntity,
  SubscriptionChargeEntity,
  IdempotencyKeyEntity,
  MerchantEntity,
  PaymentEntity,
  RefundEntity,
  WebhookEventEntity,
  EventEntity,
  WebhookEndpointEntity,
  WebhookDeliveryEntity,
  WebhookDeliveryAttemptEntity,
};

/** Every entity, listed explicitly (no globs: ts-node, vitest and builds agree). */
export const entities = [
  MerchantEntity,
  ApiKeyEntity,
  PaymentEntity,
  RefundEntity,
  BillingSubscriptionEntity,
  SubscriptionChargeEntity,
  IdempotencyKeyEntity,
  WebhookEventEntity,
  EventEntity,
  WebhookEndpointEntity,
  WebhookDeliveryEntity,
  WebhookDeliveryAttemptEntity,
];
