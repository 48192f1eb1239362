import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetPaymentDocument } from '../../src/client/generated/graphql';
import { startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { capturingLogger } from '../helpers/logs';
import { createPayment, firstError, rawGql, rawRequest } from './helpers';

/**
 * Production gives nothing away, over HTTP and over graphql-ws alike: no
 * introspection (unless GRAPHQL_INTROSPECTION=true, on both), no "Did you
 * mean …" of any kind and no "[Suggestion hidden]" leftovers, and a WebSocket
 * without valid credentials is closed at connection_init with 4403.
 */

const PRODUCTION = { NODE_ENV: 'production', API_KEY_PEPPER: 'test-pepper-for-production-mode-0001' };
const TRUSTED_GET_PAYMENT = (JSON.parse(fs.readFileSync(path.resolve('src/client/generated/persisted-documents.json'), 'utf8')) as Record<string, string>)[
  (GetPaymentDocument as { __meta__?: { hash: string } }).__meta__!.hash
];

let prod: TestGateway;
let prodLogs: Array<Record<string, any>>;
let prodOpen: TestGateway;
let dev: TestGateway;

beforeAll(async () => {
  const { logger, lines } = capturingLogger();
  prodLogs = lines;
  [prod, prodOpen, dev] = await Promise.all([
    startGateway(PRODUCTION, { logger }),
    startGateway({ ...PRODUCTION, GRAPHQL_INTROSPECTION: 'true' }),
    startGateway(),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([prod?.stop(), prodOpen?.stop(), dev?.stop()]);
});

type WsMessage = { type: string; id?: string; payload?: any };

/** Opens a raw graphql-transport-ws socket and sends `connection_init` (no payload when `params` is undefined). */
async function wsInit(
  gw: TestGateway,
  params: unknown,
  requestId?: string,
): Promise<{ socket: WebSocket; first: WsMessage | { closed: number; reason: string } }> {
  const socket = new WebSocket(gw.app.wsUrl, 'graphql-transport-ws', { headers: requestId ? { 'x-request-id': requestId } : {} });
  const first = await new Promise<WsMessage | { closed: number; reason: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to connection_init within 5 s')), 5000);
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify(params === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload: params })));
    socket.once('message', (data) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(data)));
    });
    socket.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ closed: code, reason: String(reason) });
    });
  });
  return { socket, first };
}

/** Runs one operation on an acknowledged socket; resolves with its `next` payloads and errors when it completes or errs. */
async function wsRun(socket: WebSocket, query: string, variables?: Record<string, unknown>): Promise<{ next: any[]; errors: any[] }> {
  const id = String(Math.random()).slice(2);
  const next: any[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`operation ${query.slice(0, 40)} did not end within 5 s: ${JSON.stringify(next)}`)), 5000);
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as WsMessage;
      if (message.id !== id) return;
      if (message.type === 'next') next.push(message.payload);
      if (message.type === 'complete' || message.type === 'error') {
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve({ next, errors: message.type === 'error' ? message.payload : next.flatMap((p) => p.errors ?? []) });
      }
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query, variables } }));
  });
}

async function acknowledged(gw: TestGateway, token = TEST_API_KEY): Promise<WebSocket> {
  const { socket, first } = await wsInit(gw, { authorization: `Bearer ${token}` });
  expect(first).toEqual({ type: 'connection_ack' });
  return socket;
}

