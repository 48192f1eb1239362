/** Shared helpers of the sandbox tests: a sandbox on a temp SQLite file, an API client, a webhook receiver. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createSandbox, type SandboxHandle, type SandboxOptions } from '../../src/sandbox';

export const MERCHANT = {
  merchantId: 'mch_test',
  secretKey: 'sk_test_merchant_one_0001',
  webhookSecret: 'whsec_test_merchant_one_0001',
  name: 'Tea & <Co>',
};

export const OTHER = {
  merchantId: 'mch_other',
  secretKey: 'sk_test_merchant_two_0002',
  webhookSecret: 'whsec_test_merchant_two_0002',
  name: 'Other Shop',
};

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-sandbox-test-'));
}

export interface ApiResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface TestSandbox {
  handle: SandboxHandle;
  url: string;
  dbPath: string;
  api<T = any>(
    method: string,
    route: string,
    body?: unknown,
    opts?: { key?: string | null; idem?: string; raw?: string; headers?: Record<string, string> },
  ): Promise<ApiResult<T>>;
  /** POST /checkout/<id> with a form action; does not follow the redirect. */
  checkout(id: string, action: string): Promise<Response>;
  advance(seconds: number): Promise<any>;
  createOrder(overrides?: Record<string, unknown>, opts?: { key?: string; idem?: string }): Promise<any>;
  payOrder(overrides?: Record<string, unknown>): Promise<any>;
  orderStatus(orderId: string): Promise<any>;
  webhooks(): Promise<any[]>;
  stop(): Promise<void>;
}

let seq = 0;
export function uniq(prefix: string): string {
  seq += 1;
  return `${prefix}-${process.pid}-${seq}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function startSandbox(options: Partial<SandboxOptions> = {}, dbPath?: string): Promise<TestSandbox> {
  const file = dbPath ?? path.join(tempDir(), 'sandbox.sqlite');
  const handle = await createSandbox({
    port: 0,
    dbPath: file,
    merchants: [MERCHANT, OTHER],
    webhookRetry: { baseMs: 20, maxAttempts: 6, maxDelayMs: 200, timeoutMs: 2000 },
    tickMs: 100,
    refundDelayMs: 30,
    ...options,
  });
  const url = handle.url;
  const api: TestSandbox['api'] = async (method, route, body, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const key = opts.key === undefined ? MERCHANT.secretKey : opts.key;
    if (key !== null) headers.Authorization = `Bearer ${key}`;
    if (opts.idem !== undefined) headers['Idempotency-Key'] = opts.idem;
    let payload: string | undefined = opts.raw;
    if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${url}${route}`, { method, headers, body: payload, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any, text, headers: res.headers };
  };
  const sb: TestSandbox = {
    handle,
    url,
    dbPath: file,
    api,
    checkout: (id, action) =>
      fetch(`${url}/checkout/${id}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ action }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      }),
    advance: async (seconds) => {
      const r = await api('POST', '/sandbox/clock/advance', { seconds }, { key: null });
      if (r.status !== 200) throw new Error(`advance failed: ${r.text}`);
      return r.body;
    },
    createOrder: async (overrides = {}, opts = {}) => {
      const r = await api('POST', '/payment/unifiedorder', orderBody(overrides, opts.key === OTHER.secretKey ? OTHER.merchantId : MERCHANT.merchantId), opts);
      if (r.status !== 200) throw new Error(`create order failed: ${r.status} ${r.text}`);
      return r.body;
    },
    payOrder: async (overrides = {}) => {
      const order = await sb.createOrder(overrides);
      const res = await sb.checkout(order.order_id, 'authorize');
      if (res.status !== 303) throw new Error(`checkout failed: ${res.status}`);
      return (await api('GET', `/payment/status?order_id=${order.order_id}`)).body;
    },
    orderStatus: async (orderId) => (await api('GET', `/payment/status?order_id=${orderId}`)).body,
    webhooks: async () => (await api('GET', '/sandbox/webhooks', undefined, { key: null })).body.events,
    stop: () => handle.stop(),
  };
  return sb;
}

export function orderBody(overrides: Record<string, unknown> = {}, merchantId = MERCHANT.merchantId): Record<string, unknown> {
  return {
    merchant_id: merchantId,
    out_trade_no: uniq('T'),
    amount: 1999,
    currency: 'USD',
    description: 'Green tea',
    return_url: 'http://127.0.0.1:9/return',
    notify_url: 'http://127.0.0.1:9/notify',
    ...overrides,
  };
}

export function subscriptionBody(sandboxNow: Date, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    merchant_id: MERCHANT.merchantId,
    out_subscription_no: uniq('S'),
    customer: { id: 'cus_1', email: 'ada@example.com', name: 'Ada' },
    amount: 1000,
    currency: 'USD',
    interval: 'MONTH',
    interval_count: 1,
    start_date: sandboxNow.toISOString().slice(0, 10),
    notify_url: 'http://127.0.0.1:9/notify',
    return_url: 'http://127.0.0.1:9/return',
    ...overrides,
  };
}

export async function waitUntil<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Received {
  raw: string;
  event: { id: string; type: string; created: number; data: { object: any } };
  signature: string;
  contentType: string | undefined;
  status: number;
  at: number;
  validSignature: boolean;
}

/** Verifies `t=…,v1=…` with our own HMAC (constant time); any v1 may match. */
export function verifySignature(secret: string, raw: string, header: string, nowSec = Math.floor(Date.now() / 1000)): boolean {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > 300) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${raw}`, 'utf8').digest('hex'));
  return parts
    .filter(([k]) => k === 'v1')
    .some(([, v]) => {
      const got = Buffer.from(v ?? '');
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
}

export interface Receiver {
  url: string;
  /** Every request received (including the ones answered non-2xx). */
  all: Received[];
  /** Requests answered 2xx. */
  accepted(): Received[];
  waitFor(count: number, timeoutMs?: number, pred?: (r: Received) => boolean): Promise<Received[]>;
  stop(): Promise<void>;
}

/**
 * A webhook receiver on a free port. `respond(received, n)` picks the HTTP
 * status (default: 200 when the signature verifies with `secret`, else 400).
 */
export async function startReceiver(opts: { secret?: string; respond?: (r: Received, n: number) => number; port?: number } = {}): Promise<Receiver> {
  const secret = opts.secret ?? MERCHANT.webhookSecret;
  const all: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['ucanpay-signature'] ?? '');
      let event: Received['event'];
      try {
        event = JSON.parse(raw) as Received['event'];
      } catch {
        event = { id: '', type: 'unparseable', created: 0, data: { object: null } };
      }
      const r: Received = {
        raw,
        event,
        signature,
        contentType: req.headers['content-type'],
        status: 0,
        at: Date.now(),
        validSignature: verifySignature(secret, raw, signature),
      };
      all.push(r);
      const status = opts.respond ? opts.respond(r, all.length) : r.validSignature ? 200 : 400;
      r.status = status;
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const accepted = (): Received[] => all.filter((r) => r.status >= 200 && r.status < 300);
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    all,
    accepted,
    waitFor: (count, timeoutMs = 5000, pred = () => true) =>
      waitUntil(
        () => {
          const got = accepted().filter(pred);
          return got.length >= count ? got : undefined;
        },
        timeoutMs,
        `${count} webhook(s)`,
      ),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
