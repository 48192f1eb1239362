import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from './columns';

export type WebhookDeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** What a delivery sends: the event as recorded (or a ping), kept on the row so it can go out after any restart. */
export interface DeliveredEvent {
  id: string;
  type: string;
  createdAt: number;
  objectType: string;
  objectId: string;
  objectVersion: number;
  data: Record<string, unknown>;
}

/**
 * One event to one endpoint: created in the event's own transaction, so an
 * event that committed always has its deliveries (at least once). A worker
 * claims a due row by a lease (`locked_until`, `lease`), so one instance at
 * a time attempts it.
 */
@Entity({ name: 'webhook_deliveries' })
@Index('uq_webhook_deliveries_endpoint_event', ['endpointId', 'eventId'], { unique: true })
@Index('ix_webhook_deliveries_due', ['status', 'nextAttemptAt'])
@Index('ix_webhook_deliveries_merchant_created', ['merchantId', 'createdAt', 'id'])
@Index('ix_webhook_deliveries_updated', ['updatedAt'])
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  @Column({ name: 'endpoint_id', type: 'varchar', length: 40 })
  endpointId!: string;

  /** The event id: the `webhook-id` header of every attempt. */
  @Column({ name: 'event_id', type: 'varchar', length: 40 })
  eventId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 60 })
  eventType!: string;

  @Column({ type: 'text', transformer: jsonText })
  event!: DeliveredEvent;

  /** The body sent, fixed at the first attempt (a shaped payload runs its query once), so every retry sends the same bytes. */
  @Column({ type: 'text', nullable: true })
  payload!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: WebhookDeliveryStatus;

  @Column({ name: 'attempt_count', type: 'integer' })
  attemptCount!: number;

  /** When the next attempt is due (null once SUCCEEDED or FAILED). */
  @Column({ name: 'next_attempt_at', type: 'bigint', nullable: true, transformer: epochMs })
  nextAttemptAt!: Date | null;

  /** No retry is scheduled past this (recorded + WEBHOOK_RETRY_FOR_SECONDS; a redelivery starts a new window). */
  @Column({ name: 'retry_until', type: 'bigint', transformer: epochMs })
  retryUntil!: Date;

  /** The claim of the instance attempting it; another may take it only once this has passed. */
  @Column({ name: 'locked_until', type: 'bigint', nullable: true, transformer: epochMs })
  lockedUntil!: Date | null;

  /** Token of the claim: an attempt whose lease was taken over cannot write the row's outcome. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  lease!: string | null;

  @Column({ name: 'last_attempt_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastAttemptAt!: Date | null;

  @Column({ name: 'last_http_status', type: 'integer', nullable: true })
  lastHttpStatus!: number | null;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: Date;
}

/** One HTTP attempt of a delivery: the delivery log. */
@Entity({ name: 'webhook_delivery_attempts' })
@Index('ix_webhook_delivery_attempts_delivery', ['deliveryId', 'startedAt'])
@Index('ix_webhook_delivery_attempts_started', ['startedAt'])
export class WebhookDeliveryAttemptEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'delivery_id', type: 'varchar', length: 40 })
  deliveryId!: string;

  @Column({ name: 'started_at', type: 'bigint', transformer: epochMs })
  startedAt!: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  /** The receiver's status code; null when no answer came (refused, timed out, forbidden address). */
  @Column({ name: 'http_status', type: 'integer', nullable: true })
  httpStatus!: number | null;

  /** The first bytes of the answer (at most 1 KiB), credential-shaped strings redacted. */
  @Column({ name: 'response_excerpt', type: 'text', nullable: true })
  responseExcerpt!: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  error!: string | null;

  /** When this attempt's failure scheduled the next one (null: succeeded, or no retry left). */
  @Column({ name: 'next_retry_at', type: 'bigint', nullable: true, transformer: epochMs })
  nextRetryAt!: Date | null;
}
