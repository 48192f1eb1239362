import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { THROWN_ERROR_CODES } from '../../src/domain/errors';
import { GRAPHQL_LIMITS } from '../../src/api/graphql-limits';
import { signWebhookPayload } from '../../src/ucanpay';
import { eventually, sandboxCall, startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { createPayment, createTestMerchant, databaseFingerprint, demoMerchant, OWNED_KINDS, paidPayment, refundOf, type TestMerchant } from './helpers';

/**
 * A bounded fuzz run (FUZZ_COUNT requests, default 5200, at most 60 s) of
 * malformed GraphQL requests and webhook deliveries, from a seeded PRNG
 * (FUZZ_SEED; printed, so a failure reproduces). Every request is built to
 * be rejected. Asserted: no HTTP 5xx, no stack trace or internal error in
 * any answer, no unhandled rejection, the server still answers, and not a
 * single database row (nor a UCanPay call) changed.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_125);
const COUNT = Number(process.env.FUZZ_COUNT ?? 5200);
/** A bound, not a target: the run takes about 15 s on two busy cores. */
const DEADLINE_MS = 60_000;
const CONCURRENCY = 8;

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const chance = (p: number) => next() < p;
  const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(0, 0xffff))).join('');
  const ascii = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(32, 126))).join('');
  return { next, int, pick, chance, junk, ascii };
}
type Rng = ReturnType<typeof prng>;

const INVALID_UTF8 = [
  Buffer.from([0xff]),
  Buffer.from([0xc3, 0x28]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf0, 0x28, 0x8c, 0x28]),
  Buffer.from([0xed, 0xa0, 0x80]),
];

/** Values no field accepts where a specific shape is expected. */
function hostileScalar(r: Rng): unknown {
  return r.pick([
    null,
    true,
    [],
    {},
    [1, 2],
    { $gt: '' },
    -1,
    0,
    1.5,
    -2147483649,
    2147483648,
    // biome-ignore lint/correctness/noPrecisionLoss: the fuzz sends a number no double holds exactly, on purpose
    9007199254740993,
    1e308,
    '',
    ' ',
    '\u0000',
    '\ud800',
    '💳'.repeat(r.int(1, 300)),
    "'; DROP TABLE payments; --",
    '${jndi:ldap://x/a}',
    '../../../etc/passwd',
    '<script>alert(1)</script>',
    'x'.repeat(r.chance(0.1) ? r.int(20_000, 120_000) : r.int(1000, 20_000)),
    r.junk(r.int(1, 200)),
  ]);
}

/** Field → values that make `createPayment` invalid, whatever the other fields are. */
const PAYMENT_BREAKERS: Record<string, (r: Rng) => unknown> = {
  amount: (r) => r.pick([0, -1, -100, -2147483648, 2147483648, 1e12, 1.5, 0.01, '100', null, true, [100], { value: 1 }]),
  currency: (r) => r.pick(['XXX', 'usd', 'US', 'USDD', 'BTC', '', '123', 'ＵＳＤ', 'US\u0000', null, 840, ['USD'], r.ascii(r.int(4, 40))]),
  description: (r) => r.pick(['', '   ', 'x'.repeat(r.chance(0.1) ? r.int(20_000, 200_000) : r.int(501, 5000)), 'bad\u0001char', null, 12, ['x'], { a: 1 }]),
  returnUrl: (r) =>
    r.pick([
      'javascript:alert(1)',
      'ftp://x.example/',
      'http://user:pass@x.example/',
      'not a url',
      '',
      '//x.example',
      `https://x.example/${'a'.repeat(3000)}`,
      null,
      5,
    ]),
  merchantReference: (r) => r.pick(['', 'has space', 'ü-nicode', 'x'.repeat(65), '<ref>', 7, ['a'], { a: 'b' }]),
  metadata: (r) =>
    r.pick([
      [],
      'string',
      5,
      Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])),
      { nested: { deep: 'x' } },
      { n: 1 },
      { ['k'.repeat(41)]: 'v' },
      { k: 'v'.repeat(501) },
      { '': 'v' },
    ]),
  expiresInSeconds: (r) => r.pick([0, 59, 86_401, -5, 1.5, 2147483648, '60']),
  idempotencyKey: (r) => r.pick(['', 'k'.repeat(256), 'a\u0000b', 'line\nbreak', 42, [], {}]),
};

