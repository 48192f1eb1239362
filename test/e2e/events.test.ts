import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyEntity } from '../../src/entities';
import { checkout, collect, eventually, sandboxCall, startGateway, TEST_API_KEY, wsClientFor, type TestGateway } from '../helpers/gateway';
import {
  createPayment,
  createTestMerchant,
  demoMerchant,
  firstError,
  paidPayment,
  postWebhook,
  rawGql,
  refundOf,
  type TestMerchant,
} from '../hardening/helpers';
import { paymentSucceededEvent } from '../helpers/webhook-events';
import { dataStatements, statementsOf } from '../helpers/query-count';

/**
 * The event log over GraphQL: what a merchant's backend (or a support
 * engineer) reads — every change of its payments and refunds once, typed,
 * with what caused it; object timelines; the resumable eventCreated stream.
 */

let gw: TestGateway;
let A: TestMerchant;
let B: TestMerchant;
let keyIdOfA: string;
const clients: Client[] = [];

beforeAll(async () => {
  gw = await startGateway({ EVENT_STREAM_POLL_MS: '200', RECONCILE_STALE_AFTER_SECONDS: '0', WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' });
  A = demoMerchant(gw);
  B = await createTestMerchant(gw, 'Merchant B');
  keyIdOfA = (await gw.app.db.manager.findOneByOrFail(ApiKeyEntity, { merchantId: A.merchantId })).id;
}, 90_000);
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(async () => {
  await gw?.stop();
});

const EVENT_FIELDS = 'id type objectType objectId objectVersion data createdAt cause { kind id } cursor';

interface EventView {
  id: string;
  type: string;
  objectType: string;
  objectId: string;
  objectVersion: number;
  data: Record<string, unknown>;
  cause: { kind: string; id: string | null };
  cursor: string;
}

async function events(token: string, args: Record<string, unknown> = {}): Promise<{ edges: EventView[]; endCursor: string | null; hasNextPage: boolean }> {
  const res = await rawGql(
    gw,
    `query($first: Int, $after: String, $types: [EventType!], $objectId: ID, $createdAfter: DateTimeISO) {
       events(first: $first, after: $after, types: $types, objectId: $objectId, createdAfter: $createdAfter) {
         edges { cursor node { ${EVENT_FIELDS} } } pageInfo { endCursor hasNextPage } } }`,
    { first: 100, ...args },
    { token },
  );
  if (res.json?.errors) throw new Error(res.text);
  const page = res.json!.data!.events;
  return { edges: page.edges.map((e: { node: EventView }) => e.node), endCursor: page.pageInfo.endCursor, hasNextPage: page.pageInfo.hasNextPage };
}

/** Every event of the merchant behind `token` after `after`, paging to the end. */
async function allEvents(
  token: string,
  after: string | null = null,
  args: Record<string, unknown> = {},
): Promise<{ events: EventView[]; cursor: string | null }> {
  const out: EventView[] = [];
  let cursor = after;
  for (;;) {
    const page = await events(token, { ...args, first: 7, after: cursor });
    out.push(...page.edges);
    cursor = page.endCursor ?? cursor;
    if (!page.hasNextPage) return { events: out, cursor };
  }
}

describe('the event log', () => {
  it('records each change of a paid and refunded payment once, typed, versioned, with its cause and public shape', async () => {
    const start = (await allEvents(A.apiKey)).cursor;
    const payment = await paidPayment(gw, A.apiKey);
    const refundId = await refundOf(gw, A.apiKey, payment.id, 100);
    const seen = await eventually(async () => {
      const { events: list } = await allEvents(A.apiKey, start);
      return list.some((e) => e.type === 'REFUND_SUCCEEDED') && list.some((e) => e.type === 'PAYMENT_PARTIALLY_REFUNDED') ? list : null;
    });
    const ofPayment = seen.filter((e) => e.objectId === payment.id);
    expect(ofPayment.map((e) => e.type)).toEqual(['PAYMENT_CREATED', 'PAYMENT_UPDATED', 'PAYMENT_PAID', 'PAYMENT_PARTIALLY_REFUNDED']);
    expect(ofPayment.map((e) => e.objectVersion)).toEqual([1, 2, 3, 4]);
    expect(ofPayment.map((e) => e.data.version)).toEqual([1, 2, 3, 4]);
    // The API key's id (never the key) for what a request did; UCanPay's event id for what its webhook did.
    expect(ofPayment[0].cause).toEqual({ kind: 'API_KEY', id: keyIdOfA });
    expect(ofPayment[1].cause).toEqual({ kind: 'API_KEY', id: keyIdOfA });
    expect(ofPayment[2].cause.kind).toBe('UCANPAY_WEBHOOK');
    expect(ofPayment[2].cause.id).toMatch(/\S/);
    expect(ofPayment[2].data).toMatchObject({ id: payment.id, status: 'PAID', amount: 1500, currency: 'USD' });
    expect(ofPayment[3].data).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedAmount: 100 });
    const ofRefund = seen.filter((e) => e.objectId === refundId);
    expect(ofRefund[0]).toMatchObject({ type: 'REFUND_CREATED', objectType: 'REFUND', objectVersion: 1, cause: { kind: 'API_KEY', id: keyIdOfA } });
    expect(ofRefund.map((e) => e.type)).toContain('REFUND_SUCCEEDED');
    const refundTimeline = await rawGql(gw, 'query($id: ID!) { refund(id: $id) { id events { edges { node { id } } } } }', { id: refundId });
    expect(refundTimeline.json!.data!.refund.events.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(ofRefund.map((e) => e.id));
    const text = JSON.stringify(seen);
    expect(text).not.toContain(payment.clientSecret);
    expect(text).not.toContain(TEST_API_KEY);
    // Each event once, in cursor order.
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    // Filters: by type and by object.
    const paid = await allEvents(A.apiKey, start, { types: ['PAYMENT_PAID'] });
    expect(paid.events.map((e) => e.objectId)).toEqual([payment.id]);
    expect((await allEvents(A.apiKey, null, { objectId: refundId })).events.map((e) => e.id)).toEqual(ofRefund.map((e) => e.id));
    const later = (await allEvents(A.apiKey, null, { createdAfter: new Date(Date.now() + 60_000).toISOString() })).events;
    expect(later).toEqual([]);
    // event(id) and node(id) answer the same event.
    const one = await rawGql(gw, `query($id: ID!) { event(id: $id) { ${EVENT_FIELDS} } node(id: $id) { __typename id } }`, { id: ofPayment[2].id });
    expect(one.json?.data?.event).toEqual(ofPayment[2]);
    expect(one.json?.data?.node).toEqual({ __typename: 'Event', id: ofPayment[2].id });
  });

  it('names a refresh (with the key that asked) and reconciliation as causes when they find what a lost webhook did not say', async () => {
    const byCause = async (paymentId: string) =>
      eventually(async () => {
        const paid = (await events(A.apiKey, { objectId: paymentId })).edges.find((e) => e.type === 'PAYMENT_PAID');
        return paid?.cause ?? null;
      });
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'drop', count: 2, types: ['payment.succeeded'] } });
    const refreshed = await createPayment(gw, A.apiKey);
    const reconciled = await createPayment(gw, A.apiKey);
    await checkout(refreshed.payment.checkoutUrl, 'authorize');
    await checkout(reconciled.payment.checkoutUrl, 'authorize');
    const res = await rawGql(gw, 'query($id: ID!) { payment(id: $id, refresh: true) { status } }', { id: refreshed.payment.id });
    expect(res.json?.data?.payment?.status).toBe('PAID');
    expect(await byCause(refreshed.payment.id)).toEqual({ kind: 'REFRESH', id: keyIdOfA });
    // Reconciliation leaves a row it checked within the last second alone: it is run until it has looked.
    const cause = await eventually(
      async () => {
        await gw.app.services.reconciliation.runOnce();
        return (await events(A.apiKey, { objectId: reconciled.payment.id, types: ['PAYMENT_PAID'] })).edges[0]?.cause;
      },
      15_000,
      300,
    );
    expect(cause).toEqual({ kind: 'RECONCILIATION', id: null });
  });

  it('a duplicate or stale UCanPay webhook that changes nothing records nothing', async () => {
    const payment = await paidPayment(gw, A.apiKey);
    const paidEvents = async () => (await events(A.apiKey, { objectId: payment.id })).edges;
    const before = await eventually(async () => {
      const list = await paidEvents();
      return list.some((e) => e.type === 'PAYMENT_PAID') ? list : null;
    });
    const transactionId = before.find((e) => e.type === 'PAYMENT_PAID')!.data.transactionId as string;
    const stale = paymentSucceededEvent({ ...payment, amount: 1500, currency: 'USD' }, { eventId: 'evt_stale_replay_1', transactionId });
    for (let i = 0; i < 2; i++) {
      const res = await postWebhook(gw, A.merchantId, stale, A.webhookSecret);
      expect(res.json, res.text).toMatchObject({ received: true, outcome: i === 0 ? 'unchanged' : 'duplicate' });
    }
    expect(await paidEvents()).toEqual(before);
  });

  it('names each request its own key when SQLite commits many at once (group commit)', async () => {
    const keyIdOfB = (await gw.app.db.manager.findOneByOrFail(ApiKeyEntity, { merchantId: B.merchantId })).id;
    const made = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        createPayment(gw, i % 2 ? B.apiKey : A.apiKey).then((r) => ({
          id: r.payment.id,
          key: i % 2 ? keyIdOfB : keyIdOfA,
          token: i % 2 ? B.apiKey : A.apiKey,
        })),
      ),
    );
    for (const { id, key, token } of made) {
      const created = (await events(token, { objectId: id })).edges.find((e) => e.type === 'PAYMENT_CREATED');
      expect(created?.cause).toEqual({ kind: 'API_KEY', id: key });
    }
  });

  it('shows each object its own timeline, oldest first, in one query for a whole page of payments', async () => {
    const payment = await paidPayment(gw, A.apiKey);
    const timeline = await eventually(async () => {
      const res = await rawGql(
        gw,
        'query($id: ID!) { payment(id: $id) { events(first: 10) { edges { node { type objectVersion } } pageInfo { hasNextPage } } } }',
        {
          id: payment.id,
        },
      );
      const edges = res.json?.data?.payment?.events?.edges ?? [];
      return edges.length >= 3 ? res.json!.data!.payment.events : null;
    });
    expect(timeline.edges.map((e: { node: { type: string } }) => e.node.type)).toEqual(['PAYMENT_CREATED', 'PAYMENT_UPDATED', 'PAYMENT_PAID']);
    const firstTwo = await rawGql(gw, 'query($id: ID!) { payment(id: $id) { events(first: 2) { pageInfo { hasNextPage endCursor } } } }', { id: payment.id });
    const { endCursor } = firstTwo.json!.data!.payment.events.pageInfo;
    const rest = await rawGql(gw, 'query($id: ID!, $after: String) { payment(id: $id) { events(first: 2, after: $after) { edges { node { type } } } } }', {
      id: payment.id,
      after: endCursor,
    });
    expect(rest.json!.data!.payment.events.edges.map((e: { node: { type: string } }) => e.node.type)).toEqual(['PAYMENT_PAID']);

    for (let i = 0; i < 4; i++) await createPayment(gw, A.apiKey);
    const counts: number[] = [];
    for (const first of [2, 6]) {
      const { result, statements } = await statementsOf([gw.app.db.readDataSource, gw.app.db.dataSource], (headers) =>
        rawGql(
          gw,
          `query($first: Int) { payments(first: $first) { edges { node { id events(first: 5) { edges { node { type } } } } } } }`,
          { first },
          { headers },
        ),
      );
      expect(result.json?.errors).toBeUndefined();
      expect(result.json!.data!.payments.edges).toHaveLength(first);
      counts.push(dataStatements(statements).filter((sql) => /"?events"?/.test(sql)).length);
    }
    expect(counts).toEqual([1, 1]);
  });

  it('is for the merchant API key only, on both transports; bad input names its argument', async () => {
    const { payment } = await createPayment(gw, A.apiKey);
    const asSecret = await rawGql(gw, '{ events { edges { cursor } } }', {}, { token: payment.clientSecret });
    expect(firstError(asSecret).code).toBe('FORBIDDEN');
    expect(firstError(await rawGql(gw, '{ events { edges { cursor } } }', {}, { token: null })).code).toBe('UNAUTHENTICATED');
    const timeline = await rawGql(
      gw,
      'query($id: ID!) { payment(id: $id) { id events { edges { cursor } } } }',
      { id: payment.id },
      { token: payment.clientSecret },
    );
    expect(firstError(timeline)).toMatchObject({ code: 'FORBIDDEN' });
    expect(timeline.json?.data?.payment).toBeNull();
    // Another merchant's event is not found.
    const mine = (await events(A.apiKey, { objectId: payment.id })).edges[0];
    expect(firstError(await rawGql(gw, 'query($id: ID!) { event(id: $id) { id } }', { id: mine.id }, { token: B.apiKey })).code).toBe('NOT_FOUND');
    expect((await events(B.apiKey)).edges.every((e) => e.objectId !== payment.id)).toBe(true);

    for (const first of [0, 101]) {
      expect(firstError(await rawGql(gw, 'query($f: Int) { events(first: $f) { edges { cursor } } }', { f: first }))).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'first',
      });
    }
    for (const after of ['garbage', Buffer.from('1:2:3').toString('base64url'), mine.id]) {
      expect(firstError(await rawGql(gw, 'query($a: String) { events(after: $a) { edges { cursor } } }', { a: after }))).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'after',
      });
    }
    expect(firstError(await rawGql(gw, '{ events(types: [PAYMENT_TELEPORTED]) { edges { cursor } } }')).code).toBe('GRAPHQL_VALIDATION_FAILED');

    // graphql-ws: the same answers.
    const ws = wsClientFor(gw.app.wsUrl, payment.clientSecret, clients);
    const overWs = collect(ws, doc<{ events: unknown }>('{ events { edges { cursor } } }'), {});
    await eventually(async () => overWs.completed);
    expect(JSON.stringify(overWs.values)).toContain('FORBIDDEN');
    const live = collect(ws, doc('subscription { eventCreated { id } }'), {});
    await eventually(async () => live.completed || live.values.length > 0);
    expect(JSON.stringify({ values: live.values, error: live.error })).toContain('FORBIDDEN');
    const bad = collect(wsClientFor(gw.app.wsUrl, A.apiKey, clients), doc('subscription($a: String) { eventCreated(after: $a) { id } }'), { a: 'garbage' });
    await eventually(async () => bad.completed || bad.values.length > 0);
    expect(JSON.stringify({ values: bad.values, error: bad.error })).toMatch(/BAD_USER_INPUT[\s\S]*after|after[\s\S]*BAD_USER_INPUT/);
  });
});

