/**
 * The gateway under test: the project's own `createApp` with the embedded
 * sandbox, configured from the environment the runner passes
 * (NODE_ENV=production, LOG_LEVEL=silent, durable SQLite, reconciliation off).
 * Besides serving HTTP and WebSockets, it answers a few bench-only commands
 * over IPC: seed rows directly (fast set-up for the webhook, push and N+1
 * benchmarks), count SQL statements, collect garbage, report memory.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import DataLoader from 'dataloader';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { execute, parse } from 'graphql';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { PaymentEntity, RefundEntity } from '../../src/entities';
import { newId } from '../../src/domain/ids';
import { newClientSecret } from '../../src/services/merchant.service';
import { buildGatewaySchema } from '../../src/api/schema';
import { createLoaders, type Loaders } from '../../src/api/loaders';
import type { GatewayContext } from '../../src/api/context';
import { bareApolloServer } from '../lib/bare-apollo-http';
import { failed, serve } from './ipc';

export interface SeededPayment {
  id: string;
  orderId: string;
  reference: string;
  clientSecret: string;
  amount: number;
  currency: string;
}

let app: App | undefined;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-bench-'));

/** Every SQL statement TypeORM sends goes through the query runner's `query`: count them there. */
let sqlLog: string[] | null = null;
function installSqlCounter(a: App): void {
  const runner = a.db.dataSource.driver.createQueryRunner('master');
  const proto = Object.getPrototypeOf(runner) as { query: (...args: unknown[]) => Promise<unknown>; __benchPatched?: boolean };
  if (proto.__benchPatched) return;
  const original = proto.query;
  proto.query = function patched(this: unknown, ...args: unknown[]) {
    if (sqlLog) sqlLog.push(String(args[0]).replace(/\s+/g, ' ').slice(0, 160));
    return original.apply(this, args);
  };
  proto.__benchPatched = true;
}

async function seedPayments(args: { n: number; status?: 'PENDING' | 'PAID'; refundsEach?: number; baseTime?: number }): Promise<SeededPayment[]> {
  const a = app!;
  const merchantId = a.demo.merchantId;
  const out: SeededPayment[] = [];
  const base = args.baseTime ?? Date.now();
  const status = args.status ?? 'PENDING';
  for (let start = 0; start < args.n; start += 400) {
    const rows: PaymentEntity[] = [];
    const refunds: RefundEntity[] = [];
    for (let i = start; i < Math.min(args.n, start + 400); i++) {
      const now = new Date(base + i);
      const id = newId('pay', now.getTime());
      const orderId = `ord_bench_${id.slice(4)}`;
      rows.push(
        Object.assign(new PaymentEntity(), {
          id,
          merchantId,
          merchantReference: id,
          status,
          amount: 2500,
          currency: 'EUR',
          description: 'Bench payment',
          returnUrl: 'https://shop.example/return',
          metadata: {},
          expiresInSeconds: 1800,
          clientSecret: newClientSecret(id),
          providerOrderId: orderId,
          checkoutUrl: `https://pay.example/${orderId}`,
          transactionId: status === 'PAID' ? `txn_${id.slice(4)}` : null,
          refundedAmount: 0,
          failureCode: null,
          failureMessage: null,
          version: 1,
          expiresAt: new Date(now.getTime() + 1800_000),
          paidAt: status === 'PAID' ? now : null,
          createdAt: now,
          updatedAt: now,
          syncedAt: now,
        } satisfies PaymentEntity),
      );
      for (let r = 0; r < (args.refundsEach ?? 0); r++) {
        const rid = newId('ref', now.getTime() + r);
        refunds.push(
          Object.assign(new RefundEntity(), {
            id: rid,
            merchantId,
            paymentId: id,
            merchantReference: rid,
            status: 'SUCCEEDED',
            amount: 100,
            currency: 'EUR',
            reason: 'requested_by_customer',
            providerRefundId: `rfd_bench_${rid.slice(4)}`,
            failureCode: null,
            failureMessage: null,
            version: 2,
            createdAt: now,
            updatedAt: now,
            succeededAt: now,
            syncedAt: now,
          } satisfies RefundEntity),
        );
      }
      out.push({ id, orderId, reference: id, clientSecret: rows[rows.length - 1].clientSecret, amount: 2500, currency: 'EUR' });
    }
    await a.db.transaction(async (tx) => {
      await tx.manager.insert(PaymentEntity, rows);
      if (refunds.length) {
        for (let k = 0; k < refunds.length; k += 400) await tx.manager.insert(RefundEntity, refunds.slice(k, k + 400));
      }
    });
  }
  return out;
}

let schemaPromise: ReturnType<typeof buildGatewaySchema> | undefined;

/**
 * Runs a query in-process through the gateway's schema and services with
 * either the normal per-request DataLoaders or loaders that never batch
 * (`batch: false`: one call, one query, per payment — what a resolver calling
 * the service per payment would do). Returns the SQL statements it caused.
 */
