/** True when an insert lost to a unique or primary-key constraint, on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string }; message?: string };
  const code = e?.driverError?.code ?? e?.code;
  if (code === '23505') return true;
  return code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/i.test(e?.message ?? '');
}
