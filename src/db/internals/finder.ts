import type { DataSource, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';

/**
 * The fast single-row finder behind `Database.findOneBy`: a SELECT built
 * once per entity and column set from TypeORM's entity metadata, and rows
 * hydrated the way TypeORM hydrates them. Relies on TypeORM internals
 * (README.md here): `EntityMetadata.create({ fromDeserializer })`,
 * `ColumnMetadata.setEntityValue`, `driver.prepareHydratedValue`, `driver.escape`.
 */
export interface Finder {
  sql: string;
  columns: ColumnMetadata[];
}

/** The SELECT of `findOneBy` for one entity and column set; null when the entity is not a plain one-table row. */
export function compileFinder(dataSource: DataSource, metadata: EntityMetadata, keys: string[], forUpdate: boolean): Finder | null {
  if (metadata.relations.length || metadata.embeddeds.length || metadata.discriminatorColumn || metadata.treeType || !keys.length) return null;
  const keyColumns = keys.map((k) => metadata.findColumnWithPropertyName(k));
  if (keyColumns.some((c) => !c || c.transformer || c.isVirtual)) return null;
  const columns = metadata.columns.filter((c) => c.isSelect && !c.isVirtual);
  const driver = dataSource.driver;
  const postgres = dataSource.options.type === 'postgres';
  const table = quotedTablePath(dataSource, metadata);
  const where = keyColumns.map((c, i) => `${driver.escape(c!.databaseName)} = ${postgres ? `$${i + 1}` : '?'}`).join(' AND ');
  const select = columns.map((c) => driver.escape(c.databaseName)).join(', ');
  return { sql: `SELECT ${select} FROM ${table} WHERE ${where} LIMIT 1${forUpdate ? ' FOR UPDATE' : ''}`, columns };
}

/** One row of `finder.sql` as the entity TypeORM would have built (same driver conversions and transformers). */
export function hydrate<T extends ObjectLiteral>(dataSource: DataSource, metadata: EntityMetadata, finder: Finder, row: Record<string, unknown>): T {
  const entity = metadata.create(undefined, { fromDeserializer: true }) as T;
  const driver = dataSource.driver;
  for (const column of finder.columns) column.setEntityValue(entity, driver.prepareHydratedValue(row[column.databaseName], column));
  return entity;
}

/** The entity's table as hand-written SQL names it: schema-qualified (PostgreSQL), each part quoted by the driver. */
export function quotedTablePath(dataSource: DataSource, metadata: EntityMetadata): string {
  return metadata.tablePath
    .split('.')
    .map((part) => dataSource.driver.escape(part))
    .join('.');
}
