import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { epochMs, jsonText } from './columns';
import type { PaymentStatus } from '../domain/payment-state';

/** The gateway's durable record of one payment (one UCanPay order). */
@Entity({ name: 'payments' })
@Unique('uq_payments_merchant_reference', ['merchantId', 'merchantReference'])
@Index('ix_payments_merchant_created', ['merchantId', 'createdAt', 'id'])
@Index('ix_payments_merchant_status_created', ['merchantId', 'status', 'createdAt', 'id'])
@Index('ix_payments_status_updated', ['status', 'updatedAt'])
@Index('ix_payments_status_expires', ['status', 'expiresAt'])
@Index('ix_payments_status_synced', ['status', 'syncedAt'])
@Index('ix_payments_failure_created', ['failureCode', 'createdAt'])
@Index('ix_payments_merchant_provider_order', ['merchantId', 'providerOrderId'])
export class PaymentEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  /** The merchant's order number; sent to UCanPay as `out_trade_no`. */
  @Column({ name: 'merchant_reference', type: 'varchar', length: 64 })
  merchantReference!: string;

  @Column({ type: 'varchar', length: 24 })
  status!: PaymentStatus;

  /** Integer minor units of `currency`. */
  @Column({ type: 'integer' })
  amount!: number;

  @Column({ type: 'varchar', length: 3 })
  currency!: string;

  @Column({ type: 'varchar', length: 500 })
  description!: string;

  @Column({ name: 'return_url', type: 'varchar', length: 2048 })
  returnUrl!: string;

  @Column({ type: 'text', transformer: jsonText })
  metadata!: Record<string, string>;

  @Column({ name: 'expires_in_seconds', type: 'integer' })
  expiresInSeconds!: number;

  /** Lets a browser or app read and follow this one payment. */
  @Column({ name: 'client_secret', type: 'varchar', length: 100 })
  clientSecret!: string;

  @Column({ name: 'provider_order_id', type: 'varchar', length: 100, nullable: true })
  providerOrderId!: string | null;

  @Column({ name: 'checkout_url', type: 'varchar', length: 2048, nullable: true })
  checkoutUrl!: string | null;

  @Column({ name: 'transaction_id', type: 'varchar', length: 100, nullable: true })
  transactionId!: string | null;

  @Column({ name: 'refunded_amount', type: 'integer', default: 0 })
  refundedAmount!: number;

  @Column({ name: 'failure_code', type: 'varchar', length: 64, nullable: true })
  failureCode!: string | null;

  @Column({ name: 'failure_message', type: 'varchar', length: 500, nullable: true })
  failureMessage!: string | null;

  /** Increases by one with every applied change. */
  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  expiresAt!: Date | null;

  @Column({ name: 'paid_at', type: 'bigint', nullable: true, transformer: epochMs })
  paidAt!: Date | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: Date;

  /** Last time the gateway heard from UCanPay about this payment (webhook or status check). */
  @Column({ name: 'synced_at', type: 'bigint', nullable: true, transformer: epochMs })
  syncedAt!: Date | null;
}
