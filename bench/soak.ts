/**
 * `npm run soak`: a steady mixed load against one gateway for a bounded time
 * (default 10 minutes; `-- --minutes=N`), sampling the server every 10 s:
 * RSS and V8 heap (after a GC), open file descriptors, the SQLite WAL's size.
 * After a warm-up (the first fifth, at most 2 minutes) it fits a line to
 * each series and reports the slope; the run passes when the fitted growth
 * over the measured window stays within the stated bounds (heap ≤ 10 MB,
 * RSS ≤ 20 MB, descriptors ≤ 20, WAL ≤ 64 MB at every sample).
 *
 * Load, about 25 operations/s in all, one at a time per kind: payment(id)
 * and payments(first: 20) reads, createPayment, refundPayment (on seeded
 * PAID payments), webhook payment.succeeded (on seeded PENDING payments),
 * and 500 graphql-ws subscriptions open throughout (each following its own
 * payment; the webhooks change some of them). Retention runs as configured
 * (every minute). Not part of `npm test`.
 */
import { performance } from 'node:perf_hooks';
import { killAllChildren, setUpPinning, startServer } from './lib/child';
import { gatewayEnv, type GatewayReady } from './lib/gateway-env';
import { paymentSucceeded, postWebhook, closeWebhookAgent } from './lib/webhook-events';
import { openMany, Subscriber } from './lib/ws-subscriber';
import type { SeededPayment } from './servers/gateway';

const minutes = Number(
  process.argv
    .slice(2)
    .find((a) => a.startsWith('--minutes='))
    ?.slice('--minutes='.length) ?? 10,
);
const DURATION_MS = minutes * 60_000;
const SAMPLE_MS = 10_000;
const WARMUP_MS = Math.min(120_000, DURATION_MS / 5);
const BOUNDS = { heapMB: 10, rssMB: 20, fds: 20, walMB: 64 };
const log = (line: string) => console.log(line);

interface Sample {
  atS: number;
  rssMB: number;
  heapMB: number;
  fds: number;
  walMB: number;
  ops: number;
}

