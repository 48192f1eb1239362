/**
 * Query plans of the hot paths, on SQLite and PostgreSQL. The statements are
 * not copies: a logger on TypeORM records every SQL statement (with its
 * parameters) the gateway sends while the test drives the real flows over
 * GraphQL and calls reconciliation and retention, and each one is then
 * explained — SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN` with
 * sequential scans disabled (on a small table the planner would otherwise
 * rightly prefer one; disabled, it still chooses one only when no index can
 * serve). The tables hold a seeded year of data (bench/lib/scale-seed.ts,
 * small) so PostgreSQL's statistics are realistic.
 *
 * A statement fails when it scans a whole table (or a whole index), or sorts
 * rows an index should have delivered in order; named hot statements must
 * also use the index meant for them, and must all have been seen (a renamed
 * query cannot drop out of the check unnoticed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger as TypeOrmLogger } from 'typeorm';
import {
  CreatePaymentDocument,
  GetPaymentDocument,
  ListPaymentsDocument,
  ListPaymentsWithRefundsDocument,
  ListRefundsDocument,
  ListSubscriptionsDocument,
  PaymentWithRefundsDocument,
  RefundPaymentDocument,
} from '../../src/client/generated/graphql';
import { seedScale } from '../../bench/lib/scale-seed';
import { dropPostgresSchema, freshPostgresSchema } from '../helpers/databases';
import { checkout, eventually, startGateway, type TestGateway } from '../helpers/gateway';

interface Captured {
  sql: string;
  params: unknown[];
}

interface HotStatement {
  name: string;
  match: RegExp;
  /** The index (or primary key) the plan must use. */
  index: RegExp;
  /** Why a sort is fine here (it sorts a bounded set an index cannot order). */
  sortAllowed?: string;
  /** Not every run produces it. */
  optional?: boolean;
}

const PK = /PRIMARY KEY|sqlite_autoindex|_pkey|PK_/;

