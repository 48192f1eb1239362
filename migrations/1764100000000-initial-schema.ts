import { type MigrationInterface, type QueryRunner, Table, TableIndex, TableUnique } from 'typeorm';

/**
 * Merchants, API keys, payments, idempotency keys and the webhook inbox.
 * Written with the Table API (no raw SQL) so it runs on SQLite and PostgreSQL.
 * Timestamps are bigint epoch milliseconds (see src/entities/columns.ts).
 */
export class InitialSchema1764100000000 implements MigrationInterface {
  name = 'InitialSchema1764100000000';

  async up(q: QueryRunner): Promise<void> {
    const id = { name: 'id', type: 'varchar', length: '40', isPrimary: true };
    const ms = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });

    await q.createTable(
      new Table({
        name: 'merchants',
        columns: [
          id,
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'ucanpay_merchant_id', type: 'varchar', length: '100' },
          { name: 'ucanpay_secret_key', type: 'varchar', length: '255' },
          { name: 'ucanpay_webhook_secret', type: 'varchar', length: '255' },
          ms('created_at'),
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          id,
          { name: 'merchant_id', type: 'varchar', length: '40' },
          { name: 'key_hash', type: 'varchar', length: '64' },
          { name: 'key_prefix', type: 'varchar', length: '16' },
          ms('created_at'),
          ms('revoked_at', true),
        ],
        uniques: [new TableUnique({ name: 'uq_api_keys_key_hash', columnNames: ['key_hash'] })],
        indices: [new TableIndex({ name: 'ix_api_keys_merchant', columnNames: ['merchant_id'] })],
      }),
    );

    await q.createTable(
      new Table({
        name: 'payments',
        columns: [
          id,
          { name: 'merchant_id', type: 'varchar', length: '40' },
          { name: 'merchant_reference', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '24' },
          { name: 'amount', type: 'integer' },
          { name: 'currency', type: 'varchar', length: '3' },
          { name: 'description', type: 'varchar', length: '500' },
          { name: 'return_url', type: 'varchar', length: '2048' },
          { name: 'metadata', type: 'text' },
          { name: 'expires_in_seconds', type: 'integer' },
          { name: 'client_secret', type: 'varchar', length: '100' },
          { name: 'provider_order_id', type: 'varchar', length: '100', isNullable: true },
          { name: 'checkout_url', type: 'varchar', length: '2048', isNullable: true },
          { name: 'transaction_id', type: 'varchar', length: '100', isNullable: true },
          { name: 'refunded_amount', type: 'integer', default: 0 },
          { name: 'failure_code', type: 'varchar', length: '64', isNullable: true },
          { name: 'failure_message', type: 'varchar', length: '500', isNullable: true },
          { name: 'version', type: 'integer' },
          ms('expires_at', true),
          ms('paid_at', true),
          ms('created_at'),
          ms('updated_at'),
          ms('synced_at', true),
        ],
        uniques: [new TableUnique({ name: 'uq_payments_merchant_reference', columnNames: ['merchant_id', 'merchant_reference'] })],
        indices: [
          new TableIndex({ name: 'ix_payments_merchant_created', columnNames: ['merchant_id', 'created_at', 'id'] }),
          new TableIndex({ name: 'ix_payments_status_updated', columnNames: ['status', 'updated_at'] }),
          new TableIndex({ name: 'ix_payments_provider_order', columnNames: ['provider_order_id'] }),
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'idempotency_keys',
        columns: [
          { name: 'merchant_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'key', type: 'varchar', length: '255', isPrimary: true },
          { name: 'operation', type: 'varchar', length: '40' },
          { name: 'request_hash', type: 'varchar', length: '64' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'resource_id', type: 'varchar', length: '40' },
          ms('locked_until'),
          ms('created_at'),
          ms('expires_at'),
        ],
        indices: [new TableIndex({ name: 'ix_idempotency_expires', columnNames: ['expires_at'] })],
      }),
    );

    await q.createTable(
      new Table({
        name: 'webhook_events',
        columns: [
          { name: 'merchant_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'event_id', type: 'varchar', length: '100', isPrimary: true },
          { name: 'type', type: 'varchar', length: '60' },
          { name: 'outcome', type: 'varchar', length: '16' },
          { name: 'object_id', type: 'varchar', length: '100', isNullable: true },
          ms('event_created_at'),
          ms('received_at'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['webhook_events', 'idempotency_keys', 'payments', 'api_keys', 'merchants']) {
      await q.dropTable(table);
    }
  }
}
