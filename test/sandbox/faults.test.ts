import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MERCHANT, orderBody, startSandbox, uniq, type TestSandbox } from './helpers';

let sb: TestSandbox;

beforeAll(async () => {
  sb = await startSandbox();
});

afterEach(async () => {
  await sb.api('DELETE', '/sandbox/faults', undefined, { key: null });
});

afterAll(async () => {
  await sb?.stop();
});

const addFault = async (rule: unknown): Promise<any> => {
  const r = await sb.api('POST', '/sandbox/faults', rule, { key: null });
  expect(r.status).toBe(201);
  return r.body;
};

async function ordersWith(outTradeNo: string): Promise<any[]> {
  return (await sb.api('GET', `/sandbox/orders?merchant_id=${MERCHANT.merchantId}&out_trade_no=${encodeURIComponent(outTradeNo)}`, undefined, { key: null }))
    .body.orders;
}

describe('HTTP fault injection', () => {
  it('status + code for `count` calls, then the rule is spent; the request log shows every call', async () => {
    await sb.api('DELETE', '/sandbox/requests', undefined, { key: null });
    const rule = await addFault({ endpoint: 'POST /payment/unifiedorder', count: 2, status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect((await sb.api('GET', '/sandbox/faults', undefined, { key: null })).body.faults).toHaveLength(1);
    const body = orderBody();
    const a = await sb.api('POST', '/payment/unifiedorder', body, { idem: 'k-1' });
    const b = await sb.api('POST', '/payment/unifiedorder', body, { idem: 'k-1' });
    const c = await sb.api('POST', '/payment/unifiedorder', body, { idem: 'k-1' });
    expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
    expect(a.body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect((await sb.api('GET', '/sandbox/faults', undefined, { key: null })).body.faults).toHaveLength(0);
    const log = (await sb.api('GET', '/sandbox/requests?endpoint=POST%20/payment/unifiedorder', undefined, { key: null })).body.requests;
    expect(log.map((e: any) => [e.status, e.idempotency_key, e.fault])).toEqual([
      [503, 'k-1', rule.id],
      [503, 'k-1', rule.id],
      [200, 'k-1', null],
    ]);
    expect(log.every((e: any) => typeof e.at === 'string')).toBe(true);
  });

  it('429 RATE_LIMITED carries Retry-After; a code alone picks its status; "*" matches every contract endpoint', async () => {
    await addFault({ endpoint: 'GET /payment/status', status: 429, retry_after: 7 });
    const r = await sb.api('GET', '/payment/status?order_id=x');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(r.body.error.code).toBe('RATE_LIMITED');
    await addFault({ endpoint: '*', code: 'GATEWAY_TIMEOUT', message: 'upstream slow' });
    const g = await sb.api('GET', '/subscriptions/status?subscription_id=x');
    expect(g.status).toBe(504);
    expect(g.body.error).toEqual({ code: 'GATEWAY_TIMEOUT', message: 'upstream slow' });
    await addFault({ endpoint: '*', status: 500 });
    expect((await sb.api('POST', '/payment/refund', {})).body.error.code).toBe('PROVIDER_ERROR');
    // /sandbox/* and checkout are never faulted.
    await addFault({ endpoint: '*', status: 502 });
    expect((await sb.api('GET', '/sandbox/clock', undefined, { key: null })).status).toBe(200);
    expect((await sb.api('GET', '/payment/status?order_id=x')).status).toBe(502);
  });

  it('every contract error code injected by code alone answers with its documented HTTP status', async () => {
    const table: [string, number][] = [
      ['INVALID_REQUEST', 400],
      ['AUTHENTICATION_FAILED', 401],
      ['PERMISSION_DENIED', 403],
      ['ORDER_NOT_FOUND', 404],
      ['REFUND_NOT_FOUND', 404],
      ['SUBSCRIPTION_NOT_FOUND', 404],
      ['ORDER_CONFLICT', 409],
      ['IDEMPOTENCY_CONFLICT', 409],
      ['ORDER_CLOSED', 409],
      ['ORDER_ALREADY_PAID', 409],
      ['PAYMENT_NOT_PAID', 422],
      ['REFUND_EXCEEDS_PAYMENT', 422],
      ['CARD_DECLINED', 422],
      ['INSUFFICIENT_FUNDS', 422],
      ['RATE_LIMITED', 429],
      ['PROVIDER_ERROR', 500],
      ['SERVICE_UNAVAILABLE', 503],
      ['GATEWAY_TIMEOUT', 504],
    ];
    for (const [code, status] of table) {
      await addFault({ endpoint: 'POST /payment/refund', code });
      const r = await sb.api('POST', '/payment/refund', {});
      expect([code, r.status]).toEqual([code, status]);
      expect(r.body.error.code).toBe(code);
      if (status === 429) expect(r.headers.get('retry-after')).toBe('1');
    }
  });

  it('latency_ms delays the answer', async () => {
    await addFault({ endpoint: 'GET /payment/status', latency_ms: 300 });
    const started = Date.now();
    const r = await sb.api('GET', '/payment/status?order_id=missing');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(r.status).toBe(404);
  });

  it('drop (before) closes the connection and the call is not processed', async () => {
    await addFault({ endpoint: 'POST /payment/unifiedorder', drop: true });
    const body = orderBody();
    await expect(sb.api('POST', '/payment/unifiedorder', body)).rejects.toThrow();
    expect(await ordersWith(String(body.out_trade_no))).toHaveLength(0);
    const log = (await sb.api('GET', '/sandbox/requests', undefined, { key: null })).body.requests;
    expect(log.at(-1)).toMatchObject({ endpoint: 'POST /payment/unifiedorder', status: 0 });
  });

  it('when=after: the call is processed, the fault replaces the answer, and a retry with the same key gets the real answer', async () => {
    await addFault({ endpoint: 'POST /payment/unifiedorder', status: 500, when: 'after' });
    const body = orderBody();
    const key = uniq('idem');
    const failed = await sb.api('POST', '/payment/unifiedorder', body, { idem: key });
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe('PROVIDER_ERROR');
    const orders = await ordersWith(String(body.out_trade_no));
    expect(orders).toHaveLength(1);
    const retry = await sb.api('POST', '/payment/unifiedorder', body, { idem: key });
    expect(retry.status).toBe(200);
    expect(retry.body.order_id).toBe(orders[0].order_id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it('drop with when=after processes the call then closes the connection', async () => {
    await addFault({ endpoint: 'POST /payment/unifiedorder', drop: true, when: 'after', latency_ms: 50 });
    const body = orderBody();
    await expect(sb.api('POST', '/payment/unifiedorder', body)).rejects.toThrow();
    expect(await ordersWith(String(body.out_trade_no))).toHaveLength(1);
  });

  it('rejects malformed rules naming the field', async () => {
    for (const [field, rule] of [
      ['endpoint', { endpoint: 'GET /nope', status: 500 }],
      ['status', { endpoint: '*', status: 200 }],
      ['when', { endpoint: '*', status: 500, when: 'later' }],
      ['count', { endpoint: '*', status: 500, count: 0 }],
      ['status', { endpoint: '*' }],
      ['webhooks.mode', { webhooks: { mode: 'explode' } }],
      ['refunds.count', { refunds: { count: -1 } }],
    ] as const) {
      const r = await sb.api('POST', '/sandbox/faults', rule, { key: null });
      expect(r.status, field).toBe(400);
      expect(r.body.error.message).toContain(field);
    }
  });
});
