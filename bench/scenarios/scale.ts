/**
 * Data-scale bench (`npm run bench -- --only=scale`): the same operations on
 * a database holding a year of data at two sizes (10,000 and 1,000,000
 * payments by default, same shapes: bench/lib/scale-seed.ts), on SQLite and
 * on PostgreSQL. Each operation runs one request at a time (no concurrency:
 * the cost of one operation, not throughput), after a warm-up; reported are
 * p50/p99, the gateway's CPU per operation (and PostgreSQL's, all of its
 * processes), the ratio large/small, and the plan of every statement each
 * operation sent at the large size.
 */
import { execSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { startServer } from '../lib/child';
import { gatewayEnv } from '../lib/gateway-env';
import { cpuSeconds } from '../lib/proc-stat';
import { percentile, round } from '../lib/stats';
import { paymentSucceeded, postWebhook } from '../lib/webhook-events';
import { seededCounts, type ScaleSizes } from '../lib/scale-seed';

export interface ScaleOp {
  p50: number;
  p99: number;
  n: number;
  cpuMsPerOp: number;
  pgCpuMsPerOp?: number;
  bad: number;
  detail?: string;
}

export interface ScaleRun {
  db: 'sqlite' | 'postgres';
  payments: number;
  seedS: number;
  rows: ReturnType<typeof seededCounts>;
  ops: Record<string, ScaleOp>;
  plans?: Record<string, Array<{ sql: string; plan: string }>>;
}

export interface ScaleResult {
  runs: ScaleRun[];
  /** Per database and operation: large/small of p50 and of CPU per operation. */
  ratios: Array<{ db: string; op: string; p50: number; cpu: number }>;
  notes: string[];
}

export const SCALE_OPS = [
  'payment(id)',
  'payments(first: 50)',
  'payments(status: PENDING)',
  'payments(status: PAID)',
  'payments(created window)',
  'payments, 100th page by cursor',
  'refunds(paymentId)',
  'subscriptions(customerId)',
  'webhook apply',
  'createPayment',
  'reconciliation due rows',
  'retention batch',
] as const;

interface Ready {
  graphqlUrl: string;
  url: string;
  merchantId: string;
  apiKey: string;
  webhookSecret: string;
  kind: 'sqlite' | 'postgres';
  pid: number;
}

const pad26 = (n: number) => String(n).padStart(26, '0');
const DAY = 86_400_000;

/** CPU seconds of each PostgreSQL process on this machine, by pid (the server is shared with other users). */
export function pgCpu(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const pid of execSync('pgrep -x postgres', { encoding: 'utf8' }).trim().split(/\s+/).map(Number)) {
      try {
        out.set(pid, cpuSeconds(pid));
      } catch {
        // ended meanwhile
      }
    }
  } catch {
    // no pgrep, or no postgres processes visible
  }
  return out;
}

/** CPU seconds PostgreSQL used since `before`, over the processes alive at both readings. */
export function pgCpuSince(before: Map<number, number>): number {
  let sum = 0;
  for (const [pid, cpu] of pgCpu()) if (before.has(pid)) sum += cpu - before.get(pid)!;
  return sum;
}

async function gql(ready: Ready, query: string, variables: Record<string, unknown>): Promise<{ ok: boolean; data?: any }> {
  const res = await fetch(ready.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ready.apiKey}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await res.json()) as { data?: any; errors?: unknown };
  return { ok: res.ok && !json.errors && json.data !== undefined, data: json.data };
}

