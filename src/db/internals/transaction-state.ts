import type { QueryRunner } from 'typeorm';

/**
 * After a failed ROLLBACK (SQLite may have rolled the transaction back on its
 * own, e.g. after SQLITE_FULL), TypeORM's query runner still believes a
 * transaction is open and would refuse to start the next one. This resets its
 * private bookkeeping (`isTransactionActive`, `transactionDepth`; TypeORM
 * internals, see README.md here).
 */
export function forgetFailedTransaction(runner: QueryRunner): void {
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  state.isTransactionActive = false;
  state.transactionDepth = 0;
}
