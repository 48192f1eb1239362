import { performance } from 'node:perf_hooks';
import type { GatewayReady } from '../lib/gateway-env';
import { percentile, round } from '../lib/stats';
import { paymentSucceeded, postWebhook, type PaymentRef } from '../lib/webhook-events';
import { openMany, Subscriber } from '../lib/ws-subscriber';

export const PAYMENT_UPDATED = 'subscription Updated($id: ID!) { paymentUpdated(id: $id) { id status version transactionId paidAt } }';

export interface PushResult {
  subscriptions: number;
  layout: string;
  ratePerS: number;
  events: number;
  delivered: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Webhook request → its HTTP answer (verify, durable commit, publish). */
  ackMs: { p50: number; p99: number };
  /** The webhook's HTTP answer → the frame at the subscriber. */
  frameAfterAckMs: { p50: number; p99: number };
  openS: number;
  target: { p50: number; p99: number; pass: boolean };
}

/**
 * 1,000 graphql-ws connections, each subscribed to `paymentUpdated` of its
 * own payment with that payment's client secret (what 1,000 browsers at
 * checkout do). Then one signed `payment.succeeded` per payment, open loop
 * at `ratePerS`; latency = frame parsed at the subscriber − request handed to
 * the socket, both on this process's monotonic clock (so it includes the
 * webhook's own transfer, an upper bound of arrival → frame).
 */
export async function runPush(
  gw: GatewayReady,
  payments: Array<PaymentRef & { clientSecret: string }>,
  options: { ratePerS: number; log: (line: string) => void },
): Promise<PushResult> {
  const webhookUrl = `${gw.url}/webhooks/ucanpay/${gw.merchantId}`;
  const t0 = performance.now();
  const subs = await openMany(payments.length, 50, (i) => Subscriber.open(gw.wsUrl, payments[i].clientSecret, PAYMENT_UPDATED, { id: payments[i].id }));
  const openS = (performance.now() - t0) / 1000;
  options.log(`  ${subs.length} subscriptions open in ${round(openS, 1)} s`);
  try {
    const sent: number[] = new Array(payments.length).fill(NaN);
    const acked: number[] = new Array(payments.length).fill(NaN);
    const acks: number[] = [];
    const posts: Promise<unknown>[] = [];
    const interval = 1000 / options.ratePerS;
    const start = performance.now();
    for (let i = 0; i < payments.length; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const event = paymentSucceeded(payments[i], gw.webhookSecret);
      posts.push(
        postWebhook(webhookUrl, event).then((r) => {
          sent[i] = r.sentAt;
          acked[i] = r.ackAt;
          if (r.status !== 200 || r.outcome !== 'applied') throw new Error(`webhook ${i}: ${r.status} ${r.outcome}`);
          acks.push(r.ackAt - r.sentAt);
        }),
      );
    }
    await Promise.all(posts);
    const frames = await Promise.all(subs.map((s) => s.until((d) => d?.paymentUpdated?.status === 'PAID', 10_000)));
    const latencies: number[] = [];
    const afterAck: number[] = [];
    frames.forEach((f, i) => {
      if (!f) return;
      latencies.push(f.at - sent[i]);
      afterAck.push(f.at - acked[i]);
    });
    const result: PushResult = {
      subscriptions: subs.length,
      layout: `${subs.length} payments × 1 subscription each (one socket per subscription, client-secret auth)`,
      ratePerS: options.ratePerS,
      events: payments.length,
      delivered: latencies.length,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
      ackMs: { p50: percentile(acks, 50), p99: percentile(acks, 99) },
      frameAfterAckMs: { p50: percentile(afterAck, 50), p99: percentile(afterAck, 99) },
      openS,
      target: { p50: 10, p99: 50, pass: false },
    };
    result.target.pass = result.delivered === result.events && result.latencyMs.p50 <= 10 && result.latencyMs.p99 <= 50;
    return result;
  } finally {
    for (const s of subs) s.close();
  }
}
