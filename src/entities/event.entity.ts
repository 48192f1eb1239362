import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { epochMs, jsonText } from './columns';

/**
 * The event log: one row per applied change of a payment, refund or billing
 * subscription (src/services/event-log.ts), written in the change's own
 * transaction. Read in cursor order (`xid`, `seq`); see event-log.ts for why
 * that order never lets a reader skip an event.
 */
@Entity({ name: 'events' })
@Index('uq_events_id', ['id'], { unique: true })
@Index('ix_events_merchant_cursor', ['merchantId', 'xid', 'seq'])
@Index('ix_events_merchant_object_cursor', ['merchantId', 'objectId', 'xid', 'seq'])
@Index('ix_events_created', ['createdAt'])
export class EventEntity {
  /** Insertion order: the SQLite rowid; on PostgreSQL a sequence (which does not follow commit order). */
  @PrimaryGeneratedColumn('increment', { type: 'integer' })
  seq!: number;

  /** PostgreSQL: the writing transaction's id (`pg_current_xact_id()`); SQLite: 0 (its writes are serialized). */
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
  xid!: number;

  @Column({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  @Column({ type: 'varchar', length: 40 })
  type!: string;

  @Column({ name: 'object_type', type: 'varchar', length: 24 })
  objectType!: string;

  @Column({ name: 'object_id', type: 'varchar', length: 40 })
  objectId!: string;

  @Column({ name: 'object_version', type: 'integer' })
  objectVersion!: number;

  /** The object at that version, in its public shape (never a client secret). */
  @Column({ type: 'text', transformer: jsonText })
  data!: Record<string, unknown>;

  @Column({ name: 'cause_kind', type: 'varchar', length: 16 })
  causeKind!: string;

  @Column({ name: 'cause_id', type: 'varchar', length: 100, nullable: true })
  causeId!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;
}
