import { cacheExchange, Client, fetchExchange, subscriptionExchange, type AnyVariables, type OperationResult } from '@urql/core';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CreatePaymentDocument, GetPaymentDocument, PaymentUpdatedDocument } from '../../src/client/generated/graphql';
import { checkout, eventually, startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { recordSecretsIn } from '../helpers/run-logs';

/**
 * A stock urql (@urql/core 6) client, unchanged but for what docs/clients.md
 * says to configure: one of the two fixes for its GET queries (CSRF
 * prevention), and subscriptionExchange over graphql-ws.
 */

let gw: TestGateway;
const disposers: Array<() => unknown> = [];
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  for (const dispose of disposers) await dispose();
  await gw?.stop();
});

function urqlClient(token: string, options: { preferGetMethod?: false; preflightHeader?: boolean } = {}) {
  const wsClient = createClient({ url: gw.app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  disposers.push(() => wsClient.dispose());
  return new Client({
    url: gw.app.graphqlUrl,
    ...(options.preferGetMethod === false ? { preferGetMethod: false } : {}),
    fetchOptions: { headers: { authorization: `Bearer ${token}`, ...(options.preflightHeader ? { 'apollo-require-preflight': 'true' } : {}) } },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return { subscribe: (sink) => ({ unsubscribe: wsClient.subscribe(input, sink) }) };
        },
      }),
    ],
  });
}

const input = (idempotencyKey: string, amount = 1500) => ({
  amount,
  currency: 'USD',
  description: 'urql order',
  returnUrl: 'https://shop.example/r',
  idempotencyKey,
});

async function createdPayment(client: Client, key: string) {
  const res = await client.mutation(CreatePaymentDocument, { input: input(key) }).toPromise();
  const created = res.data?.createPayment;
  if (created?.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(res));
  recordSecretsIn(created.payment);
  return created.payment;
}

describe('urql', () => {
  it('its default GET query is refused by CSRF prevention; preferGetMethod: false or the apollo-require-preflight header fix it', async () => {
    const payment = await createdPayment(urqlClient(TEST_API_KEY, { preferGetMethod: false }), `urql-get-${Date.now()}`);
    const byDefault = await urqlClient(TEST_API_KEY).query(GetPaymentDocument, { id: payment.id }).toPromise();
    expect(byDefault.data).toBeUndefined();
    expect(byDefault.error?.response?.status).toBe(400);
    expect(byDefault.error?.graphQLErrors[0]).toMatchObject({ message: expect.stringMatching(/CSRF/), extensions: { code: 'BAD_REQUEST' } });

    for (const options of [{ preferGetMethod: false as const }, { preflightHeader: true }]) {
      const res = await urqlClient(TEST_API_KEY, options).query(GetPaymentDocument, { id: payment.id }).toPromise();
      expect(res.error, JSON.stringify(options)).toBeUndefined();
      expect(res.data?.payment).toMatchObject({ id: payment.id, status: 'PENDING' });
    }
  });

  it('createPayment, then paymentUpdated over graphql-ws (client secret) receives PAID', async () => {
    const payment = await createdPayment(urqlClient(TEST_API_KEY, { preferGetMethod: false }), `urql-${Date.now()}`);
    const results: Array<OperationResult<{ paymentUpdated: { status: string; version: number } }, AnyVariables>> = [];
    const { unsubscribe } = urqlClient(payment.clientSecret!)
      .subscription(PaymentUpdatedDocument, { id: payment.id })
      .subscribe((result) => results.push(result));
    disposers.push(unsubscribe);
    await eventually(async () => results.some((r) => r.data?.paymentUpdated.status === 'PENDING'));
    await checkout(payment.checkoutUrl!, 'authorize');
    const paid = await eventually(async () => results.find((r) => r.data?.paymentUpdated.status === 'PAID'));
    expect(paid.data!.paymentUpdated.version).toBeGreaterThan(payment.version);
    expect(results.every((r) => !r.error)).toBe(true);
  });

  it('an IdempotencyConflictError arrives with code and message', async () => {
    const client = urqlClient(TEST_API_KEY, { preferGetMethod: false });
    const key = `urql-conflict-${Date.now()}`;
    await createdPayment(client, key);
    const conflict = (await client.mutation(CreatePaymentDocument, { input: input(key, 1600) }).toPromise()).data!.createPayment;
    expect(conflict).toMatchObject({ __typename: 'IdempotencyConflictError', code: 'IDEMPOTENCY_CONFLICT', message: expect.stringContaining(key) });
  });
});
