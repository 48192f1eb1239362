import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { createPayment, createTestMerchant, firstError, rawGql, rawRequest } from './helpers';
import { RawWs } from './ws-raw';

const PAYMENT_UPDATED = 'subscription($id: ID!) { paymentUpdated(id: $id) { id status version } }';

/** Subscribes `id`s and waits until each has its first answer (the current state, or an error). */
async function subscribeAll(ws: RawWs, ids: string[], paymentId: string) {
  for (const id of ids) ws.subscribe(id, PAYMENT_UPDATED, { id: paymentId });
  await ws.until(() => ids.every((id) => ws.of(id).length > 0), 15_000, `first answers for ${ids.length} subscriptions`);
  return ids.map((id) => ws.of(id)[0]);
}

/** Subscribes again (new ids, every 100 ms, at most 3 s) until one is served: a freed place is seen once the server processed the complete/close. */
async function untilServed(ws: RawWs, paymentId: string): Promise<boolean> {
  for (let i = 0; i < 30; i++) {
    const [answer] = await subscribeAll(ws, [`retry-${i}`], paymentId);
    if (answer.type === 'next') return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('subscriptions per connection and per principal', () => {
  let gw: TestGateway;
  const open: RawWs[] = [];
  const connect = async (token: string | null) => {
    const ws = await RawWs.connect(gw.app.wsUrl, token);
    open.push(ws);
    return ws;
  };
  beforeAll(async () => {
    gw = await startGateway({ WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '4', WS_MAX_SUBSCRIPTIONS_PER_MERCHANT: '6', WS_MAX_SUBSCRIPTIONS_PER_CLIENT_SECRET: '3' });
  });
  afterAll(async () => {
    for (const ws of open) ws.close();
    await gw?.stop();
  });

  it('a client secret holds 3 subscriptions over all its connections; the 4th is refused with SUBSCRIPTION_LIMIT_REACHED, and completing one frees a place', async () => {
    const { payment } = await createPayment(gw, TEST_API_KEY);
    const a = await connect(payment.clientSecret);
    const b = await connect(payment.clientSecret);
    const first = await subscribeAll(a, ['1', '2'], payment.id);
    expect(first.map((m) => m.type)).toEqual(['next', 'next']);
    expect((await subscribeAll(b, ['1'], payment.id))[0].type).toBe('next');
    const [refused] = await subscribeAll(b, ['2'], payment.id);
    expect(refused.type).toBe('error');
    expect(refused.payload[0].extensions).toMatchObject({ code: 'SUBSCRIPTION_LIMIT_REACHED', retryable: false });
    expect(refused.payload[0].message).toMatch(/client secret.*limit 3/);
    // The connection stays open and usable: complete one on the other socket, then it fits.
    a.complete('1');
    expect(await untilServed(b, payment.id)).toBe(true);
  });

  it('one connection holds 4; the 5th on it is refused, another connection of the same merchant is still served', async () => {
    const { payment } = await createPayment(gw, TEST_API_KEY);
    const ws = await connect(TEST_API_KEY);
    const answers = await subscribeAll(ws, ['a', 'b', 'c', 'd', 'e'], payment.id);
    expect(answers.map((m) => m.type)).toEqual(['next', 'next', 'next', 'next', 'error']);
    expect(answers[4].payload[0].extensions.code).toBe('SUBSCRIPTION_LIMIT_REACHED');
    expect(answers[4].payload[0].message).toMatch(/this connection .*limit 4/);
    const other = await connect(TEST_API_KEY);
    expect((await subscribeAll(other, ['x'], payment.id))[0].type).toBe('next');
    // 5 of the merchant's 6; one more fits, then the merchant is full on every connection.
    expect((await subscribeAll(other, ['y'], payment.id))[0].type).toBe('next');
    const [full] = await subscribeAll(other, ['z'], payment.id);
    expect(full.payload[0].extensions.code).toBe('SUBSCRIPTION_LIMIT_REACHED');
    expect(full.payload[0].message).toMatch(/merchant's API keys.*limit 6/);
    // Another merchant has its own count.
    const merchant = await createTestMerchant(gw, 'Other Shop');
    const { payment: theirs } = await createPayment(gw, merchant.apiKey);
    const third = await connect(merchant.apiKey);
    expect((await subscribeAll(third, ['m'], theirs.id))[0].type).toBe('next');

    // A closed connection gives all of its places back.
    ws.close();
    await ws.until(() => ws.closeCode !== undefined, 5000, 'close');
    const again = await connect(TEST_API_KEY);
    expect(await untilServed(again, payment.id)).toBe(true);
  });
});

describe('variables are bounded like the document, over HTTP and graphql-ws', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  /** `levels` nested objects as JSON text (JSON.stringify itself overflows the stack on 40,000 levels). */
  const nestedJson = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
  const QUERY = 'query($input: CreatePaymentInput) { __typename }';
  const post = (variablesJson: string) =>
    rawRequest(gw.app.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: `{"query":${JSON.stringify(QUERY)},"variables":${variablesJson}}`,
    });

  it('HTTP POST: 40,000 levels deep, 12 levels deep, or over 64 KiB: 400 BAD_USER_INPUT naming variables; a normal input passes', async () => {
    for (const variables of [
      `{"input":${nestedJson(40_000)}}`,
      `{"input":${nestedJson(10)}}`,
      JSON.stringify({ input: { metadata: { big: 'x'.repeat(70_000) } } }),
    ]) {
      const res = await post(variables);
      expect(res.status).toBe(400);
      const error = firstError(res);
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables', retryable: false });
      expect(error.message).toMatch(/variables are (nested deeper than 10 levels|larger than 65536 bytes)/);
    }
    const ok = await rawGql(gw, 'query($id: ID!) { payment(id: $id) { id } }', { id: 'pay_01jd0000000000000000000000' });
    expect(ok.status).toBe(200);
  });

  it('HTTP GET ?variables=: the same bounds', async () => {
    const url = `${gw.app.graphqlUrl}?query=${encodeURIComponent(QUERY)}&variables=${encodeURIComponent(`{"input":${nestedJson(50)}}`)}`;
    const res = await rawRequest(url, { headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${TEST_API_KEY}` } });
    expect(res.status).toBe(400);
    expect(firstError(res)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables' });
  });

  it('graphql-ws: deep variables are refused for that operation; the connection keeps working', async () => {
    const ws = await RawWs.connect(gw.app.wsUrl, TEST_API_KEY);
    try {
      ws.socket.send(`{"id":"deep","type":"subscribe","payload":{"query":${JSON.stringify(QUERY)},"variables":{"input":${nestedJson(10_000)}}}}`);
      await ws.until(() => ws.of('deep').length > 0, 10_000, 'an answer');
      const [answer] = ws.of('deep');
      expect(answer.type).toBe('error');
      expect(answer.payload[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(answer.payload[0].message).toMatch(/variables are nested deeper than 10 levels/);
      ws.subscribe('fine', '{ __typename }');
      await ws.until(() => ws.of('fine').some((m) => m.type === 'next'), 10_000, 'the next query');
    } finally {
      ws.close();
    }
  });
});
