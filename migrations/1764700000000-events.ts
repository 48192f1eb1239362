import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * The event log (src/entities/event.entity.ts). Readers page by
 * (merchant, xid, seq), an object's timeline by (merchant, object, xid, seq),
 * and retention prunes by created_at.
 */
export class Events1764700000000 implements MigrationInterface {
  name = 'Events1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'events',
        columns: [
          // 64-bit on PostgreSQL (bigserial); SQLite's INTEGER rowid is 64-bit already (src/db/internals/wide-keys.ts).
          {
            name: 'seq',
            type: q.connection.driver.options.type === 'postgres' ? 'bigint' : 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'xid', type: 'bigint' },
          { name: 'id', type: 'varchar', length: '40' },
          { name: 'merchant_id', type: 'varchar', length: '40' },
          { name: 'type', type: 'varchar', length: '40' },
          { name: 'object_type', type: 'varchar', length: '24' },
          { name: 'object_id', type: 'varchar', length: '40' },
          { name: 'object_version', type: 'integer' },
          { name: 'data', type: 'text' },
          { name: 'cause_kind', type: 'varchar', length: '16' },
          { name: 'cause_id', type: 'varchar', length: '100', isNullable: true },
          { name: 'created_at', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'uq_events_id', columnNames: ['id'], isUnique: true }),
          new TableIndex({ name: 'ix_events_merchant_cursor', columnNames: ['merchant_id', 'xid', 'seq'] }),
          new TableIndex({ name: 'ix_events_merchant_object_cursor', columnNames: ['merchant_id', 'object_id', 'xid', 'seq'] }),
          new TableIndex({ name: 'ix_events_created', columnNames: ['created_at'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('events');
  }
}
