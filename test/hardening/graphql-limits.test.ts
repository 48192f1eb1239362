import fs from 'node:fs';
import path from 'node:path';
import { Lexer, parse, print, Source, TokenKind, validate, specifiedRules, Kind, type DocumentNode, type ValidationContext } from 'graphql';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildGatewaySchema } from '../../src/api/schema';
import { armorValidationRules, GRAPHQL_LIMITS } from '../../src/api/graphql-limits';
import { collect, startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { firstError, rawGql, rawRequest } from './helpers';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.stop();
});

function tokenCount(query: string): number {
  const lexer = new Lexer(new Source(query));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

/** payment → refunds → payment → … → id: `levels` fields deep. */
function deepQuery(levels: number): string {
  let inner = 'id';
  for (let level = levels - 1; level >= 2; level--) inner = `${level % 2 === 0 ? 'refunds' : 'payment'} { ${inner} }`;
  return `query($id: ID!) { payment(id: $id) { ${inner} } }`;
}

describe('every shipped operation is well inside the limits', () => {
  it('depth and cost of each operation in src/client/operations', async () => {
    const schema = await buildGatewaySchema();
    const dir = path.resolve('src/client/operations');
    let maxDepth = 0;
    let maxCost = 0;
    let maxTokens = 0;
    const depthOf = maxDepthRule({
      n: 1000,
      flattenFragments: true,
      onAccept: [(_c: ValidationContext | null, d: { n: number }) => void (maxDepth = Math.max(maxDepth, d.n))],
    });
    const costOf = costLimitRule({
      maxCost: 1e9,
      flattenFragments: true,
      onAccept: [(_c: ValidationContext | null, d: { n: number }) => void (maxCost = Math.max(maxCost, d.n))],
    });
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.graphql'))) {
      const document = parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
      for (const operation of document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)) {
        const single: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] };
        maxTokens = Math.max(maxTokens, tokenCount(print(single)));
        // Unused fragments are fine for this check: only the limits are validated.
        expect(validate(schema, single, armorValidationRules()), `${file}: ${operation.name?.value}`).toEqual([]);
        validate(schema, single, [depthOf, costOf]);
      }
      expect(validate(schema, document, specifiedRules).filter((e) => !/never used/.test(e.message))).toEqual([]);
    }
    expect(maxTokens).toBeLessThanOrEqual(GRAPHQL_LIMITS.maxTokens / 2);
    expect(maxDepth).toBeLessThanOrEqual(GRAPHQL_LIMITS.maxDepth / 2);
    expect(maxCost).toBeLessThanOrEqual(GRAPHQL_LIMITS.maxCost / 2);
    console.info(
      `shipped operations: max tokens ${maxTokens} (limit ${GRAPHQL_LIMITS.maxTokens}), max depth ${maxDepth} (limit ${GRAPHQL_LIMITS.maxDepth}), max cost ${maxCost} (limit ${GRAPHQL_LIMITS.maxCost})`,
    );
  });
});

