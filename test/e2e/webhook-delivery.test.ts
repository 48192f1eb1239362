import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreatePaymentDocument,
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  RedeliverEventDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointDocument,
} from '../../src/client/generated/graphql';
import { newId } from '../../src/domain/ids';
import type { EventType } from '../../src/domain/event-types';
import type { EventType as GqlEventType } from '../../src/client/generated/graphql';
import { INTERRUPTED } from '../../src/services/webhook-delivery';
import type { Tx } from '../../src/db/database';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEndpointEntity } from '../../src/entities';
import { dropPostgresSchema, freshPostgresSchema } from '../helpers/databases';
import { checkout, eventually, startGateway, type TestGateway } from '../helpers/gateway';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * The delivery engine against real receivers, on SQLite and on PostgreSQL
 * (without PostgreSQL and CI unset: SQLite only, with a notice), with short
 * settings: retries from 100 ms, doubling, ±20 % jitter, for at most 2 s per
 * event; an endpoint is disabled after 20 consecutive failures.
 */
let gw: TestGateway;
const receivers: WebhookReceiver[] = [];

const SETTINGS = {
  WEBHOOK_RETRY_BASE_MS: '100',
  WEBHOOK_RETRY_FOR_SECONDS: '2',
  WEBHOOK_DISABLE_AFTER_FAILURES: '20',
  WEBHOOK_DISABLE_AFTER_FAILING_SECONDS: '0',
  WEBHOOK_POLL_INTERVAL_MS: '1000',
  WEBHOOK_DELIVERY_TIMEOUT_MS: '1000',
};

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver();
  receivers.push(r);
  return r;
}

