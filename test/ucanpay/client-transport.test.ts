/**
 * Transport behaviour of UCanPayClient that the sandbox cannot produce
 * (HTML error pages, unknown codes, HTTP-date Retry-After, slow bodies, …),
 * against a tiny real HTTP server scripted per test.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UCanPayClient, UCanPayError, type UCanPayAttemptInfo, type UCanPayClientOptions } from '../../src/ucanpay';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const SECRET = 'sk_test_transport_0123456789abcdef';
let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let handler: Handler = (_req, res) => res.end();

const order = { order_id: 'ord_1', out_trade_no: 'A-1', status: 'PENDING', amount: 100, currency: 'USD', refunded_amount: 0 };
const createInput = { outTradeNo: 'A-1', amount: 100, currency: 'USD', description: 'd', returnUrl: 'http://r', notifyUrl: 'http://n' };

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, seen.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  seen = [];
});

function client(over: Partial<UCanPayClientOptions> = {}) {
  const attempts: UCanPayAttemptInfo[] = [];
  const logs: { obj: object; msg?: string }[] = [];
  const c = new UCanPayClient({
    baseUrl: `${baseUrl}/`,
    merchantId: 'mch_t',
    secretKey: SECRET,
    baseDelayMs: 5,
    maxDelayMs: 20,
    timeoutMs: 1000,
    onAttempt: (a) => attempts.push(a),
    logger: { warn: (obj, msg) => logs.push({ obj, msg }) },
    ...over,
  });
  return { c, attempts, logs };
}

async function failure(p: Promise<unknown>): Promise<UCanPayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UCanPayError);
  return err as UCanPayError;
}

describe('UCanPayClient transport', () => {
  it('sends auth, JSON, merchant_id and the same Idempotency-Key on every attempt', async () => {
    handler = (_req, res, n) => (n < 3 ? json(res, 503, { error: { code: 'SERVICE_UNAVAILABLE', message: 'busy' } }) : json(res, 200, order));
    const { c, attempts, logs } = client();
    const o = await c.createOrder(createInput, { idempotencyKey: 'idem-1' });
    expect(o).toMatchObject({ orderId: 'ord_1', status: 'PENDING', amount: 100, currency: 'USD', refundedAmount: 0 });
    expect(seen).toHaveLength(3);
    for (const s of seen) {
      expect(s.method).toBe('POST');
      expect(s.url).toBe('/payment/unifiedorder');
      expect(s.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(s.headers['idempotency-key']).toBe('idem-1');
      expect(s.headers['content-type']).toBe('application/json');
      expect(JSON.parse(s.body)).toEqual({
        merchant_id: 'mch_t',
        out_trade_no: 'A-1',
        amount: 100,
        currency: 'USD',
        description: 'd',
        return_url: 'http://r',
        notify_url: 'http://n',
      });
    }
    expect(attempts.map((a) => [a.attempt, a.ok, a.willRetry])).toEqual([
      [1, false, true],
      [2, false, true],
      [3, true, false],
    ]);
    expect(logs).toHaveLength(2);
    expect(JSON.stringify(logs)).not.toContain(SECRET);
    expect(logs[0]!.msg).toContain('SERVICE_UNAVAILABLE');
  });

  it('GETs carry the lookup as a query parameter and no Idempotency-Key', async () => {
    handler = (_req, res) => json(res, 200, order);
    const { c } = client();
    await c.getOrder({ outTradeNo: 'A 1/é' });
    expect(seen[0]!.method).toBe('GET');
    expect(new URL(seen[0]!.url, baseUrl).searchParams.get('out_trade_no')).toBe('A 1/é');
    expect(seen[0]!.headers['idempotency-key']).toBeUndefined();
  });

  it.each([
    [502, 'SERVICE_UNAVAILABLE'],
    [503, 'SERVICE_UNAVAILABLE'],
    [504, 'GATEWAY_TIMEOUT'],
    [500, 'PROVIDER_ERROR'],
  ])('unparseable %i body is retried and classified %s', async (status, code) => {
    handler = (_req, res) => {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end('<html>Bad gateway</html>');
    };
    const { c } = client({ maxAttempts: 3 });
    const e = await failure(c.getOrder({ orderId: 'ord_1' }));
    expect(e).toMatchObject({ code, retryable: true, httpStatus: status, attempts: 3 });
    expect(e.message).not.toContain('<html>');
    expect(seen).toHaveLength(3);
  });

  it('unknown provider code: 4xx not retried, 5xx retried', async () => {
    handler = (_req, res) => json(res, 418, { error: { code: 'TEAPOT', message: 'short and stout' } });
    const { c } = client();
    const e = await failure(c.getOrder({ orderId: 'x' }));
    expect(e).toMatchObject({ code: 'UNKNOWN_ERROR', providerCode: 'TEAPOT', retryable: false, attempts: 1, httpStatus: 418 });
    expect(seen).toHaveLength(1);

    seen = [];
    handler = (_req, res) => json(res, 507, { error: { code: 'DISK_FULL' } });
    const e2 = await failure(client({ maxAttempts: 2 }).c.getOrder({ orderId: 'x' }));
    expect(e2).toMatchObject({ code: 'UNKNOWN_ERROR', providerCode: 'DISK_FULL', retryable: true, attempts: 2 });
    expect(seen).toHaveLength(2);
  });

  it('a known code wins over an odd status (table decides retryable)', async () => {
    handler = (_req, res) => json(res, 503, { error: { code: 'CARD_DECLINED', message: 'no' } });
    const e = await failure(client().c.getOrder({ orderId: 'x' }));
    expect(e).toMatchObject({ code: 'CARD_DECLINED', retryable: false, attempts: 1, httpStatus: 503 });
  });

  it('honours Retry-After given as an HTTP date (real time)', async () => {
    const until = new Date(Date.now() + 1500).toUTCString(); // second precision: waits ~0.5–1.5 s
    handler = (_req, res, n) => (n === 1 ? json(res, 429, { error: { code: 'RATE_LIMITED' } }, { 'retry-after': until }) : json(res, 200, order));
    const started = Date.now();
    await client().c.getOrder({ orderId: 'ord_1' });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until) - 5);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(seen).toHaveLength(2);
  });

  it('gives up at once when Retry-After exceeds maxRetryAfterMs, exposing retryAfterMs', async () => {
    handler = (_req, res) => json(res, 429, { error: { code: 'RATE_LIMITED' } }, { 'retry-after': '120' });
    const e = await failure(client().c.getOrder({ orderId: 'x' }));
    expect(e).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 120_000, attempts: 1 });
  });

  it('429 without Retry-After falls back to backoff', async () => {
    handler = (_req, res, n) => (n === 1 ? json(res, 429, { error: { code: 'RATE_LIMITED' } }) : json(res, 200, order));
    const { c, attempts } = client();
    await c.getOrder({ orderId: 'x' });
    expect(attempts[0]!.delayMs).toBeLessThanOrEqual(5);
  });

  it('backoff is exponential with full jitter, capped at maxDelayMs', async () => {
    handler = (_req, res) => json(res, 500, { error: { code: 'PROVIDER_ERROR' } });
    const delays: number[] = [];
    const { c } = client({
      maxAttempts: 6,
      baseDelayMs: 100,
      maxDelayMs: 500,
      random: () => 0.999,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const e = await failure(c.getOrder({ orderId: 'x' }));
    expect(e.attempts).toBe(6);
    expect(delays).toEqual([99, 199, 399, 499, 499]);
    const zero: number[] = [];
    await failure(
      client({
        maxAttempts: 3,
        random: () => 0,
        sleep: async (ms) => {
          zero.push(ms);
        },
      }).c.getOrder({ orderId: 'x' }),
    );
    expect(zero).toEqual([0, 0]);
  });

  it('a non-JSON 2xx is INVALID_RESPONSE and not retried', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.end('OK');
    };
    const e = await failure(client().c.getOrder({ orderId: 'x' }));
    expect(e).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false, attempts: 1, httpStatus: 200 });
    expect(seen).toHaveLength(1);
  });

  it('a malformed 2xx payload is INVALID_RESPONSE and not retried', async () => {
    handler = (_req, res) => json(res, 200, { ...order, amount: '100' });
    const e = await failure(client().c.getOrder({ orderId: 'x' }));
    expect(e).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false, attempts: 1 });
    expect(e.message).toContain('"amount"');
  });

  it('times out a slow body too, and retries it', async () => {
    handler = (_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"order_id":');
        return;
      } // never ends
      json(res, 200, order);
    };
    const started = Date.now();
    const { c, attempts } = client({ timeoutMs: 150 });
    await c.getOrder({ orderId: 'ord_1' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(attempts[0]).toMatchObject({ ok: false, code: 'TIMEOUT', willRetry: true });
    server.closeAllConnections();
  });

  it('connection refused: retryable NETWORK_ERROR after maxAttempts', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { c, attempts } = client({ baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 3 });
    const e = await failure(c.getOrder({ orderId: 'x' }));
    expect(e).toMatchObject({ code: 'NETWORK_ERROR', retryable: true, attempts: 3 });
    expect(e.message).toContain('ECONNREFUSED');
    expect(attempts).toHaveLength(3);
  });

  it('never leaks the secret key, even when the provider echoes it', async () => {
    handler = (_req, res) => json(res, 401, { error: { code: 'AUTHENTICATION_FAILED', message: `bad key ${SECRET}\nline2` } });
    const e = await failure(client().c.getOrder({ orderId: 'x' }));
    expect(e.code).toBe('AUTHENTICATION_FAILED');
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain('\n');
    expect(JSON.stringify(e)).not.toContain(SECRET);
  });

  it('rejects bad calls locally without sending anything', async () => {
    const { c } = client();
    for (const p of [
      c.createOrder(createInput, { idempotencyKey: '' }),
      c.createOrder(createInput, { idempotencyKey: 'x'.repeat(256) }),
      c.createOrder(createInput, { idempotencyKey: 'clé-1' }),
      c.createOrder(createInput, { idempotencyKey: 'a\r\nX-Evil: 1' }),
      c.createOrder(createInput, undefined as never),
      c.getOrder({} as never),
      c.getOrder({ orderId: 'a', outTradeNo: 'b' } as never),
      c.getRefund({ refundId: '' }),
    ]) {
      const e = await failure(p);
      expect(e).toMatchObject({ code: 'INVALID_REQUEST', retryable: false, attempts: 0 });
    }
    expect(seen).toHaveLength(0);
  });

  it('a caller abort stops retries and rejects with the abort reason', async () => {
    handler = (_req, res) => json(res, 503, { error: { code: 'SERVICE_UNAVAILABLE' } });
    const ac = new AbortController();
    const { c } = client({ baseDelayMs: 1000, maxDelayMs: 1000, random: () => 0.99 });
    const p = c.getOrder({ orderId: 'x' }, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('caller gave up')), 100);
    const started = Date.now();
    await expect(p).rejects.toThrow('caller gave up');
    expect(Date.now() - started).toBeLessThan(800);
    expect(seen).toHaveLength(1);
  });

  it('validates its options', () => {
    expect(() => new UCanPayClient({ baseUrl: '', merchantId: 'm', secretKey: 's' })).toThrow(TypeError);
    expect(() => new UCanPayClient({ baseUrl: 'http://x', merchantId: 'm', secretKey: 's', maxAttempts: 0 })).toThrow(RangeError);
  });
});
