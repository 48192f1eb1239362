import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from './columns';

export type IdempotencyState = 'IN_PROGRESS' | 'COMPLETED';

/**
 * A claimed idempotency key, scoped per merchant. The primary key makes the
 * claim atomic on every database: the second concurrent insert loses.
 */
@Entity({ name: 'idempotency_keys' })
@Index('ix_idempotency_expires', ['expiresAt'])
@Index('ix_idempotency_resource', ['resourceId'])
export class IdempotencyKeyEntity {
  @PrimaryColumn({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  @PrimaryColumn({ name: 'key', type: 'varchar', length: 255 })
  key!: string;

  /** The mutation that claimed it, e.g. `createPayment`. */
  @Column({ type: 'varchar', length: 40 })
  operation!: string;

  /** SHA-256 of the canonical input, to tell a retry from a different request. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: IdempotencyState;

  @Column({ name: 'resource_id', type: 'varchar', length: 40 })
  resourceId!: string;

  /** While IN_PROGRESS, another request with the key must wait until then. */
  @Column({ name: 'locked_until', type: 'bigint', transformer: epochMs })
  lockedUntil!: Date;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs })
  expiresAt!: Date;
}
