/**
 * What a database driver's error means, decided from its code alone: a pure
 * table of codes (like the error tables beside it), so the database layer
 * (metrics, retries) and the API's error formatting (DATABASE_BUSY) read the
 * same answer, and the api layer never imports db/.
 */

/** The driver's code, on the error itself or on TypeORM's wrapper (`driverError`). */
function driverCode(error: unknown): unknown {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  return e?.driverError?.code ?? e?.code;
}

/** True when an insert lost to a unique or primary-key constraint, on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverCode(error);
  if (code === '23505') return true;
  return code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/i.test((error as { message?: string } | null)?.message ?? '');
}

/** SQLite's "database is locked" after its busy timeout. */
export function isDatabaseBusy(error: unknown): boolean {
  const code = driverCode(error);
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}