async function runInProcess(args: { query: string; variables?: Record<string, unknown>; batched: boolean }) {
  const a = app!;
  schemaPromise ??= buildGatewaySchema();
  const schema = await schemaPromise;
  const principal = await a.services.merchants.authenticate(process.env.DEMO_MERCHANT_API_KEY!);
  const normal = createLoaders(a.services, principal);
  const loaders: Loaders = args.batched
    ? normal
    : {
        ...normal,
        refundsByPaymentId: new DataLoader((ids) => a.services.refunds.byPaymentIds(ids), { batch: false }),
        paymentById: new DataLoader(
          async (ids) => {
            const rows = await a.services.payments.byIds(principal!.merchantId, ids);
            return ids.map((id) => rows.find((p) => p.id === id) ?? null);
          },
          { batch: false },
        ),
      };
  const contextValue: GatewayContext = { principal, requestId: 'req_bench', services: a.services, loaders, log: a.log };
  sqlLog = [];
  const result = await execute({ schema, document: parse(args.query), variableValues: args.variables, contextValue });
  const statements = sqlLog;
  sqlLog = null;
  return { statements, errors: result.errors?.map((e) => e.message) ?? [], data: result.data };
}

/**
 * For the decomposition row (c0): the gateway's own schema, services and
 * database behind a bare Apollo on plain node:http, the way (b) is served —
 * no auth (a fixed merchant principal), no plugins, no request id, no
 * logger. (c) − (c0) is what the gateway's HTTP/Apollo set-up and context
 * add; (c0) − (b) is the schema's resolvers plus the database read.
 */
async function startBareGateway(a: App, apiKey: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const schema = await buildGatewaySchema();
  const apollo = new ApolloServer<GatewayContext>({ schema, introspection: false, plugins: [ApolloServerPluginLandingPageDisabled()] });
  await apollo.start();
  const principal = await a.services.merchants.authenticate(apiKey);
  const server = bareApolloServer(apollo, async () => ({
    principal,
    requestId: 'req_bench',
    services: a.services,
    loaders: createLoaders(a.services, principal),
    log: a.log,
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

async function main() {
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    UCANPAY_SANDBOX_PORT: '0',
    // BENCH_DATABASE_URL: the PostgreSQL rows (a fresh schema made by the runner).
    DATABASE_URL: process.env.BENCH_DATABASE_URL || `sqlite:${path.join(dir, 'gateway.sqlite')}`,
    SANDBOX_DB: path.join(dir, 'sandbox.sqlite'),
  } as Record<string, string>);
  // BENCH_REDIS_PREFIX: the two-instance row's own channels on the shared Redis.
  // BENCH_TRACING: the tracing-on row registers the OpenTelemetry SDK (every span sampled, batched, exported nowhere).
  const tracing = process.env.BENCH_TRACING === '1';
  if (tracing) {
    const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
    const discard = { export: (_spans: unknown[], done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: async () => undefined };
    new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] }).register();
  }
  app = await createApp(config, {
    dataDir: dir,
    tracing,
    redis: process.env.BENCH_REDIS_PREFIX ? { channelPrefix: process.env.BENCH_REDIS_PREFIX } : undefined,
    // BENCH_EVENT_LOG=off: the "without the event log" side of the webhook ingestion comparison.
    eventLog: process.env.BENCH_EVENT_LOG !== 'off',
  });
  installSqlCounter(app);
  const bare = await startBareGateway(app, config.demoMerchantApiKey!);
  const ipc = serve(
    {
      seedPayments,
      runInProcess,
      startSqlCount: () => {
        sqlLog = [];
        return true;
      },
      stopSqlCount: () => {
        const statements = sqlLog ?? [];
        sqlLog = null;
        return statements;
      },
      gc: () => {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (!gc) return false;
        gc();
        gc();
        return true;
      },
      memory: () => process.memoryUsage(),
      /** Open file descriptors and the SQLite WAL's size (soak). */
      files: () => {
        const wal = path.join(dir, 'gateway.sqlite-wal');
        return { fds: fs.readdirSync('/proc/self/fd').length, walBytes: fs.existsSync(wal) ? fs.statSync(wal).size : 0 };
      },
      /** Committed transactions and COMMITs so far (group commit: fewer COMMITs than transactions). */
      dbStats: () => ({ ...((app!.db as { stats?: { transactions: number; commits: number } }).stats ?? { transactions: NaN, commits: NaN }) }),
      /** Records `n` payment.paid events (for made-up payments), `perTransaction` in each transaction: the outbound deliveries/s row. */
      recordEvents: async (args: { n: number; perTransaction: number }) => {
        const a = app!;
        for (let done = 0; done < args.n; done += args.perTransaction) {
          await a.db.transaction(async (tx) => {
            for (let i = done; i < Math.min(args.n, done + args.perTransaction); i++) {
              const id = newId('pay');
              await a.services.eventLog.record(tx, {
                merchantId: a.demo.merchantId,
                type: 'payment.paid',
                objectType: 'payment',
                objectId: id,
                objectVersion: 2,
                data: { id, status: 'PAID', version: 2 },
              });
            }
          });
        }
        return args.n;
      },
      /** CLOCK_MONOTONIC in µs: the clock of V8's CPU profile timestamps. */
      hrtimeUs: () => Number(process.hrtime.bigint() / 1000n),
    },
    async () => {
      await bare.stop();
      await app?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
  ipc.ready({
    url: app.url,
    graphqlUrl: app.graphqlUrl,
    wsUrl: app.wsUrl,
    merchantId: app.demo.merchantId,
    apiKey: app.demo.apiKey ?? process.env.DEMO_MERCHANT_API_KEY,
    webhookSecret: config.ucanpay.webhookSecret,
    ucanpayUrl: app.ucanpayUrl,
    bareGraphqlUrl: bare.url,
    ucanpayMerchantId: config.ucanpay.merchantId,
    ucanpaySecretKey: config.ucanpay.secretKey,
    pid: process.pid,
  });
}

main().catch((error) => {
  fs.rmSync(dir, { recursive: true, force: true });
  failed(error);
});