async function endpointFor(r: WebhookReceiver, input: { eventTypes?: GqlEventType[]; payloadQuery?: string } = {}) {
  const res = await gw.gql(CreateWebhookEndpointDocument, {
    input: { url: r.url, eventTypes: input.eventTypes ?? ['PAYMENT_PAID'], payloadQuery: input.payloadQuery },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.createWebhookEndpoint;
}

/** Records an event of the demo merchant in the event log (its listener writes the deliveries in the same transaction). */
async function recordEvent(type: EventType = 'payment.paid', objectId = newId('pay'), objectVersion = 2) {
  return gw.app.db.transaction((tx) => recordEventIn(tx, type, objectId, objectVersion));
}

function recordEventIn(tx: Tx, type: EventType = 'payment.paid', objectId = newId('pay'), objectVersion = 2) {
  return gw.app.services.eventLog.record(tx, {
    merchantId: gw.app.demo.merchantId,
    type,
    objectType: 'payment',
    objectId,
    objectVersion,
    data: { id: objectId, status: 'PAID', version: objectVersion },
  });
}

/** An attempt whose outcome is recorded (the claim opens each attempt in the log before it is sent). */
const finished = (d: { attempts: Array<{ error: string | null }> }) => d.attempts.filter((a) => a.error !== INTERRUPTED);

async function deliveriesOf(endpointId: string) {
  const res = await gw.gql(WebhookDeliveriesDocument, { endpointId, first: 100 });
  expect(res.errors).toBeUndefined();
  return res.data!.webhookDeliveries.edges.map((e) => e.node);
}

describe.each(['sqlite', 'postgres'] as const)('outbound webhook delivery (%s)', (db) => {
  let schema: string | undefined;
  beforeAll(async () => {
    let databaseUrl: Record<string, string> = {};
    if (db === 'postgres') {
      const pg = await freshPostgresSchema('webhook_delivery');
      if (!pg) return;
      schema = pg.schema;
      const url = new URL(pg.url);
      url.searchParams.set('schema', pg.schema);
      databaseUrl = { DATABASE_URL: url.toString() };
    }
    gw = await startGateway({ ...SETTINGS, ...databaseUrl });
  });
  afterAll(async () => {
    await gw?.stop();
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
    if (schema) await dropPostgresSchema(schema);
  });
  beforeEach((ctx) => {
    // No PostgreSQL here (and CI unset): freshPostgresSchema printed the notice.
    if (db === 'postgres' && !schema) ctx.skip();
  });

  it('authorizing a payment at the checkout sends a signed payment.paid carrying the object and its version', async () => {
    const r = await receiver();
    const { endpoint, secret } = await endpointFor(r, { eventTypes: ['PAYMENT_CREATED', 'PAYMENT_PAID'] });
    const created = (
      await gw.gql(CreatePaymentDocument, { input: { amount: 2500, currency: 'EUR', description: 'webhook e2e', returnUrl: 'https://shop.example/r' } })
    ).data!.createPayment;
    if (created.__typename !== 'CreatePaymentPayload') throw new Error('payment not created');
    await checkout(created.payment.checkoutUrl!, 'authorize');
    const paid = await eventually(async () => r.received.find((x) => x.json.type === 'payment.paid' && x.json.objectId === created.payment.id));
    const body = r.verify(paid, secret) as { id: string; objectVersion: number; data: { object: Record<string, unknown> } };
    expect(body).toMatchObject({ objectType: 'payment', data: { object: { id: created.payment.id, status: 'PAID', amount: 2500, currency: 'EUR' } } });
    expect(body.data.object.version).toBe(body.objectVersion);
    expect(JSON.stringify(body)).not.toContain(created.payment.clientSecret!);
    // Order across events is not guaranteed: the earlier version may arrive after.
    const createdEvent = await eventually(async () => r.received.find((x) => x.json.type === 'payment.created' && x.json.objectId === created.payment.id));
    expect(createdEvent.json.objectVersion as number).toBeLessThan(body.objectVersion);
    // The receiver has answered; the log has it once the attempt is settled.
    const logged = await eventually(async () => (await deliveriesOf(endpoint.id)).find((d) => d.eventId === body.id && d.status !== 'PENDING'));
    expect(logged).toMatchObject({ status: 'SUCCEEDED', eventType: 'payment.paid' });
  });

  it('a receiver that is down, then comes back, gets every event, each verified with the stock verifier', async () => {
    const r = await receiver();
    const { endpoint, secret } = await endpointFor(r);
    await r.down();
    const events = [];
    for (let i = 0; i < 3; i++) events.push(await recordEvent());
    // Every delivery failed at least once (connection refused) while it was down.
    await eventually(async () => (await deliveriesOf(endpoint.id)).filter((d) => finished(d).length >= 1).length === 3);
    const failed = await deliveriesOf(endpoint.id);
    expect(failed.every((d) => d.status === 'PENDING' && /ECONNREFUSED/.test(finished(d)[0].error ?? ''))).toBe(true);
    await r.up();
    await eventually(async () => (await deliveriesOf(endpoint.id)).every((d) => d.status === 'SUCCEEDED')).catch(async (error) => {
      throw new Error(`${(error as Error).message}: ${JSON.stringify(await deliveriesOf(endpoint.id), null, 1)}`);
    });
    for (const event of events) {
      const got = r.received.filter((x) => x.id === event.id);
      expect(got.length).toBeGreaterThanOrEqual(1);
      expect(r.verify(got[0], secret)).toMatchObject({
        id: event.id,
        type: 'payment.paid',
        objectType: 'payment',
        objectId: event.objectId,
        objectVersion: 2,
        data: { object: { id: event.objectId, status: 'PAID', version: 2 } },
      });
    }
  });

  it('a receiver answering 500 sees the retries with growing gaps until the retry window ends; the log shows each attempt', async () => {
    const r = await receiver();
    r.respond = () => 500;
    const { endpoint } = await endpointFor(r);
    const event = await recordEvent();
    const delivery = await eventually(async () => (await deliveriesOf(endpoint.id)).find((d) => d.status === 'FAILED'), 8000);
    // 100, 200, 400, 800 ms (±20 %) fit the 2 s window; the next (1.6 s) would not.
    expect(delivery.attemptCount).toBe(5);
    const times = r.received.filter((x) => x.id === event.id).map((x) => x.startedAt);
    expect(times).toHaveLength(5);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1]);
    expect(gaps[0]).toBeGreaterThanOrEqual(70);
    expect(delivery.attempts.map((a) => a.httpStatus)).toEqual([500, 500, 500, 500, 500]);
    expect(delivery.attempts.map((a) => a.error)).toEqual(Array(5).fill('HTTP 500'));
    expect(delivery.attempts.slice(0, 4).every((a, i) => Date.parse(a.nextRetryAt!) <= Date.parse(delivery.attempts[i + 1].startedAt) + 5)).toBe(true);
    expect(delivery.attempts[4].nextRetryAt).toBeNull();
    expect(delivery.attempts[0].responseExcerpt).toBe('status 500');
    // redeliverEvent sends it again now, with the same webhook-id.
    r.respond = () => 204;
    const again = await gw.gql(RedeliverEventDocument, { eventId: event.id, endpointId: endpoint.id });
    expect(again.data!.redeliverEvent).toMatchObject({ status: 'SUCCEEDED', attemptCount: 6, lastHttpStatus: 204 });
    expect(r.received.filter((x) => x.id === event.id)).toHaveLength(6);
  });

  it('410 Gone disables the endpoint at once: no retry, nothing more delivered', async () => {
    const r = await receiver();
    r.respond = () => 410;
    const { endpoint } = await endpointFor(r);
    const event = await recordEvent();
    const ep = await eventually(async () => {
      const e = (await gw.gql(WebhookEndpointDocument, { id: endpoint.id })).data!.webhookEndpoint!;
      return e.enabled ? null : e;
    });
    expect(ep.disabledReason).toBe('the endpoint answered 410 Gone');
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ eventId: event.id, status: 'FAILED', attemptCount: 1, lastHttpStatus: 410, nextAttemptAt: null });
    await recordEvent();
    expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
    const refused = await gw.gql(RedeliverEventDocument, { eventId: event.id, endpointId: endpoint.id });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endpointId' });
  });

  it('after 20 consecutive failures the endpoint is disabled, which is itself an event; its pending deliveries stop', async () => {
    const r = await receiver();
    r.respond = () => 503;
    const { endpoint } = await endpointFor(r);
    const watcher = await receiver();
    const watching = await endpointFor(watcher, { eventTypes: ['WEBHOOK_ENDPOINT_DISABLED'] });
    for (let i = 0; i < 5; i++) await recordEvent();
    const ep = await eventually(async () => {
      const e = (await gw.gql(WebhookEndpointDocument, { id: endpoint.id })).data!.webhookEndpoint!;
      return e.enabled ? null : e;
    }, 8000);
    expect(ep.disabledReason).toBe('20 consecutive failed deliveries');
    const settled = await eventually(async () => {
      const ds = await deliveriesOf(endpoint.id);
      return ds.every((d) => d.status === 'FAILED') ? ds : null;
    }, 5000);
    // Attempts already under way when the 20th failed still finish; none starts after.
    const attempts = settled.reduce((n, d) => n + d.attemptCount, 0);
    expect(attempts).toBeGreaterThanOrEqual(20);
    expect(attempts).toBeLessThan(25);
    expect(r.received).toHaveLength(attempts);
    // The disabling is an event in the log, delivered to the endpoint that subscribes to it.
    const notice = await eventually(async () => watcher.received.find((x) => x.json.objectId === endpoint.id));
    expect(watcher.verify(notice, watching.secret)).toMatchObject({
      type: 'webhook_endpoint.disabled',
      objectType: 'webhook_endpoint',
      objectVersion: ep.version,
      data: { object: { id: endpoint.id, enabled: false, disabledReason: '20 consecutive failed deliveries' } },
    });
    expect(JSON.stringify(notice.json)).not.toContain('whsec_');
  });

  it('a slow receiver is cut at the timeout; the attempt says so', async () => {
    const r = await receiver();
    let slow = true;
    r.respond = async () => {
      if (slow) await new Promise((resolve) => setTimeout(resolve, 1500));
      return 200;
    };
    const { endpoint } = await endpointFor(r);
    await recordEvent();
    const d = await eventually(async () => (await deliveriesOf(endpoint.id)).find((x) => finished(x).length >= 1));
    slow = false;
    expect(d.attempts[0]).toMatchObject({ httpStatus: null, error: 'timed out after 1000 ms' });
    expect(d.attempts[0].durationMs).toBeGreaterThanOrEqual(990);
    await eventually(async () => (await deliveriesOf(endpoint.id))[0].status === 'SUCCEEDED');
  });

  it('the response excerpt is bounded to 1 KiB and redacted', async () => {
    const r = await receiver();
    r.respond = () => ({ status: 400, body: `bad: sk_test_abcdef0123456789 card 4242 4242 4242 4242 ${'x'.repeat(4000)}` });
    const { endpoint } = await endpointFor(r);
    await recordEvent();
    const d = await eventually(async () => (await deliveriesOf(endpoint.id)).find((x) => finished(x).length >= 1));
    const excerpt = d.attempts[0].responseExcerpt!;
    expect(Buffer.byteLength(excerpt)).toBeLessThanOrEqual(1024 + 40);
    expect(excerpt).toMatch(/^bad: \[redacted\] card \[redacted\] x+$/);
    r.respond = () => 200;
  });

  it('only enabled endpoints subscribed to the type get a delivery; redeliverEvent sends any event of the log to any endpoint', async () => {
    const r = await receiver();
    const paid = await endpointFor(r, { eventTypes: ['PAYMENT_PAID'] });
    const refunds = await endpointFor(r, { eventTypes: ['REFUND_SUCCEEDED'] });
    const event = await recordEvent('payment.paid');
    await eventually(async () => (await deliveriesOf(paid.endpoint.id)).length === 1);
    expect(await deliveriesOf(refunds.endpoint.id)).toEqual([]);
    const sent = await gw.gql(RedeliverEventDocument, { eventId: event.id, endpointId: refunds.endpoint.id });
    expect(sent.data!.redeliverEvent).toMatchObject({ eventId: event.id, status: 'SUCCEEDED', attemptCount: 1 });
    expect(r.received.filter((x) => x.id === event.id)).toHaveLength(2);
    const missing = await gw.gql(RedeliverEventDocument, { eventId: newId('evt'), endpointId: refunds.endpoint.id });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('every endpoint change counts from the next event on, and a rolled-back disabling changes nothing (SQLite caches the subscriptions)', async () => {
    const r = await receiver();
    const count = (endpointId: string) => gw.app.db.manager.count(WebhookDeliveryEntity, { where: { endpointId } });
    const a = (await endpointFor(r)).endpoint;
    await recordEvent();
    await recordEvent(); // the subscriptions are cached after the first event's commit: this one uses them
    expect(await count(a.id)).toBe(2);
    const b = (await endpointFor(r)).endpoint;
    await recordEvent();
    expect([await count(a.id), await count(b.id)]).toEqual([3, 1]);
    expect((await gw.gql(UpdateWebhookEndpointDocument, { id: a.id, input: { eventTypes: ['REFUND_SUCCEEDED'] } })).errors).toBeUndefined();
    expect((await gw.gql(UpdateWebhookEndpointDocument, { id: b.id, input: { enabled: false } })).errors).toBeUndefined();
    await recordEvent();
    expect([await count(a.id), await count(b.id)]).toEqual([3, 1]);
    expect((await gw.gql(UpdateWebhookEndpointDocument, { id: a.id, input: { eventTypes: ['PAYMENT_PAID'] } })).errors).toBeUndefined();
    // Disabled, and the disabling event recorded (reading the endpoints inside that transaction), then rolled back: `a` stays subscribed.
    const deliveries = gw.app.services.webhookDeliveries;
    const entity = await gw.app.db.findOneByOrFail(WebhookEndpointEntity, { id: a.id });
    const rolledBack = gw.app.db.transaction(async (tx) => {
      await deliveries.disable(tx, entity, 'a test');
      await recordEventIn(tx);
      throw new Error('rolled back');
    });
    await expect(rolledBack).rejects.toThrow('rolled back');
    await recordEvent();
    await recordEvent();
    expect(await count(a.id)).toBe(5);
    expect((await gw.gql(DeleteWebhookEndpointDocument, { id: a.id })).errors).toBeUndefined();
    await recordEvent();
    expect([await count(a.id), await count(b.id)]).toEqual([0, 1]);
  });

  it('payload shaping: the endpoint’s query runs with its merchant as the only principal; variables name the event', async () => {
    const created = (
      await gw.gql(CreatePaymentDocument, { input: { amount: 1234, currency: 'USD', description: 'shaped', returnUrl: 'https://shop.example/r' } })
    ).data!.createPayment;
    if (created.__typename !== 'CreatePaymentPayload') throw new Error('payment not created');
    const r = await receiver();
    const { endpoint, secret } = await endpointFor(r, {
      payloadQuery: 'query Shaped($objectId: ID!) { payment(id: $objectId) { id amount currency description clientSecret } }',
    });
    expect(endpoint.payloadQuery).toMatch(/query Shaped/);
    const event = await recordEvent('payment.paid', created.payment.id, 1);
    const got = await eventually(async () => r.received.find((x) => x.id === event.id));
    expect(r.verify(got, secret)).toMatchObject({
      id: event.id,
      type: 'payment.paid',
      objectId: created.payment.id,
      objectVersion: 1,
      data: { payment: { id: created.payment.id, amount: 1234, currency: 'USD', description: 'shaped', clientSecret: created.payment.clientSecret } },
    });
    expect(got.json).not.toHaveProperty('errors');
  });

  it('retention: settled deliveries and attempts older than the event retention are pruned; pending ones stay', async () => {
    const r = await receiver();
    const { endpoint } = await endpointFor(r);
    await recordEvent();
    await eventually(async () => (await deliveriesOf(endpoint.id))[0]?.status === 'SUCCEEDED');
    // A delivery waiting for a retry an hour from now.
    const deliveries = gw.app.services.webhookDeliveries;
    const waiting = deliveries.newDelivery(
      gw.app.demo.merchantId,
      endpoint.id,
      { id: newId('evt'), type: 'payment.paid', createdAt: Date.now(), objectType: 'payment', objectId: newId('pay'), objectVersion: 2, data: {} },
      new Date(),
    );
    waiting.nextAttemptAt = new Date(Date.now() + 3_600_000);
    await gw.app.db.transaction((tx) => deliveries.insertDelivery(tx, waiting));
    const old = Date.now() - 31 * 86_400_000;
    const ids = (await deliveriesOf(endpoint.id)).map((d) => d.id);
    // Both look 31 days old; only the settled one may go.
    await gw.app.db.transaction(async (tx) => {
      await tx.manager
        .createQueryBuilder()
        .update(WebhookDeliveryEntity)
        .set({ updatedAt: new Date(old) })
        .where('endpoint_id = :id', { id: endpoint.id })
        .execute();
      await tx.manager
        .createQueryBuilder()
        .update(WebhookDeliveryAttemptEntity)
        .set({ startedAt: new Date(old) })
        .where('delivery_id IN (:...ids)', { ids })
        .execute();
    });
    const report = await gw.app.services.retention.runOnce();
    expect(report.webhookDeliveries).toBeGreaterThanOrEqual(1);
    const left = await deliveriesOf(endpoint.id);
    expect(left.map((d) => [d.id, d.status])).toEqual([[waiting.id, 'PENDING']]);
  });
});
