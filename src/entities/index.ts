import { ApiKeyEntity } from './api-key.entity';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { MerchantEntity } from './merchant.entity';
import { PaymentEntity } from './payment.entity';
import { RefundEntity } from './refund.entity';
import { WebhookEventEntity } from './webhook-event.entity';

export { ApiKeyEntity, IdempotencyKeyEntity, MerchantEntity, PaymentEntity, RefundEntity, WebhookEventEntity };

/** Every entity, listed explicitly (no globs: ts-node, vitest and builds agree). */
export const entities = [MerchantEntity, ApiKeyEntity, PaymentEntity, RefundEntity, IdempotencyKeyEntity, WebhookEventEntity];
