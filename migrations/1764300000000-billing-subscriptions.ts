import { type MigrationInterface, type QueryRunner, Table, TableIndex, TableUnique } from 'typeorm';

/** Billing subscriptions and their charges (Table API: runs on SQLite and PostgreSQL). */
export class BillingSubscriptions1764300000000 implements MigrationInterface {
  name = 'BillingSubscriptions1764300000000';

  async up(q: QueryRunner): Promise<void> {
    const ms = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });
    await q.createTable(
      new Table({
        name: 'billing_subscriptions',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'merchant_id', type: 'varchar', length: '40' },
          { name: 'merchant_reference', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '24' },
          { name: 'customer_id', type: 'varchar', length: '100' },
          { name: 'customer_email', type: 'varchar', length: '254' },
          { name: 'customer_name', type: 'varchar', length: '200' },
          { name: 'amount', type: 'integer' },
          { name: 'currency', type: 'varchar', length: '3' },
          { name: 'billing_interval', type: 'varchar', length: '8' },
          { name: 'interval_count', type: 'integer' },
          { name: 'start_date', type: 'varchar', length: '10' },
          { name: 'trial_days', type: 'integer' },
          { name: 'return_url', type: 'varchar', length: '2048', isNullable: true },
          { name: 'metadata', type: 'text' },
          { name: 'authorization_url', type: 'varchar', length: '2048', isNullable: true },
          { name: 'provider_subscription_id', type: 'varchar', length: '100', isNullable: true },
          ms('current_period_start', true),
          ms('current_period_end', true),
          ms('next_billing_at', true),
          { name: 'cancel_at_period_end', type: 'boolean' },
          ms('cancelled_at', true),
          { name: 'failed_renewal_count', type: 'integer', default: 0 },
          { name: 'pending_update', type: 'text', isNullable: true },
          { name: 'failure_code', type: 'varchar', length: '64', isNullable: true },
          { name: 'failure_message', type: 'varchar', length: '500', isNullable: true },
          { name: 'provider_charge_count', type: 'integer', default: 0 },
          ms('provider_updated_at', true),
          { name: 'version', type: 'integer' },
          ms('created_at'),
          ms('updated_at'),
          ms('synced_at', true),
        ],
        uniques: [new TableUnique({ name: 'uq_billing_subscriptions_merchant_reference', columnNames: ['merchant_id', 'merchant_reference'] })],
        indices: [
          new TableIndex({ name: 'ix_billing_subscriptions_merchant_created', columnNames: ['merchant_id', 'created_at', 'id'] }),
          new TableIndex({ name: 'ix_billing_subscriptions_customer', columnNames: ['merchant_id', 'customer_id'] }),
          new TableIndex({ name: 'ix_billing_subscriptions_status_billing', columnNames: ['status', 'next_billing_at'] }),
          new TableIndex({ name: 'ix_billing_subscriptions_provider', columnNames: ['provider_subscription_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'subscription_charges',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'merchant_id', type: 'varchar', length: '40' },
          { name: 'subscription_id', type: 'varchar', length: '40' },
          { name: 'provider_charge_id', type: 'varchar', length: '100' },
          { name: 'amount', type: 'integer' },
          { name: 'currency', type: 'varchar', length: '3' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'failure_code', type: 'varchar', length: '64', isNullable: true },
          ms('period_start'),
          ms('period_end'),
          ms('created_at'),
        ],
        uniques: [new TableUnique({ name: 'uq_subscription_charges_provider', columnNames: ['merchant_id', 'provider_charge_id'] })],
        indices: [new TableIndex({ name: 'ix_subscription_charges_subscription', columnNames: ['subscription_id', 'created_at'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('subscription_charges');
    await q.dropTable('billing_subscriptions');
  }
}