/** The statements the issue names, matched on the SQL TypeORM sends (quotes removed, spaces collapsed). */
const HOT: HotStatement[] = [
  { name: 'API key by hash', match: /FROM api_keys WHERE key_hash = /, index: /uq_api_keys_key_hash|sqlite_autoindex_api_keys|UQ_/ },
  { name: 'payment by id', match: /FROM payments WHERE id = \S+ AND merchant_id = /, index: PK },
  {
    name: 'payment by id (locked)',
    match: /FROM payments \S* ?WHERE (\S+\.)?id = \S+( LIMIT 1)? FOR UPDATE|FROM payments WHERE id = \S+ LIMIT 1$/,
    index: PK,
    optional: true,
  },
  {
    name: 'payment by UCanPay order id',
    match: /FROM payments WHERE merchant_id = \S+ AND provider_order_id = /,
    index: /ix_payments_merchant_provider_order/,
  },
  { name: 'payments newest first', match: /FROM payments p WHERE p\.merchant_id = \S+ ORDER BY/, index: /ix_payments_merchant_created/ },
  {
    name: 'payments by status',
    match: /FROM payments p WHERE p\.merchant_id = \S+ AND p\.status = \S+ ORDER BY/,
    index: /ix_payments_merchant_status_created/,
  },
  {
    name: 'payments in a window',
    match: /FROM payments p WHERE p\.merchant_id = \S+ AND p\.created_at > \S+ AND p\.created_at < \S+ ORDER BY/,
    index: /ix_payments_merchant_created/,
  },
  {
    name: 'payments by status in a window',
    match: /FROM payments p WHERE p\.merchant_id = \S+ AND p\.status = \S+ AND p\.created_at > \S+ AND p\.created_at < \S+ ORDER BY/,
    index: /ix_payments_merchant_status_created/,
  },
  { name: 'payments, a cursor page', match: /FROM payments p WHERE p\.merchant_id = \S+ AND \(p\.created_at < /, index: /ix_payments_merchant_created/ },
  {
    name: 'payments by status, a cursor page',
    match: /FROM payments p WHERE p\.merchant_id = \S+ AND p\.status = \S+ AND \(p\.created_at < /,
    index: /ix_payments_merchant_status_created/,
  },
  { name: 'refunds of a payment (list)', match: /FROM refunds r WHERE r\.merchant_id = \S+ AND r\.payment_id = /, index: /ix_refunds_payment_created/ },
  { name: 'refunds by status', match: /FROM refunds r WHERE r\.merchant_id = \S+ AND r\.status = /, index: /ix_refunds_merchant_status_created/ },
  {
    name: "refunds of a page's payments (loader)",
    match: /FROM refunds c WHERE c\.payment_id IN /,
    index: /ix_refunds_payment_created/,
    sortAllowed: 'the refunds of up to 100 payments, merged from one index range per payment',
  },
  { name: 'refunds of a payment (reserve)', match: /FROM refunds \S+ WHERE \(?\(?\S*payment_id = /, index: /ix_refunds_payment_created/ },
  {
    name: 'subscriptions of a customer',
    match: /FROM billing_subscriptions s WHERE s\.merchant_id = \S+ AND s\.customer_id = /,
    index: /ix_billing_subscriptions_customer_created/,
  },
  {
    name: 'subscriptions by status',
    match: /FROM billing_subscriptions s WHERE s\.merchant_id = \S+ AND s\.status = /,
    index: /ix_billing_subscriptions_merchant_status_created/,
  },
  {
    name: "charges of a page's subscriptions (loader)",
    match: /FROM subscription_charges c WHERE c\.subscription_id IN /,
    index: /ix_subscription_charges_subscription/,
    sortAllowed: 'the charges of up to 100 subscriptions (a few each), ordered by period',
  },
  { name: 'webhook inbox lookup', match: /FROM webhook_events WHERE merchant_id = \S+ AND event_id = /, index: PK },
  { name: 'idempotency key lookup', match: /FROM idempotency_keys WHERE merchant_id = \S+ AND key = /, index: PK },
  // Reconciliation claims: two index ranges on (status, synced_at) each, never checked / checked before the lease.
  { name: 'reconciliation: due payments', match: /FROM payments c WHERE c\.status = 'PENDING' AND \+c\.updated_at </, index: /ix_payments_status_synced/ },
  {
    name: 'reconciliation: payments past expiry',
    match: /FROM payments c WHERE c\.status = 'PENDING' AND \+c\.expires_at </,
    index: /ix_payments_status_synced/,
  },
  {
    name: 'reconciliation: payments failed by inference (the last day)',
    match: /FROM payments c WHERE c\.status \|\| '' = 'FAILED' AND c\.failure_code = 'PROVIDER_UNAVAILABLE'/,
    index: /ix_payments_failure_created/,
    sortAllowed: 'the last day of inferred failures (one index range) ordered by last check',
  },
  { name: 'reconciliation: due refunds', match: /FROM refunds c WHERE c\.status = 'PROCESSING'/, index: /ix_refunds_status_synced/ },
  {
    name: 'reconciliation: subscriptions with a renewal overdue',
    match: /FROM billing_subscriptions c WHERE c\.status IN \('TRIALING', 'ACTIVE', 'PAST_DUE'\) AND \+c\.next_billing_at </,
    index: /ix_billing_subscriptions_status_synced/,
    sortAllowed: 'the rows of three statuses (one index range each) merged by last check',
  },
  {
    name: 'reconciliation: subscriptions gone quiet',
    match: /FROM billing_subscriptions c WHERE c\.status IN \('PENDING_AUTHORIZATION', 'PAST_DUE'\) AND \+c\.updated_at </,
    index: /ix_billing_subscriptions_status_synced/,
    sortAllowed: 'the rows of two statuses (one index range each) merged by last check',
  },
  { name: 'retention: expired idempotency keys', match: /DELETE FROM idempotency_keys/, index: /ix_idempotency_expires/ },
  { name: 'retention: old webhook inbox rows', match: /DELETE FROM webhook_events/, index: /ix_webhook_events_received/ },
];

const TABLES = 'merchants|api_keys|payments|refunds|billing_subscriptions|subscription_charges|idempotency_keys|webhook_events';
/** Quotes removed, spaces collapsed, the PostgreSQL schema prefix dropped. */
const normalize = (sql: string) =>
  sql
    .replace(/"/g, '')
    .replace(/\s+/g, ' ')
    .replace(new RegExp(`\\b[a-z_][a-z0-9_]*\\.(?=(${TABLES})\\b)`, 'g'), '')
    .trim();
const explainable = (sql: string) => /^(SELECT|UPDATE|DELETE|WITH)\b/i.test(sql) && !/pg_advisory|^SELECT 1$|version\(\)|current_schema/i.test(sql);

/** Records every statement TypeORM sends (both SQLite connections; the pool on PostgreSQL). */
function capture(gw: TestGateway): { statements: Captured[]; stop(): void } {
  const statements: Captured[] = [];
  const sources = [...new Set([gw.app.db.dataSource, gw.app.db.readDataSource])];
  const previous = sources.map((ds) => ds.logger);
  const logger: TypeOrmLogger = {
    logQuery: (sql, params) => void statements.push({ sql, params: params ?? [] }),
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  };
  for (const ds of sources) (ds as { logger: TypeOrmLogger }).logger = logger;
  return {
    statements,
    stop: () => sources.forEach((ds, i) => ((ds as { logger: TypeOrmLogger }).logger = previous[i])),
  };
}

/** Drives every hot path once through the real gateway. */
async function exercise(gw: TestGateway): Promise<void> {
  const { app } = gw;
  // An API key the cache has not seen: its lookup reaches the database.
  expect(await app.services.merchants.authenticate('gw_not_a_key_of_anyone_000000000')).toBeNull();
  const input = { amount: 4200, currency: 'USD', description: 'Plans', returnUrl: 'https://shop.example/r', idempotencyKey: 'plans-1' };
  const created = await gw.gql(CreatePaymentDocument, { input });
  const result = created.data?.createPayment;
  if (result?.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(created));
  const replay = await gw.gql(CreatePaymentDocument, { input });
  expect(replay.data?.createPayment).toMatchObject({ replayed: true });
  await checkout(result.payment.checkoutUrl!, 'authorize');
  await eventually(async () => (await gw.gql(GetPaymentDocument, { id: result.payment.id })).data?.payment?.status === 'PAID');

  const page = await gw.gql(ListPaymentsDocument, { first: 50 });
  expect(page.data?.payments.edges).toHaveLength(50);
  await gw.gql(ListPaymentsDocument, { first: 50, after: page.data!.payments.pageInfo.endCursor });
  for (const status of ['PENDING', 'PAID'] as const) {
    const byStatus = await gw.gql(ListPaymentsDocument, { first: 50, status });
    expect(byStatus.data?.payments.edges.length).toBeGreaterThan(0);
    await gw.gql(ListPaymentsDocument, { first: 50, status, after: byStatus.data!.payments.pageInfo.endCursor });
  }
  const window = { createdAfter: new Date(Date.now() - 200 * 86_400_000).toISOString(), createdBefore: new Date(Date.now() - 100 * 86_400_000).toISOString() };
  expect((await gw.gql(ListPaymentsDocument, { first: 50, ...window })).data?.payments.edges).toHaveLength(50);
  await gw.gql(ListPaymentsDocument, { first: 50, status: 'PAID', ...window });
  await gw.gql(ListPaymentsWithRefundsDocument, { first: 50 });

  const refunded = await gw.gql(RefundPaymentDocument, { input: { paymentId: result.payment.id, amount: 1000, idempotencyKey: 'plans-refund-1' } });
  expect(refunded.data?.refundPayment.__typename).toBe('RefundPaymentPayload');
  await gw.gql(ListRefundsDocument, { paymentId: result.payment.id, first: 50 });
  expect((await gw.gql(ListRefundsDocument, { status: 'SUCCEEDED', first: 50 })).data?.refunds.edges.length).toBeGreaterThan(0);
  await gw.gql(PaymentWithRefundsDocument, { id: result.payment.id });

  expect((await gw.gql(ListSubscriptionsDocument, { customerId: 'cus_10', first: 50 })).data?.subscriptions.edges.length).toBeGreaterThan(0);
  expect((await gw.gql(ListSubscriptionsDocument, { status: 'ACTIVE', first: 50 })).data?.subscriptions.edges.length).toBeGreaterThan(0);

  await app.services.reconciliation.runOnce();
  const pruned = await app.services.retention.runOnce();
  expect(pruned.idempotencyKeys).toBeGreaterThan(0);
  expect(pruned.webhookEvents).toBeGreaterThan(0);
}

interface Verdict {
  name: string;
  sql: string;
  plan: string;
  problems: string[];
}

async function explain(gw: TestGateway, statements: Captured[]): Promise<Verdict[]> {
  const db = gw.app.db;
  const seen = new Map<string, Captured>();
  for (const s of statements) {
    const text = normalize(s.sql);
    if (explainable(text) && !seen.has(text)) seen.set(text, s);
  }
  const verdicts: Verdict[] = [];
  const runner = db.dataSource.createQueryRunner();
  try {
    if (db.kind === 'postgres') {
      await runner.startTransaction();
      await runner.query('SET LOCAL enable_seqscan = off');
    }
    for (const [text, s] of seen) {
      const hot = HOT.find((h) => h.match.test(text));
      const problems: string[] = [];
      let plan: string;
      if (db.kind === 'sqlite') {
        const rows = (await runner.query(`EXPLAIN QUERY PLAN ${s.sql}`, s.params)) as Array<{ detail: string }>;
        plan = rows.map((r) => r.detail).join('\n');
        for (const line of rows.map((r) => r.detail)) {
          if (/^SCAN /.test(line) && !/^SCAN (CONSTANT ROW|s\b)/.test(line)) problems.push(`full scan: ${line}`);
          if (/USE TEMP B-TREE/.test(line) && !hot?.sortAllowed) problems.push(`sort without an index: ${line}`);
        }
      } else {
        const pgPlan = async () => ((await runner.query(`EXPLAIN ${s.sql}`, s.params)) as Array<{ 'QUERY PLAN': string }>).map((r) => r['QUERY PLAN']);
        const sorts = (lines: string[]) => lines.filter((line) => /^(->\s+)?(Incremental )?Sort\b/.test(line.trim()));
        const lines = await pgPlan();
        plan = lines.join('\n');
        lines.forEach((line, at) => {
          if (/Seq Scan on/.test(line)) problems.push(`full scan: ${line.trim()}`);
          // An index read from end to end (no Index Cond under the node) is a full scan too.
          if (/(?<!Bitmap )Index (Only )?Scan( Backward)? using/.test(line)) {
            const details = lines.slice(at + 1).findIndex((next) => next.includes('->'));
            const own = lines.slice(at + 1, details === -1 ? undefined : at + 1 + details);
            if (!own.some((d) => /Index Cond/.test(d))) problems.push(`full index scan: ${line.trim()}`);
          }
        });
        if (sorts(lines).length && !hot?.sortAllowed) {
          // On a few rows the planner rightly sorts them rather than read an index in order.
          // A sort only counts when it stays with sorting disabled: then no index can deliver the order.
          await runner.query('SET LOCAL enable_sort = off');
          const unsorted = await pgPlan();
          await runner.query('SET LOCAL enable_sort = on');
          for (const line of sorts(unsorted)) problems.push(`sort without an index: ${line.trim()}`);
          plan += `\n(with enable_sort = off:)\n${unsorted.join('\n')}`;
        }
      }
      if (hot && !hot.index.test(plan)) problems.push(`expected ${hot.index} in the plan`);
      verdicts.push({ name: hot?.name ?? '(other statement on the path)', sql: text, plan, problems });
    }
  } finally {
    if (db.kind === 'postgres') await runner.rollbackTransaction();
    await runner.release();
  }
  return verdicts;
}

function report(kind: string, verdicts: Verdict[]): void {
  if (!process.env.PRINT_PLANS) return;
  for (const v of verdicts) console.log(`[${kind}] ${v.name}${v.problems.length ? ' ✗' : ''}\n  ${v.sql.slice(0, 300)}\n  ${v.plan.replace(/\n/g, '\n  ')}`);
}

async function checkPlans(gw: TestGateway, kind: string): Promise<void> {
  await seedScale({
    kind: gw.app.db.kind,
    exec: (sql) => gw.app.db.transaction((tx) => tx.manager.query(sql)),
    bigMerchantId: gw.app.demo.merchantId,
    sizes: { payments: 5_000, pending: 60 },
    now: Date.now(),
  });
  if (gw.app.db.kind === 'postgres') await gw.app.db.dataSource.query('ANALYZE');
  const recorder = capture(gw);
  try {
    await exercise(gw);
  } finally {
    recorder.stop();
  }
  const verdicts = await explain(gw, recorder.statements);
  report(kind, verdicts);
  const missing = HOT.filter((h) => !h.optional && !verdicts.some((v) => v.name === h.name)).map((h) => h.name);
  expect(missing, 'hot statements never sent (renamed? then update HOT)').toEqual([]);
  const bad = verdicts.filter((v) => v.problems.length).map((v) => `${v.name}: ${v.problems.join('; ')}\n    ${v.sql}\n    ${v.plan.replace(/\n/g, '\n    ')}`);
  expect(bad, bad.join('\n')).toEqual([]);
}

const gateways: TestGateway[] = [];
const schemas: string[] = [];
afterAll(async () => {
  for (const gw of gateways.splice(0)) await gw.stop();
  for (const schema of schemas.splice(0)) await dropPostgresSchema(schema);
});

describe('query plans of the hot paths', () => {
  it('on SQLite: no full scan, no sort an index should serve, the intended index each', { timeout: 90_000 }, async () => {
    const gw = await startGateway({ RETENTION_INTERVAL_MS: '0' });
    gateways.push(gw);
    await checkPlans(gw, 'sqlite');
  });

  it('on PostgreSQL: the same, with sequential scans disabled and the tables analysed', { timeout: 90_000 }, async () => {
    const pg = await freshPostgresSchema('plans');
    if (!pg) return;
    schemas.push(pg.schema);
    const url = new URL(pg.url);
    url.searchParams.set('schema', pg.schema);
    const gw = await startGateway({ DATABASE_URL: url.toString(), RETENTION_INTERVAL_MS: '0' });
    gateways.push(gw);
    await checkPlans(gw, 'postgres');
  });
});