function doc<T = unknown>(text: string): TypedDocumentNode<T, Record<string, unknown>> {
  return parse(text) as TypedDocumentNode<T, Record<string, unknown>>;
}

describe('eventCreated', () => {
  const SUBSCRIBE = doc<{ eventCreated: EventView }>(
    `subscription($after: String, $types: [EventType!]) { eventCreated(after: $after, types: $types) { ${EVENT_FIELDS} } }`,
  );

  it('sends the events after the cursor from the log, then new ones live: no gap, no duplicate at the seam; resumes from the last cursor', async () => {
    const { cursor: start } = await allEvents(A.apiKey);
    const before = await createPayment(gw, A.apiKey);
    const ws = wsClientFor(gw.app.wsUrl, A.apiKey, clients);
    const stream = collect(ws, SUBSCRIBE, { after: start });
    // The backlog (the payment created before subscribing: created + updated).
    await stream.until((v) => v.data?.eventCreated.objectId === before.payment.id && v.data.eventCreated.type === 'PAYMENT_UPDATED');
    const during = await Promise.all([createPayment(gw, A.apiKey), createPayment(gw, A.apiKey), createPayment(gw, A.apiKey)]);
    const lastId = during[2].payment.id;
    await stream.until((v) => v.data?.eventCreated.objectId === lastId && v.data.eventCreated.type === 'PAYMENT_UPDATED');
    const received = stream.values.map((v) => v.data!.eventCreated);
    const fromLog = (await allEvents(A.apiKey, start)).events;
    // Exactly the log, in its order: nothing twice, nothing missing.
    expect(received.map((e) => e.id)).toEqual(fromLog.slice(0, received.length).map((e) => e.id));
    expect(received.length).toBe(8);
    stream.unsubscribe();

    // Reconnect with the last cursor received: only what came after.
    const afterCut = await createPayment(gw, A.apiKey);
    const resumed = collect(wsClientFor(gw.app.wsUrl, A.apiKey, clients), SUBSCRIBE, {
      after: received[received.length - 1].cursor,
      types: ['PAYMENT_CREATED'],
    });
    const next = await resumed.until((v) => v.data?.eventCreated.objectId === afterCut.payment.id);
    expect(resumed.values).toHaveLength(1);
    expect(next.data!.eventCreated.type).toBe('PAYMENT_CREATED');
  });

  it('answers events over graphql-ws as over HTTP, and counts eventCreated against the subscription limits', async () => {
    const overHttp = await events(A.apiKey, { first: 5 });
    const ws = wsClientFor(gw.app.wsUrl, A.apiKey, clients);
    const query = collect(ws, doc<{ events: { edges: Array<{ node: { id: string } }> } }>('{ events(first: 5) { edges { node { id } } } }'), {});
    await eventually(async () => query.completed);
    expect(query.values[0].data!.events.edges.map((e) => e.node.id)).toEqual(overHttp.edges.map((e) => e.id));
    // WS_MAX_SUBSCRIPTIONS_PER_CONNECTION is 3 here: the fourth stream on one connection is refused.
    const streams = [0, 1, 2, 3].map(() => collect(ws, SUBSCRIBE, {}));
    await eventually(async () => streams[3].completed || streams[3].values.length > 0);
    expect(JSON.stringify({ values: streams[3].values, error: streams[3].error })).toContain('SUBSCRIPTION_LIMIT_REACHED');
    expect(streams.slice(0, 3).every((s) => !s.completed)).toBe(true);
  });

  it('without a cursor starts at the end of the log: only what is recorded from then on', async () => {
    const earlier = await createPayment(gw, A.apiKey);
    const stream = collect(wsClientFor(gw.app.wsUrl, A.apiKey, clients), SUBSCRIBE, {});
    // No acknowledgement tells when the stream has started: changes are made until one arrives.
    let lastId = '';
    for (let i = 0; i < 20 && !stream.values.length; i++) {
      lastId = (await createPayment(gw, A.apiKey)).payment.id;
      await stream.until((v) => v.data?.eventCreated.objectId === lastId && v.data.eventCreated.type === 'PAYMENT_UPDATED', 1000).catch(() => undefined);
    }
    await stream.until((v) => v.data?.eventCreated.objectId === lastId && v.data.eventCreated.type === 'PAYMENT_UPDATED');
    const received = stream.values.map((v) => v.data!.eventCreated);
    expect(received.some((e) => e.objectId === earlier.payment.id)).toBe(false);
    // A contiguous stretch of the log, ending with the last change.
    const log = (await allEvents(A.apiKey, null, { createdAfter: new Date(Date.now() - 120_000).toISOString() })).events.map((e) => e.id);
    const from = log.indexOf(received[0].id);
    expect(from).toBeGreaterThan(-1);
    expect(received.map((e) => e.id)).toEqual(log.slice(from, from + received.length));
    expect(received[received.length - 1]).toMatchObject({ objectId: lastId, type: 'PAYMENT_UPDATED' });
  });
});

