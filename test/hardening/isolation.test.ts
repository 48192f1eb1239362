import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { collect, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';
import { createPayment, createTestMerchant, demoMerchant, firstError, OWNED_KINDS, postWebhook, rawGql, type OwnedKind, type TestMerchant } from './helpers';

/**
 * Two merchants on one gateway: A (the demo merchant) and B (made by the
 * merchant:create code path). Neither sees, changes or follows the other's
 * objects, with its API key or with its customers' client secrets, and an
 * object of the other looks exactly like one that does not exist.
 */

let gw: TestGateway;
let A: TestMerchant;
let B: TestMerchant;
const owned = new Map<string, { a: { id: string; clientSecret: string }; b: { id: string; clientSecret: string } }>();

beforeAll(async () => {
  gw = await startGateway();
  A = demoMerchant(gw);
  B = await createTestMerchant(gw, 'Merchant B');
  for (const kind of OWNED_KINDS) {
    owned.set(kind.name, { a: await kind.create(gw, A.apiKey), b: await kind.create(gw, B.apiKey) });
  }
}, 60_000);
afterAll(async () => {
  await gw?.stop();
});

const readQuery = (k: OwnedKind) => `query($id: ID!) { ${k.name}(id: $id) { id } }`;
const listQuery = (k: OwnedKind) => `query { ${k.name}s(first: 100) { edges { node { id } } } }`;
const followQuery = (k: OwnedKind) => `subscription($id: ID!) { ${k.name}Updated(id: $id) { id } }`;
/** A well-formed id of this kind that exists for nobody. */
const unknownId = (k: OwnedKind) => `${k.idPrefix}_0000000000zzzzzzzzzzzzzzzz`;

/** The error without the id it names, so answers for two different ids can be compared. */
function shape(res: Awaited<ReturnType<typeof rawGql>>, id: string) {
  const error = firstError(res);
  return {
    status: res.status,
    code: error.code,
    retryable: error.retryable,
    message: error.message.replace(id, '<id>'),
    data: res.json?.data?.[Object.keys(res.json?.data ?? {})[0]] ?? null,
  };
}

async function follow(kind: OwnedKind, id: string, token: string) {
  const sub = collect(gw.ws(token), parse(followQuery(kind)), { id } as never);
  try {
    return await sub.until(() => true, 5000);
  } finally {
    sub.unsubscribe();
  }
}

describe.each(OWNED_KINDS.map((kind) => [kind.name, kind] as const))('%s objects', (_name, kind) => {
  it("B's API key cannot read A's object, and the answer is the same as for an id that does not exist", async () => {
    const { a } = owned.get(kind.name)!;
    const foreign = await rawGql(gw, readQuery(kind), { id: a.id }, { token: B.apiKey });
    const missing = await rawGql(gw, readQuery(kind), { id: unknownId(kind) }, { token: B.apiKey });
    expect(shape(foreign, a.id)).toEqual(shape(missing, unknownId(kind)));
    expect(shape(foreign, a.id)).toMatchObject({ code: 'NOT_FOUND', retryable: false, data: null });
    // A itself reads it.
    expect((await rawGql(gw, readQuery(kind), { id: a.id }, { token: A.apiKey })).json?.data?.[kind.name]).toEqual({ id: a.id });
  });

  it("B's list never contains A's objects (and does contain B's)", async () => {
    const { a, b } = owned.get(kind.name)!;
    const res = await rawGql(gw, listQuery(kind), undefined, { token: B.apiKey });
    const ids = ((res.json?.data?.[`${kind.name}s`]?.edges ?? []) as Array<{ node: { id: string } }>).map((e) => e.node.id);
    expect(ids).toContain(b.id);
    expect(ids).not.toContain(a.id);
  });

  it("B's API key cannot subscribe to A's object", async () => {
    const { a } = owned.get(kind.name)!;
    const refused = await follow(kind, a.id, B.apiKey);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    expect(refused.data ?? null).toBeNull();
    const own = await follow(kind, a.id, A.apiKey);
    expect((own.data as Record<string, { id: string }>)[`${kind.name}Updated`].id).toBe(a.id);
  });

  it("B's client secret cannot read, list or subscribe to A's object", async () => {
    const { a, b } = owned.get(kind.name)!;
    const read = firstError(await rawGql(gw, readQuery(kind), { id: a.id }, { token: b.clientSecret }));
    expect(['NOT_FOUND', 'FORBIDDEN']).toContain(read.code);
    const list = firstError(await rawGql(gw, listQuery(kind), undefined, { token: b.clientSecret }));
    expect(list.code).toBe('FORBIDDEN');
    const followed = await follow(kind, a.id, b.clientSecret);
    expect(['NOT_FOUND', 'FORBIDDEN']).toContain(followed.errors?.[0].extensions?.code);
    expect(followed.data ?? null).toBeNull();
  });

  it("B can run no mutation on A's object (NOT_FOUND), a client secret none at all (FORBIDDEN)", async () => {
    const { a, b } = owned.get(kind.name)!;
    for (const mutation of kind.mutations) {
      const foreign = firstError(await rawGql(gw, mutation.query, mutation.variables(a.id), { token: B.apiKey }));
      expect(foreign.code, mutation.name).toBe('NOT_FOUND');
      const asClient = firstError(await rawGql(gw, mutation.query, mutation.variables(b.id), { token: b.clientSecret }));
      expect(asClient.code, mutation.name).toBe('FORBIDDEN');
    }
    // Still A's, unchanged and readable by A.
    expect((await rawGql(gw, readQuery(kind), { id: a.id }, { token: A.apiKey })).json?.data?.[kind.name]).toEqual({ id: a.id });
  });
});

describe('refunds across merchants', () => {
  it("nothing reaches UCanPay when B tries to refund A's payment", async () => {
    const { a } = owned.get('payment')!;
    const before = await sandboxCall<{ refunds: unknown[] }>(gw.sandboxUrl, 'GET', `/sandbox/refunds?merchant_id=${A.ucanpayMerchantId}`);
    const res = await rawGql(
      gw,
      'mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename } }',
      { input: { paymentId: a.id } },
      { token: B.apiKey },
    );
    expect(firstError(res).code).toBe('NOT_FOUND');
    const after = await sandboxCall<{ refunds: unknown[] }>(gw.sandboxUrl, 'GET', `/sandbox/refunds?merchant_id=${A.ucanpayMerchantId}`);
    expect(after.refunds.length).toBe(before.refunds.length);
  });

  it("A's payment seen through B's refunds(paymentId:) is an empty list", async () => {
    const { a } = owned.get('payment')!;
    const res = await rawGql(gw, 'query($p: ID) { refunds(paymentId: $p, first: 10) { edges { node { id } } } }', { p: a.id }, { token: B.apiKey });
    expect(res.json?.data?.refunds.edges).toEqual([]);
  });
});

describe('webhooks across merchants', () => {
  async function pendingPaymentOf(m: TestMerchant) {
    const { payment } = await createPayment(gw, m.apiKey);
    const { orders } = await sandboxCall<{ orders: Array<Record<string, unknown>> }>(
      gw.sandboxUrl,
      'GET',
      `/sandbox/orders?merchant_id=${m.ucanpayMerchantId}&out_trade_no=${payment.merchantReference}`,
    );
    return { payment, order: orders[0] };
  }
  const paidEvent = (id: string, order: Record<string, unknown>) => ({
    id,
    type: 'payment.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: { object: { ...order, status: 'PAID', transaction_id: 'txn_forged_0001', paid_at: new Date().toISOString() } },
  });
  const state = async (m: TestMerchant, id: string) =>
    (await rawGql(gw, 'query($id: ID!) { payment(id: $id) { status version } }', { id }, { token: m.apiKey })).json?.data?.payment;

  it("an event signed with A's secret is rejected on B's route and changes nothing of B", async () => {
    const { payment, order } = await pendingPaymentOf(B);
    const res = await postWebhook(gw, B.merchantId, paidEvent('evt_cross_1', order), A.webhookSecret);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ received: false });
    expect(await state(B, payment.id)).toEqual({ status: 'PENDING', version: payment.version });
  });

  it("an event about B's order, validly signed by A on A's route, is ignored and changes nothing of B", async () => {
    const { payment, order } = await pendingPaymentOf(B);
    const res = await postWebhook(gw, A.merchantId, paidEvent('evt_cross_2', order), A.webhookSecret);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ received: true, outcome: 'ignored' });
    expect(await state(B, payment.id)).toEqual({ status: 'PENDING', version: payment.version });
  });

  it("B's own correctly signed event still works on B's route (the check above is not vacuous)", async () => {
    const { payment, order } = await pendingPaymentOf(B);
    const res = await postWebhook(gw, B.merchantId, paidEvent('evt_cross_3', order), B.webhookSecret);
    expect(res.json).toMatchObject({ received: true, outcome: 'applied' });
    await eventually(async () => (await state(B, payment.id))?.status === 'PAID');
  });
});