describe('introspection follows one switch on both transports', () => {
  const documents = [
    getIntrospectionQuery(),
    '{ __schema { types { name } } }',
    '{ __type(name: "Payment") { name fields { name } } }',
    '{ payments(first: 1) { edges { node { __type: __typename } } } }',
  ];

  it('production: HTTP refuses every introspection document with GRAPHQL_VALIDATION_FAILED', async () => {
    for (const query of documents.slice(0, 3)) {
      const res = await rawGql(prod, query);
      expect(res.status, query).toBe(400);
      expect(firstError(res)).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', message: expect.stringMatching(/Introspection is off/) });
      expect(res.json?.data).toBeUndefined();
    }
  });

  it('production: graphql-ws refuses them the same way (the standard introspection query answered 58 types here before)', async () => {
    const socket = await acknowledged(prod);
    try {
      for (const query of documents.slice(0, 3)) {
        const { next, errors } = await wsRun(socket, query);
        expect(
          next.filter((p) => p.data),
          query,
        ).toEqual([]);
        expect(errors[0]).toMatchObject({ message: expect.stringMatching(/Introspection is off/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
      }
    } finally {
      socket.close();
    }
  });

  it('__typename (even aliased as __type) stays allowed in production, on both', async () => {
    const http = await rawGql(prod, '{ __typename }');
    expect(http.json).toEqual({ data: { __typename: 'Query' } });
    const socket = await acknowledged(prod);
    try {
      expect((await wsRun(socket, '{ __typename }')).next).toEqual([{ data: { __typename: 'Query' } }]);
      expect((await wsRun(socket, documents[3])).errors).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it('GRAPHQL_INTROSPECTION=true in production opens it on both transports', async () => {
    const http = await rawGql(prodOpen, getIntrospectionQuery());
    expect(http.json?.data?.__schema.types.length).toBeGreaterThan(20);
    const socket = await acknowledged(prodOpen);
    try {
      const { next } = await wsRun(socket, getIntrospectionQuery());
      expect(next[0].data.__schema.types.length).toBe(http.json?.data?.__schema.types.length);
    } finally {
      socket.close();
    }
  });
});

describe('no suggestions in production, on both transports', () => {
  /** Each makes graphql-js suggest names of the schema; `hidden` are the names it suggests in development. */
  const cases: Array<{ kind: string; query: string; variables?: Record<string, unknown>; hidden: RegExp }> = [
    { kind: 'field', query: '{ paymnt(id: "pay_x") { id } }', hidden: /"payment"/ },
    { kind: 'field of an object', query: '{ payment(id: "pay_x") { stats } }', hidden: /"status"/ },
    { kind: 'argument', query: '{ payment(idd: "pay_x") { id } }', hidden: /"id"/ },
    { kind: 'enum value (literal)', query: '{ payments(status: PAYED) { edges { cursor } } }', hidden: /PAID|FAILED/ },
    {
      kind: 'enum value (variable)',
      query: 'query ($s: PaymentStatus) { payments(status: $s) { edges { cursor } } }',
      variables: { s: 'PAYED' },
      hidden: /PAID|FAILED/,
    },
    { kind: 'type', query: 'query ($s: PaymntStatus) { payments(status: $s) { edges { cursor } } }', hidden: /"PaymentStatus"/ },
    { kind: 'enum value of another enum', query: '{ refunds(status: SUCEEDED) { edges { cursor } } }', hidden: /SUCCEEDED/ },
    {
      kind: 'input field (literal)',
      query:
        'mutation { createPayment(input: { amount: 100, currency: "USD", description: "x", returnUrl: "https://shop.example/r", merchantRefrence: "o-1" }) { __typename } }',
      hidden: /"merchantReference"/,
    },
    {
      kind: 'input field (variable)',
      query: 'mutation ($input: CreatePaymentInput!) { createPayment(input: $input) { __typename } }',
      variables: { input: { amount: 100, currency: 'USD', description: 'x', returnUrl: 'https://shop.example/r', expiresInSecs: 60 } },
      hidden: /"expiresInSeconds"/,
    },
  ];
  const clean = (message: string) => {
    expect(message).not.toMatch(/Did you mean|Suggestion hidden|\?\s*$/);
  };

  it.each(cases)('development suggests: $kind (so the case is a real one)', async ({ query, variables }) => {
    expect(firstError(await rawGql(dev, query, variables)).message).toMatch(/Did you mean/);
  });

  it.each(cases)('production over HTTP: $kind, a clean message naming nothing else', async ({ query, variables, hidden }) => {
    const error = firstError(await rawGql(prod, query, variables));
    expect(error.code).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT/);
    clean(error.message);
    expect(error.message).not.toMatch(hidden);
  });

  it('production over graphql-ws: every case, a clean message naming nothing else', async () => {
    const socket = await acknowledged(prod);
    try {
      // A mutation's variables are coerced only when it runs, and the socket turns mutations away before that.
      for (const { kind, query, variables, hidden } of cases.filter((c) => !(c.query.startsWith('mutation') && c.variables))) {
        const { errors } = await wsRun(socket, query, variables);
        expect(errors.length, kind).toBeGreaterThan(0);
        clean(errors[0].message);
        expect(errors[0].message, kind).not.toMatch(hidden);
      }
      const mutation = cases.find((c) => c.query.startsWith('mutation') && c.variables)!;
      const typo = await wsRun(socket, mutation.query.replace('CreatePaymentInput', 'CreatePaymentInpt'), mutation.variables);
      clean(typo.errors[0].message);
      expect(typo.errors[0].message).not.toMatch(/"CreatePaymentInput"/);
    } finally {
      socket.close();
    }
  });
});

describe('a WebSocket needs valid credentials at connection_init', () => {
  const refusals: Array<{ name: string; params: unknown; reason: 'missing' | 'malformed' | 'unknown' }> = [
    { name: 'no payload', params: undefined, reason: 'missing' },
    { name: 'empty payload', params: {}, reason: 'missing' },
    { name: 'other params only', params: { token: TEST_API_KEY }, reason: 'missing' },
    { name: 'a number', params: { authorization: 5 }, reason: 'malformed' },
    { name: 'no Bearer scheme', params: { authorization: TEST_API_KEY }, reason: 'malformed' },
    { name: 'Bearer without a token', params: { authorization: 'Bearer ' }, reason: 'malformed' },
    { name: 'two spellings that disagree', params: { authorization: `Bearer ${TEST_API_KEY}`, Authorization: 'Bearer gw_other' }, reason: 'malformed' },
    { name: 'an unknown API key', params: { authorization: 'Bearer gw_unknown_key_for_this_gateway_0001' }, reason: 'unknown' },
    { name: 'an unknown key, capitalised name', params: { Authorization: 'Bearer gw_unknown_key_for_this_gateway_0001' }, reason: 'unknown' },
  ];

  it.each(refusals)('$name: closed with 4403 Forbidden before any ack, one structured log line', async ({ params, reason }) => {
    // A request id in one of the formats the gateway keeps from a client (src/http/request-id.ts).
    const requestId = randomUUID();
    const { first } = await wsInit(prod, params, requestId);
    expect(first).toEqual({ closed: 4403, reason: 'Forbidden' });
    const lines = prodLogs.filter((l) => l.requestId === requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, credentials: reason, closeCode: 4403, msg: expect.stringMatching(/connection_init refused/) });
    expect(JSON.stringify(lines[0])).not.toMatch(/gw_unknown|gw_test_key|gw_other/);
  });

  it('`authorization` and `Authorization` are both accepted, for an API key and a client secret', async () => {
    const { payment } = await createPayment(prod, TEST_API_KEY);
    for (const params of [
      { authorization: `Bearer ${TEST_API_KEY}` },
      { Authorization: `Bearer ${TEST_API_KEY}` },
      { Authorization: `Bearer ${payment.clientSecret}` },
      { authorization: `Bearer ${payment.clientSecret}`, Authorization: `Bearer ${payment.clientSecret}` },
    ]) {
      const { socket, first } = await wsInit(prod, params);
      try {
        expect(first, Object.keys(params).join()).toEqual({ type: 'connection_ack' });
        // A trusted document's text: production lets a client secret run trusted documents only (docs/operations.md#trusted-documents).
        const { next } = await wsRun(socket, TRUSTED_GET_PAYMENT, { id: payment.id });
        expect(next).toEqual([{ data: { payment: expect.objectContaining({ id: payment.id, status: 'PENDING' }) } }]);
      } finally {
        socket.close();
      }
    }
  });

  it('over HTTP the same credentials rules hold: missing, malformed or unknown → UNAUTHENTICATED; any header case works', async () => {
    const query = '{ payments(first: 1) { edges { cursor } } }';
    for (const headers of [{}, { authorization: TEST_API_KEY }, { authorization: 'Bearer gw_unknown_key_for_this_gateway_0001' }] as Array<
      Record<string, string>
    >) {
      const res = await rawGql(prod, query, undefined, { token: null, headers });
      expect(firstError(res).code).toBe('UNAUTHENTICATED');
    }
    const capitalised = await rawGql(prod, query, undefined, { token: null, headers: { Authorization: `Bearer ${TEST_API_KEY}` } });
    expect(capitalised.json?.errors).toBeUndefined();
  });
});

describe('automatic persisted queries in production', () => {
  const post = (body: unknown) =>
    rawRequest(prod.app.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify(body),
    });

  it('an unknown hash answers PERSISTED_QUERY_NOT_FOUND with the HTTP status docs/errors.md gives; after registering, the hash alone runs', async () => {
    const row = fs
      .readFileSync(path.resolve(__dirname, '../../docs/errors.md'), 'utf8')
      .split('\n')
      .find((line) => line.startsWith('| `PERSISTED_QUERY_NOT_FOUND` |'))!;
    const documentedStatus = Number(row.split('|')[2].trim());
    const query = `{ payments(first: 1) { edges { cursor } } __typename }`;
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };

    const miss = await post({ extensions: { persistedQuery } });
    expect(miss.status).toBe(documentedStatus);
    expect(firstError(miss)).toMatchObject({ code: 'PERSISTED_QUERY_NOT_FOUND', retryable: false, requestId: expect.any(String) });

    expect((await post({ query, extensions: { persistedQuery } })).json?.data?.__typename).toBe('Query');
    const hit = await post({ extensions: { persistedQuery } });
    expect(hit.status).toBe(200);
    expect(hit.json).toMatchObject({ data: { __typename: 'Query' } });
  });

  it('an invalid document is never stored: its hash stays unknown', async () => {
    const query = '{ paymnt(id: "pay_x") { id } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    expect(firstError(await post({ query, extensions: { persistedQuery } })).code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(firstError(await post({ extensions: { persistedQuery } })).code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});
