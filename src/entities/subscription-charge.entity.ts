import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { epochMs } from './columns';

/** One charge of a billing subscription (first period or renewal), recorded once per provider charge id. */
@Entity({ name: 'subscription_charges' })
@Unique('uq_subscription_charges_provider', ['merchantId', 'providerChargeId'])
@Index('ix_subscription_charges_subscription', ['subscriptionId', 'createdAt'])
export class SubscriptionChargeEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ name: 'merchant_id', type: 'varchar', length: 40 })
  merchantId!: string;

  @Column({ name: 'subscription_id', type: 'varchar', length: 40 })
  subscriptionId!: string;

  @Column({ name: 'provider_charge_id', type: 'varchar', length: 100 })
  providerChargeId!: string;

  /** Integer minor units of `currency`. */
  @Column({ type: 'integer' })
  amount!: number;

  @Column({ type: 'varchar', length: 3 })
  currency!: string;

  /** SUCCEEDED, FAILED or PENDING (as UCanPay reports it). */
  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'failure_code', type: 'varchar', length: 64, nullable: true })
  failureCode!: string | null;

  @Column({ name: 'period_start', type: 'bigint', transformer: epochMs })
  periodStart!: Date;

  @Column({ name: 'period_end', type: 'bigint', transformer: epochMs })
  periodEnd!: Date;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;
}
