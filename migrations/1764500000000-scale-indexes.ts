import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * Indexes for cost that stays flat as the data grows (Table API: SQLite and
 * PostgreSQL). Each one serves a hot statement that test/db/query-plans.test.ts
 * checks with EXPLAIN:
 * - status-filtered lists, newest first (payments, refunds, subscriptions):
 *   (merchant, status, created_at, id) reads one page in order; without it a
 *   rare status (PENDING) walks every row of the merchant to find 50;
 * - a customer's subscriptions and a payment's refunds, newest first: the
 *   index now ends in (created_at, id), the full sort order of the page, so
 *   nothing is sorted;
 * - the webhook inbox by receipt time: the retention pass deletes the oldest
 *   events in bounded batches without scanning the inbox;
 * - UCanPay's ids per merchant: a webhook finds its payment, refund or
 *   subscription by (merchant, UCanPay id). With the id alone indexed,
 *   SQLite (no statistics) rated "merchant_id = ?" on a merchant index as
 *   good and walked all the merchant's payments.
 *
 * On SQLite, without statistics, two indexes that both serve a query can
 * cost the same to the planner, and the one created first wins:
 * ix_payments_merchant_created is rebuilt after the status index so that a
 * status filter in a created window takes (merchant, status, window), not
 * every status of the window.
 */
export class ScaleIndexes1764500000000 implements MigrationInterface {
  name = 'ScaleIndexes1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'payments',
      new TableIndex({ name: 'ix_payments_merchant_status_created', columnNames: ['merchant_id', 'status', 'created_at', 'id'] }),
    );
    await q.dropIndex('payments', 'ix_payments_merchant_created');
    await q.createIndex('payments', new TableIndex({ name: 'ix_payments_merchant_created', columnNames: ['merchant_id', 'created_at', 'id'] }));
    await q.dropIndex('payments', 'ix_payments_provider_order');
    await q.createIndex('payments', new TableIndex({ name: 'ix_payments_merchant_provider_order', columnNames: ['merchant_id', 'provider_order_id'] }));
    await q.dropIndex('refunds', 'ix_refunds_provider_refund');
    await q.createIndex('refunds', new TableIndex({ name: 'ix_refunds_merchant_provider_refund', columnNames: ['merchant_id', 'provider_refund_id'] }));
    await q.dropIndex('billing_subscriptions', 'ix_billing_subscriptions_provider');
    await q.createIndex(
      'billing_subscriptions',
      new TableIndex({ name: 'ix_billing_subscriptions_merchant_provider', columnNames: ['merchant_id', 'provider_subscription_id'] }),
    );
    await q.createIndex('refunds', new TableIndex({ name: 'ix_refunds_merchant_status_created', columnNames: ['merchant_id', 'status', 'created_at', 'id'] }));
    await q.dropIndex('refunds', 'ix_refunds_payment');
    await q.createIndex('refunds', new TableIndex({ name: 'ix_refunds_payment_created', columnNames: ['payment_id', 'created_at', 'id'] }));
    await q.createIndex(
      'billing_subscriptions',
      new TableIndex({ name: 'ix_billing_subscriptions_merchant_status_created', columnNames: ['merchant_id', 'status', 'created_at', 'id'] }),
    );
    await q.dropIndex('billing_subscriptions', 'ix_billing_subscriptions_customer');
    await q.createIndex(
      'billing_subscriptions',
      new TableIndex({ name: 'ix_billing_subscriptions_customer_created', columnNames: ['merchant_id', 'customer_id', 'created_at', 'id'] }),
    );
    await q.createIndex('webhook_events', new TableIndex({ name: 'ix_webhook_events_received', columnNames: ['received_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('webhook_events', 'ix_webhook_events_received');
    await q.dropIndex('billing_subscriptions', 'ix_billing_subscriptions_customer_created');
    await q.createIndex('billing_subscriptions', new TableIndex({ name: 'ix_billing_subscriptions_customer', columnNames: ['merchant_id', 'customer_id'] }));
    await q.dropIndex('billing_subscriptions', 'ix_billing_subscriptions_merchant_status_created');
    await q.dropIndex('refunds', 'ix_refunds_payment_created');
    await q.createIndex('refunds', new TableIndex({ name: 'ix_refunds_payment', columnNames: ['payment_id', 'created_at'] }));
    await q.dropIndex('refunds', 'ix_refunds_merchant_status_created');
    await q.dropIndex('billing_subscriptions', 'ix_billing_subscriptions_merchant_provider');
    await q.createIndex('billing_subscriptions', new TableIndex({ name: 'ix_billing_subscriptions_provider', columnNames: ['provider_subscription_id'] }));
    await q.dropIndex('refunds', 'ix_refunds_merchant_provider_refund');
    await q.createIndex('refunds', new TableIndex({ name: 'ix_refunds_provider_refund', columnNames: ['provider_refund_id'] }));
    await q.dropIndex('payments', 'ix_payments_merchant_provider_order');
    await q.createIndex('payments', new TableIndex({ name: 'ix_payments_provider_order', columnNames: ['provider_order_id'] }));
    await q.dropIndex('payments', 'ix_payments_merchant_status_created');
  }
}
