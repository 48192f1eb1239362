import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print, type FormattedExecutionResult } from 'graphql';
import type { Client, SubscribePayload } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, GetPaymentDocument, PaymentUpdatedDocument } from '../../src/client/generated/graphql';
import { trustedRequest } from '../../src/client/trusted-documents';
import { checkout, sandboxCall, startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { firstError, rawGql, rawRequest, type RawResponse } from './helpers';

/**
 * Trusted documents (docs/operations.md#trusted-documents): under the production default
 * (TRUSTED_DOCUMENTS=enforce-client-secrets) a browser holding a client secret runs only the
 * documents of the manifests, by `documentId`, over HTTP and graphql-ws; the API key runs anything.
 */

// A merchant's own operation, in its own manifest file (as its codegen would write it).
const MERCHANT_DOCUMENT = 'query ShopPaymentStatus($id: ID!) { payment(id: $id) { id status } }';
const MERCHANT_ID = `sha256:${createHash('sha256').update(MERCHANT_DOCUMENT).digest('hex')}`;
const UNKNOWN_ID = `sha256:${'0'.repeat(64)}`;
const RAW_READ = 'query ($id: ID!) { payment(id: $id) { id status amount } }';

let gw: TestGateway;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trusted-documents-'));
  const manifest = path.join(dir, 'shop-persisted-documents.json');
  fs.writeFileSync(manifest, JSON.stringify({ [MERCHANT_ID]: MERCHANT_DOCUMENT }));
  gw = await startGateway({ TRUSTED_DOCUMENTS: 'enforce-client-secrets', TRUSTED_DOCUMENTS_MANIFESTS: manifest });
}, 60_000);
afterAll(async () => {
  await gw?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const bearer = (token: string | null): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** POST /graphql with a body of our choosing. */
function post(body: unknown, token: string | null = TEST_API_KEY): Promise<RawResponse> {
  return rawRequest(gw.app.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, body: JSON.stringify(body) });
}

/** GET /graphql?documentId=…&variables=… (with the preflight header CSRF prevention asks of a GET). */
function get(params: Record<string, string>, token: string | null = TEST_API_KEY): Promise<RawResponse> {
  return rawRequest(`${gw.app.graphqlUrl}?${new URLSearchParams(params)}`, {
    method: 'GET',
    headers: { 'apollo-require-preflight': 'true', ...bearer(token) },
  });
}

/** One subscription over graphql-ws: its values, and its error (the refusal) if any. */
function subscribe(client: Client, payload: Record<string, unknown>) {
  const values: FormattedExecutionResult<any, unknown>[] = [];
  let error: unknown;
  let wake = () => {};
  const unsubscribe = client.subscribe(payload as unknown as SubscribePayload, {
    next: (value) => {
      values.push(value);
      wake();
    },
    error: (e) => {
      error = e;
      wake();
    },
    complete: () => wake(),
  });
  return {
    values,
    unsubscribe,
    get error() {
      return error as Array<{ message: string; extensions?: Record<string, unknown> }> | undefined;
    },
    /** Waits (at most `ms`) until `done` holds. */
    async until(done: () => boolean, ms = 10_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`subscription: not done within ${ms} ms: ${JSON.stringify({ values, error })}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

let seq = 0;
/** createPayment with the API key, as the merchant's server does: by documentId, or (`raw`) with the document's text. */
async function createPayment(raw = false) {
  const variables = { input: { amount: 2500, currency: 'USD', description: `Trusted ${++seq}`, returnUrl: 'https://shop.example/return' } };
  const res = raw ? await rawGql(gw, print(CreatePaymentDocument), variables) : await post(trustedRequest(CreatePaymentDocument, variables));
  expect(res.json?.errors).toBeUndefined();
  const result = res.json!.data!.createPayment;
  expect(result.__typename).toBe('CreatePaymentPayload');
  return result.payment as { id: string; clientSecret: string; checkoutUrl: string; status: string };
}

describe('the generated client runs the whole checkout by documentId only', () => {
  it('createPayment (API key), then the browser with the client secret: read, subscribe, authorize, PAID', async () => {
    const payment = await createPayment();
    expect(payment.status).toBe('PENDING');

    // The browser: POST and a cacheable GET, by id.
    const read = await post(trustedRequest(GetPaymentDocument, { id: payment.id }), payment.clientSecret);
    expect(read.json?.errors).toBeUndefined();
    expect(read.json?.data?.payment).toMatchObject({ id: payment.id, status: 'PENDING' });
    const cached = await get(
      { documentId: trustedRequest(GetPaymentDocument).documentId, variables: JSON.stringify({ id: payment.id }) },
      payment.clientSecret,
    );
    expect(cached.status).toBe(200);
    expect(cached.json?.data?.payment).toMatchObject({ id: payment.id, status: 'PENDING' });

    const ws = gw.ws(payment.clientSecret);
    const updates = subscribe(ws, trustedRequest(PaymentUpdatedDocument, { id: payment.id }));
    await updates.until(() => updates.values.some((v) => v.data?.paymentUpdated.status === 'PENDING'));

    await checkout(payment.checkoutUrl, 'authorize');
    await updates.until(() => updates.values.some((v) => v.data?.paymentUpdated.status === 'PAID'));
    expect(updates.error).toBeUndefined();
    updates.unsubscribe();

    const after = await post(trustedRequest(GetPaymentDocument, { id: payment.id }), payment.clientSecret);
    expect(after.json?.data?.payment.status).toBe('PAID');
  });
});

describe('enforce-client-secrets: a client secret runs trusted documents only', () => {
  let payment: Awaited<ReturnType<typeof createPayment>>;
  beforeAll(async () => {
    payment = await createPayment(true);
  });

  it('over HTTP, a raw document from a client secret is refused (403 TRUSTED_DOCUMENT_REQUIRED), nothing run', async () => {
    for (const query of [RAW_READ, '{ __typename }']) {
      const res = await rawGql(gw, query, { id: payment.id }, { token: payment.clientSecret });
      expect(res.status).toBe(403);
      expect(res.json?.data).toBeUndefined();
      expect(firstError(res)).toMatchObject({ code: 'TRUSTED_DOCUMENT_REQUIRED', retryable: false, requestId: expect.any(String) });
    }
    // GET and an APQ hash of an untrusted text are raw documents too.
    const viaGet = await get({ query: RAW_READ, variables: JSON.stringify({ id: payment.id }) }, payment.clientSecret);
    expect(viaGet.status).toBe(403);
    expect(firstError(viaGet).code).toBe('TRUSTED_DOCUMENT_REQUIRED');
    const sha256Hash = createHash('sha256').update(RAW_READ).digest('hex');
    await post({ query: RAW_READ, variables: { id: payment.id }, extensions: { persistedQuery: { version: 1, sha256Hash } } }); // the API key registers it
    const apq = await post({ variables: { id: payment.id }, extensions: { persistedQuery: { version: 1, sha256Hash } } }, payment.clientSecret);
    expect(apq.status).toBe(403);
    expect(firstError(apq).code).toBe('TRUSTED_DOCUMENT_REQUIRED');
    // Other body shapes are no way around it: Apollo refuses them before running anything.
    const headers = { authorization: `Bearer ${payment.clientSecret}`, 'apollo-require-preflight': 'true' };
    for (const init of [
      { headers: { ...headers, 'content-type': 'application/graphql' }, body: `{ payment(id: "${payment.id}") { id status } }` },
      { headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify([{ query: RAW_READ, variables: { id: payment.id } }]) },
    ]) {
      const res = await rawRequest(gw.app.graphqlUrl, { method: 'POST', ...init });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.text).not.toContain('PENDING');
    }
  });

  it('the exact text of a trusted document is trusted, sent raw', async () => {
    const text = print(GetPaymentDocument);
    const manifest = JSON.parse(fs.readFileSync(path.resolve('src/client/generated/persisted-documents.json'), 'utf8')) as Record<string, string>;
    const trustedText = manifest[trustedRequest(GetPaymentDocument).documentId];
    expect(trustedText).toBeDefined();
    // print() is not the manifest's normalized text: that is an untrusted document.
    expect((await rawGql(gw, text, { id: payment.id }, { token: payment.clientSecret })).status).toBe(403);
    const res = await rawGql(gw, trustedText, { id: payment.id }, { token: payment.clientSecret });
    expect(res.json?.data?.payment.id).toBe(payment.id);
    // An APQ hash that is a manifest id runs at once: no PERSISTED_QUERY_NOT_FOUND round trip on a fresh instance.
    const sha256Hash = trustedRequest(GetPaymentDocument).documentId.slice('sha256:'.length);
    const apq = await post({ variables: { id: payment.id }, extensions: { persistedQuery: { version: 1, sha256Hash } } }, payment.clientSecret);
    expect(apq.json?.errors).toBeUndefined();
    expect(apq.json?.data?.payment.id).toBe(payment.id);
  });

  it('over graphql-ws, a raw subscription from a client secret is refused; by id it runs', async () => {
    const ws = gw.ws(payment.clientSecret);
    const raw = subscribe(ws, { query: print(PaymentUpdatedDocument), variables: { id: payment.id } });
    await raw.until(() => raw.error !== undefined);
    expect(raw.values).toEqual([]);
    expect(raw.error![0].extensions).toMatchObject({ code: 'TRUSTED_DOCUMENT_REQUIRED', retryable: false });

    const byId = subscribe(ws, trustedRequest(PaymentUpdatedDocument, { id: payment.id }));
    await byId.until(() => byId.values.length > 0);
    expect(byId.values[0].data?.paymentUpdated.id).toBe(payment.id);
    byId.unsubscribe();
  });

  it('the API key runs raw documents over HTTP and graphql-ws', async () => {
    const res = await rawGql(gw, RAW_READ, { id: payment.id });
    expect(res.status).toBe(200);
    expect(res.json?.data?.payment).toMatchObject({ id: payment.id, amount: 2500 });

    const ws = gw.ws(TEST_API_KEY);
    const raw = subscribe(ws, { query: 'subscription ($id: ID!) { paymentUpdated(id: $id) { id status } }', variables: { id: payment.id } });
    await raw.until(() => raw.values.length > 0);
    expect(raw.error).toBeUndefined();
    expect(raw.values[0].data?.paymentUpdated.id).toBe(payment.id);
    raw.unsubscribe();
  });

  it('without credentials a raw document is handled as for the API key (auth refuses it)', async () => {
    const res = await rawGql(gw, RAW_READ, { id: payment.id }, { token: null });
    expect(firstError(res).code).toBe('UNAUTHENTICATED');
    expect((await rawGql(gw, '{ __typename }', undefined, { token: null })).json?.data).toEqual({ __typename: 'Query' });
  });
});

describe('documentId requests', () => {
  it('an unknown id is refused with 404 TRUSTED_DOCUMENT_NOT_FOUND over HTTP (POST, GET) and graphql-ws', async () => {
    for (const res of [await post({ documentId: UNKNOWN_ID, variables: {} }), await get({ documentId: UNKNOWN_ID })]) {
      expect(res.status).toBe(404);
      expect(firstError(res)).toMatchObject({ code: 'TRUSTED_DOCUMENT_NOT_FOUND', retryable: false, requestId: expect.any(String) });
    }
    const ws = gw.ws(TEST_API_KEY);
    const sub = subscribe(ws, { query: '', documentId: UNKNOWN_ID });
    await sub.until(() => sub.error !== undefined);
    expect(sub.error![0].extensions).toMatchObject({ code: 'TRUSTED_DOCUMENT_NOT_FOUND' });
  });

  it("a merchant manifest's documents are trusted, for the client secret too", async () => {
    const payment = await createPayment();
    const res = await post({ documentId: MERCHANT_ID, variables: { id: payment.id } }, payment.clientSecret);
    expect(res.json).toEqual({ data: { payment: { id: payment.id, status: 'PENDING' } } });
    const raw = await rawGql(gw, MERCHANT_DOCUMENT, { id: payment.id }, { token: payment.clientSecret });
    expect(raw.json?.data?.payment.id).toBe(payment.id);
  });

  it('a query by GET with documentId is answered; a mutation by GET is refused and creates nothing', async () => {
    const payment = await createPayment();
    const ok = await get({ documentId: trustedRequest(GetPaymentDocument).documentId, variables: JSON.stringify({ id: payment.id }) });
    expect(ok.status).toBe(200);
    expect(ok.json?.data?.payment.id).toBe(payment.id);

    const description = `GET mutation ${Date.now()}`;
    const input = { amount: 100, currency: 'USD', description, returnUrl: 'https://shop.example/return' };
    const refused = await get({ documentId: trustedRequest(CreatePaymentDocument).documentId, variables: JSON.stringify({ input }) });
    expect(refused.status).toBe(405);
    expect(firstError(refused).code).toBe('BAD_REQUEST');
    const { orders } = await sandboxCall<{ orders: Array<{ description?: string; body?: string }> }>(
      gw.sandboxUrl,
      'GET',
      '/sandbox/orders?merchant_id=mch_demo',
    );
    expect(JSON.stringify(orders)).toContain('Trusted '); // descriptions are listed
    expect(JSON.stringify(orders)).not.toContain(description);
  });

  it('documentId with a query is a malformed request (400 BAD_REQUEST)', async () => {
    const res = await post({ ...trustedRequest(GetPaymentDocument, { id: 'x' }), query: RAW_READ });
    expect(res.status).toBe(400);
    expect(firstError(res).code).toBe('BAD_REQUEST');
  });
});

describe('TRUSTED_DOCUMENTS=enforce: the API key too runs trusted documents only', () => {
  let strict: TestGateway;
  beforeAll(async () => {
    strict = await startGateway({ TRUSTED_DOCUMENTS: 'enforce' });
  }, 60_000);
  afterAll(async () => {
    await strict?.stop();
  });

  it('refuses a raw document from the API key over HTTP and graphql-ws; by id it runs', async () => {
    const raw = await rawGql(strict, RAW_READ, { id: 'pay_x' });
    expect(raw.status).toBe(403);
    expect(firstError(raw).code).toBe('TRUSTED_DOCUMENT_REQUIRED');

    const ws = strict.ws(TEST_API_KEY);
    const sub = subscribe(ws, { query: 'subscription ($id: ID!) { paymentUpdated(id: $id) { id } }', variables: { id: 'pay_x' } });
    await sub.until(() => sub.error !== undefined);
    expect(sub.error![0].extensions).toMatchObject({ code: 'TRUSTED_DOCUMENT_REQUIRED' });

    const variables = { input: { amount: 700, currency: 'EUR', description: 'Strict', returnUrl: 'https://shop.example/return' } };
    const res = await rawRequest(strict.app.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify(trustedRequest(CreatePaymentDocument, variables)),
    });
    expect(res.json?.data?.createPayment).toMatchObject({ __typename: 'CreatePaymentPayload', payment: { amount: 700, currency: 'EUR' } });
  });
});
