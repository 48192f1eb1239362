import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from './columns';

/** The webhook inbox: one row per UCanPay event id and merchant, so an event is applied once. */
@Entity({ name: 'webhook_events' })
@Index('ix_webhook_events_received', ['receivedAt'])
export class WebhookEventEntity {
  @PrimaryColumn({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 100 })
  eventId!: string;

  @Column({ type: 'varchar', length: 60 })
  type!: string;

  /** `applied`, `unchanged` (stale or already known) or `ignored` (unknown type or object). */
  @Column({ type: 'varchar', length: 16 })
  outcome!: string;

  @Column({ name: 'object_id', type: 'varchar', length: 100, nullable: true })
  objectId!: string | null;

  /** The event's `created` (provider time). */
  @Column({ name: 'event_created_at', type: 'bigint', transformer: epochMs })
  eventCreatedAt!: Date;

  @Column({ name: 'received_at', type: 'bigint', transformer: epochMs })
  receivedAt!: Date;
}
