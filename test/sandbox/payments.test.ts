import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MERCHANT, OTHER, orderBody, startReceiver, startSandbox, uniq, waitUntil, type Receiver, type TestSandbox } from './helpers';

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

describe('POST /payment/unifiedorder', () => {
  it('creates a PENDING order with pay_url and expiry (default 1800 s)', async () => {
    const body = orderBody({ metadata: { cart: '42' } });
    const r = await sb.api('POST', '/payment/unifiedorder', body);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const o = r.body;
    expect(o.order_id).toMatch(/^ord_/);
    expect(o).toMatchObject({
      out_trade_no: body.out_trade_no,
      status: 'PENDING',
      amount: 1999,
      currency: 'USD',
      refunded_amount: 0,
      transaction_id: null,
      paid_at: null,
      metadata: { cart: '42' },
    });
    expect(o.pay_url).toBe(`${sb.url}/checkout/${o.order_id}`);
    expect(Date.parse(o.expires_at) - Date.parse(o.created_at)).toBe(1800_000);
  });

  it('same out_trade_no + same parameters returns the existing order; different ones are ORDER_CONFLICT', async () => {
    const body = orderBody();
    const first = await sb.api('POST', '/payment/unifiedorder', body);
    const again = await sb.api('POST', '/payment/unifiedorder', { ...body });
    expect(again.status).toBe(200);
    expect(again.body.order_id).toBe(first.body.order_id);
    const clash = await sb.api('POST', '/payment/unifiedorder', { ...body, amount: 2000 });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('ORDER_CONFLICT');
    // out_trade_no is unique per merchant: the other merchant may reuse it.
    const other = await sb.api('POST', '/payment/unifiedorder', { ...body, merchant_id: OTHER.merchantId }, { key: OTHER.secretKey });
    expect(other.status).toBe(200);
    expect(other.body.order_id).not.toBe(first.body.order_id);
  });

  const invalidCases: [string, Record<string, unknown>][] = [
    ['amount', { amount: 0 }],
    ['amount', { amount: -5 }],
    ['amount', { amount: 19.99 }],
    ['amount', { amount: 2147483648 }],
    ['amount', { amount: '1999' }],
    ['currency', { currency: 'usd' }],
    ['currency', { currency: 'XXX' }],
    ['return_url', { return_url: 'ftp://example.com/x' }],
    ['notify_url', { notify_url: 'not a url' }],
    ['out_trade_no', { out_trade_no: '' }],
    ['out_trade_no', { out_trade_no: 'x'.repeat(129) }],
    ['description', { description: 'd'.repeat(1001) }],
    ['description', { description: undefined }],
    ['expires_in', { expires_in: 0 }],
    ['expires_in', { expires_in: 1.5 }],
    ['metadata', { metadata: { a: 1 } }],
    ['metadata', { metadata: 'x' }],
    ['merchant_id', { merchant_id: undefined }],
  ];
  for (const [field, patch] of invalidCases) {
    it(`400 INVALID_REQUEST naming ${field} for ${JSON.stringify(patch)}`, async () => {
      const r = await sb.api('POST', '/payment/unifiedorder', orderBody(patch));
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('INVALID_REQUEST');
      expect(r.body.error.message).toContain(field);
    });
  }

  it('accepts the maximum amount 2147483647 and currencies of every exponent', async () => {
    for (const currency of ['JPY', 'KWD', 'EUR']) {
      const r = await sb.api('POST', '/payment/unifiedorder', orderBody({ amount: 2147483647, currency }));
      expect(r.status).toBe(200);
    }
  });

  it('401 AUTHENTICATION_FAILED without or with a wrong key; 403 PERMISSION_DENIED for a foreign merchant_id', async () => {
    expect((await sb.api('POST', '/payment/unifiedorder', orderBody(), { key: null })).body.error.code).toBe('AUTHENTICATION_FAILED');
    const wrong = await sb.api('POST', '/payment/unifiedorder', orderBody(), { key: 'sk_nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('AUTHENTICATION_FAILED');
    const basic = await sb.api('GET', '/payment/status?order_id=x', undefined, { key: null, headers: { Authorization: `Basic ${MERCHANT.secretKey}` } });
    expect(basic.status).toBe(401);
    const foreign = await sb.api('POST', '/payment/unifiedorder', orderBody({ merchant_id: OTHER.merchantId }));
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('PERMISSION_DENIED');
    const foreignQuery = await sb.api('GET', `/payment/status?order_id=x&merchant_id=${OTHER.merchantId}`);
    expect(foreignQuery.status).toBe(403);
  });
});

describe('GET /payment/status', () => {
  it('finds by order_id and by out_trade_no; other merchants get 404', async () => {
    const o = await sb.createOrder();
    const byId = await sb.api('GET', `/payment/status?order_id=${o.order_id}`);
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ order_id: o.order_id, status: 'PENDING', amount: 1999, currency: 'USD', refunded_amount: 0 });
    const byNo = await sb.api('GET', `/payment/status?out_trade_no=${encodeURIComponent(o.out_trade_no)}`);
    expect(byNo.body.order_id).toBe(o.order_id);
    const foreign = await sb.api('GET', `/payment/status?order_id=${o.order_id}`, undefined, { key: OTHER.secretKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('ORDER_NOT_FOUND');
    const unknown = await sb.api('GET', '/payment/status?order_id=ord_missing');
    expect(unknown.status).toBe(404);
    const none = await sb.api('GET', '/payment/status');
    expect(none.status).toBe(400);
    expect(none.body.error.message).toContain('order_id');
  });
});

describe('hosted checkout', () => {
  it('authorize: 303 to return_url with status=PAID, transaction_id, payment.succeeded webhook', async () => {
    const o = await sb.createOrder({ notify_url: rx.url, return_url: 'http://shop.example/back?x=1' });
    const res = await sb.checkout(o.order_id, 'authorize');
    expect(res.status).toBe(303);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.origin + loc.pathname).toBe('http://shop.example/back');
    expect(Object.fromEntries(loc.searchParams)).toEqual({ x: '1', order_id: o.order_id, out_trade_no: o.out_trade_no, status: 'PAID' });
    const s = await sb.orderStatus(o.order_id);
    expect(s.status).toBe('PAID');
    expect(s.transaction_id).toMatch(/^txn_/);
    expect(s.paid_at).toBeTruthy();
    const [hook] = await rx.waitFor(1, 5000, (r) => r.event.data.object.order_id === o.order_id);
    expect(hook.event.type).toBe('payment.succeeded');
    expect(hook.event.data.object).toMatchObject({ order_id: o.order_id, status: 'PAID', transaction_id: s.transaction_id });
  });

  it('magic amounts: ...02 → FAILED CARD_DECLINED, ...51 → FAILED INSUFFICIENT_FUNDS', async () => {
    for (const [amount, code] of [
      [1002, 'CARD_DECLINED'],
      [351, 'INSUFFICIENT_FUNDS'],
    ] as const) {
      const o = await sb.createOrder({ amount, notify_url: rx.url });
      const res = await sb.checkout(o.order_id, 'authorize');
      expect(res.status).toBe(303);
      expect(new URL(res.headers.get('location')!).searchParams.get('status')).toBe('FAILED');
      const s = await sb.orderStatus(o.order_id);
      expect(s).toMatchObject({ status: 'FAILED', failure_code: code, transaction_id: null });
      expect(s.failure_message).toBeTruthy();
      const [hook] = await rx.waitFor(1, 5000, (r) => r.event.data.object.order_id === o.order_id);
      expect(hook.event.type).toBe('payment.failed');
    }
  });

  it('decline → FAILED CARD_DECLINED; cancel → CANCELLED with payment.cancelled', async () => {
    const d = await sb.createOrder({ notify_url: rx.url });
    expect((await sb.checkout(d.order_id, 'decline')).status).toBe(303);
    expect(await sb.orderStatus(d.order_id)).toMatchObject({ status: 'FAILED', failure_code: 'CARD_DECLINED' });
    const c = await sb.createOrder({ notify_url: rx.url });
    const res = await sb.checkout(c.order_id, 'cancel');
    expect(new URL(res.headers.get('location')!).searchParams.get('status')).toBe('CANCELLED');
    expect((await sb.orderStatus(c.order_id)).status).toBe('CANCELLED');
    const [hook] = await rx.waitFor(1, 5000, (r) => r.event.data.object.order_id === c.order_id);
    expect(hook.event.type).toBe('payment.cancelled');
  });

  it('no illegal transition: a cancelled/failed order cannot be paid, a paid one cannot be paid again', async () => {
    const c = await sb.createOrder();
    await sb.checkout(c.order_id, 'cancel');
    const again = await sb.checkout(c.order_id, 'authorize');
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toMatch(/text\/html/);
    expect(await again.text()).toContain('ORDER_CLOSED');
    expect((await sb.orderStatus(c.order_id)).status).toBe('CANCELLED');

    const f = await sb.createOrder();
    await sb.checkout(f.order_id, 'decline');
    expect((await sb.checkout(f.order_id, 'authorize')).status).toBe(409);
    expect((await sb.orderStatus(f.order_id)).status).toBe('FAILED');

    const p = await sb.payOrder();
    const twice = await sb.checkout(p.order_id, 'authorize');
    expect(twice.status).toBe(409);
    expect(await twice.text()).toContain('ORDER_ALREADY_PAID');
    expect((await sb.checkout(p.order_id, 'cancel')).status).toBe(409);
    expect((await sb.orderStatus(p.order_id)).status).toBe('PAID');
  });

  it('renders merchant, formatted amount and escaped description; bad actions and unknown ids are rejected', async () => {
    const o = await sb.createOrder({ amount: 500, currency: 'JPY', description: '<script>alert(1)</script> & tea' });
    const page = await fetch(o.pay_url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('500 JPY');
    expect(html).toContain('Tea &amp; &lt;Co&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; tea');
    expect(html).not.toContain('<script>');
    for (const label of ['Authorize', 'Decline', 'Cancel']) expect(html).toContain(`>${label}</button>`);
    const kwd = await sb.createOrder({ amount: 1234, currency: 'KWD' });
    expect(await (await fetch(kwd.pay_url)).text()).toContain('1.234 KWD');

    const bad = await sb.checkout(o.order_id, 'steal');
    expect(bad.status).toBe(400);
    expect((await fetch(`${sb.url}/checkout/ord_missing`)).status).toBe(404);
    expect((await sb.checkout('ord_missing', 'authorize')).status).toBe(404);
  });
});

describe('expiry via the sandbox clock', () => {
  it('EXPIRED at expires_at with payment.expired; the page says so and paying answers 409 ORDER_CLOSED', async () => {
    const o = await sb.createOrder({ expires_in: 600, notify_url: rx.url });
    await sb.advance(599);
    expect((await sb.orderStatus(o.order_id)).status).toBe('PENDING');
    const adv = await sb.advance(2);
    expect(adv.offset_seconds).toBeGreaterThanOrEqual(601);
    const s = await sb.orderStatus(o.order_id);
    expect(s.status).toBe('EXPIRED');
    const [hook] = await rx.waitFor(1, 5000, (r) => r.event.data.object.order_id === o.order_id);
    expect(hook.event.type).toBe('payment.expired');
    expect(hook.event.created).toBe(Math.floor(Date.parse(o.expires_at) / 1000));
    const html = await (await fetch(o.pay_url)).text();
    expect(html).toContain('expired');
    expect(html).not.toContain('<button');
    const pay = await sb.checkout(o.order_id, 'authorize');
    expect(pay.status).toBe(409);
    expect(await pay.text()).toContain('ORDER_CLOSED');
    // Paid orders do not expire.
    const p = await sb.payOrder({ expires_in: 60 });
    await sb.advance(3600);
    expect((await sb.orderStatus(p.order_id)).status).toBe('PAID');
  });

  it('expires in real time too (ticker), with a 1 s expires_in', async () => {
    const o = await sb.createOrder({ expires_in: 1 });
    await waitUntil(async () => (await sb.orderStatus(o.order_id)).status === 'EXPIRED', 4000, 'real-time expiry');
    const all = await sb.webhooks();
    expect(all.some((e: any) => e.object_id === o.order_id && e.type === 'payment.expired')).toBe(true);
  });
});

describe('inspection', () => {
  it('lists orders per merchant and by out_trade_no', async () => {
    const o = await sb.createOrder();
    const list = await sb.api('GET', `/sandbox/orders?merchant_id=${MERCHANT.merchantId}&out_trade_no=${encodeURIComponent(o.out_trade_no)}`, undefined, {
      key: null,
    });
    expect(list.body.orders).toHaveLength(1);
    expect(list.body.orders[0].order_id).toBe(o.order_id);
    const other = await sb.api('GET', `/sandbox/orders?merchant_id=${OTHER.merchantId}`, undefined, { key: null });
    expect(other.body.orders.every((x: any) => x.merchant_id === OTHER.merchantId)).toBe(true);
    expect(uniq('x')).not.toBe(uniq('x'));
  });
});
