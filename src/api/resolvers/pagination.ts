import { ArgsType, Field, Int } from 'type-graphql';
import { invalidInput } from '../../domain/errors';

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

/** The Relay page arguments every list takes; a list's own args class extends it with its filters. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page; null = the first page.' })
  after?: string | null;
}

export function pageSize(first: number | null | undefined, fallback = DEFAULT_PAGE_SIZE): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) throw invalidInput('first', `must be from 1 to ${MAX_PAGE_SIZE}`);
  return first;
}
