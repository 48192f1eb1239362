/**
 * The resumable event stream across instances: two gateways on one
 * PostgreSQL schema and one Redis (a channel prefix of this run's own),
 * one external UCanPay sandbox. A subscriber of A hears B's changes live
 * (Redis carries the wake-up; the poll is set far beyond the test's waits),
 * and one that disconnects and comes back with its last cursor gets every
 * event made meanwhile on B, in cursor order, once. Without PostgreSQL or
 * Redis (and CI unset) the test passes with a printed notice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { createSandbox, type SandboxHandle } from '../../src/sandbox';
import { Client as PgClient } from 'pg';
import { POSTGRES_URL, scaleOutServices } from '../helpers/databases';
import { collect, eventually, startGateway, TEST_API_KEY, wsClientFor, type TestGateway } from '../helpers/gateway';
import { createPayment, rawGql } from '../hardening/helpers';

type Services = NonNullable<Awaited<ReturnType<typeof scaleOutServices>>>;
let services: Services | undefined;
let sandbox: SandboxHandle | undefined;
let sandboxDir: string | undefined;
let a: TestGateway;
let b: TestGateway;
const clients: Client[] = [];

beforeAll(async () => {
  services = await scaleOutServices('event_stream');
  if (!services) return;
  sandboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-evstream-sandbox-'));
  sandbox = await createSandbox({ port: 0, dbPath: path.join(sandboxDir, 'sandbox.sqlite'), merchants: [{ ...SANDBOX_DEFAULTS, name: 'Demo Shop' }] });
  const env = { DATABASE_URL: services.databaseUrl, REDIS_URL: services.redisUrl, UCANPAY_BASE_URL: sandbox.url, EVENT_STREAM_POLL_MS: '60000' };
  const options = { redis: { channelPrefix: services.channelPrefix } };
  // One after the other: the first one runs the migrations and seeds the demo merchant.
  a = await startGateway(env, options);
  b = await startGateway(env, options);
}, 120_000);
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await sandbox?.stop().catch(() => undefined);
  if (sandboxDir) fs.rmSync(sandboxDir, { recursive: true, force: true });
  await services?.drop();
});

interface StreamedEvent {
  id: string;
  type: string;
  objectId: string;
  cursor: string;
}
const EVENT_CREATED = parse('subscription($after: String) { eventCreated(after: $after) { id type objectId cursor } }') as TypedDocumentNode<
  { eventCreated: StreamedEvent },
  { after?: string | null }
>;

/** The log as `on` pages it after `after` (20 at a time), to its current end. */
async function logAfter(on: TestGateway, after: string | null): Promise<StreamedEvent[]> {
  const out: StreamedEvent[] = [];
  let cursor = after;
  for (;;) {
    const res = await rawGql(
      on,
      'query($after: String) { events(first: 20, after: $after) { edges { node { id type objectId cursor } } pageInfo { endCursor hasNextPage } } }',
      {
        after: cursor,
      },
    );
    const page = res.json!.data!.events;
    out.push(...page.edges.map((e: { node: StreamedEvent }) => e.node));
    cursor = page.pageInfo.endCursor ?? cursor;
    if (!page.pageInfo.hasNextPage) return out;
  }
}

/** `count` payments created on `on`, `parallel` at a time (so PostgreSQL commits their events in any order). */
async function createPayments(on: TestGateway, count: number, parallel = 5): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, () => createPayment(on, TEST_API_KEY)));
    ids.push(...batch.map((r) => r.payment.id));
  }
  return ids;
}

describe('eventCreated across two instances (PostgreSQL + Redis)', () => {
  it('a subscriber of A hears B live; after a disconnect, its last cursor brings all 50 events made on B meanwhile, in order, once', async () => {
    if (!services) return;
    const [first] = await createPayments(b, 1);
    const start = await eventually(async () => {
      const log = await logAfter(a, null);
      return log.some((e) => e.objectId === first && e.type === 'PAYMENT_UPDATED') ? log[log.length - 1].cursor : null;
    }, 30_000);

    // Live: A's stream is woken by B's notice through Redis (its poll is a minute away).
    const live = collect(wsClientFor(a.app.wsUrl, TEST_API_KEY, clients), EVENT_CREATED, { after: start });
    const liveIds = await createPayments(b, 2);
    // The two were created in parallel: their events may commit in either order, so wait for both payments' last event.
    const updated = (id: string) => live.values.some((v) => v.data?.eventCreated.objectId === id && v.data.eventCreated.type === 'PAYMENT_UPDATED');
    await live.until(() => liveIds.every(updated), 30_000);
    const heard = live.values.map((v) => v.data!.eventCreated);
    expect(heard.map((e) => e.id)).toEqual((await logAfter(a, start)).slice(0, heard.length).map((e) => e.id));
    expect(heard).toHaveLength(4);
    const lastSeen = heard[heard.length - 1].cursor;
    await Promise.all(clients.splice(0).map((c) => c.dispose()));

    // Away: 25 payments on B, 5 at a time = 50 events (created, then the checkout attached).
    const awayIds = await createPayments(b, 25);
    const expected = await eventually(async () => {
      const log = await logAfter(b, lastSeen);
      return log.length >= 50 ? log : null;
    }, 30_000);
    expect(expected).toHaveLength(50);
    expect(new Set(expected.map((e) => e.objectId))).toEqual(new Set(awayIds));

    // Back on A with the last cursor: the 50, in cursor order, each once; then live again.
    const resumed = collect(wsClientFor(a.app.wsUrl, TEST_API_KEY, clients), EVENT_CREATED, { after: lastSeen });
    await resumed.until(() => resumed.values.length >= 50, 30_000);
    const [after] = await createPayments(b, 1);
    await resumed.until((v) => v.data?.eventCreated.objectId === after && v.data.eventCreated.type === 'PAYMENT_UPDATED', 30_000);
    const got = resumed.values.map((v) => v.data!.eventCreated);
    expect(got.slice(0, 50).map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(got.slice(50).map((e) => [e.objectId, e.type])).toEqual([
      [after, 'PAYMENT_CREATED'],
      [after, 'PAYMENT_UPDATED'],
    ]);
    expect(new Set(got.map((e) => e.id)).size).toBe(got.length);
  }, 180_000);
});

describe('eventCreated while the PostgreSQL horizon holds events back', () => {
  it('a stream woken before the horizon passed its events still delivers them soon after, not at the next poll', async () => {
    if (!services) return;
    const start = (await logAfter(a, null)).at(-1)?.cursor ?? null;
    // Another transaction of the cluster with an id, open: every event committed after it begins stays below no reader's horizon.
    const blocker = new PgClient({ connectionString: POSTGRES_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      const live = collect(wsClientFor(a.app.wsUrl, TEST_API_KEY, clients), EVENT_CREATED, { after: start });
      const [id] = await createPayments(b, 1);
      // The notices arrive now; the events are committed but not yet readable.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(live.values).toEqual([]);
      await blocker.query('COMMIT'); // no notice of its own: only the stream's re-read finds the events (the poll is a minute away)
      await live.until((v) => v.data?.eventCreated.objectId === id && v.data.eventCreated.type === 'PAYMENT_CREATED', 10_000);
    } finally {
      await blocker.end();
    }
  });
});
