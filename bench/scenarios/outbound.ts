import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerChild } from '../lib/child';
import type { GatewayReady } from '../lib/gateway-env';
import { runLoad } from '../lib/load';
import { cpuSeconds } from '../lib/proc-stat';
import { median, percentile, round } from '../lib/stats';
import { paymentSucceeded, type PaymentRef } from '../lib/webhook-events';
import type { SeededPayment } from '../servers/gateway';

/** A local receiver in the runner's process: answers 204 and records each event's lag (answer − the event's `timestamp`). */
interface Receiver {
  url: string;
  count: number;
  lagsMs: number[];
  waitFor(n: number, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const waiters: Array<() => void> = [];
  const receiver: Receiver = {
    url: '',
    count: 0,
    lagsMs: [],
    async waitFor(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.count < n) {
        if (Date.now() > deadline) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 50);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      res.writeHead(204).end();
      const at = Date.now();
      const ts = /"timestamp":"([^"]+)"/.exec(body)?.[1];
      if (ts) receiver.lagsMs.push(at - Date.parse(ts));
      receiver.count++;
      waiters.splice(0).forEach((w) => w());
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

export interface OutboundResult {
  /**
   * Webhook ingestion, server CPU per applied event: without the event log
   * vs with it and one endpoint subscribed to payment.paid (each event then
   * also writes its delivery row; the delivery worker is off on this gateway,
   * so this is what the log adds to ingestion). Alternating rounds, same run.
   */
  ingestion: {
    rounds: Array<{ without: number; logOnly: number; with: number; ratio: number }>;
    /** `logOnly`: the event log on, no endpoint (what the log's own insert costs, apart from the delivery rows). */
    cpuMsPerEvent: { without: number; logOnly: number; with: number };
    ratio: number;
    target: { ratio: number; pass: boolean };
  };
  /** The same ingestion on a gateway whose worker delivers: CPU per event including its delivery, and commit → receiver's 2xx. */
  live: { events: number; cpuMsPerEvent: number; lagMs: { p50: number; p99: number; max: number } };
  /** Events recorded in bulk (50 per transaction), then delivered to the local receiver as fast as the worker goes. */
  deliveries: { events: number; perS: number; cpuMsPerDelivery: number; lagMs: { p50: number; p99: number; max: number } };
}

/** Creates an endpoint on `g` for payment.paid to `url`. */
async function subscribe(g: ServerChild<GatewayReady>, url: string): Promise<void> {
  const res = await fetch(g.ready.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${g.ready.apiKey}` },
    body: JSON.stringify({
      query: 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }',
      variables: { input: { url, eventTypes: ['PAYMENT_PAID'] } },
    }),
  });
  const created = (await res.json()) as { data?: { createWebhookEndpoint?: { endpoint: { id: string } } }; errors?: unknown };
  if (!created.data?.createWebhookEndpoint) throw new Error(`createWebhookEndpoint: ${JSON.stringify(created)}`);
}

const lagOf = (xs: number[]) => ({ p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)), max: round(xs.reduce((m, x) => Math.max(m, x), 0)) });

/**
 * Outbound webhooks, three gateways started alike: without the event log
 * (BENCH_EVENT_LOG=off), with it + one subscribed endpoint and the delivery
 * worker off (the ratio), and with it + the endpoint + the worker on (CPU
 * with the delivery, the lag, deliveries/s from a bulk backlog).
 */
export async function runOutbound(
  start: (env: Record<string, string>) => Promise<ServerChild<GatewayReady>>,
  seed: (g: ServerChild<GatewayReady>, n: number) => Promise<SeededPayment[]>,
  options: { rounds: number; roundS: number; warmupS: number; log: (line: string) => void },
): Promise<OutboundResult> {
  const receiver = await startReceiver();
  const env = { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_CONCURRENCY: '32' };
  const gateways: Array<ServerChild<GatewayReady>> = [];
  try {
    const without = await start({ ...env, BENCH_EVENT_LOG: 'off' });
    gateways.push(without);
    const logOnly = await start({ ...env, WEBHOOK_POLL_INTERVAL_MS: '0' });
    gateways.push(logOnly);
    const queued = await start({ ...env, WEBHOOK_POLL_INTERVAL_MS: '0' });
    gateways.push(queued);
    const live = await start(env);
    gateways.push(live);
    await subscribe(queued, receiver.url);
    await subscribe(live, receiver.url);

    /** One closed-loop ingestion round on `g`; CPU from its start until `settled()` resolves. */
    const ingestRound = async (g: ServerChild<GatewayReady>, durationS: number, settled: (applied: number) => Promise<void> = async () => undefined) => {
      const pool: PaymentRef[] = await seed(g, Math.max(4000, Math.ceil(durationS * 3000)));
      let next = 0;
      let applied = 0;
      const cpu0 = cpuSeconds(g.pid);
      await runLoad({
        url: `${g.ready.url}/webhooks/ucanpay/${g.ready.merchantId}`,
        serverPid: g.pid,
        durationS,
        next: () => {
          const event = paymentSucceeded(pool[next++ % pool.length], g.ready.webhookSecret);
          return { body: event.body, headers: { 'ucanpay-signature': event.signature } };
        },
        check: (body) => {
          const ok = body.includes('"outcome":"applied"');
          if (ok) applied++;
          return ok;
        },
      });
      await settled(applied);
      return { applied, cpuMsPerEvent: ((cpuSeconds(g.pid) - cpu0) * 1000) / Math.max(1, applied) };
    };
    let expected = 0;
    const drain = async (applied: number) => {
      expected += applied;
      if (!(await receiver.waitFor(expected, 60_000))) throw new Error(`only ${receiver.count} of ${expected} deliveries arrived`);
    };

    const sides = { without, logOnly, with: queued } as const;
    for (const g of Object.values(sides)) await ingestRound(g, options.warmupS);
    const rounds: OutboundResult['ingestion']['rounds'] = [];
    for (let r = 0; r < options.rounds; r++) {
      const got: Record<keyof typeof sides, number> = { without: NaN, logOnly: NaN, with: NaN };
      const order = (['without', 'logOnly', 'with'] as const).slice();
      // Rotating order, so that drift of the machine hits all alike.
      for (let k = 0; k < r % 3; k++) order.push(order.shift()!);
      for (const side of order) got[side] = (await ingestRound(sides[side], options.roundS)).cpuMsPerEvent;
      rounds.push({ ...got, ratio: got.with / got.without });
      options.log(
        `  round ${r + 1}: ${got.without.toFixed(3)} ms CPU/event without the event log, ${got.logOnly.toFixed(3)} with it, ${got.with.toFixed(3)} with it + 1 endpoint (delivery rows written, not sent) = ${(got.with / got.without).toFixed(3)}×`,
      );
    }
    const ratio = median(rounds.map((r) => r.ratio));

    await ingestRound(live, options.warmupS, drain);
    receiver.lagsMs.length = 0;
    const liveRound = await ingestRound(live, options.roundS, drain);
    const liveLag = lagOf(receiver.lagsMs);
    options.log(
      `  with the worker delivering: ${liveRound.cpuMsPerEvent.toFixed(3)} ms CPU/event (its delivery included), ${liveRound.applied} events; commit → 2xx p50 ${liveLag.p50} ms, p99 ${liveLag.p99} ms`,
    );

    const events = options.roundS >= 3 ? 5000 : 1000;
    receiver.lagsMs.length = 0;
    const before = receiver.count;
    const cpu0 = cpuSeconds(live.pid);
    const t0 = performance.now();
    await live.call('recordEvents', { n: events, perTransaction: 50 }, 120_000);
    if (!(await receiver.waitFor(before + events, 120_000))) throw new Error(`only ${receiver.count - before} of ${events} bulk deliveries arrived`);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(live.pid) - cpu0;
    options.log(
      `  deliveries: ${events} events recorded at once, delivered in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)}/s, ${((cpu * 1000) / events).toFixed(3)} ms gateway CPU per event (recording included)`,
    );
    return {
      ingestion: {
        rounds,
        cpuMsPerEvent: {
          without: median(rounds.map((r) => r.without)),
          logOnly: median(rounds.map((r) => r.logOnly)),
          with: median(rounds.map((r) => r.with)),
        },
        ratio,
        target: { ratio: 1.25, pass: ratio <= 1.25 },
      },
      live: { events: liveRound.applied, cpuMsPerEvent: liveRound.cpuMsPerEvent, lagMs: liveLag },
      deliveries: { events, perS: events / seconds, cpuMsPerDelivery: (cpu * 1000) / events, lagMs: lagOf(receiver.lagsMs) },
    };
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await receiver.close();
  }
}