// Last: it moves the sandbox clock by months.
describe('subscription events', () => {
  async function sandboxNow(): Promise<number> {
    return new Date((await sandboxCall<{ now: string }>(gw.sandboxUrl, 'GET', '/sandbox/clock')).now).getTime();
  }
  async function advancePast(when: string) {
    const seconds = Math.ceil((new Date(when).getTime() - (await sandboxNow())) / 1000) + 60;
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/clock/advance', { seconds });
  }
  const SUB =
    'query($id: ID!) { subscription(id: $id) { status currentPeriodEnd charges { status } events(first: 100) { edges { node { type objectVersion cause { kind } } } } } }';
  async function sub(id: string) {
    return (await rawGql(gw, SUB, { id })).json!.data!.subscription as {
      status: string;
      currentPeriodEnd: string;
      charges: Array<{ status: string }>;
      events: { edges: Array<{ node: { type: string; objectVersion: number; cause: { kind: string } } }> };
    };
  }

  it('names the mandate, each charge (renewed, failed) and the dunning states, one event per change', async () => {
    const startDate = new Date(await sandboxNow()).toISOString().slice(0, 10);
    const created = await rawGql(
      gw,
      `mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) { __typename ... on CreateSubscriptionPayload { subscription { id authorizationUrl } } } }`,
      {
        input: {
          customer: { id: 'cus_ev', email: 'ev@example.com', name: 'Ev' },
          amount: 1000,
          currency: 'USD',
          interval: 'MONTH',
          startDate,
          returnUrl: `${gw.app.url}/demo/return`,
        },
      },
    );
    const { id, authorizationUrl } = created.json!.data!.createSubscription.subscription;
    await checkout(authorizationUrl, 'authorize');
    const active = await eventually(async () => ((await sub(id)).status === 'ACTIVE' ? sub(id) : null));
    await advancePast(active.currentPeriodEnd);
    const renewed = await eventually(async () => {
      const s = await sub(id);
      return s.charges.length === 2 ? s : null;
    });
    // From the next period a declining amount: the renewal fails (PAST_DUE), then its first retry fails too.
    await rawGql(gw, 'mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { __typename } }', { input: { id, amount: 1002 } });
    await advancePast(renewed.currentPeriodEnd);
    await eventually(async () => ((await sub(id)).status === 'PAST_DUE' ? true : null));
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/clock/advance', { seconds: 24 * 3600 + 60 });
    const last = await eventually(async () => {
      const s = await sub(id);
      return s.charges.length === 4 ? s : null;
    });
    const types = last.events.edges.map((e) => e.node.type);
    // One event per version, oldest first; the others are SUBSCRIPTION_UPDATED (authorization URL, pending terms…).
    expect(last.events.edges.map((e) => e.node.objectVersion)).toEqual(types.map((_, i) => i + 1));
    const milestones = types.filter((t) => t !== 'SUBSCRIPTION_UPDATED');
    // UCanPay reports the failed renewal (a charge) before the PAST_DUE state: two changes, two events.
    expect(milestones).toEqual([
      'SUBSCRIPTION_CREATED',
      'SUBSCRIPTION_ACTIVATED',
      'SUBSCRIPTION_RENEWED',
      'SUBSCRIPTION_RENEWAL_FAILED',
      'SUBSCRIPTION_PAST_DUE',
      'SUBSCRIPTION_RENEWAL_FAILED',
    ]);
    // Each of the 4 charges is named by exactly one event (the first one by the activation).
    expect(milestones.filter((t) => /ACTIVATED|RENEW/.test(t))).toHaveLength(last.charges.length);
    expect(last.events.edges.slice(2).every((e) => e.node.cause.kind === 'UCANPAY_WEBHOOK' || e.node.cause.kind === 'API_KEY')).toBe(true);
  });
});
