import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { signWebhookPayload } from '../../src/ucanpay';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { runLogDestination } from '../helpers/run-logs';
import { demoMerchant, postWebhook, rawRequest, type TestMerchant } from './helpers';

/** The webhook route's own limits, each answered with a 4xx UCanPay will not retry forever — and never a 5xx. */

let gw: TestGateway;
let A: TestMerchant;
const logs: Array<Record<string, any>> = [];

beforeAll(async () => {
  const memory = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const file = runLogDestination();
  const logger = createLogger(
    'debug',
    file
      ? pino.multistream([
          { level: 'debug', stream: memory },
          { level: 'debug', stream: file },
        ])
      : memory,
  );
  gw = await startGateway({}, { logger });
  A = demoMerchant(gw);
});
afterAll(async () => {
  await gw?.stop();
});

const url = () => `${gw.app.url}/webhooks/ucanpay/${A.merchantId}`;
const event = (type: string) => ({ id: `evt_route_${type}`, type, created: Math.floor(Date.now() / 1000), data: { object: {} } });

describe('webhook route', () => {
  it('malformed JSON with a valid signature: 400', async () => {
    const res = await postWebhook(gw, A.merchantId, '{"id": "evt_1", "type": ', A.webhookSecret);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ received: false, error: 'body is not valid JSON' });
  });

  it('the signature is checked over the raw bytes: the same JSON re-serialized does not verify', async () => {
    const raw = JSON.stringify(event('payment.succeeded'), null, 2);
    const signature = signWebhookPayload(A.webhookSecret, raw, Math.floor(Date.now() / 1000));
    const res = await rawRequest(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ucanpay-signature': signature },
      body: JSON.stringify(JSON.parse(raw)),
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ received: false, error: 'signature rejected: bad_signature' });
  });

  it('stale and future timestamps: 400', async () => {
    for (const skew of [-301, 301]) {
      const res = await postWebhook(gw, A.merchantId, event('payment.succeeded'), A.webhookSecret, Math.floor(Date.now() / 1000) + skew);
      expect(res.json).toMatchObject({ received: false, error: 'signature rejected: stale_timestamp' });
    }
  });

  it('an unknown event type is acknowledged, ignored and logged', async () => {
    const res = await postWebhook(gw, A.merchantId, event('payment.teleported'), A.webhookSecret);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true, outcome: 'ignored' });
    expect(logs.some((l) => l.msg === 'webhook ignored: unknown event type' && l.type === 'payment.teleported')).toBe(true);
  });

  it('a body over 256 KiB: 413; another method: 405; an unknown merchant: 404', async () => {
    const big = await rawRequest(url(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(256 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect((await rawRequest(url(), { method: 'GET' })).status).toBe(405);
    const unknown = await postWebhook(gw, 'mer_nobody', event('payment.succeeded'), A.webhookSecret);
    expect(unknown.status).toBe(404);
  });

  it('every answer carries the request id, and the access log has it', async () => {
    const res = await postWebhook(gw, A.merchantId, event('payment.teleported'), A.webhookSecret);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^req_/);
    expect(logs.some((l) => l.requestId === requestId && l.msg === 'http request' && l.status === 200)).toBe(true);
    // The signature header is not an allow-listed header: logged by name, never its value.
    const received = logs.find((l) => l.requestId === requestId && l.msg === 'http request received');
    expect(received?.req.headers['ucanpay-signature']).toBeUndefined();
    expect(received?.req.headers.otherHeaders).toContain('ucanpay-signature');
  });
});
