import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodBoundary } from '../../src/sandbox/periods';
import { MERCHANT, OTHER, startReceiver, startSandbox, subscriptionBody, type Receiver, type TestSandbox } from './helpers';

const DAY = 86_400;

let sb: TestSandbox;
let rx: Receiver;

beforeAll(async () => {
  sb = await startSandbox();
  rx = await startReceiver();
});

afterAll(async () => {
  await sb?.stop();
  await rx?.stop();
});

async function create(overrides: Record<string, unknown> = {}): Promise<any> {
  const r = await sb.api('POST', '/subscriptions/create', subscriptionBody(sb.handle.now(), { notify_url: rx.url, ...overrides }));
  if (r.status !== 200) throw new Error(`create failed: ${r.text}`);
  return r.body;
}

async function status(id: string): Promise<any> {
  return (await sb.api('GET', `/subscriptions/status?subscription_id=${id}`)).body;
}

async function authorize(id: string): Promise<Response> {
  const res = await sb.checkout(id, 'authorize');
  expect(res.status).toBe(303);
  return res;
}

/** Advances the clock to `isoInstant` + 1 s. */
async function advanceTo(isoInstant: string): Promise<void> {
  const seconds = Math.ceil((Date.parse(isoInstant) - sb.handle.now().getTime()) / 1000) + 1;
  if (seconds > 0) await sb.advance(seconds);
}

function eventsOf(id: string): string[] {
  return rx
    .accepted()
    .filter((r) => r.event.data.object.subscription_id === id)
    .sort((a, b) => a.event.created - b.event.created || 0)
    .map((r) => r.event.type);
}

async function waitEvents(id: string, count: number): Promise<string[]> {
  await rx.waitFor(count, 5000, (r) => r.event.data.object.subscription_id === id);
  return rx
    .accepted()
    .filter((r) => r.event.data.object.subscription_id === id)
    .map((r) => r.event.type);
}

