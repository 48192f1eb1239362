import { runLoad, type RoundResult } from '../lib/load';
import { median, round } from '../lib/stats';
import type { GatewayReady } from '../lib/gateway-env';
import { paymentSucceeded, type PaymentRef } from '../lib/webhook-events';

export interface WebhookResult {
  /** PENDING payments seeded for the warm-up and each round. */
  pool: number[];
  rounds: Array<RoundResult & { applied: number; appliedPerS: number }>;
  median: { appliedPerS: number; p50: number; p99: number; cpuMsPerEvent: number };
  target: { appliedPerS: number; pass: boolean };
  exhausted: boolean;
  /** Transactions per COMMIT over the measured rounds (SQLite group commit). */
  transactionsPerCommit?: number;
}

/**
 * Signed `payment.succeeded` events, each for a different PENDING payment
 * (seeded before each round, untimed, sized from the warm-up's rate so that
 * no round runs out), so every event is verified, de-duplicated (inbox
 * insert), applied (PENDING → PAID, version + 1) and published: all of the
 * work, none short-circuited. Closed loop, 10 connections.
 */
export async function runWebhooks(
  gw: GatewayReady,
  seed: (n: number) => Promise<PaymentRef[]>,
  options: {
    rounds: number;
    roundS: number;
    warmupS: number;
    /** Payments seeded for the warm-up. */
    warmupPool: number;
    log: (line: string) => void;
    dbStats?: () => Promise<{ transactions: number; commits: number }>;
    /** Called just before and after each measured round (not around seeding): the profiler's window. */
    aroundRound?: { before?: () => Promise<void>; after?: () => Promise<void> };
  },
): Promise<WebhookResult> {
  const url = `${gw.url}/webhooks/ucanpay/${gw.merchantId}`;
  let payments: PaymentRef[] = [];
  let next = 0;
  let exhausted = false;
  const pools: number[] = [];
  const refill = async (n: number) => {
    payments = await seed(n);
    next = 0;
    pools.push(n);
  };
  const spec = (counter: { applied: number }) => ({
    url,
    serverPid: gw.pid,
    next: () => {
      if (next >= payments.length) exhausted = true;
      const event = paymentSucceeded(payments[next++ % payments.length], gw.webhookSecret);
      return { body: event.body, headers: { 'ucanpay-signature': event.signature } };
    },
    check: (body: string) => {
      if (body.includes('"outcome":"applied"')) {
        counter.applied++;
        return true;
      }
      return false;
    },
  });
  await refill(options.warmupPool);
  const warm = { applied: 0 };
  const w = await runLoad({ ...spec(warm), durationS: options.warmupS });
  options.log(`  warm-up: ${Math.round(w.rps)} events/s applied${w.bad ? `, ${w.bad} BAD` : ''}${exhausted ? ' (pool exhausted)' : ''}`);
  // Twice what the warm-up rate needs (the warm-up may be slower than a warm round), at least the warm-up pool.
  const perRound = Math.max(options.warmupPool, Math.ceil((2 * warm.applied * options.roundS) / w.durationS / 1000) * 1000);
  exhausted = false;
  const rounds: WebhookResult['rounds'] = [];
  let statsBefore: { transactions: number; commits: number } | undefined;
  for (let r = 0; r < options.rounds; r++) {
    await refill(perRound);
    const counter = { applied: 0 };
    if (r === 0) statsBefore = await options.dbStats?.();
    await options.aroundRound?.before?.();
    const res = await runLoad({ ...spec(counter), durationS: options.roundS });
    await options.aroundRound?.after?.();
    rounds.push({ ...res, applied: counter.applied, appliedPerS: counter.applied / res.durationS });
    options.log(
      `  round ${r + 1}: ${Math.round(counter.applied / res.durationS)} events/s applied, ack p50 ${round(res.p50)} ms, p99 ${round(res.p99)} ms, server ${round(res.cpuMsPerReq, 3)} ms CPU/event at ${Math.round(100 * res.serverCpuShare)} % of a core${res.bad ? `, ${res.bad} BAD: ${res.badSamples.join(' | ')}` : ''}`,
    );
  }
  const appliedPerS = median(rounds.map((r) => r.appliedPerS));
  const statsAfter = await options.dbStats?.();
  const transactionsPerCommit =
    statsBefore && statsAfter ? (statsAfter.transactions - statsBefore.transactions) / Math.max(1, statsAfter.commits - statsBefore.commits) : undefined;
  return {
    transactionsPerCommit,
    pool: pools,
    rounds,
    median: {
      appliedPerS,
      p50: median(rounds.map((r) => r.p50)),
      p99: median(rounds.map((r) => r.p99)),
      cpuMsPerEvent: median(rounds.map((r) => r.cpuMsPerReq)),
    },
    target: { appliedPerS: 1000, pass: appliedPerS >= 1000 },
    exhausted,
  };
}
