import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startGateway, type TestGateway } from '../helpers/gateway';
import { createPayment, createTestMerchant, demoMerchant, OWNED_KINDS, rawGql, type RawResponse, type TestMerchant } from '../hardening/helpers';

/**
 * Relay global object identification: node(id) and nodes(ids) fetch any
 * payment, refund or billing subscription by its id, and answer exactly as
 * the typed query would (payment(id), refund(id), subscription(id)).
 */

let gw: TestGateway;
let A: TestMerchant;
let B: TestMerchant;
/** Per kind: one object of A and one of B, each with a client secret that may read it (for payments and refunds). */
const owned = new Map<string, { a: { id: string; clientSecret: string }; b: { id: string; clientSecret: string } }>();

beforeAll(async () => {
  gw = await startGateway();
  A = demoMerchant(gw);
  B = await createTestMerchant(gw, 'Merchant B');
  for (const kind of OWNED_KINDS) owned.set(kind.name, { a: await kind.create(gw, A.apiKey), b: await kind.create(gw, B.apiKey) });
}, 90_000);
afterAll(async () => {
  await gw?.stop();
});

const TYPENAME: Record<string, string> = { payment: 'Payment', refund: 'Refund', subscription: 'BillingSubscription' };
const typedQuery = (kind: string) => `query($id: ID!) { ${kind}(id: $id) { __typename id version } }`;
const NODE_QUERY =
  'query($id: ID!) { node(id: $id) { __typename id ... on Payment { version } ... on Refund { version } ... on BillingSubscription { version } } }';

/** What a client sees, without the request id (which differs per request). */
function answer(res: RawResponse) {
  const data = res.json?.data ? Object.values(res.json.data)[0] : res.json?.data;
  const errors = res.json?.errors?.map(({ message, extensions }) => {
    const { requestId: _requestId, ...rest } = extensions ?? {};
    return { message, extensions: rest };
  });
  return { status: res.status, data, errors };
}

