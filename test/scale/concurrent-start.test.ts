import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { migrations } from '../../migrations';
import { dropPostgresSchema, freshPostgresSchema } from '../helpers/databases';

const opened: Database[] = [];
const schemas: string[] = [];
afterAll(async () => {
  await Promise.all(opened.map((db) => db.close()));
  for (const schema of schemas) await dropPostgresSchema(schema);
});

describe('instances starting at the same moment on a new PostgreSQL schema', () => {
  it('migrate once between them: every instance starts, each migration is applied once', async () => {
    const pg = await freshPostgresSchema('start');
    if (!pg) return;
    schemas.push(pg.schema);
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => openDatabase(pg)));
    for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const applied = await opened[0].dataSource.query('SELECT name FROM migrations ORDER BY id');
    expect(applied.map((r: { name: string }) => r.name)).toEqual(migrations.map((m) => m.name));
  });
});
