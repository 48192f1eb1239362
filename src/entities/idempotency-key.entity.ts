import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from './columns';

/** A typed refusal kept as an idempotency key's outcome: its kind and fields. */
export type StoredRefusal = { kind: string } & Record<string, string | number | boolean | null>;

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

  /** INSTANCE_ID of the instance whose request holds the claim (null: unnamed instance). */
  @Column({ type: 'varchar', length: 100, nullable: true })
  owner!: string | null;

  /** The boot of that instance: a claim of this instance from an earlier boot died with it. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  boot!: string | null;

  /** Changes whenever another request takes the claim over: a late writer holding an old token is fenced off. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  token!: string | null;

  /** A typed refusal stored as the key's outcome (JSON), replayed for the same key and input; null for a resource. */
  @Column({ type: 'text', nullable: true, transformer: jsonText })
  outcome!: StoredRefusal | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs })
  expiresAt!: Date;
}
