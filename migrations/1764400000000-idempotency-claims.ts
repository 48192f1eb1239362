import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * Idempotency claims learn who holds them and what a refusal was:
 * `owner` + `boot` (a restarted instance knows its dead claims at once),
 * `token` (fences a late writer after a takeover), `outcome` (a typed refusal
 * replayed for the same key and input).
 */
export class IdempotencyClaims1764400000000 implements MigrationInterface {
  name = 'IdempotencyClaims1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('idempotency_keys', [
      new TableColumn({ name: 'owner', type: 'varchar', length: '100', isNullable: true }),
      new TableColumn({ name: 'boot', type: 'varchar', length: '40', isNullable: true }),
      new TableColumn({ name: 'token', type: 'varchar', length: '40', isNullable: true }),
      new TableColumn({ name: 'outcome', type: 'text', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const column of ['outcome', 'token', 'boot', 'owner']) await q.dropColumn('idempotency_keys', column);
  }
}
