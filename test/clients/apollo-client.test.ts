import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, split, type ApolloLink } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { Kind, OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { CreatePaymentDocument, GetPaymentDocument, PaymentFieldsFragmentDoc, PaymentUpdatedDocument } from '../../src/client/generated/graphql';
import { possibleTypes } from '../../src/client/generated/possible-types';
import { launchBrowser } from '../helpers/browser';
import { eventually, startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { recordSecretsIn } from '../helpers/run-logs';

/**
 * A stock Apollo Client 4, configured as docs/clients.md says and otherwise
 * unchanged: HttpLink for queries and mutations, GraphQLWsLink (graphql-ws)
 * for subscriptions, InMemoryCache with the generated possibleTypes.
 */

let gw: TestGateway;
let browser: Browser;
const disposers: Array<() => unknown> = [];
beforeAll(async () => {
  [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
});
afterAll(async () => {
  for (const dispose of disposers) await dispose();
  await browser?.close();
  await gw?.stop();
});

/** The client guide's Apollo Client: one token for both transports (an API key on a server, a client secret in a browser). */
function apolloClient(token: string, options: { possibleTypes?: boolean; link?: (http: ApolloLink) => ApolloLink } = {}) {
  const http = new HttpLink({ uri: gw.app.graphqlUrl, headers: { authorization: `Bearer ${token}` } });
  const wsClient = createClient({ url: gw.app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  disposers.push(() => wsClient.dispose());
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    new GraphQLWsLink(wsClient),
    options.link ? options.link(http) : http,
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache(options.possibleTypes === false ? {} : { possibleTypes }) });
  disposers.push(() => client.stop());
  return client;
}

const input = (idempotencyKey: string, amount = 1999) => ({
  amount,
  currency: 'USD',
  description: 'Blue T-shirt',
  returnUrl: `${gw.app.url}/demo/return`,
  idempotencyKey,
});

describe('Apollo Client 4', () => {
  it('createPayment → subscribe with the client secret → Authorize in Chromium → PAID in the normalized cache', async () => {
    const server = apolloClient(TEST_API_KEY);
    const created = (await server.mutate({ mutation: CreatePaymentDocument, variables: { input: input(`apollo-${Date.now()}`) } })).data!.createPayment;
    if (created.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(created));
    const { payment } = created;
    recordSecretsIn(payment);

    // The browser's app follows its payment with the client secret, over graphql-ws.
    const app = apolloClient(payment.clientSecret!);
    const statuses: string[] = [];
    const subscription = app.subscribe({ query: PaymentUpdatedDocument, variables: { id: payment.id } }).subscribe({
      next: (result) => {
        if (result.data) statuses.push(result.data.paymentUpdated.status);
      },
    });
    disposers.push(() => subscription.unsubscribe());
    await eventually(async () => statuses.includes('PENDING'));
    expect((app.cache.extract() as Record<string, unknown>)[`Payment:${payment.id}`]).toMatchObject({ status: 'PENDING', version: payment.version });

    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    try {
      await page.goto(payment.checkoutUrl!);
      await Promise.all([page.waitForURL((u) => u.pathname === '/demo/return'), page.click('button:has-text("Authorize")')]);
    } finally {
      await page.close();
    }

    const cached = await eventually(async () => {
      const entry = (app.cache.extract() as Record<string, unknown>)[`Payment:${payment.id}`] as { status?: string; version?: number } | undefined;
      return entry?.status === 'PAID' ? entry : undefined;
    });
    const stored = (await server.query({ query: GetPaymentDocument, variables: { id: payment.id }, fetchPolicy: 'network-only' })).data!.payment!;
    expect(stored.status).toBe('PAID');
    expect(cached.version).toBe(stored.version);
    expect(cached.version).toBeGreaterThan(payment.version);
    // A component reading the payment from the cache sees it paid without asking the server.
    const fromCache = app.readFragment({ id: app.cache.identify({ __typename: 'Payment', id: payment.id }), fragment: PaymentFieldsFragmentDoc });
    expect(fromCache).toMatchObject({ id: payment.id, status: 'PAID', version: stored.version, transactionId: stored.transactionId });
  });

  it('an IdempotencyConflictError keeps code and message through InMemoryCache with possibleTypes', async () => {
    const client = apolloClient(TEST_API_KEY);
    const key = `apollo-conflict-${Date.now()}`;
    await client.mutate({ mutation: CreatePaymentDocument, variables: { input: input(key) } });
    const conflict = (await client.mutate({ mutation: CreatePaymentDocument, variables: { input: input(key, 2000) } })).data!.createPayment;
    expect(conflict).toMatchObject({
      __typename: 'IdempotencyConflictError',
      code: 'IDEMPOTENCY_CONFLICT',
      message: expect.stringContaining(key),
      idempotencyKey: key,
    });
  });

  it('without possibleTypes the same answer loses code and message (why the guide asks for them)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const client = apolloClient(TEST_API_KEY, { possibleTypes: false });
      const key = `apollo-conflict-bare-${Date.now()}`;
      await client.mutate({ mutation: CreatePaymentDocument, variables: { input: input(key) } });
      const conflict = (await client.mutate({ mutation: CreatePaymentDocument, variables: { input: input(key, 2000) } })).data!.createPayment;
      expect(conflict.__typename).toBe('IdempotencyConflictError');
      expect(conflict).not.toHaveProperty('code');
      expect(conflict).not.toHaveProperty('message');
    } finally {
      warn.mockRestore();
    }
  });

  it('automatic persisted queries: after one registration, the hash alone is answered', async () => {
    const bodies: Array<{ query?: string; extensions?: { persistedQuery?: unknown } }> = [];
    const answers: Array<{ status: number; code?: string }> = [];
    const countingFetch: typeof fetch = async (url, init) => {
      bodies.push(JSON.parse(String(init?.body)));
      const res = await fetch(url, init);
      const json = (await res.clone().json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      answers.push({ status: res.status, code: json.errors?.[0]?.extensions?.code });
      return res;
    };
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const client = apolloClient(TEST_API_KEY, {
      link: () =>
        new PersistedQueryLink({ sha256 }).concat(
          new HttpLink({ uri: gw.app.graphqlUrl, headers: { authorization: `Bearer ${TEST_API_KEY}` }, fetch: countingFetch }),
        ),
    });
    const created = (await gw.gql(CreatePaymentDocument, { input: input(`apq-${Date.now()}`) })).data!.createPayment;
    if (created.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(created));
    recordSecretsIn(created.payment);

    for (let i = 0; i < 2; i++) {
      const res = await client.query({ query: GetPaymentDocument, variables: { id: created.payment.id }, fetchPolicy: 'network-only' });
      expect(res.data?.payment?.id).toBe(created.payment.id);
    }
    // Miss (hash only) → register (hash + text) → hit (hash only).
    expect(bodies.map((b) => [Boolean(b.query), Boolean(b.extensions?.persistedQuery)])).toEqual([
      [false, true],
      [true, true],
      [false, true],
    ]);
    expect(answers).toEqual([{ status: 200, code: 'PERSISTED_QUERY_NOT_FOUND' }, { status: 200 }, { status: 200 }]);
  });
});