const PAYMENT_FIELDS = 'id status amount currency merchantReference createdAt version';
const Q = {
  payment: `query($id: ID!) { payment(id: $id) { ${PAYMENT_FIELDS} } }`,
  payments: `query($first: Int, $after: String, $status: PaymentStatus, $createdAfter: DateTimeISO, $createdBefore: DateTimeISO) {
    payments(first: $first, after: $after, status: $status, createdAfter: $createdAfter, createdBefore: $createdBefore) { edges { node { ${PAYMENT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
  refunds: `query($paymentId: ID) { refunds(paymentId: $paymentId, first: 50) { edges { node { id status amount } } } }`,
  subscriptions: `query($customerId: String) { subscriptions(customerId: $customerId, first: 50) { edges { node { id status amount } } } }`,
  create: `mutation($input: CreatePaymentInput!) { createPayment(input: $input) { __typename ... on CreatePaymentPayload { payment { id status } } } }`,
};

/** The big merchant's n-th seeded payment number (n % 10 < 9 belongs to it). */
const bigPayment = (i: number, n: number) => {
  let k = Math.floor((((i * 7919) % n) + n) % n);
  while (k % 10 >= 9) k = (k + 1) % n;
  return k;
};

export async function runScaleOnce(options: {
  db: 'sqlite' | 'postgres';
  sizes: ScaleSizes;
  iterations: number;
  withPlans: boolean;
  postgresUrl: string;
  log: (line: string) => void;
  notes: string[];
}): Promise<ScaleRun> {
  const { sizes, iterations, log } = options;
  let schema: string | undefined;
  const env = gatewayEnv();
  if (options.db === 'postgres') {
    schema = `bench_scale_${randomBytes(4).toString('hex')}`;
    const c = new Client({ connectionString: options.postgresUrl });
    await c.connect();
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.end();
    const url = new URL(options.postgresUrl);
    url.searchParams.set('schema', schema);
    url.searchParams.set('options', `-c search_path=${schema}`);
    env.BENCH_DATABASE_URL = url.toString();
  }
  const child = await startServer<Ready>('scale-gateway.ts', { env, startTimeoutMs: 120_000 });
  const ready = child.ready;
  try {
    const now = Date.now();
    log(`  ${options.db}, ${sizes.payments.toLocaleString('en')} payments: seeding…`);
    const seeded = await child.call<{ ms: number }>('seed', { sizes, now }, 900_000);
    log(`  seeded in ${(seeded.ms / 1000).toFixed(1)} s`);
    const n = sizes.payments;
    const counts = seededCounts(sizes);
    // The cursor of the 100th page (untimed walk over the first 99).
    let cursor: string | null = null;
    for (let page = 0; page < 99; page++) {
      const r: { data?: any } = await gql(ready, Q.payments, { first: 50, after: cursor });
      cursor = r.data?.payments?.pageInfo?.endCursor ?? null;
      if (!cursor) break;
    }
    const windowVars = { createdAfter: new Date(now - 200 * DAY).toISOString(), createdBefore: new Date(now - 170 * DAY).toISOString() };
    const refundPayments = Array.from({ length: 400 }, (_, i) => {
      const k = (i * 331) % counts.refunds;
      return Math.floor(k / 20) * 100 + 70 + (k % 20);
    }).filter((p) => p % 10 < 9);
    const customers = Array.from({ length: 400 }, (_, i) => (i * 97) % Math.max(1, Math.floor(counts.subscriptions / 2))).filter((k) => k % 5 < 4);
    const pending = Array.from({ length: sizes.pending }, (_, i) => n + i).filter((p) => p % 10 < 9);

    const httpOps: Record<string, (i: number) => Promise<boolean>> = {
      'payment(id)': async (i) => (await gql(ready, Q.payment, { id: `pay_${pad26(bigPayment(i, n))}` })).data?.payment?.id !== undefined,
      'payments(first: 50)': async () => (await gql(ready, Q.payments, { first: 50 })).data?.payments?.edges?.length === 50,
      'payments(status: PENDING)': async () => (await gql(ready, Q.payments, { first: 50, status: 'PENDING' })).data?.payments?.edges?.length > 0,
      'payments(status: PAID)': async () => (await gql(ready, Q.payments, { first: 50, status: 'PAID' })).data?.payments?.edges?.length === 50,
      'payments(created window)': async () => (await gql(ready, Q.payments, { first: 50, ...windowVars })).data?.payments?.edges?.length === 50,
      'payments, 100th page by cursor': async () => (await gql(ready, Q.payments, { first: 50, after: cursor })).data?.payments?.edges?.length === 50,
      'refunds(paymentId)': async (i) =>
        (await gql(ready, Q.refunds, { paymentId: `pay_${pad26(refundPayments[i % refundPayments.length])}` })).data?.refunds?.edges?.length > 0,
      'subscriptions(customerId)': async (i) =>
        (await gql(ready, Q.subscriptions, { customerId: `cus_${customers[i % customers.length]}` })).data?.subscriptions?.edges?.length > 0,
      'webhook apply': async (i) => {
        const p = pending[i % pending.length];
        const event = paymentSucceeded(
          { id: `pay_${pad26(p)}`, orderId: `ord_seed_${p}`, reference: `ord-${p}`, amount: 500 + (p % 50) * 100, currency: 'USD' },
          ready.webhookSecret,
        );
        const r = await postWebhook(`${ready.url}/webhooks/ucanpay/${ready.merchantId}`, event);
        return r.status === 200 && (r.outcome === 'applied' || (i >= pending.length && r.outcome === 'unchanged'));
      },
      createPayment: async (i) =>
        (
          await gql(ready, Q.create, {
            input: { amount: 1999, currency: 'USD', description: 'Scale', returnUrl: 'https://shop.example/return', idempotencyKey: `scale-${now}-${i}` },
          })
        ).data?.createPayment?.__typename === 'CreatePaymentPayload',
    };
    const ops: Record<string, ScaleOp> = {};
    const plans: Record<string, Array<{ sql: string; plan: string }>> = {};
    for (const [name, op] of Object.entries(httpOps)) {
      // webhook apply consumes PENDING payments: the warm-up and the plan use the last ones, the timed run the first.
      const count = name === 'webhook apply' ? Math.min(iterations, pending.length - 12) : name === 'createPayment' ? Math.min(iterations, 100) : iterations;
      for (let w = 0; w < 10; w++) await op(name === 'webhook apply' ? pending.length - 1 - w : w + 1000);
      if (options.withPlans) {
        await child.call('recordStart', {});
        await op(name === 'webhook apply' ? pending.length - 11 : 2000);
        plans[name] = await child.call('recordStop', {});
      }
      const ms: number[] = [];
      let bad = 0;
      const cpu0 = cpuSeconds(ready.pid);
      const pg0 = pgCpu();
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        if (!(await op(i))) bad++;
        ms.push(performance.now() - t0);
      }
      const cpuMsPerOp = ((cpuSeconds(ready.pid) - cpu0) * 1000) / count;
      const pgCpuMsPerOp = options.db === 'postgres' ? (pgCpuSince(pg0) * 1000) / count : undefined;
      ops[name] = {
        p50: round(percentile(ms, 50), 3),
        p99: round(percentile(ms, 99), 3),
        n: count,
        cpuMsPerOp: round(cpuMsPerOp, 3),
        pgCpuMsPerOp: pgCpuMsPerOp === undefined ? undefined : round(pgCpuMsPerOp, 3),
        bad,
      };
    }
    for (const [name, cmd] of [
      ['reconciliation due rows', 'reconcileDue'],
      ['retention batch', 'retentionBatches'],
    ] as const) {
      if (options.withPlans) {
        await child.call('recordStart', {});
        await child.call(cmd, { n: 2 }, 120_000);
        plans[name] = await child.call('recordStop', {});
      }
      // Retention: 10 full batches per table (the small size has 5,000 expired keys); an empty batch would flatter the small size.
      const count = name === 'retention batch' ? 20 : iterations;
      const pg0 = pgCpu();
      const t = await child.call<{ ms: number[]; cpuMs: number; detail?: string }>(cmd, { n: count }, 300_000);
      ops[name] = {
        p50: round(percentile(t.ms, 50), 3),
        p99: round(percentile(t.ms, 99), 3),
        n: count,
        cpuMsPerOp: round(t.cpuMs / count, 3),
        pgCpuMsPerOp: options.db === 'postgres' ? round((pgCpuSince(pg0) * 1000) / count, 3) : undefined,
        bad: 0,
        detail: t.detail,
      };
    }
    return { db: options.db, payments: n, seedS: round(seeded.ms / 1000, 1), rows: counts, ops, plans: options.withPlans ? plans : undefined };
  } finally {
    await child.stop();
    if (schema) {
      const c = new Client({ connectionString: options.postgresUrl });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
  }
}

/** Whether PostgreSQL answers at `url`. */
export async function postgresReachable(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

export function scaleRatios(runs: ScaleRun[]): ScaleResult['ratios'] {
  const out: ScaleResult['ratios'] = [];
  for (const db of ['sqlite', 'postgres'] as const) {
    const mine = runs.filter((r) => r.db === db).sort((a, b) => a.payments - b.payments);
    if (mine.length < 2) continue;
    const [small, large] = [mine[0], mine[mine.length - 1]];
    for (const op of SCALE_OPS) {
      const s = small.ops[op];
      const l = large.ops[op];
      if (!s || !l) continue;
      out.push({ db, op, p50: round(l.p50 / s.p50, 2), cpu: round(l.cpuMsPerOp / s.cpuMsPerOp, 2) });
    }
  }
  return out;
}