describe('create and validation', () => {
  it('creates PENDING_AUTHORIZATION with pay_url, planned period and the terms', async () => {
    const s = await create({ metadata: { plan: 'gold' } });
    expect(s.subscription_id).toMatch(/^sub_/);
    expect(s).toMatchObject({
      status: 'PENDING_AUTHORIZATION',
      amount: 1000,
      currency: 'USD',
      interval: 'MONTH',
      interval_count: 1,
      cancel_at_period_end: false,
      failed_renewal_count: 0,
      pending_update: null,
      charges: [],
      metadata: { plan: 'gold' },
      customer: { id: 'cus_1', email: 'ada@example.com', name: 'Ada' },
    });
    expect(s.pay_url).toBe(`${sb.url}/checkout/${s.subscription_id}`);
    expect(s.current_period_start).toBeTruthy();
    expect(s.current_period_end).toBeTruthy();
    expect(s.next_billing_at).toBeTruthy();
    const html = await (await fetch(s.pay_url)).text();
    expect(html).toContain('10.00 USD');
    expect(html).toContain('every month');
    expect(html).toContain('Tea &amp; &lt;Co&gt;');
    expect(html).toContain('>Authorize</button>');
  });

  it('rejects bad terms with INVALID_REQUEST naming the field', async () => {
    const yesterday = new Date(sb.handle.now().getTime() - DAY * 1000).toISOString().slice(0, 10);
    const cases: [string, Record<string, unknown>][] = [
      ['interval', { interval: 'FORTNIGHT' }],
      ['interval_count', { interval_count: 0 }],
      ['interval_count', { interval_count: 1.5 }],
      ['start_date', { start_date: yesterday }],
      ['start_date', { start_date: '2030-02-30' }],
      ['start_date', { start_date: 'tomorrow' }],
      ['customer', { customer: undefined }],
      ['customer.id', { customer: { email: 'a@b.co' } }],
      ['customer.email', { customer: { id: 'c', email: 'nope' } }],
      ['trial_days', { trial_days: -1 }],
      ['amount', { amount: 0 }],
      ['currency', { currency: 'EURO' }],
      ['notify_url', { notify_url: 'javascript:alert(1)' }],
    ];
    for (const [field, patch] of cases) {
      const r = await sb.api('POST', '/subscriptions/create', subscriptionBody(sb.handle.now(), patch));
      expect(r.status, field).toBe(400);
      expect(r.body.error.message).toContain(field);
    }
  });

  it('out_subscription_no: same terms → same subscription; different → 409 ORDER_CONFLICT; other merchant → 404', async () => {
    const body = subscriptionBody(sb.handle.now());
    const a = await sb.api('POST', '/subscriptions/create', body);
    const b = await sb.api('POST', '/subscriptions/create', body);
    expect(b.body.subscription_id).toBe(a.body.subscription_id);
    const c = await sb.api('POST', '/subscriptions/create', { ...body, amount: 999 });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe('ORDER_CONFLICT');
    const foreign = await sb.api('GET', `/subscriptions/status?subscription_id=${a.body.subscription_id}`, undefined, { key: OTHER.secretKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('SUBSCRIPTION_NOT_FOUND');
    const upd = await sb.api(
      'POST',
      '/subscriptions/update',
      { merchant_id: OTHER.merchantId, subscription_id: a.body.subscription_id, amount: 5 },
      { key: OTHER.secretKey },
    );
    expect(upd.status).toBe(404);
    expect((await sb.api('POST', '/subscriptions/cancel', { subscription_id: 'sub_nope' })).status).toBe(404);
    const byNo = await sb.api('GET', `/subscriptions/status?out_subscription_no=${encodeURIComponent(String(body.out_subscription_no))}`);
    expect(byNo.body.subscription_id).toBe(a.body.subscription_id);
  });
});

describe('lifecycle via the sandbox clock', () => {
  it('authorize → ACTIVE with the first charge; 3 months later 3 renewals in order, each with its webhook', async () => {
    const s = await create();
    const res = await authorize(s.subscription_id);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.searchParams.get('status')).toBe('ACTIVE');
    expect(loc.searchParams.get('subscription_id')).toBe(s.subscription_id);
    expect(loc.searchParams.get('out_subscription_no')).toBe(s.out_subscription_no);
    const active = await status(s.subscription_id);
    expect(active.status).toBe('ACTIVE');
    expect(active.charges).toHaveLength(1);
    expect(active.charges[0]).toMatchObject({
      status: 'SUCCEEDED',
      amount: 1000,
      attempt: 1,
      period_start: active.current_period_start,
      period_end: active.current_period_end,
    });
    expect(active.next_billing_at).toBe(active.current_period_end);
    expect(await waitEvents(s.subscription_id, 1)).toEqual(['subscription.activated']);

    const anchor = Date.parse(active.current_period_start);
    const third = new Date(periodBoundary(anchor, 'MONTH', 1, 3)).toISOString();
    const started = Date.now();
    await advanceTo(third);
    expect(Date.now() - started).toBeLessThan(3000);
    const after = await status(s.subscription_id);
    expect(after.status).toBe('ACTIVE');
    expect(after.charges).toHaveLength(4);
    for (let k = 0; k < 4; k += 1) {
      expect(after.charges[k].period_start).toBe(new Date(periodBoundary(anchor, 'MONTH', 1, k)).toISOString());
      expect(after.charges[k].period_end).toBe(new Date(periodBoundary(anchor, 'MONTH', 1, k + 1)).toISOString());
      expect(after.charges[k].status).toBe('SUCCEEDED');
    }
    expect(after.current_period_start).toBe(third);
    const types = await waitEvents(s.subscription_id, 4);
    expect(types).toEqual(['subscription.activated', 'subscription.renewed', 'subscription.renewed', 'subscription.renewed']);
    // Delivered in creation order, each event stamped at its renewal time.
    const renewed = rx.accepted().filter((r) => r.event.data.object.subscription_id === s.subscription_id && r.event.type === 'subscription.renewed');
    expect(renewed.map((r) => r.event.created)).toEqual([1, 2, 3].map((k) => Math.floor(periodBoundary(anchor, 'MONTH', 1, k) / 1000)));
    expect(renewed.map((r) => r.event.data.object.charges.length)).toEqual([2, 3, 4]);
  });

  it('failed renewals: PAST_DUE, retried every 24 h, UNPAID after the 3rd failed retry (subscription.updated)', async () => {
    const s = await create();
    await authorize(s.subscription_id);
    // Amount ending in 02 is declined; it applies from the next period.
    const upd = await sb.api('POST', '/subscriptions/update', { merchant_id: MERCHANT.merchantId, subscription_id: s.subscription_id, amount: 1002 });
    expect(upd.status).toBe(200);
    expect(upd.body.amount).toBe(1000);
    expect(upd.body.pending_update).toMatchObject({ amount: 1002, effective_at: upd.body.current_period_end });
    await advanceTo(upd.body.current_period_end);
    const pastDue = await status(s.subscription_id);
    expect(pastDue).toMatchObject({ status: 'PAST_DUE', amount: 1002, failed_renewal_count: 1, pending_update: null });
    expect(pastDue.charges.at(-1)).toMatchObject({ status: 'FAILED', failure_code: 'CARD_DECLINED', attempt: 1, amount: 1002 });
    expect(Date.parse(pastDue.next_retry_at) - Date.parse(pastDue.current_period_start)).toBe(DAY * 1000);
    expect(pastDue.next_billing_at).toBe(pastDue.next_retry_at);

    await sb.advance(DAY);
    expect(await status(s.subscription_id)).toMatchObject({ status: 'PAST_DUE', failed_renewal_count: 2 });
    await sb.advance(DAY);
    expect(await status(s.subscription_id)).toMatchObject({ status: 'PAST_DUE', failed_renewal_count: 3 });
    await sb.advance(DAY);
    const unpaid = await status(s.subscription_id);
    expect(unpaid).toMatchObject({ status: 'UNPAID', failed_renewal_count: 4, next_retry_at: null, next_billing_at: null });
    expect(unpaid.charges.map((c: any) => `${c.status}:${c.attempt}`)).toEqual(['SUCCEEDED:1', 'FAILED:1', 'FAILED:2', 'FAILED:3', 'FAILED:4']);
    await sb.advance(40 * DAY);
    expect((await status(s.subscription_id)).charges).toHaveLength(5);

    const types = await waitEvents(s.subscription_id, 8);
    expect(types).toEqual([
      'subscription.activated',
      'subscription.updated',
      'subscription.renewal_failed',
      'subscription.past_due',
      'subscription.renewal_failed',
      'subscription.renewal_failed',
      'subscription.renewal_failed',
      'subscription.updated',
    ]);
    const last = rx
      .accepted()
      .filter((r) => r.event.data.object.subscription_id === s.subscription_id)
      .at(-1)!;
    expect(last.event.data.object.status).toBe('UNPAID');

    const noUpdate = await sb.api('POST', '/subscriptions/update', { subscription_id: s.subscription_id, amount: 1000 });
    expect(noUpdate.status).toBe(409);
    expect(noUpdate.body.error.code).toBe('ORDER_CLOSED');
    const cancelled = await sb.api('POST', '/subscriptions/cancel', { subscription_id: s.subscription_id, at_period_end: true });
    expect(cancelled.body.status).toBe('CANCELLED');
  });

  it('a failed first charge (magic amount) goes ACTIVE → PAST_DUE; a successful retry recovers to ACTIVE', async () => {
    const s = await create({ amount: 4951 });
    await authorize(s.subscription_id);
    const pd = await status(s.subscription_id);
    expect(pd).toMatchObject({ status: 'PAST_DUE', failed_renewal_count: 1 });
    expect(pd.charges[0]).toMatchObject({ status: 'FAILED', failure_code: 'INSUFFICIENT_FUNDS' });
    // Force the next charge to succeed (addition: charges fault with failure_code null).
    const f = await sb.api('POST', '/sandbox/faults', { charges: { count: 1, failure_code: null } }, { key: null });
    expect(f.status).toBe(201);
    await sb.advance(DAY);
    const ok = await status(s.subscription_id);
    expect(ok).toMatchObject({ status: 'ACTIVE', failed_renewal_count: 0, next_retry_at: null });
    expect(ok.charges.map((c: any) => `${c.status}:${c.attempt}`)).toEqual(['FAILED:1', 'SUCCEEDED:2']);
    expect(ok.charges[1].period_start).toBe(ok.charges[0].period_start);
    expect(await waitEvents(s.subscription_id, 4)).toEqual([
      'subscription.activated',
      'subscription.renewal_failed',
      'subscription.past_due',
      'subscription.renewed',
    ]);
  });

  it('trial: TRIALING without a charge, first charge at trial end', async () => {
    const s = await create({ trial_days: 14 });
    const res = await authorize(s.subscription_id);
    expect(new URL(res.headers.get('location')!).searchParams.get('status')).toBe('TRIALING');
    const t = await status(s.subscription_id);
    expect(t).toMatchObject({ status: 'TRIALING', charges: [] });
    expect(Date.parse(t.trial_end) - Date.parse(t.trial_start)).toBe(14 * DAY * 1000);
    expect(t.next_billing_at).toBe(t.trial_end);
    await sb.advance(13 * DAY);
    expect((await status(s.subscription_id)).status).toBe('TRIALING');
    await advanceTo(t.trial_end);
    const a = await status(s.subscription_id);
    expect(a.status).toBe('ACTIVE');
    expect(a.charges).toHaveLength(1);
    expect(a.current_period_start).toBe(t.trial_end);
    expect(a.current_period_end).toBe(new Date(periodBoundary(Date.parse(t.trial_end), 'MONTH', 1, 1)).toISOString());
    expect(await waitEvents(s.subscription_id, 2)).toEqual(['subscription.activated', 'subscription.renewed']);
  });

  it('update takes effect from the next period (pending_update until then)', async () => {
    const s = await create();
    await authorize(s.subscription_id);
    const u = await sb.api('POST', '/subscriptions/update', { subscription_id: s.subscription_id, amount: 2500, interval: 'WEEK', metadata: { tier: 'pro' } });
    expect(u.status).toBe(200);
    expect(u.body).toMatchObject({ amount: 1000, interval: 'MONTH', pending_update: { amount: 2500, interval: 'WEEK', metadata: { tier: 'pro' } } });
    const bad = await sb.api('POST', '/subscriptions/update', { subscription_id: s.subscription_id });
    expect(bad.status).toBe(400);
    expect((await sb.api('POST', '/subscriptions/update', { subscription_id: s.subscription_id, interval_count: 0 })).body.error.message).toContain(
      'interval_count',
    );
    await advanceTo(u.body.current_period_end);
    const next = await status(s.subscription_id);
    expect(next).toMatchObject({ amount: 2500, interval: 'WEEK', metadata: { tier: 'pro' }, pending_update: null, status: 'ACTIVE' });
    expect(next.charges.at(-1)).toMatchObject({ amount: 2500, status: 'SUCCEEDED' });
    expect(Date.parse(next.current_period_end) - Date.parse(next.current_period_start)).toBe(7 * DAY * 1000);
    expect(await waitEvents(s.subscription_id, 3)).toEqual(['subscription.activated', 'subscription.updated', 'subscription.renewed']);
  });

  it('cancel at period end keeps it ACTIVE until the period ends; cancel now is immediate; CANCELLED is final', async () => {
    const s = await create();
    await authorize(s.subscription_id);
    const c = await sb.api('POST', '/subscriptions/cancel', { merchant_id: MERCHANT.merchantId, subscription_id: s.subscription_id, at_period_end: true });
    expect(c.body).toMatchObject({ status: 'ACTIVE', cancel_at_period_end: true, next_billing_at: null });
    await advanceTo(c.body.current_period_end);
    const done = await status(s.subscription_id);
    expect(done).toMatchObject({ status: 'CANCELLED', cancelled_at: c.body.current_period_end });
    expect(done.charges).toHaveLength(1);
    expect(await waitEvents(s.subscription_id, 3)).toEqual(['subscription.activated', 'subscription.updated', 'subscription.cancelled']);

    const n = await create();
    await authorize(n.subscription_id);
    const now = await sb.api('POST', '/subscriptions/cancel', { subscription_id: n.subscription_id, at_period_end: false });
    expect(now.body.status).toBe('CANCELLED');
    const again = await sb.api('POST', '/subscriptions/cancel', { subscription_id: n.subscription_id, at_period_end: false });
    expect(again.status).toBe(200);
    expect(again.text).toBe(now.text);
    expect((await sb.api('POST', '/subscriptions/update', { subscription_id: n.subscription_id, amount: 5 })).body.error.code).toBe('ORDER_CLOSED');
    const pay = await sb.checkout(n.subscription_id, 'authorize');
    expect(pay.status).toBe(409);
    expect(await pay.text()).toContain('ORDER_CLOSED');
    await sb.advance(40 * DAY);
    expect((await status(n.subscription_id)).charges).toHaveLength(1);
    expect((await sb.api('POST', '/subscriptions/cancel', { subscription_id: n.subscription_id, at_period_end: 'yes' })).status).toBe(400);
  });

  it('declining the mandate cancels it; an authorized mandate cannot be authorized again', async () => {
    const d = await create();
    const res = await sb.checkout(d.subscription_id, 'decline');
    expect(new URL(res.headers.get('location')!).searchParams.get('status')).toBe('CANCELLED');
    expect(await status(d.subscription_id)).toMatchObject({ status: 'CANCELLED', cancellation_reason: 'MANDATE_DECLINED' });
    const a = await create();
    await authorize(a.subscription_id);
    const twice = await sb.checkout(a.subscription_id, 'authorize');
    expect(twice.status).toBe(409);
    expect(await twice.text()).toContain('ORDER_ALREADY_PAID');
  });

  it('a year of daily renewals runs in order and quickly', async () => {
    const s = await create({ interval: 'DAY', amount: 100 });
    await authorize(s.subscription_id);
    const started = Date.now();
    await sb.advance(365 * DAY);
    const elapsed = Date.now() - started;
    const y = await status(s.subscription_id);
    expect(y.charges).toHaveLength(366);
    expect(elapsed).toBeLessThan(10_000);
    const starts = y.charges.map((c: any) => Date.parse(c.period_start));
    expect(starts.every((v: number, i: number) => i === 0 || v - starts[i - 1] === DAY * 1000)).toBe(true);
  });

  it('lists subscriptions for inspection', async () => {
    const list = await sb.api('GET', `/sandbox/subscriptions?merchant_id=${MERCHANT.merchantId}`, undefined, { key: null });
    expect(list.body.subscriptions.length).toBeGreaterThan(5);
    expect(eventsOf('sub_none')).toEqual([]);
  });
});