const REFUND_BREAKERS: Record<string, (r: Rng) => unknown> = {
  paymentId: (r) => r.pick(['', 'pay_', 'pay_nope', 'ref_00000000000000000000000000', `pay_${'z'.repeat(26)}`, `pay_${r.ascii(26)}`, 42, null, ['pay_x']]),
  amount: (r) => r.pick([0, -1, -2147483648, 2147483648, 1.5, '1', true]),
  reason: (r) => r.pick(['', 'x'.repeat(501), 'a\u0007b', 5, []]),
  merchantReference: PAYMENT_BREAKERS.merchantReference,
  idempotencyKey: PAYMENT_BREAKERS.idempotencyKey,
};

const SUBSCRIPTION_BREAKERS: Record<string, (r: Rng) => unknown> = {
  customer: (r) =>
    r.pick([
      null,
      'cus_1',
      {},
      { id: '', email: 'a@example.com', name: 'A' },
      { id: 'c', email: 'not-an-email', name: 'A' },
      { id: 'c', email: 'a@example.com', name: 'x'.repeat(201) },
      { id: 'c'.repeat(101), email: 'a@example.com', name: 'A' },
      { id: 'c', email: `${'a'.repeat(300)}@example.com`, name: 'A' },
    ]),
  amount: PAYMENT_BREAKERS.amount,
  currency: PAYMENT_BREAKERS.currency,
  interval: (r) => r.pick(['MONTHLY', 'month', '', 5, null, ['MONTH']]),
  intervalCount: (r) => r.pick([0, -1, 1001, 1.5, '2', null, 2147483648]),
  startDate: (r) => r.pick(['2001-01-01', '2026-13-40', 'tomorrow', '', '2026-1-1', 20261125, '0000-00-00']),
  trialDays: (r) => r.pick([-1, 731, 1.5, 'seven', 2147483648]),
  returnUrl: PAYMENT_BREAKERS.returnUrl,
  merchantReference: PAYMENT_BREAKERS.merchantReference,
  metadata: PAYMENT_BREAKERS.metadata,
  idempotencyKey: PAYMENT_BREAKERS.idempotencyKey,
};

/** Mutation targets of the fuzzer: a valid input and the breakers that make it invalid. */
const MUTATION_TARGETS: Array<{ field: string; inputType: string; valid: (ctx: FuzzContext) => Record<string, unknown>; breakers: typeof PAYMENT_BREAKERS }> = [
  {
    field: 'createPayment',
    inputType: 'CreatePaymentInput',
    valid: () => ({ amount: 1999, currency: 'USD', description: 'Fuzz', returnUrl: 'https://shop.example/r' }),
    breakers: PAYMENT_BREAKERS,
  },
  {
    field: 'refundPayment',
    inputType: 'RefundPaymentInput',
    // A real paid payment: only the broken fields stand between the fuzzer and a refund.
    valid: (ctx) => ({ paymentId: ctx.paidPaymentId, amount: 100 }),
    breakers: REFUND_BREAKERS,
  },
  {
    field: 'createSubscription',
    inputType: 'CreateSubscriptionInput',
    valid: () => ({
      customer: { id: 'cus_fuzz', email: 'fuzz@example.com', name: 'Fuzz' },
      amount: 1000,
      currency: 'USD',
      interval: 'MONTH',
      returnUrl: 'https://shop.example/r',
    }),
    breakers: SUBSCRIPTION_BREAKERS,
  },
];

interface FuzzContext {
  gw: TestGateway;
  merchants: TestMerchant[];
  tokens: string[];
  paidPaymentId: string;
  orderSnapshot: Record<string, unknown>;
  refundSnapshot: Record<string, unknown>;
}

interface FuzzRequest {
  desc: string;
  url: string;
  init: RequestInit & { headers: Record<string, string> };
  /** graphql: answered by Apollo (errors well-formed, never internal); webhook: must be refused. */
  kind: 'graphql' | 'webhook' | 'other';
}