/** Least-squares slope (per second) of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : NaN;
}

async function main(): Promise<number> {
  const pin = setUpPinning(2);
  log(`soak: ${minutes} min, samples every ${SAMPLE_MS / 1000} s, warm-up ${Math.round(WARMUP_MS / 1000)} s; ${pin.note}`);
  const child = await startServer<GatewayReady>('gateway.ts', { env: { ...gatewayEnv(), RETENTION_INTERVAL_MS: '60000' }, nodeArgs: ['--expose-gc'] });
  const gw = child.ready;
  const stopAt = Date.now() + DURATION_MS;
  const subscribers: Subscriber[] = [];
  let ops = 0;
  let bad = 0;
  try {
    const watched = await child.call<SeededPayment[]>('seedPayments', { n: 500 }, 120_000);
    subscribers.push(
      ...(await openMany(500, 20, (i) =>
        Subscriber.open(gw.wsUrl, watched[i].clientSecret, 'subscription($id: ID!) { paymentUpdated(id: $id) { id status version } }', { id: watched[i].id }),
      )),
    );
    log(`  500 subscriptions open`);
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.apiKey}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(30_000),
      });
      const json = (await res.json()) as { data?: unknown; errors?: unknown };
      if (!res.ok || json.errors) bad++;
      ops++;
      return json.data as any;
    };
    const pending: SeededPayment[] = [];
    const paid: Array<SeededPayment & { refunds: number }> = [];
    const refill = async () => {
      if (pending.length < 50) pending.push(...(await child.call<SeededPayment[]>('seedPayments', { n: 500 }, 120_000)));
      if (paid.length < 50)
        paid.push(...(await child.call<SeededPayment[]>('seedPayments', { n: 200, status: 'PAID' }, 120_000)).map((p) => ({ ...p, refunds: 0 })));
    };
    await refill();
    let seq = 0;
    /** One kind of operation, repeated every `everyMs` one at a time until the end. */
    const loop = async (everyMs: number, op: () => Promise<unknown>) => {
      while (Date.now() < stopAt) {
        const t0 = performance.now();
        try {
          await op();
        } catch {
          bad++;
        }
        const wait = everyMs - (performance.now() - t0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    };
    const samples: Sample[] = [];
    const started = Date.now();
    const sampler = async () => {
      while (Date.now() < stopAt) {
        await child.call('gc', {});
        const mem = await child.call<NodeJS.MemoryUsage>('memory', {});
        const files = await child.call<{ fds: number; walBytes: number }>('files', {});
        const s = {
          atS: (Date.now() - started) / 1000,
          rssMB: mem.rss / 2 ** 20,
          heapMB: mem.heapUsed / 2 ** 20,
          fds: files.fds,
          walMB: files.walBytes / 2 ** 20,
          ops,
        };
        samples.push(s);
        log(
          `  ${Math.round(s.atS)} s: RSS ${s.rssMB.toFixed(1)} MB, heap ${s.heapMB.toFixed(1)} MB, ${s.fds} fds, WAL ${s.walMB.toFixed(1)} MB, ${ops} operations (${bad} bad)`,
        );
        await new Promise((r) => setTimeout(r, Math.min(SAMPLE_MS, Math.max(0, stopAt - Date.now()))));
      }
    };
    await Promise.all([
      sampler(),
      loop(100, () => gql('query($id: ID!) { payment(id: $id) { id status version } }', { id: watched[seq++ % watched.length].id })),
      loop(250, () => gql('query { payments(first: 20) { edges { node { id status } } } }', {})),
      loop(200, () =>
        gql('mutation($input: CreatePaymentInput!) { createPayment(input: $input) { __typename } }', {
          input: { amount: 1999, currency: 'USD', description: 'Soak', returnUrl: 'https://shop.example/return', idempotencyKey: `soak-${started}-${seq++}` },
        }),
      ),
      loop(400, async () => {
        const p = paid[0];
        if (!p) return refill();
        if (++p.refunds >= 20) paid.shift();
        await gql('mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename } }', {
          input: { paymentId: p.id, amount: 100, idempotencyKey: `soak-refund-${p.id}-${p.refunds}` },
        });
        if (paid.length < 20) await refill();
      }),
      loop(250, async () => {
        const p = pending.shift();
        if (!p) return refill();
        const r = await postWebhook(`${gw.url}/webhooks/ucanpay/${gw.merchantId}`, paymentSucceeded(p, gw.webhookSecret));
        ops++;
        if (r.status !== 200) bad++;
        if (pending.length < 20) await refill();
      }),
    ]);
    const measured = samples.filter((s) => s.atS * 1000 >= WARMUP_MS);
    const xs = measured.map((s) => s.atS);
    const windowS = xs.length ? xs[xs.length - 1] - xs[0] : 0;
    const growth = (key: 'rssMB' | 'heapMB' | 'fds') =>
      slope(
        xs,
        measured.map((s) => s[key]),
      ) * windowS;
    const result = {
      heapMB: growth('heapMB'),
      rssMB: growth('rssMB'),
      fds: growth('fds'),
      walMaxMB: Math.max(...samples.map((s) => s.walMB)),
    };
    const pass = {
      heap: Math.abs(result.heapMB) <= BOUNDS.heapMB,
      rss: Math.abs(result.rssMB) <= BOUNDS.rssMB,
      fds: Math.abs(result.fds) <= BOUNDS.fds,
      wal: result.walMaxMB <= BOUNDS.walMB,
    };
    log('');
    log(`soak: ${ops} operations (${bad} bad) in ${minutes} min; ${subscribers.filter((s) => !s.error).length}/500 subscriptions still open`);
    log(
      `after the warm-up (${measured.length} samples over ${Math.round(windowS)} s), fitted growth: heap ${result.heapMB.toFixed(1)} MB (${((result.heapMB / windowS) * 60).toFixed(2)} MB/min, bound ±${BOUNDS.heapMB} MB) ${pass.heap ? 'PASS' : 'MISS'}; ` +
        `RSS ${result.rssMB.toFixed(1)} MB (${((result.rssMB / windowS) * 60).toFixed(2)} MB/min, bound ±${BOUNDS.rssMB} MB) ${pass.rss ? 'PASS' : 'MISS'}; ` +
        `fds ${result.fds.toFixed(1)} (bound ±${BOUNDS.fds}) ${pass.fds ? 'PASS' : 'MISS'}; WAL at most ${result.walMaxMB.toFixed(1)} MB (bound ${BOUNDS.walMB} MB) ${pass.wal ? 'PASS' : 'MISS'}`,
    );
    return Object.values(pass).every(Boolean) && windowS > 0 ? 0 : 1;
  } finally {
    for (const s of subscribers) s.close();
    closeWebhookAgent();
    await child.stop();
  }
}

const watchdog = setTimeout(() => {
  console.error('soak: hard time limit reached');
  killAllChildren();
  process.exit(2);
}, DURATION_MS + 180_000);
watchdog.unref();

main()
  .then((code) => {
    killAllChildren();
    process.exit(code);
  })
  .catch((error) => {
    console.error(error);
    killAllChildren();
    process.exit(1);
  });
