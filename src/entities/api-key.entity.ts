import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { epochMs } from './columns';

/** A merchant's gateway API key, stored only as HMAC-SHA-256(pepper, key). */
@Entity({ name: 'api_keys' })
@Unique('uq_api_keys_key_hash', ['keyHash'])
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Index('ix_api_keys_merchant')
  @Column({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  @Column({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash!: string;

  /** The first characters of the key, to tell keys apart in listings. */
  @Column({ name: 'key_prefix', type: 'varchar', length: 16 })
  keyPrefix!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: epochMs })
  revokedAt!: Date | null;
}