/** fetch's body type: Buffers go as plain bytes. */
function bytes(body: string | Buffer): string | Uint8Array<ArrayBuffer> {
  return typeof body === 'string' ? body : new Uint8Array(body);
}

function gqlBody(r: Rng, query: string, variables?: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    query,
    ...(variables === undefined ? {} : { variables }),
    ...(r.chance(0.1) ? { operationName: r.pick([null, 'Nope', 5]) } : {}),
    ...extra,
  });
}

function brokenInput(r: Rng, valid: Record<string, unknown>, breakers: typeof PAYMENT_BREAKERS) {
  const input: Record<string, unknown> = { ...valid };
  const fields = Object.keys(breakers);
  const broken = Array.from({ length: r.int(1, 3) }, () => r.pick(fields));
  for (const field of broken) input[field] = breakers[field](r);
  if (r.chance(0.2)) input[`unknown_${r.int(0, 9)}`] = hostileScalar(r);
  // Dropping a field the breakers left alone (dropping a broken optional one could make the input valid).
  const intact = Object.keys(valid).filter((f) => !broken.includes(f));
  if (intact.length && r.chance(0.15)) delete input[r.pick(intact)];
  return { input, broken };
}

function graphqlCase(r: Rng, ctx: FuzzContext): { desc: string; body: string | Buffer } {
  const kind = r.pick(OWNED_KINDS);
  switch (r.int(0, 13)) {
    case 0:
    case 1:
    case 2: {
      const target = r.pick(MUTATION_TARGETS);
      const { input, broken } = brokenInput(r, target.valid(ctx), target.breakers);
      return {
        desc: `${target.field} with broken ${broken.join(',')}`,
        body: gqlBody(r, `mutation($input: ${target.inputType}!) { ${target.field}(input: $input) { __typename ... on ErrorResult { code } } }`, { input }),
      };
    }
    case 3: {
      // The same, inline: literal coercion instead of variables.
      const target = MUTATION_TARGETS[0];
      const { input, broken } = brokenInput(r, target.valid(ctx), target.breakers);
      const literal = (v: unknown): string =>
        v === null || typeof v !== 'object'
          ? (JSON.stringify(v) ?? 'null')
          : Array.isArray(v)
            ? `[${v.map(literal).join(',')}]`
            : `{${Object.entries(v)
                .map(([k, x]) => `${/^[_A-Za-z]\w*$/.test(k) ? k : 'bad'}: ${literal(x)}`)
                .join(' ')}}`;
      return {
        desc: `inline createPayment broken ${broken.join(',')}`,
        body: gqlBody(r, `mutation { createPayment(input: ${literal(input)}) { __typename } }`),
      };
    }
    case 4:
      return {
        desc: `${kind.name}(id) with hostile id`,
        body: gqlBody(r, `query($id: ID!) { ${kind.name}(id: $id) { id } }`, {
          id: r.chance(0.5) ? hostileScalar(r) : `${kind.idPrefix}_${r.ascii(r.int(0, 40))}`,
        }),
      };
    case 5:
      return {
        desc: `${kind.name}s with hostile paging`,
        body: gqlBody(r, `query($first: Int, $after: String) { ${kind.name}s(first: $first, after: $after) { edges { cursor } } }`, {
          first: r.pick([0, -1, 101, 1000, 2147483647, 2147483648, 1.5, '10', null]),
          after: r.pick([null, '', 'not-a-cursor', r.ascii(r.int(1, 500)), hostileScalar(r)]),
        }),
      };
    case 6: {
      const depth = r.int(GRAPHQL_LIMITS.maxDepth + 1, 300);
      let inner = 'id';
      for (let level = depth - 1; level >= 2; level--) inner = `${level % 2 === 0 ? 'refunds' : 'payment'} { ${inner} }`;
      return { desc: `depth ${depth}`, body: gqlBody(r, `{ payment(id: "pay_x") { ${inner} } }`) };
    }
    case 7: {
      const n = r.int(GRAPHQL_LIMITS.maxAliases + 1, 1000);
      return { desc: `${n} aliases`, body: gqlBody(r, `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`) };
    }
    case 8: {
      const n = r.int(GRAPHQL_LIMITS.maxDirectives + 1, 200);
      return { desc: `${n} directives`, body: gqlBody(r, `{ __typename ${'@skip(if: false) '.repeat(n)}}`) };
    }
    case 9: {
      const wide = r.int(200, 1000);
      return {
        desc: `${wide} wide fields`,
        body: gqlBody(r, `{ payments(first: 100) { edges { node { ${'id amount currency refunds { id amount } '.repeat(wide / 4)} } } } }`),
      };
    }
    case 10:
      return {
        desc: 'fragment cycle / unknown fields / syntax junk',
        body: gqlBody(
          r,
          r.pick([
            'query { payment(id: "x") { ...A } } fragment A on Payment { ...B } fragment B on Payment { ...A }',
            `{ ${r.ascii(r.int(1, 300))} }`,
            `{ payment(id: ${JSON.stringify(r.junk(20))}) { nope } }`,
            '{'.repeat(r.int(1, 5000)),
            'subscription { paymentUpdated(id: "pay_x") { id } }',
            `mutation { ${'createPayment'.repeat(3)} }`,
            r.junk(r.int(0, 2000)),
          ]),
        ),
      };
    case 11:
      return {
        desc: 'wrong JSON shapes',
        body: r.pick([
          '',
          'null',
          '[]',
          '"just a string"',
          '42',
          '{}',
          '{"query": 5}',
          '{"query": null}',
          '{"query": ["{ __typename }"]}',
          '{"query": "{ __typename }", "variables": "x"}',
          '{"query": "{ __typename }", "variables": [1]}',
          '{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
          '{"query": "{ __typename }", "extensions": "x"}',
          '{"query": "query($a: Int!) { payments(first: $a) { edges { cursor } } }", "variables": {"a": "1"}}',
          `{"query": "{ __typename }"${', "x": 1'.repeat(r.int(1, 2000))}}`,
          `{"query": "{ __typename }", "variables": {"input": ${'['.repeat(r.int(100, 20_000))}}}`,
          '{"query": "{ __typename }"',
          '{"query": "{ __typename }"}}}',
          `{"__proto__": {"polluted": true}, "query": "{ __typename }"}`,
        ]),
      };
    case 12: {
      const head = Buffer.from(
        '{"query":"mutation($i: CreatePaymentInput!) { createPayment(input: $i) { __typename } }","variables":{"i":{"amount":-1,"currency":"USD","description":"',
      );
      return { desc: 'invalid UTF-8 in a string', body: Buffer.concat([head, r.pick(INVALID_UTF8), Buffer.from('","returnUrl":"https://x.example"}}}')]) };
    }
    default: {
      // Built as text: deeper than JSON.stringify (or a recursive parser) can go.
      const deep = r.chance(0.1) ? r.int(5000, 40_000) : r.int(100, 5000);
      const nested = `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`;
      return {
        desc: `metadata nested ${deep} deep`,
        body: `{"query":"mutation($input: CreatePaymentInput!) { createPayment(input: $input) { __typename } }","variables":{"input":{"amount":0,"currency":"USD","description":"x","returnUrl":"https://x.example","metadata":${nested}}}}`,
      };
    }
  }
}

