import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { GatewayError } from '../domain/errors';

export interface Page<T> {
  edges: Array<{ node: T; cursor: string }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

type Row = ObjectLiteral & { id: string; createdAt: Date };

/**
 * Keyset pagination, newest first, on (created_at, id): stable under inserts,
 * no OFFSET. The cursor is opaque to clients (base64url of "<ms>:<id>").
 */
export async function paginate<T extends Row>(
  qb: SelectQueryBuilder<T>,
  alias: string,
  options: { first: number; after?: string | null; idPrefix: string },
): Promise<Page<T>> {
  const { first } = options;
  qb.orderBy(`${alias}.created_at`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .take(first + 1);
  if (options.after) {
    const cursor = decodeCursor(options.after, options.idPrefix);
    qb.andWhere(`(${alias}.created_at < :cAt OR (${alias}.created_at = :cAt AND ${alias}.id < :cId))`, {
      cAt: cursor.createdAt,
      cId: cursor.id,
    });
  }
  const rows = await qb.getMany();
  const page = rows.slice(0, first);
  return {
    edges: page.map((node) => ({ node, cursor: encodeCursor(node) })),
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: Boolean(options.after),
      startCursor: page.length ? encodeCursor(page[0]) : null,
      endCursor: page.length ? encodeCursor(page[page.length - 1]) : null,
    },
  };
}

function encodeCursor(row: Row): string {
  return Buffer.from(`${row.createdAt.getTime()}:${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string, idPrefix: string): { createdAt: number; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  if (!/^\d{1,15}$/.test(at ?? '') || !new RegExp(`^${idPrefix}_[0-9a-z]{26}$`).test(id ?? '')) {
    throw new GatewayError('BAD_USER_INPUT', 'after is not a cursor returned by this API', { field: 'after' });
  }
  return { createdAt: Number(at), id };
}
