import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { epochMs, jsonText } from './columns';
import type { BillingInterval, SubscriptionStatus } from '../domain/billing-subscription-state';

/** Terms that take effect from the next period (updateSubscription). */
export interface PendingTerms {
  amount?: number;
  interval?: BillingInterval;
  intervalCount?: number;
  metadata?: Record<string, string>;
  effectiveAt?: string;
}

/** The gateway's durable record of one recurring payment (a UCanPay subscription). */
@Entity({ name: 'billing_subscriptions' })
@Unique('uq_billing_subscriptions_merchant_reference', ['merchantId', 'merchantReference'])
@Index('ix_billing_subscriptions_merchant_created', ['merchantId', 'createdAt', 'id'])
@Index('ix_billing_subscriptions_customer_created', ['merchantId', 'customerId', 'createdAt', 'id'])
@Index('ix_billing_subscriptions_merchant_status_created', ['merchantId', 'status', 'createdAt', 'id'])
@Index('ix_billing_subscriptions_status_billing', ['status', 'nextBillingAt'])
@Index('ix_billing_subscriptions_status_updated', ['status', 'updatedAt'])
@Index('ix_billing_subscriptions_status_synced', ['status', 'syncedAt'])
@Index('ix_billing_subscriptions_merchant_provider', ['merchantId', 'providerSubscriptionId'])
export class BillingSubscriptionEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  /** Sent to UCanPay as `out_subscription_no`. */
  @Column({ name: 'merchant_reference', type: 'varchar', length: 64 })
  merchantReference!: string;

  @Column({ type: 'varchar', length: 24 })
  status!: SubscriptionStatus;

  @Column({ name: 'customer_id', type: 'varchar', length: 100 })
  customerId!: string;

  @Column({ name: 'customer_email', type: 'varchar', length: 254 })
  customerEmail!: string;

  @Column({ name: 'customer_name', type: 'varchar', length: 200 })
  customerName!: string;

  /** Per-period price in integer minor units (current terms). */
  @Column({ type: 'integer' })
  amount!: number;

  @Column({ type: 'varchar', length: 3 })
  currency!: string;

  @Column({ name: 'billing_interval', type: 'varchar', length: 8 })
  interval!: BillingInterval;

  @Column({ name: 'interval_count', type: 'integer' })
  intervalCount!: number;

  /** ISO date (YYYY-MM-DD) of the first billing day. */
  @Column({ name: 'start_date', type: 'varchar', length: 10 })
  startDate!: string;

  @Column({ name: 'trial_days', type: 'integer' })
  trialDays!: number;

  @Column({ name: 'return_url', type: 'varchar', length: 2048, nullable: true })
  returnUrl!: string | null;

  @Column({ type: 'text', transformer: jsonText })
  metadata!: Record<string, string>;

  /** The hosted page where the customer authorizes the mandate. */
  @Column({ name: 'authorization_url', type: 'varchar', length: 2048, nullable: true })
  authorizationUrl!: string | null;

  @Column({ name: 'provider_subscription_id', type: 'varchar', length: 100, nullable: true })
  providerSubscriptionId!: string | null;

  @Column({ name: 'current_period_start', type: 'bigint', nullable: true, transformer: epochMs })
  currentPeriodStart!: Date | null;

  @Column({ name: 'current_period_end', type: 'bigint', nullable: true, transformer: epochMs })
  currentPeriodEnd!: Date | null;

  @Column({ name: 'next_billing_at', type: 'bigint', nullable: true, transformer: epochMs })
  nextBillingAt!: Date | null;

  @Column({ name: 'cancel_at_period_end', type: 'boolean' })
  cancelAtPeriodEnd!: boolean;

  @Column({ name: 'cancelled_at', type: 'bigint', nullable: true, transformer: epochMs })
  cancelledAt!: Date | null;

  @Column({ name: 'failed_renewal_count', type: 'integer', default: 0 })
  failedRenewalCount!: number;

  @Column({ name: 'pending_update', type: 'text', nullable: true, transformer: jsonText })
  pendingUpdate!: PendingTerms | null;

  /** Why UCanPay refused to create it (the subscription is then CANCELLED). */
  @Column({ name: 'failure_code', type: 'varchar', length: 64, nullable: true })
  failureCode!: string | null;

  @Column({ name: 'failure_message', type: 'varchar', length: 500, nullable: true })
  failureMessage!: string | null;

  /** Charges the provider has reported so far (freshness of snapshots). */
  @Column({ name: 'provider_charge_count', type: 'integer', default: 0 })
  providerChargeCount!: number;

  /** The provider's update time of the last applied snapshot. */
  @Column({ name: 'provider_updated_at', type: 'bigint', nullable: true, transformer: epochMs })
  providerUpdatedAt!: Date | null;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: Date;

  @Column({ name: 'synced_at', type: 'bigint', nullable: true, transformer: epochMs })
  syncedAt!: Date | null;
}
