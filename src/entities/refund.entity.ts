import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { epochMs } from './columns';
import type { RefundStatus } from '../domain/refund-state';

/** The gateway's durable record of one refund of a payment. */
@Entity({ name: 'refunds' })
@Unique('uq_refunds_merchant_reference', ['merchantId', 'merchantReference'])
@Index('ix_refunds_payment_created', ['paymentId', 'createdAt', 'id'])
@Index('ix_refunds_merchant_created', ['merchantId', 'createdAt', 'id'])
@Index('ix_refunds_merchant_status_created', ['merchantId', 'status', 'createdAt', 'id'])
@Index('ix_refunds_status_updated', ['status', 'updatedAt'])
@Index('ix_refunds_status_synced', ['status', 'syncedAt'])
@Index('ix_refunds_merchant_provider_refund', ['merchantId', 'providerRefundId'])
export class RefundEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  @Column({ name: 'payment_id', type: 'varchar', length: 40 })
  paymentId!: string;

  /** The merchant's refund number; sent to UCanPay as `out_refund_no`. */
  @Column({ name: 'merchant_reference', type: 'varchar', length: 64 })
  merchantReference!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: RefundStatus;

  /** Integer minor units of `currency`. */
  @Column({ type: 'integer' })
  amount!: number;

  @Column({ type: 'varchar', length: 3 })
  currency!: string;

  @Column({ type: 'varchar', length: 500 })
  reason!: string;

  @Column({ name: 'provider_refund_id', type: 'varchar', length: 100, nullable: true })
  providerRefundId!: string | null;

  @Column({ name: 'failure_code', type: 'varchar', length: 64, nullable: true })
  failureCode!: string | null;

  @Column({ name: 'failure_message', type: 'varchar', length: 500, nullable: true })
  failureMessage!: string | null;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: Date;

  @Column({ name: 'succeeded_at', type: 'bigint', nullable: true, transformer: epochMs })
  succeededAt!: Date | null;

  @Column({ name: 'synced_at', type: 'bigint', nullable: true, transformer: epochMs })
  syncedAt!: Date | null;
}
