import { createHash } from 'node:crypto';
import { createMerchantAccount, type CreatedMerchant } from '../../scripts/merchant-create';
import { signWebhookPayload } from '../../src/ucanpay';
import { checkout, eventually, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { recordSecret, recordSecretsIn } from '../helpers/run-logs';

/** A merchant as the tests use it: its gateway id, API key and UCanPay webhook secret. */
export interface TestMerchant {
  merchantId: string;
  apiKey: string;
  ucanpayMerchantId: string;
  webhookSecret: string;
}

/** The seeded demo merchant of a test gateway. */
export function demoMerchant(gw: TestGateway): TestMerchant {
  return {
    merchantId: gw.app.demo.merchantId,
    apiKey: TEST_API_KEY,
    ucanpayMerchantId: gw.config.ucanpay.merchantId,
    webhookSecret: gw.config.ucanpay.webhookSecret,
  };
}

/** Another merchant, created exactly as `npm run merchant:create` does (registered at the embedded sandbox). */
export async function createTestMerchant(gw: TestGateway, name: string): Promise<TestMerchant & { created: CreatedMerchant }> {
  const created = await createMerchantAccount({ merchants: gw.app.services.merchants, sandboxUrl: gw.sandboxUrl }, { name });
  recordSecret(created.apiKey, created.ucanpay.secretKey, created.ucanpay.webhookSecret);
  return {
    merchantId: created.merchantId,
    apiKey: created.apiKey,
    ucanpayMerchantId: created.ucanpay.merchantId,
    webhookSecret: created.ucanpay.webhookSecret,
    created,
  };
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json?: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
}

/** POSTs a GraphQL document as raw JSON (untyped: for hostile and convention-built queries). */
export async function rawGql(
  gw: TestGateway,
  query: string,
  variables?: Record<string, unknown>,
  options: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const token = options.token === undefined ? TEST_API_KEY : options.token;
  return rawRequest(`${gw.app.graphqlUrl}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers },
    body: JSON.stringify({ query, variables }),
  });
}

export async function rawRequest(url: string, init: RequestInit): Promise<RawResponse> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  let json: RawResponse['json'];
  try {
    json = JSON.parse(text);
    recordSecretsIn(json?.data);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The first error's extensions, or throws with the whole response when there is none. */
export function firstError(res: RawResponse): Record<string, any> & { message: string } {
  const error = res.json?.errors?.[0];
  if (!error) throw new Error(`expected an error, got ${res.status} ${res.text.slice(0, 500)}`);
  return { ...error.extensions, message: error.message };
}

/** Creates a payment for the merchant behind `token`; returns the payment fields the tests use. */
export async function createPayment(gw: TestGateway, token: string, input: Record<string, unknown> = {}) {
  const res = await rawGql(
    gw,
    `mutation($input: CreatePaymentInput!) { createPayment(input: $input) {
       __typename ... on CreatePaymentPayload { replayed payment { id status clientSecret checkoutUrl merchantReference providerOrderId version } }
       ... on ErrorResult { code message } } }`,
    { input: { amount: 1500, currency: 'USD', description: 'Hardening', returnUrl: 'https://shop.example/r', ...input } },
    { token },
  );
  const result = res.json?.data?.createPayment;
  if (result?.__typename !== 'CreatePaymentPayload') throw new Error(`createPayment failed: ${res.text}`);
  return result as {
    replayed: boolean;
    payment: { id: string; status: string; clientSecret: string; checkoutUrl: string; merchantReference: string; providerOrderId: string; version: number };
  };
}

/** A PAID payment of the merchant behind `token` (the customer authorizes at the hosted checkout). */
export async function paidPayment(gw: TestGateway, token: string, input: Record<string, unknown> = {}) {
  const { payment } = await createPayment(gw, token, input);
  await checkout(payment.checkoutUrl, 'authorize');
  await eventually(async () => {
    const res = await rawGql(gw, 'query($id: ID!) { payment(id: $id) { status } }', { id: payment.id }, { token });
    return res.json?.data?.payment?.status === 'PAID';
  });
  return payment;
}

/** Refunds `amount` of a paid payment; returns the refund id. */
export async function refundOf(gw: TestGateway, token: string, paymentId: string, amount = 100): Promise<string> {
  const res = await rawGql(
    gw,
    `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename ... on RefundPaymentPayload { refund { id } } ... on ErrorResult { code message } } }`,
    { input: { paymentId, amount } },
    { token },
  );
  const id = res.json?.data?.refundPayment?.refund?.id;
  if (!id) throw new Error(`refundPayment failed: ${res.text}`);
  return id;
}

/** A UCanPay webhook delivery, signed with `secret` (now, unless `t` is given). */
export async function postWebhook(gw: TestGateway, merchantId: string, event: unknown, secret: string, t = Math.floor(Date.now() / 1000)) {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  return rawRequest(`${gw.app.url}/webhooks/ucanpay/${merchantId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ucanpay-signature': signWebhookPayload(secret, body, t) },
    body,
  });
}

