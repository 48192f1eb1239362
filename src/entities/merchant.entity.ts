import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from './columns';

/** A merchant using the gateway, with its credentials at UCanPay. */
@Entity({ name: 'merchants' })
export class MerchantEntity {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'ucanpay_merchant_id', type: 'varchar', length: 100 })
  ucanpayMerchantId!: string;

  /** Never logged, never returned by the API. */
  @Column({ name: 'ucanpay_secret_key', type: 'varchar', length: 255 })
  ucanpaySecretKey!: string;

  /** Verifies this merchant's webhooks. Never logged, never returned by the API. */
  @Column({ name: 'ucanpay_webhook_secret', type: 'varchar', length: 255 })
  ucanpayWebhookSecret!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: Date;
}