function graphqlRequest(r: Rng, ctx: FuzzContext): FuzzRequest {
  const { desc, body } = graphqlCase(r, ctx);
  const headers: Record<string, string> = {};
  const auth = r.int(0, 9);
  if (auth <= 5) headers.authorization = `Bearer ${r.pick(ctx.tokens)}`;
  else if (auth === 6)
    headers.authorization = r.pick([
      'Bearer',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'x'.repeat(r.int(301, 9000))}`,
      'Bearer a b',
      `Bearer pay_${'0'.repeat(26)}_secret_x`,
    ]);
  const type = r.int(0, 19);
  if (type < 16) headers['content-type'] = 'application/json';
  else if (type === 16)
    headers['content-type'] = r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql']);
  else if (type === 17) headers['content-type'] = 'application/json; charset=latin1';
  else if (type === 18) headers['apollo-require-preflight'] = 'true';
  if (r.chance(0.05)) headers['x-request-id'] = r.pick(['', 'x'.repeat(100), 'bad id!', r.ascii(20)]);
  if (r.chance(0.05))
    headers['idempotency-key'] = String(hostileScalar(r))
      .slice(0, 4000)
      .replace(/[^\x20-\x7e]/g, '?');
  const method = r.chance(0.04) ? r.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) : 'POST';
  if (method === 'GET') {
    const query = typeof body === 'string' ? body : body.toString('latin1');
    return {
      desc: `GET ${desc}`,
      url: `${ctx.gw.app.graphqlUrl}?query=${encodeURIComponent(query.slice(0, 6000))}&variables=${encodeURIComponent(r.ascii(20))}`,
      init: { method, headers },
      kind: 'graphql',
    };
  }
  return {
    desc,
    url: ctx.gw.app.graphqlUrl,
    init: { method, headers, body: method === 'OPTIONS' ? undefined : bytes(body) },
    kind: method === 'POST' ? 'graphql' : 'other',
  };
}

/** A UCanPay event about an object that exists nowhere, with at least one field broken (or not an event at all). */
function webhookBody(r: Rng, ctx: FuzzContext): { desc: string; body: string | Buffer } {
  const order = { ...ctx.orderSnapshot, order_id: `ord_fuzz_${r.int(0, 1e9)}`, out_trade_no: `fuzz-${r.int(0, 1e9)}` };
  const refund = { ...ctx.refundSnapshot, refund_id: `rfd_fuzz_${r.int(0, 1e9)}`, out_refund_no: `fuzz-${r.int(0, 1e9)}` };
  /**
   * Field → values the wire mappers must refuse (checked one by one: e.g.
   * "XXX" is a real currency code, null means "absent" for optional fields,
   * and any three upper-case letters currently pass as a currency).
   */
  const WIRE_BREAKS: Record<string, unknown[]> = {
    amount: [-1, 1.5, 2 ** 60, '100', [], { a: 1 }, null],
    currency: ['usd', 'US', 5, [], null],
    status: ['NOT_A_STATUS', 'paid', 5, null],
    created_at: ['yesterday', '2025-13-45T00:00:00Z', 5, []],
    refunded_amount: [-1, 1.5, '100', 2 ** 60],
    order_id: [5, [], { a: 1 }],
    out_trade_no: [5, []],
    transaction_id: [5, []],
    metadata: ['x', 5, [], { a: 5 }],
  };
  const breakObject = (object: Record<string, unknown>) => {
    const field = r.pick(
      Object.keys(WIRE_BREAKS).filter(
        (f) => f in object && !(f === 'refunded_amount' && 'refund_id' in object) && !('refund_id' in object && (f === 'order_id' || f === 'out_trade_no')),
      ),
    );
    return { object: { ...object, [field]: r.pick(WIRE_BREAKS[field]) }, field };
  };
  const created = Math.floor(Date.now() / 1000);
  switch (r.int(0, 5)) {
    case 0:
    case 1: {
      const orderEvent = r.chance(0.6);
      const { object, field } = breakObject(orderEvent ? order : refund);
      const type = orderEvent
        ? r.pick(['payment.succeeded', 'payment.failed', 'payment.cancelled', 'payment.expired'])
        : r.pick(['refund.succeeded', 'refund.failed']);
      return { desc: `${type} with broken ${field}`, body: JSON.stringify({ id: `evt_fuzz_${r.int(0, 1e9)}`, type, created, data: { object } }) };
    }
    case 2:
      return {
        desc: 'event with a broken envelope',
        body: JSON.stringify(
          r.pick([
            { type: 'payment.succeeded', created, data: { object: order } },
            { id: 5, type: 'payment.succeeded', created, data: { object: order } },
            { id: 'x'.repeat(101), type: 'payment.succeeded', created, data: { object: order } },
            { id: '', type: 'payment.succeeded', created, data: { object: order } },
            { id: 'evt_x', type: ['payment.succeeded'], created, data: { object: order } },
            { id: 'evt_x', type: 'payment.succeeded', created: 'now', data: { object: order } },
            { id: 'evt_x', type: 'payment.succeeded', created, data: null },
            { id: 'evt_x', type: 'payment.succeeded', created, data: { object: [] } },
            { id: 'evt_x', type: 'payment.failed', created, data: { object: { ...order, status: 'PAID' } } },
            { id: 'evt_x', type: 'refund.succeeded', created, data: { object: order } },
          ]),
        ),
      };
    case 3:
      return { desc: 'not JSON', body: r.pick(['', 'null', '[]', '"x"', '{', '{"id":', r.junk(r.int(1, 5000)), '{"id":"evt"}'.repeat(3)]) };
    case 4:
      return {
        desc: 'invalid UTF-8',
        body: Buffer.concat([
          Buffer.from('{"id":"evt_'),
          r.pick(INVALID_UTF8),
          Buffer.from(`","type":"payment.succeeded","created":${created},"data":{"object":{}}}`),
        ]),
      };
    default:
      return { desc: 'deeply nested JSON', body: `${'{"a":'.repeat(r.int(100, 5000))}1${'}'.repeat(r.int(0, 5000))}` };
  }
}

