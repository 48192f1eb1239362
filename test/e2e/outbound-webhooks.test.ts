import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import {
  CreatePaymentDocument,
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  RedeliverEventDocument,
  RotateWebhookEndpointSecretDocument,
  TestWebhookEndpointDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
} from '../../src/client/generated/graphql';
import type { EventType } from '../../src/client/generated/graphql';
import { eventually, startGateway, type TestGateway } from '../helpers/gateway';
import { createTestMerchant } from '../hardening/helpers';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

let gw: TestGateway;
let receiver: WebhookReceiver;
/** DNS of this gateway's webhook sender: `hooks.test` answers whatever the test sets. */
let hooksTestAddress = '127.0.0.1';

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  gw = await startGateway(
    { WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_POLL_INTERVAL_MS: '200' },
    {
      webhookResolver: async (host) => {
        if (host === 'hooks.test') return [{ address: hooksTestAddress, family: 4 }];
        if (host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      },
    },
  );
});
afterAll(async () => {
  await gw?.stop();
  await receiver?.stop();
});

async function createEndpoint(input: Partial<{ url: string; eventTypes: EventType[]; description: string; enabled: boolean; payloadQuery: string }> = {}) {
  const res = await gw.gql(CreateWebhookEndpointDocument, {
    input: { url: receiver.url, eventTypes: ['PAYMENT_PAID'], ...(input as { eventTypes?: EventType[] }) },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.createWebhookEndpoint;
}

describe('webhook endpoints', () => {
  it('createWebhookEndpoint shows a whsec_ secret once; the list never shows it', async () => {
    const { endpoint, secret } = await createEndpoint({ description: 'orders' });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({ url: receiver.url, eventTypes: ['PAYMENT_PAID'], enabled: true, description: 'orders', version: 1 });
    const list = await gw.gql(WebhookEndpointsDocument, { first: 100 });
    const listed = list.data!.webhookEndpoints.edges.map((e) => e.node).find((n) => n.id === endpoint.id);
    expect(listed).toMatchObject({ id: endpoint.id, url: receiver.url });
    expect(JSON.stringify(list)).not.toContain(secret);
  });

  it.each([
    [{ url: 'not a url' }, 'input.url'],
    [{ url: 'ftp://127.0.0.1/x' }, 'input.url'],
    [{ url: 'http://10.0.0.1/hooks' }, 'input.url'],
    [{ url: 'http://169.254.169.254/latest/meta-data' }, 'input.url'],
    [{ url: 'http://[fd00:ec2::254]/' }, 'input.url'],
    [{ url: 'http://100.64.0.1/' }, 'input.url'],
    [{ url: 'http://0.0.0.0:8080/' }, 'input.url'],
    [{ url: 'http://nowhere.invalid/' }, 'input.url'],
    [{ eventTypes: [] }, 'input.eventTypes'],
    [{ eventTypes: ['PAYMENT_PAID', 'PAYMENT_PAID'] }, 'input.eventTypes[1]'],
    [{ description: 'x'.repeat(501) }, 'input.description'],
    [{ payloadQuery: '{ payment(id: $objectId) { id } ' }, 'input.payloadQuery'],
    [{ payloadQuery: 'query($objectId: ID!) { payment(id: $objectId) { nope } }' }, 'input.payloadQuery'],
    [{ payloadQuery: 'mutation { deleteWebhookEndpoint(id: "we_x") }' }, 'input.payloadQuery'],
    [{ payloadQuery: 'query($secret: String) { payments { edges { cursor } } }' }, 'input.payloadQuery'],
  ])('bad input %j → BAD_USER_INPUT naming %s, nothing saved', async (input, field) => {
    const before = (await gw.gql(WebhookEndpointsDocument, { first: 100 })).data!.webhookEndpoints.edges.length;
    const res = await gw.gql(CreateWebhookEndpointDocument, {
      input: { url: receiver.url, eventTypes: ['PAYMENT_PAID'], ...(input as { eventTypes?: EventType[] }) },
    });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(res.errors![0].message.startsWith(field)).toBe(true);
    expect((await gw.gql(WebhookEndpointsDocument, { first: 100 })).data!.webhookEndpoints.edges.length).toBe(before);
  });

  it('a bad payloadQuery names the GraphQL error', async () => {
    const res = await gw.gql(CreateWebhookEndpointDocument, {
      input: { url: receiver.url, eventTypes: ['PAYMENT_PAID'], payloadQuery: 'query($objectId: ID!) { payment(id: $objectId) { nope } }' },
    });
    expect(res.errors![0].message).toMatch(/input\.payloadQuery is not a valid payload query: Cannot query field "nope" on type "Payment"/);
  });

  it('updateWebhookEndpoint changes only what is given; a bad field changes nothing', async () => {
    const { endpoint } = await createEndpoint();
    const bad = await gw.gql(UpdateWebhookEndpointDocument, { id: endpoint.id, input: { description: 'new', eventTypes: [] } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.eventTypes' });
    // An unknown type is refused by GraphQL's own coercion, naming the same path.
    const unknown = await gw.gql(UpdateWebhookEndpointDocument, {
      id: endpoint.id,
      input: { description: 'new', eventTypes: ['PAYMENT_PAID', 'PAYMENT_NOPE'] as never },
    });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(unknown.errors![0].message).toMatch(/input\.eventTypes\[1\]/);
    const ok = await gw.gql(UpdateWebhookEndpointDocument, { id: endpoint.id, input: { description: 'new', enabled: false } });
    expect(ok.data!.updateWebhookEndpoint).toMatchObject({ description: 'new', enabled: false, eventTypes: ['PAYMENT_PAID'], url: receiver.url, version: 2 });
    const missing = await gw.gql(UpdateWebhookEndpointDocument, { id: 'we_01jd0000000000000000000000', input: { enabled: true } });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('testWebhookEndpoint sends a signed ping now; the stock standardwebhooks verifier accepts it; the delivery log shows the attempt', async () => {
    const { endpoint, secret } = await createEndpoint();
    const res = await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id });
    expect(res.errors).toBeUndefined();
    const delivery = res.data!.testWebhookEndpoint;
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', eventType: 'webhook_endpoint.ping', attemptCount: 1, lastHttpStatus: 200 });
    expect(delivery.attempts).toEqual([expect.objectContaining({ httpStatus: 200, responseExcerpt: 'ok', error: null, nextRetryAt: null })]);
    const got = receiver.received.find((r) => r.id === delivery.eventId)!;
    expect(got.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(receiver.verify(got, secret)).toMatchObject({ id: delivery.eventId, type: 'webhook_endpoint.ping', objectId: endpoint.id });
    expect(() => receiver.verify(got, 'whsec_' + Buffer.alloc(32, 1).toString('base64'))).toThrow(/No matching signature/);
    const log = await gw.gql(WebhookDeliveriesDocument, { endpointId: endpoint.id });
    expect(log.data!.webhookDeliveries.edges.map((e) => e.node.id)).toEqual([delivery.id]);
  });

  it('rotation: during the grace period each delivery carries two v1 signatures, so a receiver holding either secret verifies', async () => {
    const { endpoint, secret: oldSecret } = await createEndpoint();
    const rotated = await gw.gql(RotateWebhookEndpointSecretDocument, { id: endpoint.id });
    const newSecret = rotated.data!.rotateWebhookEndpointSecret.secret;
    expect(newSecret).not.toBe(oldSecret);
    expect(Date.parse(rotated.data!.rotateWebhookEndpointSecret.endpoint.previousSecretExpiresAt!)).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const ping = (await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id })).data!.testWebhookEndpoint;
    const got = receiver.received.find((r) => r.id === ping.eventId)!;
    expect(got.signature.split(' ')).toHaveLength(2);
    expect(receiver.verify(got, oldSecret)).toBeTruthy();
    expect(receiver.verify(got, newSecret)).toBeTruthy();
    // With no grace, only the newest secret signs.
    const again = (await gw.gql(RotateWebhookEndpointSecretDocument, { id: endpoint.id, graceSeconds: 0 })).data!.rotateWebhookEndpointSecret;
    const ping2 = (await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id })).data!.testWebhookEndpoint;
    const got2 = receiver.received.find((r) => r.id === ping2.eventId)!;
    expect(receiver.verify(got2, again.secret)).toBeTruthy();
    expect(() => receiver.verify(got2, newSecret)).toThrow(/No matching signature/);
  });

  it('DNS that changes after saving is checked again at connection: the ping is not sent to a private address', async () => {
    hooksTestAddress = '127.0.0.1';
    const { endpoint } = await createEndpoint({ url: `http://hooks.test:${receiver.port}/hooks` });
    hooksTestAddress = '10.0.0.9';
    const before = receiver.received.length;
    const ping = (await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id })).data!.testWebhookEndpoint;
    expect(ping.status).toBe('FAILED');
    expect(ping.attempts[0]).toMatchObject({
      httpStatus: null,
      error: expect.stringMatching(/not sent: host "hooks\.test" resolves to 10\.0\.0\.9 is a private address/),
    });
    expect(receiver.received.length).toBe(before);
    hooksTestAddress = '127.0.0.1';
    const ok = (await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id })).data!.testWebhookEndpoint;
    expect(ok.status).toBe('SUCCEEDED');
  });

  it('redirects are not followed: a 302 is a failed attempt', async () => {
    const { endpoint } = await createEndpoint();
    receiver.respond = () => 302;
    try {
      const ping = (await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id })).data!.testWebhookEndpoint;
      expect(ping).toMatchObject({ status: 'FAILED', lastHttpStatus: 302, lastError: 'HTTP 302' });
    } finally {
      receiver.respond = () => 200;
    }
  });

  it('deleteWebhookEndpoint removes it and its delivery log', async () => {
    const { endpoint } = await createEndpoint();
    await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id });
    const res = await gw.gql(DeleteWebhookEndpointDocument, { id: endpoint.id });
    expect(res.data!.deleteWebhookEndpoint).toBe(endpoint.id);
    expect((await gw.gql(WebhookDeliveriesDocument, { endpointId: endpoint.id })).data!.webhookDeliveries.edges).toEqual([]);
    expect((await gw.gql(DeleteWebhookEndpointDocument, { id: endpoint.id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('only the merchant API key manages webhooks, over HTTP and graphql-ws alike', () => {
  it('a client secret is refused (FORBIDDEN) on both transports; no credentials is UNAUTHENTICATED', async () => {
    const created = (await gw.gql(CreatePaymentDocument, { input: { amount: 500, currency: 'USD', description: 'x', returnUrl: 'https://shop.example/r' } }))
      .data!.createPayment;
    if (created.__typename !== 'CreatePaymentPayload') throw new Error('payment not created');
    const clientSecret = created.payment.clientSecret!;
    const input = { url: receiver.url, eventTypes: ['PAYMENT_PAID' as const] };
    const http = await gw.gql(CreateWebhookEndpointDocument, { input }, { token: clientSecret });
    expect(http.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const listHttp = await gw.gql(WebhookEndpointsDocument, {}, { token: clientSecret });
    expect(listHttp.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw.gql(WebhookEndpointsDocument, {}, { token: null })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const ws = gw.ws(clientSecret);
    const overWs = (query: string, variables: Record<string, unknown>) =>
      new Promise<{ errors?: ReadonlyArray<{ message?: string; extensions?: Record<string, unknown> }> }>((resolve) => {
        ws.subscribe({ query, variables }, { next: (v) => resolve(v as never), error: (e) => resolve({ errors: e as never }), complete: () => undefined });
      });
    // graphql-ws carries no mutation at all; the reads are refused to a client secret as over HTTP.
    const mutation = await overWs(print(CreateWebhookEndpointDocument), { input });
    expect(JSON.stringify(mutation.errors)).toMatch(/Send mutations over HTTP/);
    expect((await overWs(print(WebhookEndpointsDocument), {})).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await overWs(print(WebhookDeliveriesDocument), {})).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw.gql(WebhookEndpointsDocument, {})).errors).toBeUndefined();
  });
});

describe('endpoints across merchants', () => {
  it("another merchant neither sees nor changes A's endpoints and deliveries, and its payload query runs as itself", async () => {
    const B = await createTestMerchant(gw, 'Webhook merchant B');
    const { endpoint } = await createEndpoint();
    const ping = (await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id })).data!.testWebhookEndpoint;
    const as = { token: B.apiKey };
    for (const res of [
      await gw.gql(UpdateWebhookEndpointDocument, { id: endpoint.id, input: { enabled: false } }, as),
      await gw.gql(DeleteWebhookEndpointDocument, { id: endpoint.id }, as),
      await gw.gql(RotateWebhookEndpointSecretDocument, { id: endpoint.id }, as),
      await gw.gql(TestWebhookEndpointDocument, { id: endpoint.id }, as),
      await gw.gql(RedeliverEventDocument, { eventId: ping.eventId, endpointId: endpoint.id }, as),
    ]) {
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    expect((await gw.gql(WebhookEndpointsDocument, { first: 100 }, as)).data!.webhookEndpoints.edges).toEqual([]);
    expect((await gw.gql(WebhookDeliveriesDocument, { endpointId: endpoint.id }, as)).data!.webhookDeliveries.edges).toEqual([]);
    expect((await gw.gql(WebhookEndpointsDocument, { first: 100 })).data!.webhookEndpoints.edges.map((e) => e.node.id)).toContain(endpoint.id);

    // B's shaped payload asks for A's payment: it runs with B as the only principal, so it gets nothing.
    const aPayment = (
      await gw.gql(CreatePaymentDocument, { input: { amount: 900, currency: 'USD', description: 'A only', returnUrl: 'https://shop.example/r' } })
    ).data!.createPayment;
    if (aPayment.__typename !== 'CreatePaymentPayload') throw new Error('payment not created');
    const bEndpoint = (
      await gw.gql(
        CreateWebhookEndpointDocument,
        {
          input: {
            url: receiver.url,
            eventTypes: ['PAYMENT_PAID', 'PAYMENT_CREATED'],
            payloadQuery: `query { payment(id: "${aPayment.payment.id}") { id amount } }`,
          },
        },
        as,
      )
    ).data!.createWebhookEndpoint;
    // A's next payment.created is A's alone (A's endpoints here subscribe to payment.paid only).
    const aSecond = (
      await gw.gql(CreatePaymentDocument, { input: { amount: 901, currency: 'USD', description: 'A only', returnUrl: 'https://shop.example/r' } })
    ).data!.createPayment;
    if (aSecond.__typename !== 'CreatePaymentPayload') throw new Error('payment not created');
    await gw.app.db.transaction((tx) =>
      gw.app.services.eventLog.record(tx, {
        merchantId: B.merchantId,
        type: 'payment.paid',
        objectType: 'payment',
        objectId: 'pay_b',
        objectVersion: 1,
        data: {},
      }),
    );
    const got = await eventually(async () => receiver.received.find((r) => r.json.objectId === 'pay_b'));
    expect(receiver.verify(got, bEndpoint.secret)).toMatchObject({
      data: { payment: null },
      errors: [expect.objectContaining({ message: expect.stringMatching(/No payment/) })],
    });
    // A's event, recorded before B's, never reached B's endpoint.
    expect(receiver.received.filter((r) => r.json.objectId === aSecond.payment.id)).toEqual([]);
  });
});