/**
 * A fingerprint of every row of every gateway table (SQLite): equal
 * fingerprints mean no row was added, removed or changed.
 */
export async function databaseFingerprint(gw: TestGateway): Promise<Record<string, { rows: number; hash: string }>> {
  const db = gw.app.db.dataSource;
  const tables = (await db.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)) as Array<{
    name: string;
  }>;
  const out: Record<string, { rows: number; hash: string }> = {};
  for (const { name } of tables) {
    const rows = (await db.query(`SELECT * FROM "${name}" ORDER BY 1`)) as unknown[];
    out[name] = { rows: rows.length, hash: createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16) };
  }
  return out;
}

/** Objects a merchant owns, described by the schema's naming convention, for the isolation tests. */
export interface OwnedKind {
  /** `payment` → query `payment(id)`, list `payments(first)`, subscription `paymentUpdated(id)`. */
  name: string;
  /** Prefix of its ids (a well-formed id that does not exist is `<prefix>_<26 chars>`). */
  idPrefix: string;
  /** One object for the merchant behind `token`, plus the client secret that may read it. */
  create(gw: TestGateway, token: string): Promise<{ id: string; clientSecret: string }>;
  /** Mutations on an existing object (another merchant's must answer NOT_FOUND, a client secret FORBIDDEN). */
  mutations: Array<{ name: string; query: string; variables: (id: string) => Record<string, unknown> }>;
}

export const paymentKind: OwnedKind = {
  name: 'payment',
  idPrefix: 'pay',
  async create(gw, token) {
    const payment = await paidPayment(gw, token);
    return { id: payment.id, clientSecret: payment.clientSecret };
  },
  mutations: [
    {
      name: 'refundPayment',
      query: 'mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename } }',
      variables: (id) => ({ input: { paymentId: id, amount: 100 } }),
    },
  ],
};

export const refundKind: OwnedKind = {
  name: 'refund',
  idPrefix: 'ref',
  async create(gw, token) {
    const payment = await paidPayment(gw, token);
    return { id: await refundOf(gw, token, payment.id), clientSecret: payment.clientSecret };
  },
  mutations: [],
};

/** Billing subscriptions: only the merchant's API key reaches them. */
export const subscriptionKind: OwnedKind = {
  name: 'subscription',
  idPrefix: 'sub',
  async create(gw, token) {
    const res = await rawGql(
      gw,
      `mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) { __typename ... on CreateSubscriptionPayload { subscription { id } } ... on ErrorResult { code message } } }`,
      {
        input: {
          amount: 1000,
          currency: 'USD',
          interval: 'MONTH',
          customer: { id: 'cus_1', email: 'c@example.com', name: 'Customer' },
          returnUrl: 'https://shop.example/r',
        },
      },
      { token },
    );
    const id = res.json?.data?.createSubscription?.subscription?.id;
    if (!id) throw new Error(`createSubscription failed: ${res.text}`);
    // A subscription has no client secret of its own: a payment's secret must not reach it either.
    const { payment } = await createPayment(gw, token);
    return { id, clientSecret: payment.clientSecret };
  },
  mutations: [
    {
      name: 'cancelSubscription',
      query: 'mutation($input: CancelSubscriptionInput!) { cancelSubscription(input: $input) { __typename } }',
      variables: (id) => ({ input: { id } }),
    },
    {
      name: 'updateSubscription',
      query: 'mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) { __typename } }',
      variables: (id) => ({ input: { id, amount: 2000 } }),
    },
  ],
};

/** Every kind of object merchants own. */
export const OWNED_KINDS: OwnedKind[] = [paymentKind, refundKind, subscriptionKind];