function webhookRequest(r: Rng, ctx: FuzzContext): FuzzRequest {
  const merchant = r.pick(ctx.merchants);
  const { desc, body } = webhookBody(r, ctx);
  const now = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': r.chance(0.9) ? 'application/json' : r.pick(['text/plain', 'application/xml', '']) };
  let how: string;
  switch (r.int(0, 6)) {
    case 0:
    case 1:
    case 2:
      headers['ucanpay-signature'] = signWebhookPayload(merchant.webhookSecret, body, now);
      how = 'signed';
      break;
    case 3:
      headers['ucanpay-signature'] = signWebhookPayload(r.pick(ctx.merchants.filter((m) => m !== merchant).map((m) => m.webhookSecret)), body, now);
      how = "signed with another merchant's secret";
      break;
    case 4:
      headers['ucanpay-signature'] = signWebhookPayload(merchant.webhookSecret, body, now + r.pick([-100_000, -301, 301, 100_000]));
      how = 'stale';
      break;
    case 5:
      headers['ucanpay-signature'] = r.pick([
        '',
        't=',
        'v1=abc',
        `t=${now}`,
        `t=${now},v1=`,
        `t=${now},t=${now},v1=aa`,
        `t=abc,v1=${'0'.repeat(64)}`,
        r.ascii(r.int(1, 8000)),
        `t=${now},v1=${'z'.repeat(64)}`,
      ]);
      how = 'malformed signature';
      break;
    default:
      how = 'unsigned';
  }
  const route = r.int(0, 19);
  const merchantId =
    route < 17 ? merchant.merchantId : route === 17 ? `mer_${r.ascii(10).replace(/[^A-Za-z0-9_]/g, 'x')}` : route === 18 ? 'x'.repeat(41) : '../admin';
  const method = r.chance(0.05) ? r.pick(['GET', 'PUT', 'DELETE', 'PATCH']) : 'POST';
  return {
    desc: `webhook ${how}: ${desc}`,
    url: `${ctx.gw.app.url}/webhooks/ucanpay/${encodeURIComponent(merchantId).replace(/%2F/g, '/')}`,
    init: { method, headers, body: method === 'GET' ? undefined : bytes(body) },
    kind: 'webhook',
  };
}

