import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderBody, startSandbox, type TestSandbox } from './helpers';

/** `time_expire` (addition to the contract): an absolute expiry; an order asked for after it is born EXPIRED. */
let sb: TestSandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(async () => {
  await sb?.stop();
});

const clockNow = async () => Date.parse((await sb.api('GET', '/sandbox/clock', undefined, { key: null })).body.now);

describe('POST /payment/unifiedorder with time_expire', () => {
  it('expires the order at time_expire when that comes before created_at + expires_in', async () => {
    const at = new Date((await clockNow()) + 120_000).toISOString();
    const r = await sb.api('POST', '/payment/unifiedorder', orderBody({ expires_in: 1800, time_expire: at }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'PENDING', expires_at: at });
    await sb.advance(121);
    const later = await sb.api('GET', `/payment/status?order_id=${r.body.order_id}`);
    expect(later.body.status).toBe('EXPIRED');
  });

  it('an order asked for after its time_expire is born EXPIRED (payment.expired sent), cannot be paid, and replays as such', async () => {
    const past = new Date((await clockNow()) - 1000).toISOString();
    const body = orderBody({ time_expire: past });
    const r = await sb.api('POST', '/payment/unifiedorder', body);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('EXPIRED');
    const pay = await fetch(r.body.pay_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'authorize' }),
      redirect: 'manual',
    });
    expect(pay.status).toBe(409);
    const again = await sb.api('POST', '/payment/unifiedorder', { ...body });
    expect(again.body).toMatchObject({ order_id: r.body.order_id, status: 'EXPIRED' });
    expect((await sb.webhooks()).filter((e) => e.object_id === r.body.order_id).map((e) => e.type)).toEqual(['payment.expired']);
  });

  it('a time_expire that is not an ISO 8601 UTC timestamp is 400 INVALID_REQUEST naming the field', async () => {
    for (const bad of ['tomorrow', 1767225600, '2026-01-01 12:00:00']) {
      const r = await sb.api('POST', '/payment/unifiedorder', orderBody({ time_expire: bad }));
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'INVALID_REQUEST', field: 'time_expire' });
    }
  });
});