describe('hostile documents are refused before any resolver runs (HTTP 400)', () => {
  it('too deep', async () => {
    const ok = await rawGql(gw, deepQuery(GRAPHQL_LIMITS.maxDepth), { id: 'pay_x' });
    expect(ok.status).toBe(200);
    const res = await rawGql(gw, deepQuery(GRAPHQL_LIMITS.maxDepth + 1), { id: 'pay_x' });
    expect(res.status).toBe(400);
    expect(firstError(res)).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', retryable: false });
    expect(firstError(res).message).toMatch(/^Query depth limit of 10 exceeded/);
    expect(typeof firstError(res).requestId).toBe('string');
  });

  it('an alias bomb', async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: payments(first: 1) { pageInfo { hasNextPage } }`).join(' ')} }`;
    expect((await rawGql(gw, aliases(GRAPHQL_LIMITS.maxAliases))).status).toBe(200);
    const res = await rawGql(gw, aliases(GRAPHQL_LIMITS.maxAliases + 1));
    expect(res.status).toBe(400);
    expect(firstError(res).message).toMatch(/Aliases limit/);
    const mutations = `mutation { ${Array.from({ length: 30 }, (_, i) => `m${i}: createPayment(input: { amount: 1, currency: "USD", description: "x", returnUrl: "https://x.example" }) { __typename }`).join(' ')} }`;
    expect(firstError(await rawGql(gw, mutations)).code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('a directive bomb', async () => {
    const res = await rawGql(gw, `{ __typename ${'@include(if: true) '.repeat(GRAPHQL_LIMITS.maxDirectives + 1)}}`);
    expect(res.status).toBe(400);
    expect(firstError(res).code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('too many tokens', async () => {
    const res = await rawGql(gw, `{ ${'__typename '.repeat(GRAPHQL_LIMITS.maxTokens)} }`);
    expect(res.status).toBe(400);
    expect(firstError(res)).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED', retryable: false });
  });

  it('too costly: wide pages of nested lists', async () => {
    const res = await rawGql(gw, '{ payments(first: 100) { edges { node { refunds { payment { refunds { id amount currency status } } } } } } }');
    expect(res.status).toBe(400);
    expect(firstError(res).message).toMatch(/Cost limit/);
  });

  it('a body over 256 KiB: 413 before it is read', async () => {
    const res = await rawGql(gw, `{ __typename } # ${'x'.repeat(GRAPHQL_LIMITS.bodyBytes)}`);
    expect(res.status).toBe(413);
    expect(firstError(res)).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    expect(firstError(res).requestId).toBe(res.headers.get('x-request-id'));
  });

  it('first is capped at 100', async () => {
    const res = await rawGql(gw, '{ payments(first: 101) { edges { cursor } } }');
    expect(firstError(res)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('no batching', async () => {
    const res = await rawRequest(gw.app.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(res.status).toBe(400);
    expect(firstError(res)).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
  });
});

describe('CSRF prevention and the development defaults', () => {
  it('a "simple" cross-site request is blocked; a preflighted GET query works; a GET mutation does not', async () => {
    const simple = await rawRequest(`${gw.app.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`, {});
    expect(simple.status).toBe(400);
    expect(firstError(simple).code).toBe('BAD_REQUEST');
    const form = await rawRequest(gw.app.graphqlUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ __typename }"}' });
    expect(form.status).toBe(415);
    const preflighted = await rawRequest(`${gw.app.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.json?.data).toEqual({ __typename: 'Query' });
    const mutation = 'mutation { createPayment(input: { amount: 1, currency: "USD", description: "x", returnUrl: "https://x.example" }) { __typename } }';
    const getMutation = await rawRequest(`${gw.app.graphqlUrl}?query=${encodeURIComponent(mutation)}`, {
      headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(getMutation.status).toBeGreaterThanOrEqual(400);
    expect(firstError(getMutation).code).toBe('BAD_REQUEST');
  });

  it('outside production: introspection, the landing page and field suggestions help the developer', async () => {
    expect((await rawGql(gw, '{ __schema { queryType { name } } }')).json?.data?.__schema.queryType.name).toBe('Query');
    const page = await rawRequest(gw.app.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/html/);
    expect(firstError(await rawGql(gw, '{ paymnt(id: "x") { id } }')).message).toMatch(/Did you mean/);
  });
});

describe('the same limits over graphql-ws', () => {
  /** The first result, or the errors graphql-ws answers with an `error` message (refused before execution). */
  async function over(query: string): Promise<{ errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }> {
    const sub = collect(gw.ws(), parse(query), {} as never);
    try {
      return await sub.until(() => true, 5000);
    } catch (error) {
      if (Array.isArray(sub.error)) return { errors: sub.error };
      throw error;
    } finally {
      sub.unsubscribe();
    }
  }

  it('too deep, too many tokens, or a mutation: refused with the HTTP codes', async () => {
    const deep = `subscription { paymentUpdated(id: "pay_x") { ${'refunds { payment { '.repeat(6)} id ${'} } '.repeat(6)} } }`;
    expect((await over(deep)).errors?.[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', retryable: false });
    expect((await over(`{ ${'__typename '.repeat(GRAPHQL_LIMITS.maxTokens)} }`)).errors?.[0].extensions).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED' });
    const mutation = 'mutation { createPayment(input: { amount: 1, currency: "USD", description: "x", returnUrl: "https://x.example" }) { __typename } }';
    expect((await over(mutation)).errors?.[0].extensions).toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('graphql-ws frames over the limit', () => {
  it(`a frame over ${GRAPHQL_LIMITS.wsMessageBytes} bytes closes that connection with 1009, quietly; the server keeps serving`, async () => {
    const consoleError = vi.spyOn(console, 'error');
    try {
      const socket = new WebSocket(gw.app.wsUrl, 'graphql-transport-ws');
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: TEST_API_KEY, padding: 'x'.repeat(GRAPHQL_LIMITS.wsMessageBytes) } }));
      expect(await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('still open'), 5000))])).toBe(1009);
      // Another client is served as usual.
      const next = new WebSocket(gw.app.wsUrl, 'graphql-transport-ws');
      const ack = new Promise<string>((resolve, reject) => {
        next.once('message', (data) => resolve(JSON.parse(String(data)).type));
        next.once('error', reject);
      });
      next.once('open', () => next.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TEST_API_KEY}` } })));
      expect(await ack).toBe('connection_ack');
      next.close();
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });
});