function oversizeRequest(r: Rng, ctx: FuzzContext): FuzzRequest {
  const webhook = r.chance(0.5);
  const body = Buffer.alloc(r.int(256 * 1024 + 1, 400 * 1024), 'a');
  return {
    desc: `oversize ${webhook ? 'webhook' : 'graphql'} body (${body.length} bytes)`,
    url: webhook ? `${ctx.gw.app.url}/webhooks/ucanpay/${ctx.merchants[0].merchantId}` : ctx.gw.app.graphqlUrl,
    init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes(body) },
    kind: 'other',
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** One request over node:http (a keep-alive agent: several times cheaper per request than fetch here). */
function send(req: FuzzRequest): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const body = req.init.body as string | Uint8Array | undefined;
    const headers: Record<string, string | number> = { ...req.init.headers };
    for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
    if (body !== undefined) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    const outgoing = http.request(req.url, { method: req.init.method, headers, agent, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** A V8 stack frame ("at fn (/path:1:2)", "at /path:1:2", "at node:internal…") or a serialized stack. */
const STACK_TRACE = /\bat [\w$.<>[\]]+ \((?:\/|file:|node:)|\bat (?:\/|file:|node:)|node:internal|\.[cm]?[jt]s:\d+:\d+|"stacktrace"|"stack"\s*:/;

describe('fuzz: malformed GraphQL requests and webhook bodies', () => {
  let gw: TestGateway;
  let ctx: FuzzContext;
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown) => unhandled.push(error);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    gw = await startGateway({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' });
    const A = demoMerchant(gw);
    const B = await createTestMerchant(gw, 'Fuzz B');
    const paid = await paidPayment(gw, A.apiKey);
    await refundOf(gw, A.apiKey, paid.id, 100);
    const pendingB = (await createPayment(gw, B.apiKey)).payment;
    const { orders } = await sandboxCall<{ orders: Array<Record<string, unknown>> }>(
      gw.sandboxUrl,
      'GET',
      `/sandbox/orders?merchant_id=${A.ucanpayMerchantId}`,
    );
    const { refunds } = await sandboxCall<{ refunds: Array<Record<string, unknown>> }>(
      gw.sandboxUrl,
      'GET',
      `/sandbox/refunds?merchant_id=${A.ucanpayMerchantId}`,
    );
    ctx = {
      gw,
      merchants: [A, B],
      tokens: [TEST_API_KEY, B.apiKey, paid.clientSecret, pendingB.clientSecret],
      paidPaymentId: paid.id,
      orderSnapshot: orders.find((o) => o.status === 'PAID' || o.status === 'PARTIALLY_REFUNDED')!,
      refundSnapshot: refunds[0],
    };
  }, 60_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    agent.destroy();
    await gw?.stop();
  });

  it(`${COUNT} hostile requests (seed ${SEED}): no 5xx, no stack trace, no internal error, no row changed`, { timeout: 120_000 }, async () => {
    // Let the setup's refund settle and its webhooks land, so the fingerprint only moves if the fuzz moves it.
    await eventually(async () => {
      const { events } = await sandboxCall<{ events: Array<{ type: string; state: string }> }>(gw.sandboxUrl, 'GET', '/sandbox/webhooks');
      return events.some((e) => e.type === 'refund.succeeded') && events.every((e) => e.state === 'delivered');
    }, 20_000);
    const before = await databaseFingerprint(gw);
    const calls = async () => (await sandboxCall<{ requests: unknown[] }>(gw.sandboxUrl, 'GET', '/sandbox/requests')).requests.length;
    const callsBefore = await calls();

    const r = prng(SEED);
    // Generate every request up front from the one PRNG, so the run is the same whatever the timing.
    const requests: FuzzRequest[] = Array.from({ length: COUNT }, () => {
      const roll = r.next();
      return roll < 0.6 ? graphqlRequest(r, ctx) : roll < 0.995 ? webhookRequest(r, ctx) : oversizeRequest(r, ctx);
    });

    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();
    const failures: string[] = [];
    const fail = (i: number, what: string, req: FuzzRequest, detail: string) => {
      if (failures.length < 15) failures.push(`#${i} [${req.desc}] ${what}: ${detail.slice(0, 400)}`);
    };
    const started = Date.now();
    let nextIndex = 0;
    let done = 0;
    const worker = async () => {
      for (;;) {
        const i = nextIndex++;
        if (i >= requests.length || Date.now() - started > DEADLINE_MS) return;
        const req = requests[i];
        let status: number;
        let text: string;
        try {
          ({ status, text } = await send(req));
        } catch (error) {
          // The server may cut an oversize upload short after answering 413; anything else is a failure.
          if (!req.desc.startsWith('oversize')) fail(i, 'request failed', req, String((error as Error)?.cause ?? error));
          done++;
          continue;
        }
        done++;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500) fail(i, `HTTP ${status}`, req, text);
        if (STACK_TRACE.test(text)) fail(i, 'stack trace in the answer', req, text);
        if (req.kind === 'graphql' && text.startsWith('{')) {
          const body = JSON.parse(text) as { data?: Record<string, any>; errors?: Array<{ extensions?: Record<string, unknown> }> };
          for (const error of body.errors ?? []) {
            const code = String(error.extensions?.code);
            codes.set(code, (codes.get(code) ?? 0) + 1);
            if (!(code in THROWN_ERROR_CODES) || typeof error.extensions?.retryable !== 'boolean' || !error.extensions?.requestId) {
              fail(i, 'malformed error', req, JSON.stringify(error));
            }
            if (code === 'INTERNAL_SERVER_ERROR') fail(i, 'internal error', req, text);
          }
          for (const [field, value] of Object.entries(body.data ?? {})) {
            if (value && typeof value === 'object' && /Payload$/.test(String(value.__typename))) fail(i, `${field} succeeded`, req, text);
          }
        }
        if (req.kind === 'webhook' && status >= 200 && status < 300 && !/"outcome":"ignored"/.test(text)) fail(i, 'webhook accepted', req, text);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;
    console.info(
      `fuzz seed ${SEED}: ${done} requests in ${seconds.toFixed(1)} s; HTTP ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; codes ${JSON.stringify(Object.fromEntries([...codes].sort()))}`,
    );

    expect(failures, failures.join('\n')).toEqual([]);
    expect(done, `only ${done} requests within ${DEADLINE_MS / 1000} s: the machine is too busy for this run`).toBeGreaterThanOrEqual(Math.min(5000, COUNT));
    expect(unhandled, String(unhandled[0])).toEqual([]);

    // Still answering, and nothing written or sent by any of it.
    expect((await fetch(`${gw.app.url}/health/ready`)).status).toBe(200);
    expect(await databaseFingerprint(gw)).toEqual(before);
    expect(await calls()).toBe(callsBefore);
    const alive = await createPayment(gw, TEST_API_KEY);
    expect(alive.payment.status).toBe('PENDING');
  });
});

describe('fuzz: junk over graphql-ws', () => {
  it('junk frames close the connection (or are answered); the server keeps serving', async () => {
    const gw = await startGateway();
    try {
      const r = prng(SEED + 1);
      const frames = (): Array<string | Buffer> => {
        const init = JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TEST_API_KEY}` } });
        return r.pick([
          [r.junk(r.int(1, 200))],
          ['{}'],
          [JSON.stringify({ type: 'subscribe', id: '1', payload: { query: '{ __typename }' } })],
          [JSON.stringify({ type: 'connection_init', payload: r.pick([5, 'x', [], null]) })],
          [init, JSON.stringify({ type: 'subscribe', id: '1', payload: { query: 5 } })],
          [init, JSON.stringify({ type: 'subscribe', id: '1', payload: { query: `{ ${'a: __typename '.repeat(100)} }` } })],
          [
            init,
            JSON.stringify({
              type: 'subscribe',
              id: '1',
              payload: { query: `subscription { paymentUpdated(id: "pay_x") { ${'refunds { payment { '.repeat(20)} id ${'} } '.repeat(20)} } }` },
            }),
          ],
          [
            init,
            JSON.stringify({
              type: 'subscribe',
              id: '1',
              payload: {
                query: 'mutation { createPayment(input: {amount: 1, currency: "USD", description: "x", returnUrl: "https://x.example"}) { __typename } }',
              },
            }),
          ],
          [init, 'x'.repeat(70 * 1024)],
          [init, Buffer.concat([Buffer.from('{"type":"ping","payload":"'), INVALID_UTF8[0], Buffer.from('"}')])],
          [init, init],
        ]) as Array<string | Buffer>;
      };
      for (let i = 0; i < 60; i++) {
        const ws = new WebSocket(gw.app.wsUrl, 'graphql-transport-ws');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 1500);
          ws.on('open', () => {
            for (const frame of frames()) ws.send(frame);
            // Done once the server closes or has answered something.
            ws.on('message', () => undefined);
          });
          ws.on('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.on('error', () => undefined);
        });
      }
      expect((await fetch(`${gw.app.url}/health`)).status).toBe(200);
    } finally {
      await gw.stop();
    }
  }, 120_000);
});
