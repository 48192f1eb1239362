import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MERCHANT, startReceiver, startSandbox, subscriptionBody, waitUntil, type Receiver, type TestSandbox } from './helpers';

let sb: TestSandbox;
const receivers: Receiver[] = [];

async function receiver(opts: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(opts);
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  sb = await startSandbox();
});

afterEach(async () => {
  await sb.api('DELETE', '/sandbox/faults', undefined, { key: null });
});

afterAll(async () => {
  await sb?.stop();
  await Promise.all(receivers.map((r) => r.stop()));
});

const addFault = async (rule: unknown): Promise<void> => {
  const r = await sb.api('POST', '/sandbox/faults', rule, { key: null });
  expect(r.status).toBe(201);
};

async function eventRow(id: string): Promise<any> {
  return (await sb.webhooks()).find((e: any) => e.id === id);
}

describe('webhook delivery', () => {
  it('signs with HMAC-SHA256 over "<t>.<raw body>", real-time t, sandbox-time created, JSON content type', async () => {
    const rx = await receiver();
    await sb.advance(86_400); // sandbox time is a day ahead; the signature must still use real time
    const order = await sb.payOrder({ notify_url: rx.url });
    const [hit] = await rx.waitFor(1);
    expect(hit.validSignature).toBe(true);
    expect(hit.contentType).toBe('application/json');
    expect(hit.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const t = Number(/t=(\d+)/.exec(hit.signature)![1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(10);
    expect(hit.event.id).toMatch(/^evt_/);
    expect(hit.event.type).toBe('payment.succeeded');
    expect(hit.event.created).toBeGreaterThan(Date.now() / 1000 + 86_000);
    // The object is the status-endpoint shape.
    const status = await sb.orderStatus(order.order_id);
    expect(hit.event.data.object).toEqual({ ...status });
    const row = await eventRow(hit.event.id);
    expect(row).toMatchObject({ type: 'payment.succeeded', notify_url: rx.url, attempts: 1, delivered: true, last_status: 200 });
  });

  it('retries with backoff until the receiver answers 2xx (fails twice first)', async () => {
    const rx = await receiver({ respond: (_r, n) => (n <= 2 ? 500 : 204) });
    await sb.payOrder({ notify_url: rx.url });
    const [ok] = await rx.waitFor(1);
    expect(rx.all).toHaveLength(3);
    expect(new Set(rx.all.map((r) => r.event.id)).size).toBe(1);
    expect(rx.all[1].at - rx.all[0].at).toBeGreaterThanOrEqual(10);
    const row = await waitUntil(
      async () => {
        const e = await eventRow(ok.event.id);
        return e?.delivered ? e : undefined;
      },
      3000,
      'delivered row',
    );
    expect(row).toMatchObject({ attempts: 3, delivered: true, last_status: 204, state: 'delivered' });
  });

  it('gives up after maxAttempts and marks the event failed', async () => {
    const rx = await receiver({ respond: () => 500 });
    await sb.payOrder({ notify_url: rx.url });
    const row = await waitUntil(async () => (await sb.webhooks()).find((e: any) => e.notify_url === rx.url && e.state === 'failed'), 5000, 'failed row');
    expect(row).toMatchObject({ attempts: 6, delivered: false, last_status: 500 });
    expect(rx.all).toHaveLength(6);
  });

  it('delivers the events of one object in creation order, even when an early one needs retries', async () => {
    let firstRenewalSeen = false;
    const rx = await receiver({
      respond: (r) => {
        if (r.event.type === 'subscription.renewed' && !firstRenewalSeen) {
          firstRenewalSeen = true;
          return 503;
        }
        return 200;
      },
    });
    const create = await sb.api('POST', '/subscriptions/create', subscriptionBody(sb.handle.now(), { interval: 'WEEK', notify_url: rx.url }));
    await sb.checkout(create.body.subscription_id, 'authorize');
    await sb.advance(3 * 7 * 86_400 + 10);
    const got = await rx.waitFor(4);
    expect(got.map((r) => r.event.type)).toEqual(['subscription.activated', 'subscription.renewed', 'subscription.renewed', 'subscription.renewed']);
    expect(got.map((r) => r.event.data.object.charges.length)).toEqual([1, 2, 3, 4]);
  });

  it('an attempt that gets no answer times out and is retried', async () => {
    let calls = 0;
    const hanging = http.createServer((req, res) => {
      calls += 1;
      if (calls === 1) return; // never answers
      req.resume();
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const own = await startSandbox({ webhookRetry: { baseMs: 20, maxAttempts: 5, maxDelayMs: 100, timeoutMs: 150 } });
    try {
      await own.payOrder({ notify_url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/h` });
      const row = await waitUntil(async () => (await own.webhooks()).find((e: any) => e.delivered), 3000, 'delivery after a timeout');
      expect(row.attempts).toBe(2);
      expect(calls).toBe(2);
    } finally {
      await own.stop();
      await new Promise<void>((resolve) => {
        hanging.close(() => resolve());
        hanging.closeAllConnections();
      });
    }
  });

  it('events without a notify_url are recorded as skipped', async () => {
    const body = subscriptionBody(sb.handle.now());
    delete body.notify_url;
    const s = await sb.api('POST', '/subscriptions/create', body);
    await sb.checkout(s.body.subscription_id, 'authorize');
    const rows = (await sb.webhooks()).filter((e: any) => e.object_id === s.body.subscription_id);
    expect(rows.map((e: any) => [e.type, e.state])).toEqual([['subscription.activated', 'skipped']]);
  });
});

describe('webhook faults', () => {
  it('duplicate delivers each of the next N events twice', async () => {
    const rx = await receiver();
    await addFault({ webhooks: { mode: 'duplicate', count: 1 } });
    await sb.payOrder({ notify_url: rx.url });
    const got = await rx.waitFor(2);
    expect(got[0].event.id).toBe(got[1].event.id);
    expect(got[0].raw).toBe(got[1].raw);
    const row = await eventRow(got[0].event.id);
    expect(row).toMatchObject({ delivered_count: 2, fault: 'duplicate' });
    // The rule was for one event only.
    await sb.payOrder({ notify_url: rx.url });
    await rx.waitFor(3);
    await new Promise((r) => setTimeout(r, 150));
    expect(rx.accepted()).toHaveLength(3);
  });

  it('out_of_order holds N events and delivers them in reverse order', async () => {
    const rx = await receiver();
    await addFault({ webhooks: { mode: 'out_of_order', count: 3 } });
    const a = await sb.payOrder({ notify_url: rx.url });
    const b = await sb.payOrder({ notify_url: rx.url });
    await new Promise((r) => setTimeout(r, 100));
    expect(rx.all).toHaveLength(0);
    const c = await sb.payOrder({ notify_url: rx.url });
    const got = await rx.waitFor(3);
    expect(got.map((r) => r.event.data.object.order_id)).toEqual([c.order_id, b.order_id, a.order_id]);
  });

  it('out_of_order releases what it holds after 2 s when fewer than N events come', async () => {
    const rx = await receiver();
    await addFault({ webhooks: { mode: 'out_of_order', count: 5 } });
    const started = Date.now();
    await sb.payOrder({ notify_url: rx.url });
    await rx.waitFor(1, 4000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('delay postpones one event by delay_ms; later events are not held behind it', async () => {
    const rx = await receiver();
    await addFault({ webhooks: { mode: 'delay', count: 1, delay_ms: 600 } });
    const started = Date.now();
    const late = await sb.payOrder({ notify_url: rx.url });
    const early = await sb.payOrder({ notify_url: rx.url });
    const got = await rx.waitFor(2, 3000);
    expect(got.map((r) => r.event.data.object.order_id)).toEqual([early.order_id, late.order_id]);
    expect(got[1].at - started).toBeGreaterThanOrEqual(590);
  });

  it('drop discards the next N events for good (no retries)', async () => {
    const rx = await receiver();
    await addFault({ webhooks: { mode: 'drop', count: 1, types: ['payment.succeeded'] } });
    const dropped = await sb.payOrder({ notify_url: rx.url });
    const kept = await sb.payOrder({ notify_url: rx.url });
    const [got] = await rx.waitFor(1);
    expect(got.event.data.object.order_id).toBe(kept.order_id);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.all).toHaveLength(1);
    const row = (await sb.webhooks()).find((e: any) => e.object_id === dropped.order_id);
    expect(row).toMatchObject({ state: 'dropped', delivered: false, attempts: 0, fault: 'drop' });
  });

  it('bad_signature signs the first attempt wrongly; the retry is signed correctly', async () => {
    const rx = await receiver(); // answers 400 to a bad signature
    await addFault({ webhooks: { mode: 'bad_signature', count: 1 } });
    await sb.payOrder({ notify_url: rx.url });
    const [ok] = await rx.waitFor(1);
    expect(rx.all).toHaveLength(2);
    expect(rx.all[0].validSignature).toBe(false);
    expect(rx.all[0].status).toBe(400);
    expect(ok.validSignature).toBe(true);
  });

  it('types limits a rule to some event types', async () => {
    const rx = await receiver();
    await addFault({ webhooks: { mode: 'drop', count: 1, types: ['payment.failed'] } });
    await sb.payOrder({ notify_url: rx.url });
    const failed = await sb.createOrder({ notify_url: rx.url });
    await sb.checkout(failed.order_id, 'decline');
    const [got] = await rx.waitFor(1);
    expect(got.event.type).toBe('payment.succeeded');
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.all).toHaveLength(1);
    expect(MERCHANT.merchantId).toBe(got.event.data.object.merchant_id);
  });
});
