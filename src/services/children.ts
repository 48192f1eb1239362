import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { Database } from '../db/database';

/**
 * The children of many parents in one query, grouped per parent in the order
 * of `parentIds` (what a DataLoader batch function returns). `orderBy` is a
 * list of raw column names, ascending.
 */
export async function childrenOf<T extends ObjectLiteral>(
  db: Database,
  entity: EntityTarget<T>,
  parent: { column: string; key: keyof T },
  parentIds: readonly string[],
  orderBy: string[],
): Promise<T[][]> {
  const qb = db.manager.createQueryBuilder(entity, 'c').where(`c.${parent.column} IN (:...ids)`, { ids: [...parentIds] });
  orderBy.forEach((column, i) => (i === 0 ? qb.orderBy(`c.${column}`, 'ASC') : qb.addOrderBy(`c.${column}`, 'ASC')));
  const groups = new Map<string, T[]>(parentIds.map((id) => [id, []]));
  for (const row of await qb.getMany()) groups.get(row[parent.key] as string)?.push(row);
  return parentIds.map((id) => groups.get(id)!);
}
