import http from 'node:http';
import net from 'node:net';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MERCHANT, OTHER, orderBody, startSandbox, type TestSandbox } from './helpers';

let sb: TestSandbox;
const logged: { level: string; obj: object; msg?: string }[] = [];
const logger = {
  info: (obj: object, msg?: string) => logged.push({ level: 'info', obj, msg }),
  warn: (obj: object, msg?: string) => logged.push({ level: 'warn', obj, msg }),
  error: (obj: object, msg?: string) => logged.push({ level: 'error', obj, msg }),
};

beforeAll(async () => {
  sb = await startSandbox({ logger });
});

afterAll(async () => {
  await sb?.stop();
});

describe('HTTP edges', () => {
  it('malformed JSON, empty bodies and non-objects are 400 INVALID_REQUEST', async () => {
    for (const raw of ['{"amount":', '', '[]', '"x"', 'null']) {
      const r = await sb.api('POST', '/payment/unifiedorder', undefined, { raw });
      expect(r.status, raw).toBe(400);
      expect(r.body.error.code).toBe('INVALID_REQUEST');
      expect(r.body.error.message).toContain('body');
    }
  });

  it('authentication is checked before the body is parsed', async () => {
    const r = await sb.api('POST', '/payment/unifiedorder', undefined, { raw: '{oops', key: null });
    expect(r.status).toBe(401);
  });

  it('bodies over 64 KiB are 413 INVALID_REQUEST', async () => {
    const r = await sb.api('POST', '/payment/unifiedorder', orderBody({ description: 'x'.repeat(70 * 1024) }));
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('INVALID_REQUEST');
    // The sandbox still answers afterwards.
    expect((await sb.api('GET', '/sandbox/clock', undefined, { key: null })).status).toBe(200);
  });

  it('unknown routes are 404 JSON errors; wrong methods are 405', async () => {
    const r = await sb.api('GET', '/nope');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
    const m = await sb.api('GET', '/payment/unifiedorder');
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('POST');
    expect((await sb.api('GET', '/sandbox/nope', undefined, { key: null })).status).toBe(404);
  });

  it('never answers with a stack trace and survives a garbage request line', async () => {
    const r = await sb.api('POST', '/payment/unifiedorder', { ...orderBody(), metadata: { ['k'.repeat(41)]: 'v' } });
    expect(r.status).toBe(400);
    expect(r.text).not.toMatch(/at .*\.ts:\d+/);
    const raw = await new Promise<string>((resolve) => {
      const u = new URL(sb.url);
      const sock = net.connect(Number(u.port), u.hostname, () => sock.write('GARBAGE\r\n\r\n'));
      let data = '';
      sock.on('data', (d: Buffer) => {
        data += d.toString();
      });
      sock.on('close', () => resolve(data));
      sock.on('error', () => resolve(data));
    });
    expect(raw).toContain('400');
    expect((await sb.api('GET', '/sandbox/health', undefined, { key: null })).body).toEqual({ ok: true });
  });

  it('merchants can be created through /sandbox/merchants and used at once', async () => {
    const r = await sb.api('POST', '/sandbox/merchants', { name: 'Fresh' }, { key: null });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'Fresh' });
    expect(r.body.merchant_id && r.body.secret_key && r.body.webhook_secret).toBeTruthy();
    const o = await sb.api('POST', '/payment/unifiedorder', orderBody({}, r.body.merchant_id), { key: r.body.secret_key });
    expect(o.status).toBe(200);
    const clash = await sb.api('POST', '/sandbox/merchants', { secret_key: MERCHANT.secretKey }, { key: null });
    expect(clash.status).toBe(400);
  });

  it('a client that hangs up mid-body does not break the server', async () => {
    const u = new URL(sb.url);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: '/payment/unifiedorder',
        headers: { 'Content-Length': '1000', Authorization: `Bearer ${MERCHANT.secretKey}` },
      });
      req.on('error', () => resolve());
      req.write('{"a":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    expect((await sb.api('GET', '/sandbox/clock', undefined, { key: null })).status).toBe(200);
  });

  it('an internal error answers 500 PROVIDER_ERROR without details and is logged (never with secrets)', async () => {
    const order = await sb.payOrder();
    await new Promise<void>((resolve, reject) => {
      const db = new sqlite3.Database(sb.dbPath, (err) => {
        if (err) return reject(err);
        db.run("UPDATE orders SET data = '{broken' WHERE order_id = ?", [order.order_id], (e) => {
          db.close(() => (e ? reject(e) : resolve()));
        });
      });
    });
    const r = await sb.api('GET', `/payment/status?order_id=${order.order_id}`);
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: { code: 'PROVIDER_ERROR', message: 'internal sandbox error' } });
    expect(logged.some((l) => l.level === 'error')).toBe(true);
    const all = JSON.stringify(logged);
    for (const secret of [MERCHANT.secretKey, MERCHANT.webhookSecret, OTHER.secretKey, OTHER.webhookSecret]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/authorization/i);
    // The sandbox keeps serving.
    expect((await sb.api('GET', '/sandbox/health', undefined, { key: null })).status).toBe(200);
  });
});