describe('node(id) is the typed query under another name', () => {
  it.each(OWNED_KINDS.map((k) => k.name))('fetches a %s by its id, with its own type', async (kind) => {
    const { id } = owned.get(kind)!.a;
    const viaNode = await rawGql(gw, NODE_QUERY, { id });
    const viaTyped = await rawGql(gw, typedQuery(kind), { id });
    expect(viaNode.json?.errors).toBeUndefined();
    expect(viaNode.json?.data?.node).toEqual({ __typename: TYPENAME[kind], id, version: expect.any(Number) });
    expect(answer(viaNode).data).toEqual(answer(viaTyped).data);
  });

  it.each(OWNED_KINDS.map((k) => k.name))("another merchant's %s answers exactly as the typed query does", async (kind) => {
    const { id } = owned.get(kind)!.b;
    const viaNode = answer(await rawGql(gw, NODE_QUERY, { id }));
    expect(viaNode.errors?.[0].extensions.code).toBe('NOT_FOUND');
    expect(viaNode).toEqual(answer(await rawGql(gw, typedQuery(kind), { id })));
  });

  it.each(OWNED_KINDS.map((k) => k.name))('a client secret asking for a %s it may not read answers exactly as the typed query does', async (kind) => {
    // The secret of A's own (other) payment, and the secret of B's payment: neither may read this object.
    const { id } = owned.get(kind)!.a;
    const otherPayment = await createPayment(gw, A.apiKey);
    for (const token of [otherPayment.payment.clientSecret, owned.get('payment')!.b.clientSecret]) {
      const viaNode = answer(await rawGql(gw, NODE_QUERY, { id }, { token }));
      expect(viaNode.errors?.[0].extensions.code).toBe(kind === 'subscription' ? 'FORBIDDEN' : 'NOT_FOUND');
      expect(viaNode).toEqual(answer(await rawGql(gw, typedQuery(kind), { id }, { token })));
    }
  });

  it('a client secret reads its own payment and its refunds through node', async () => {
    const { id: refundId, clientSecret } = owned.get('refund')!.a;
    const viaNode = await rawGql(gw, NODE_QUERY, { id: refundId }, { token: clientSecret });
    expect(viaNode.json?.data?.node).toMatchObject({ __typename: 'Refund', id: refundId });
    const payment = owned.get('payment')!.a;
    const own = await rawGql(gw, NODE_QUERY, { id: payment.id }, { token: payment.clientSecret });
    expect(own.json?.data?.node).toMatchObject({ __typename: 'Payment', id: payment.id });
  });

  it('no credentials, a missing id and an id of no known type answer as payment(id) does for them', async () => {
    const { id } = owned.get('payment')!.a;
    expect(answer(await rawGql(gw, NODE_QUERY, { id }, { token: null }))).toEqual(answer(await rawGql(gw, typedQuery('payment'), { id }, { token: null })));
    const missing = 'pay_0000000000zzzzzzzzzzzzzzzz';
    expect(answer(await rawGql(gw, NODE_QUERY, { id: missing }))).toEqual(answer(await rawGql(gw, typedQuery('payment'), { id: missing })));
    for (const strange of ['xyz_0000000000zzzzzzzzzzzzzzzz', 'nothing', '']) {
      const res = answer(await rawGql(gw, NODE_QUERY, { id: strange }));
      expect(res.data).toBeNull();
      expect(res.errors?.[0]).toMatchObject({ message: `No node with id "${strange}" exists for these credentials`, extensions: { code: 'NOT_FOUND' } });
      expect(answer(await rawGql(gw, NODE_QUERY, { id: strange }, { token: null })).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it('over graphql-ws too: the same answers for the same credentials', async () => {
    const { id } = owned.get('payment')!.b;
    const over = async (query: string, token: string) => {
      const sub = collect(gw.ws(token), parse(query) as TypedDocumentNode<{ node?: unknown }, { id: string }>, { id });
      try {
        return await sub.until(() => true, 5000);
      } finally {
        sub.unsubscribe();
      }
    };
    const strip = (r: { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }) =>
      r.errors?.map(({ message, extensions }) => ({ message, code: extensions?.code }));
    for (const token of [A.apiKey, owned.get('payment')!.a.clientSecret]) {
      const viaNode = await over(NODE_QUERY, token);
      expect(viaNode.data?.node ?? null).toBeNull();
      expect(strip(viaNode)).toEqual(strip(await over(typedQuery('payment'), token)));
      expect(strip(viaNode)?.[0].code).toBe('NOT_FOUND');
    }
    const own = await over(NODE_QUERY, B.apiKey);
    expect(own.data?.node).toMatchObject({ __typename: 'Payment', id });
  });
});

describe('nodes(ids)', () => {
  const NODES_QUERY = 'query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }';

  it('answers in the order asked; an id node(id) would refuse is null with its error at its index', async () => {
    const mine = OWNED_KINDS.map((k) => owned.get(k.name)!.a.id);
    const theirs = owned.get('payment')!.b.id;
    const res = await rawGql(gw, NODES_QUERY, { ids: [mine[2], theirs, mine[0], mine[1], mine[0]] });
    expect(res.status).toBe(200);
    expect(res.json?.data?.nodes).toEqual([
      { __typename: 'BillingSubscription', id: mine[2] },
      null,
      { __typename: 'Payment', id: mine[0] },
      { __typename: 'Refund', id: mine[1] },
      { __typename: 'Payment', id: mine[0] },
    ]);
    expect(res.json?.errors).toHaveLength(1);
    expect(res.json?.errors?.[0]).toMatchObject({ path: ['nodes', 1], extensions: { code: 'NOT_FOUND' } });
  });

  it('takes 1 to 100 ids, like the page size of the lists', async () => {
    const id = owned.get('payment')!.a.id;
    const hundred = await rawGql(gw, NODES_QUERY, { ids: Array(100).fill(id) });
    expect(hundred.json?.errors).toBeUndefined();
    expect(hundred.json?.data?.nodes).toHaveLength(100);
    for (const ids of [Array(101).fill(id), []]) {
      const res = await rawGql(gw, NODES_QUERY, { ids });
      expect(res.json?.data ?? null).toBeNull();
      expect(res.json?.errors?.[0]).toMatchObject({ message: 'ids must hold 1 to 100 ids', extensions: { code: 'BAD_USER_INPUT', field: 'ids' } });
    }
  });
});

describe('Relay connections', () => {
  it("every edge's node is a Node: a Relay client can select id through the interface", async () => {
    const res = await rawGql(
      gw,
      `{ payments(first: 5) { edges { node { ... on Node { id } } } }
         refunds(first: 5) { edges { node { ... on Node { id } } } }
         subscriptions(first: 5) { edges { node { ... on Node { id } } } } }`,
    );
    expect(res.json?.errors).toBeUndefined();
    for (const list of ['payments', 'refunds', 'subscriptions']) {
      const ids = ((res.json?.data?.[list]?.edges ?? []) as Array<{ node: { id: string } }>).map((e) => e.node.id);
      expect(ids.length, list).toBeGreaterThan(0);
    }
  });
});
