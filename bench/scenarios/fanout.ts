import { performance } from 'node:perf_hooks';
import type { ServerChild } from '../lib/child';
import type { GatewayReady } from '../lib/gateway-env';
import { percentile, round } from '../lib/stats';
import { paymentSucceeded, postWebhook, type PaymentRef } from '../lib/webhook-events';
import { openMany, Subscriber } from '../lib/ws-subscriber';
import { PAYMENT_UPDATED } from './push';

export interface FanoutResult {
  subscribers: number;
  layout: string;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** KB = 1,000 bytes (the target's unit); /proc reports KiB. */
  rssPerSubscriberKB: number;
  heapPerSubscriberKB: number;
  openS: number;
  delivery: { delivered: number; firstMs: number; p50: number; p99: number; lastMs: number };
  target: { perSubscriberKB: number; pass: boolean };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** RSS after a full GC (the child runs with --expose-gc), settled. */
async function settledRss(child: ServerChild<GatewayReady>): Promise<{ rssKiB: number; heapUsed: number }> {
  await child.call('gc');
  await sleep(500);
  await child.call('gc');
  const mem = await child.call<{ heapUsed: number }>('memory');
  return { rssKiB: child.rssKiB(), heapUsed: mem.heapUsed };
}

/**
 * 5,000 graphql-ws connections on one instance, all following one payment
 * with its client secret (the fan-out case: one change, 5,000 frames).
 * RSS of the server process from /proc/<pid>/status after a GC, before and
 * after; a warm-up batch of 200 connections is opened and closed first so that
 * lazily initialised code does not count as per-subscriber memory.
 */
export async function runFanout(
  child: ServerChild<GatewayReady>,
  payment: PaymentRef & { clientSecret: string },
  options: { subscribers: number; log: (line: string) => void },
): Promise<FanoutResult> {
  const gw = child.ready;
  const open = () => Subscriber.open(gw.wsUrl, payment.clientSecret, PAYMENT_UPDATED, { id: payment.id }, 60_000);
  const warm = await openMany(200, 50, open);
  for (const s of warm) s.close();
  await sleep(500);
  const before = await settledRss(child);
  const t0 = performance.now();
  const subs = await openMany(options.subscribers, 100, open);
  const openS = (performance.now() - t0) / 1000;
  options.log(`  ${subs.length} subscribers open in ${round(openS, 1)} s`);
  try {
    const after = await settledRss(child);
    const event = paymentSucceeded(payment, gw.webhookSecret);
    const ack = await postWebhook(`${gw.url}/webhooks/ucanpay/${gw.merchantId}`, event);
    if (ack.status !== 200 || ack.outcome !== 'applied') throw new Error(`fan-out webhook: ${ack.status} ${ack.outcome}`);
    const frames = await Promise.all(subs.map((s) => s.until((d) => d?.paymentUpdated?.status === 'PAID', 20_000)));
    const lat = frames.filter((f) => f !== undefined).map((f) => f!.at - ack.sentAt);
    const n = options.subscribers;
    const perSub = ((after.rssKiB - before.rssKiB) * 1024) / 1000 / n;
    return {
      subscribers: n,
      layout: `${n} sockets × 1 subscription, all on one payment (client-secret auth)`,
      rssBeforeMiB: before.rssKiB / 1024,
      rssAfterMiB: after.rssKiB / 1024,
      rssPerSubscriberKB: perSub,
      heapPerSubscriberKB: (after.heapUsed - before.heapUsed) / 1000 / n,
      openS,
      delivery: {
        delivered: lat.length,
        firstMs: percentile(lat, 0),
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        lastMs: percentile(lat, 100),
      },
      target: { perSubscriberKB: 20, pass: perSub <= 20 },
    };
  } finally {
    for (const s of subs) s.close();
  }
}
