import { type MigrationInterface, type QueryRunner, Table, TableIndex, TableUnique } from 'typeorm';

/** Refunds of payments, and an index to find an idempotency claim by its resource (Table API: SQLite and PostgreSQL). */
export class Refunds1764200000000 implements MigrationInterface {
  name = 'Refunds1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const ms = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });
    await q.createTable(
      new Table({
        name: 'refunds',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'merchant_id', type: 'varchar', length: '40' },
          { name: 'payment_id', type: 'varchar', length: '40' },
          { name: 'merchant_reference', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'amount', type: 'integer' },
          { name: 'currency', type: 'varchar', length: '3' },
          { name: 'reason', type: 'varchar', length: '500' },
          { name: 'provider_refund_id', type: 'varchar', length: '100', isNullable: true },
          { name: 'failure_code', type: 'varchar', length: '64', isNullable: true },
          { name: 'failure_message', type: 'varchar', length: '500', isNullable: true },
          { name: 'version', type: 'integer' },
          ms('created_at'),
          ms('updated_at'),
          ms('succeeded_at', true),
          ms('synced_at', true),
        ],
        uniques: [new TableUnique({ name: 'uq_refunds_merchant_reference', columnNames: ['merchant_id', 'merchant_reference'] })],
        indices: [
          new TableIndex({ name: 'ix_refunds_payment', columnNames: ['payment_id', 'created_at'] }),
          new TableIndex({ name: 'ix_refunds_merchant_created', columnNames: ['merchant_id', 'created_at', 'id'] }),
          new TableIndex({ name: 'ix_refunds_status_updated', columnNames: ['status', 'updated_at'] }),
          new TableIndex({ name: 'ix_refunds_provider_refund', columnNames: ['provider_refund_id'] }),
        ],
      }),
    );
    // Reconciliation asks whether a resource's creation is still in flight.
    await q.createIndex('idempotency_keys', new TableIndex({ name: 'ix_idempotency_resource', columnNames: ['resource_id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('idempotency_keys', 'ix_idempotency_resource');
    await q.dropTable('refunds');
  }
}
