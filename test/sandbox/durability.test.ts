import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MERCHANT, orderBody, startReceiver, startSandbox, subscriptionBody, tempDir, uniq, waitUntil, type Receiver, type TestSandbox } from './helpers';

const started: TestSandbox[] = [];
const receivers: Receiver[] = [];

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await Promise.all(receivers.map((r) => r.stop()));
});

async function open(dbPath: string, options: Parameters<typeof startSandbox>[0] = {}): Promise<TestSandbox> {
  const sb = await startSandbox(options, dbPath);
  started.push(sb);
  return sb;
}

describe('restart durability', () => {
  it('a restart on the same file keeps objects, the clock offset, idempotency records and due work', async () => {
    const dbPath = path.join(tempDir(), 'sandbox.sqlite');
    const a = await open(dbPath);
    await a.advance(3600);
    const paid = await a.payOrder({ amount: 3000 });
    const key = uniq('idem');
    const body = orderBody();
    const first = await a.api('POST', '/payment/unifiedorder', body, { idem: key });
    const sub = await a.api('POST', '/subscriptions/create', subscriptionBody(a.handle.now(), { interval: 'DAY' }));
    await a.checkout(sub.body.subscription_id, 'authorize');
    const refund = await a.api('POST', '/payment/refund', {
      merchant_id: MERCHANT.merchantId,
      transaction_id: paid.transaction_id,
      out_refund_no: uniq('R'),
      amount: 1000,
    });
    const clockBefore = (await a.api('GET', '/sandbox/clock', undefined, { key: null })).body;
    await a.stop();

    const b = await open(dbPath);
    const clockAfter = (await b.api('GET', '/sandbox/clock', undefined, { key: null })).body;
    expect(clockAfter.offset_seconds).toBe(clockBefore.offset_seconds);
    expect(Date.parse(clockAfter.now)).toBeGreaterThanOrEqual(Date.parse(clockBefore.now));
    expect(await b.orderStatus(paid.order_id)).toMatchObject({ status: expect.stringMatching(/PAID|PARTIALLY_REFUNDED/), transaction_id: paid.transaction_id });
    const replay = await b.api('POST', '/payment/unifiedorder', body, { idem: key });
    expect(replay.text).toBe(first.text); // byte for byte, as first answered
    expect(replay.body.order_id).toBe(first.body.order_id);
    expect(replay.status).toBe(200);
    expect((await b.api('POST', '/payment/unifiedorder', orderBody(), { idem: key })).status).toBe(409);
    // The PROCESSING refund settles after the restart.
    await waitUntil(
      async () => (await b.api('GET', `/payment/refund/status?refund_id=${refund.body.refund_id}`)).body.status === 'SUCCEEDED',
      3000,
      'refund after restart',
    );
    expect((await b.orderStatus(paid.order_id)).refunded_amount).toBe(1000);
    // Renewals continue from where they were.
    await b.advance(2 * 86_400);
    const s = (await b.api('GET', `/subscriptions/status?subscription_id=${sub.body.subscription_id}`)).body;
    expect(s.charges).toHaveLength(3);
    expect(s.pay_url.startsWith(b.url)).toBe(true);
  });

  it('undelivered webhooks are persisted and resent after a restart (same event id)', async () => {
    let accept = false;
    const rx = await startReceiver({ respond: () => (accept ? 200 : 503) });
    receivers.push(rx);
    const dbPath = path.join(tempDir(), 'sandbox.sqlite');
    const a = await open(dbPath, { webhookRetry: { baseMs: 5000, maxAttempts: 8, maxDelayMs: 5000 } });
    await a.payOrder({ notify_url: rx.url });
    await waitUntil(() => rx.all.length >= 1, 3000, 'first attempt');
    const pending = (await a.webhooks()).find((e: any) => e.notify_url === rx.url);
    expect(pending).toMatchObject({ delivered: false, attempts: 1, state: 'pending', last_status: 503 });
    await a.stop();

    accept = true;
    // The stored next attempt is ~5 s away, but a restart resends pending events at once.
    const t0 = Date.now();
    const b = await open(dbPath);
    const [got] = await rx.waitFor(1, 3000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(got.event.id).toBe(pending.id);
    expect(got.validSignature).toBe(true);
    const row = (await b.webhooks()).find((e: any) => e.id === pending.id);
    expect(row).toMatchObject({ delivered: true, attempts: 2 });
  });

  it('events held by an out_of_order fault are released on restart', async () => {
    const rx = await startReceiver();
    receivers.push(rx);
    const dbPath = path.join(tempDir(), 'sandbox.sqlite');
    const a = await open(dbPath);
    await a.api('POST', '/sandbox/faults', { webhooks: { mode: 'out_of_order', count: 10 } }, { key: null });
    const x = await a.payOrder({ notify_url: rx.url });
    const y = await a.payOrder({ notify_url: rx.url });
    await a.stop();
    expect(rx.all).toHaveLength(0);
    await open(dbPath);
    const got = await rx.waitFor(2);
    expect(got.map((r) => r.event.data.object.order_id)).toEqual([y.order_id, x.order_id]);
  });

  it('stop() leaves no servers or timers behind and can be called twice', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const sb = await startSandbox({ dbPath: ':memory:' }, ':memory:');
    await sb.payOrder();
    await sb.api('POST', '/sandbox/faults', { endpoint: 'GET /payment/status', latency_ms: 5000 }, { key: null });
    const slow = sb.api('GET', '/payment/status?order_id=x').catch(() => 'closed');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await Promise.all([sb.stop(), sb.stop()]);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await slow).toBe('closed');
    await new Promise((r) => setImmediate(r));
    expect(process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length).toBe(before);
  });
});
