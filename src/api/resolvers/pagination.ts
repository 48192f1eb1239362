import { invalidInput } from '../../domain/errors';

export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined, fallback = 20): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) throw invalidInput('first', `must be from 1 to ${MAX_PAGE_SIZE}`);
  return first;
}
