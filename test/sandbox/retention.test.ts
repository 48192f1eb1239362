/**
 * The sandbox prunes what it keeps on the gateway's principle: idempotency
 * records after 48 h of real time, and outbox events it will never send again
 * after as long; an event still to be delivered stays, however old.
 */
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { orderBody, startReceiver, startSandbox, tempDir, uniq, waitUntil, type Receiver, type TestSandbox } from './helpers';

const HOUR = 3600_000;
const sandboxes: TestSandbox[] = [];
const receivers: Receiver[] = [];
afterAll(async () => {
  for (const sb of sandboxes.splice(0)) await sb.stop();
  for (const rx of receivers.splice(0)) await rx.stop();
});

/** Runs statements on the sandbox's file from outside (WAL: alongside a running sandbox too). */
async function onFile<T = unknown>(file: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const db = new sqlite3.Database(file);
  try {
    return await new Promise<T[]>((resolve, reject) => db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T[]))));
  } finally {
    await new Promise((resolve) => db.close(resolve));
  }
}

describe('sandbox retention', () => {
  it('old idempotency records and finished outbox events are pruned; a fresh record and an undelivered event stay', async () => {
    const ok = await startReceiver();
    const failing = await startReceiver({ respond: () => 503 });
    receivers.push(ok, failing);
    const dbPath = path.join(tempDir(), 'sandbox.sqlite');
    const a = await startSandbox({ webhookRetry: { baseMs: 60_000, maxAttempts: 8, maxDelayMs: 60_000 } }, dbPath);
    const oldKey = uniq('old');
    const freshKey = uniq('fresh');
    const oldBody = orderBody({ notify_url: ok.url });
    const old = await a.api('POST', '/payment/unifiedorder', oldBody, { idem: oldKey });
    expect(old.status).toBe(200);
    expect((await a.checkout(old.body.order_id, 'authorize')).status).toBe(303);
    await ok.waitFor(1, 5000);
    const fresh = await a.api('POST', '/payment/unifiedorder', orderBody(), { idem: freshKey });
    const undelivered = await a.payOrder({ notify_url: failing.url });
    await waitUntil(() => failing.all.length >= 1, 5000, 'first failed attempt');
    await a.stop();

    // Two days and an hour later.
    await onFile(dbPath, 'UPDATE idempotency SET created_real_ms = created_real_ms - ? WHERE idem_key = ?', [49 * HOUR, oldKey]);
    await onFile(dbPath, 'UPDATE outbox SET created_real_ms = created_real_ms - ?', [49 * HOUR]);
    const outboxBefore = await onFile<{ state: string; notify_url: string }>(dbPath, 'SELECT state, notify_url FROM outbox');
    expect(outboxBefore.some((e) => e.state === 'delivered' && e.notify_url === ok.url)).toBe(true);

    const b = await startSandbox({ webhookRetry: { baseMs: 60_000, maxAttempts: 8, maxDelayMs: 60_000 } }, dbPath);
    sandboxes.push(b);
    await waitUntil(async () => (await onFile(dbPath, 'SELECT 1 FROM idempotency WHERE idem_key = ?', [oldKey])).length === 0, 5000, 'old record pruned');
    await waitUntil(async () => (await onFile(dbPath, "SELECT 1 FROM outbox WHERE state = 'delivered'")).length === 0, 5000, 'delivered events pruned');
    const kept = await onFile<{ state: string; notify_url: string }>(dbPath, 'SELECT state, notify_url FROM outbox');
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((e) => e.state === 'pending' && e.notify_url === failing.url)).toBe(true);

    // The forgotten key starts afresh: another body is no longer a conflict.
    const reused = await b.api('POST', '/payment/unifiedorder', orderBody(), { idem: oldKey });
    expect(reused.status).toBe(200);
    expect(reused.body.order_id).not.toBe(old.body.order_id);
    const replay = await b.api('POST', '/payment/unifiedorder', orderBody(), { idem: freshKey });
    expect(replay.status).toBe(409);
    // Only records went: the orders are still there.
    expect((await b.orderStatus(old.body.order_id)).status).toBe('PAID');
    expect((await b.orderStatus(undelivered.order_id)).status).toBe('PAID');
    expect(fresh.status).toBe(200);
  });
});
