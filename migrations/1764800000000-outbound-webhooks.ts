import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Outbound webhooks: the merchants' endpoints, one delivery per (event,
 * endpoint) and each delivery's attempts (the delivery log). Named apart
 * from `webhook_events`, the inbox of UCanPay's webhooks.
 */
export class OutboundWebhooks1764800000000 implements MigrationInterface {
  name = 'OutboundWebhooks1764800000000';

  async up(q: QueryRunner): Promise<void> {
    const ms = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });
    await q.createTable(
      new Table({
        name: 'webhook_endpoints',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'merchant_id', type: 'varchar', length: '40' },
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'description', type: 'varchar', length: '500' },
          { name: 'event_types', type: 'text' },
          { name: 'enabled', type: 'boolean' },
          { name: 'disabled_reason', type: 'varchar', length: '200', isNullable: true },
          { name: 'payload_query', type: 'text', isNullable: true },
          { name: 'secret', type: 'varchar', length: '100' },
          { name: 'previous_secret', type: 'varchar', length: '100', isNullable: true },
          ms('previous_secret_expires_at', true),
          { name: 'consecutive_failures', type: 'integer' },
          ms('failing_since', true),
          { name: 'version', type: 'integer' },
          ms('created_at'),
          ms('updated_at'),
        ],
        indices: [new TableIndex({ name: 'ix_webhook_endpoints_merchant_created', columnNames: ['merchant_id', 'created_at', 'id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'merchant_id', type: 'varchar', length: '40' },
          { name: 'endpoint_id', type: 'varchar', length: '40' },
          { name: 'event_id', type: 'varchar', length: '40' },
          { name: 'event_type', type: 'varchar', length: '60' },
          { name: 'event', type: 'text' },
          { name: 'payload', type: 'text', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempt_count', type: 'integer' },
          ms('next_attempt_at', true),
          ms('retry_until'),
          ms('locked_until', true),
          { name: 'lease', type: 'varchar', length: '40', isNullable: true },
          ms('last_attempt_at', true),
          { name: 'last_http_status', type: 'integer', isNullable: true },
          { name: 'last_error', type: 'varchar', length: '500', isNullable: true },
          ms('created_at'),
          ms('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_webhook_deliveries_endpoint_event', columnNames: ['endpoint_id', 'event_id'], isUnique: true }),
          new TableIndex({ name: 'ix_webhook_deliveries_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({ name: 'ix_webhook_deliveries_merchant_created', columnNames: ['merchant_id', 'created_at', 'id'] }),
          // Retention: settled deliveries, oldest first.
          new TableIndex({ name: 'ix_webhook_deliveries_updated', columnNames: ['updated_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webhook_delivery_attempts',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'delivery_id', type: 'varchar', length: '40' },
          ms('started_at'),
          { name: 'duration_ms', type: 'integer' },
          { name: 'http_status', type: 'integer', isNullable: true },
          { name: 'response_excerpt', type: 'text', isNullable: true },
          { name: 'error', type: 'varchar', length: '500', isNullable: true },
          ms('next_retry_at', true),
        ],
        indices: [
          new TableIndex({ name: 'ix_webhook_delivery_attempts_delivery', columnNames: ['delivery_id', 'started_at'] }),
          new TableIndex({ name: 'ix_webhook_delivery_attempts_started', columnNames: ['started_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('webhook_delivery_attempts');
    await q.dropTable('webhook_deliveries');
    await q.dropTable('webhook_endpoints');
  }
}
