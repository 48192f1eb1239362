import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from './columns';

/**
 * A merchant's outbound webhook endpoint (not the `webhook_events` inbox of
 * UCanPay's webhooks). The signing secrets are stored as issued: the gateway
 * needs them to sign; they are shown to the merchant once and never logged.
 */
@Entity({ name: 'webhook_endpoints' })
@Index('ix_webhook_endpoints_merchant_created', ['merchantId', 'createdAt', 'id'])
export class WebhookEndpointEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ type: 'varchar', length: 500 })
  description!: string;

  /** The event types delivered here (JSON array of names). */
  @Column({ name: 'event_types', type: 'text', transformer: jsonText })
  eventTypes!: string[];

  @Column({ type: 'boolean' })
  enabled!: boolean;

  /** Why the gateway disabled it (410 Gone, N consecutive failures); null when enabled or disabled by the merchant. */
  @Column({ name: 'disabled_reason', type: 'varchar', length: 200, nullable: true })
  disabledReason!: string | null;

  /** A GraphQL query selecting the payload (docs/events-and-webhooks.md#payload-shaping); null = the default payload. */
  @Column({ name: 'payload_query', type: 'text', nullable: true })
  payloadQuery!: string | null;

  @Column({ type: 'varchar', length: 100 })
  secret!: string;

  /** The secret before the last rotation: it keeps signing alongside the new one until `previousSecretExpiresAt`. */
  @Column({ name: 'previous_secret', type: 'varchar', length: 100, nullable: true })
  previousSecret!: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  previousSecretExpiresAt!: Date | null;

  /** Failed attempts since the last success, all deliveries together. */
  @Column({ name: 'consecutive_failures', type: 'integer' })
  consecutiveFailures!: number;

  /** When the current run of failures began (null after a success). */
  @Column({ name: 'failing_since', type: 'bigint', nullable: true, transformer: epochMs })
  failingSince!: Date | null;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: Date;
}
