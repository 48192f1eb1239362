/**
 * The gateway of the data-scale bench (`--only=scale`): the project's own
 * `createApp` with the embedded sandbox, on SQLite (a fresh file) or
 * PostgreSQL (`BENCH_DATABASE_URL`, a fresh schema), plus bench-only IPC
 * commands: seed a year of data in SQL (bench/lib/scale-seed.ts), time the
 * in-process operations (reconciliation's due-row claims, retention
 * batches), record the SQL the gateway sends and explain it.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { claimDue, type ReconcileKind } from '../../src/services/reconciliation.service';
import { seedScale, type ScaleSizes } from '../lib/scale-seed';
import { failed, serve } from './ipc';

let app: App | undefined;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-bench-scale-'));

/** Statements (text + parameters) TypeORM sent while recording. */
let recorded: Array<{ sql: string; params: unknown[] }> | null = null;

function installRecorder(a: App): void {
  const logger: TypeOrmLogger = {
    logQuery: (sql, params) => void recorded?.push({ sql, params: params ?? [] }),
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  };
  for (const ds of new Set([a.db.dataSource, a.db.readDataSource])) (ds as { logger: TypeOrmLogger }).logger = logger;
}

const normalize = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const explainable = (sql: string) => /^(SELECT|UPDATE|DELETE)\b/i.test(sql) && !/pg_advisory|^SELECT 1$/i.test(sql);

/** The plan of each distinct statement recorded (SQLite EXPLAIN QUERY PLAN, PostgreSQL EXPLAIN). */
async function explainRecorded(statements: Array<{ sql: string; params: unknown[] }>): Promise<Array<{ sql: string; plan: string }>> {
  const db = app!.db;
  const seen = new Map<string, { sql: string; params: unknown[] }>();
  for (const s of statements) if (explainable(normalize(s.sql)) && !seen.has(normalize(s.sql))) seen.set(normalize(s.sql), s);
  const out: Array<{ sql: string; plan: string }> = [];
  for (const [text, s] of seen) {
    if (db.kind === 'sqlite') {
      const rows = (await db.dataSource.query(`EXPLAIN QUERY PLAN ${s.sql}`, s.params)) as Array<{ detail: string }>;
      out.push({ sql: text, plan: rows.map((r) => r.detail).join('\n') });
    } else {
      const rows = (await db.dataSource.query(`EXPLAIN ${s.sql}`, s.params)) as Array<{ 'QUERY PLAN': string }>;
      out.push({ sql: text, plan: rows.map((r) => r['QUERY PLAN']).join('\n') });
    }
  }
  return out;
}

interface Timed {
  ms: number[];
  cpuMs: number;
  detail?: string;
}

/** Runs `fn` n times one after another: wall time of each, and the process's CPU over all. */
async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<Timed> {
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    ms.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function seed(args: { sizes: ScaleSizes; now: number }): Promise<{ ms: number }> {
  const a = app!;
  const t0 = performance.now();
  // The seeded ids are in random order (as UCanPay's and clients' are), so each insert lands on a random page of
  // the key indexes: with SQLite's 2 MB page cache, 1,000,000 payments took 215 s instead of ~40. Seeding only
  // (it is untimed): the gateway's own cache size is restored before anything is measured.
  const sqlite = a.db.kind === 'sqlite';
  const [{ cache_size: cacheSize }] = sqlite ? ((await a.db.dataSource.query('PRAGMA cache_size')) as Array<{ cache_size: number }>) : [{ cache_size: 0 }];
  if (sqlite) await a.db.dataSource.query('PRAGMA cache_size = -262144');
  try {
    await seedScale({
      kind: a.db.kind,
      exec: (sql) => a.db.transaction((tx) => tx.manager.query(sql)),
      bigMerchantId: a.demo.merchantId,
      sizes: args.sizes,
      now: args.now,
    });
  } finally {
    if (sqlite) await a.db.dataSource.query(`PRAGMA cache_size = ${Number(cacheSize)}`);
  }
  // A database a year in has statistics (autovacuum's ANALYZE on PostgreSQL); SQLite runs without, as the gateway does.
  if (a.db.kind === 'postgres') await a.db.dataSource.query('ANALYZE');
  return { ms: performance.now() - t0 };
}

/** Reconciliation's due-row claims, one per kind, as a pass makes them (nothing due in the seeded data: the query cost alone). */
async function reconcileDue(args: { n: number }): Promise<Timed> {
  const a = app!;
  const kinds = (a.services.reconciliation as unknown as { kinds: ReconcileKind[] }).kinds;
  let claimed = 0;
  const result = await timed(args.n, async () => {
    const now = Date.now();
    for (const kind of kinds) claimed += (await claimDue(a.db, kind, { take: 100, times: { now, staleBefore: now - 300_000 }, leaseMs: 300_000 })).length;
  });
  return { ...result, detail: `${claimed} rows claimed` };
}

/** Single retention batches (at most 500 rows each) on each table. */
async function retentionBatches(args: { n: number }): Promise<Timed> {
  const a = app!;
  const service = a.services.retention as unknown as {
    targets: unknown[];
    deleteBatch(target: unknown, now: number, from: number | undefined): Promise<{ deleted: number; from: number | undefined }>;
  };
  let deleted = 0;
  const from = new Map<unknown, number | undefined>();
  const result = await timed(args.n, async (i) => {
    const target = service.targets[i % service.targets.length];
    const r = await service.deleteBatch(target, Date.now(), from.get(target));
    from.set(target, r.from);
    deleted += r.deleted;
  });
  return { ...result, detail: `${deleted} rows deleted` };
}

async function main() {
  const url = process.env.BENCH_DATABASE_URL;
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    UCANPAY_SANDBOX_PORT: '0',
    DATABASE_URL: url || `sqlite:${path.join(dir, 'gateway.sqlite')}`,
    SANDBOX_DB: path.join(dir, 'sandbox.sqlite'),
    RETENTION_INTERVAL_MS: '0',
  } as Record<string, string>);
  app = await createApp(config, { dataDir: dir });
  installRecorder(app);
  const ipc = serve(
    {
      seed,
      reconcileDue,
      retentionBatches,
      recordStart: () => {
        recorded = [];
        return true;
      },
      recordStop: async () => {
        const statements = recorded ?? [];
        recorded = null;
        return explainRecorded(statements);
      },
      cpuMs: () => {
        const c = process.cpuUsage();
        return (c.user + c.system) / 1000;
      },
    },
    async () => {
      await app?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
  ipc.ready({
    url: app.url,
    graphqlUrl: app.graphqlUrl,
    merchantId: app.demo.merchantId,
    apiKey: app.demo.apiKey ?? process.env.DEMO_MERCHANT_API_KEY,
    webhookSecret: config.ucanpay.webhookSecret,
    kind: app.db.kind,
    pid: process.pid,
  });
}

main().catch((error) => {
  fs.rmSync(dir, { recursive: true, force: true });
  failed(error);
});