describe('idempotency keys and references are per merchant', () => {
  it('the same key (and the same input) used by A and by B creates two payments, one UCanPay order each', async () => {
    const input = { idempotencyKey: 'shared-key-0001', merchantReference: 'order-shared-0001', amount: 4200 };
    const a = await createPayment(gw, A.apiKey, input);
    const b = await createPayment(gw, B.apiKey, input);
    expect(a.replayed).toBe(false);
    expect(b.replayed).toBe(false);
    expect(a.payment.id).not.toBe(b.payment.id);
    // Each merchant's retry replays its own payment.
    expect((await createPayment(gw, A.apiKey, input)).payment.id).toBe(a.payment.id);
    expect((await createPayment(gw, B.apiKey, input)).payment.id).toBe(b.payment.id);
    for (const m of [A, B]) {
      const { orders } = await sandboxCall<{ orders: unknown[] }>(
        gw.sandboxUrl,
        'GET',
        `/sandbox/orders?merchant_id=${m.ucanpayMerchantId}&out_trade_no=order-shared-0001`,
      );
      expect(orders).toHaveLength(1);
    }
  });

  it("B's key never replays A's stored result, even for the same key with another input", async () => {
    const a = await createPayment(gw, A.apiKey, { idempotencyKey: 'shared-key-0002', amount: 1000 });
    const b = await createPayment(gw, B.apiKey, { idempotencyKey: 'shared-key-0002', amount: 2000 });
    expect(b.replayed).toBe(false);
    expect(b.payment.id).not.toBe(a.payment.id);
  });
});
