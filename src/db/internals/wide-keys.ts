import type { DataSource } from 'typeorm';

/**
 * Generated keys that must be 64-bit on PostgreSQL but cannot be declared so
 * for SQLite: an AUTOINCREMENT key there must be exactly INTEGER (already
 * 64-bit), while PostgreSQL's INTEGER is 32-bit and a busy event log would
 * run its sequence out (2^31 events: under a month at 1,000 a second). The
 * entity says `integer`; the migration builds `bigint` on PostgreSQL; this
 * makes the entity metadata say the same, so the schema comparison (the
 * migrations test) sees no difference. Relies on `ColumnMetadata.type`
 * being the type TypeORM compares (README.md).
 */
const WIDE_ON_POSTGRES: ReadonlyArray<{ table: string; column: string }> = [{ table: 'events', column: 'seq' }];

export function widenKeysForPostgres(dataSource: DataSource): void {
  for (const { table, column } of WIDE_ON_POSTGRES) {
    const metadata = dataSource.entityMetadatas.find((m) => m.tableName === table);
    const key = metadata?.columns.find((c) => c.databaseName === column);
    if (!key) throw new Error(`internals/wide-keys.ts: no column ${table}.${column} in the entity metadata`);
    key.type = 'bigint';
  }
}
