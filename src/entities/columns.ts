import type { ValueTransformer } from 'typeorm';

/**
 * Timestamps are stored as integer milliseconds since the epoch (`bigint`):
 * the one representation that SQLite and PostgreSQL store, compare and sort
 * identically, with no time-zone interpretation by either driver.
 */
export const epochMs: ValueTransformer = {
  to: (value: Date | null | undefined) => (value == null ? value : value.getTime()),
  from: (value: string | number | null) => (value == null ? null : new Date(Number(value))),
};

/** JSON kept in a text column, portable across SQLite and PostgreSQL. */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value == null ? null : JSON.stringify(value)),
  from: (value: string | null) => (value == null ? null : JSON.parse(value)),
};
