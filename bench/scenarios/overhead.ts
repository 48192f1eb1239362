import { runLoad, type LoadSpec, type RoundResult } from '../lib/load';
import { median, round } from '../lib/stats';
import type { GatewayReady } from '../lib/gateway-env';
import { toCreateOrderRequest } from '../../src/ucanpay';
import { FLOOR_PAYMENT_ID } from '../lib/floor';

export type Key = 'a' | 'b' | 'f' | 'c0' | 'c' | 'd' | 's';

export const LABELS: Record<Key, string> = {
  a: '(a) raw node:http, fixed JSON',
  b: '(b) Apollo 5 + type-graphql no-op mutation',
  f: '(f) (b) + one prepared SQLite SELECT by id',
  c0: '(c0) payment(id): gateway schema, bare Apollo',
  c: '(c) gateway payment(id), API key',
  d: '(d) gateway createPayment, fresh key, FULL',
  s: '(s) reference: sandbox POST /payment/unifiedorder',
};

/** The scenarios of each round, in order (reversed every other round). */
export const KEYS: Key[] = ['a', 'b', 'f', 'c0', 'c', 'd', 's'];

export const PAYMENT_QUERY =
  'query Payment($id: ID!) { payment(id: $id) { id status amount currency description merchantReference version createdAt updatedAt } }';
export const CREATE_PAYMENT =
  'mutation Create($input: CreatePaymentInput!) { createPayment(input: $input) { __typename ... on CreatePaymentPayload { replayed payment { id status checkoutUrl version } } ... on ErrorResult { code message } } }';

let keyCounter = 0;
const runTag = Date.now().toString(36);

/** A createPayment body with a fresh idempotency key. */
export function createPaymentBody(): string {
  return JSON.stringify({
    query: CREATE_PAYMENT,
    variables: {
      input: {
        amount: 1999,
        currency: 'USD',
        description: 'Bench T-shirt',
        returnUrl: 'https://shop.example/return',
        idempotencyKey: `bench-${runTag}-${++keyCounter}`,
      },
    },
  });
}

export function specs(
  a: { url: string; pid?: number },
  b: { url: string; pid?: number },
  gw: GatewayReady,
  paymentId: string,
): Record<Key, Omit<LoadSpec, 'durationS'>> {
  const auth = { authorization: `Bearer ${gw.apiKey}` };
  return {
    a: { url: a.url, serverPid: a.pid, body: '{"query":"mutation { noop }"}', check: (x) => x.includes('"noop":true') },
    b: { url: b.url, serverPid: b.pid, body: '{"query":"mutation { noop }"}', check: (x) => x.includes('"noop":true') && !x.includes('"errors"') },
    // The floor of any payment(id) that reads SQLite per request: (b)'s server, one SELECT, one field.
    f: {
      url: b.url,
      serverPid: b.pid,
      body: JSON.stringify({ query: 'query Status($id: ID!) { status(id: $id) }', variables: { id: FLOOR_PAYMENT_ID } }),
      check: (x) => x.includes('"status":"PENDING"') && !x.includes('"errors"'),
    },
    // (c) without the gateway's HTTP/Apollo set-up and context: same schema, services, database and query.
    c0: {
      serverPid: gw.pid,
      url: gw.bareGraphqlUrl,
      body: JSON.stringify({ query: PAYMENT_QUERY, variables: { id: paymentId } }),
      check: (x) => x.includes(`"id":"${paymentId}"`) && !x.includes('"errors"'),
    },
    c: {
      serverPid: gw.pid,
      url: gw.graphqlUrl,
      headers: auth,
      body: JSON.stringify({ query: PAYMENT_QUERY, variables: { id: paymentId } }),
      check: (b) => b.includes(`"id":"${paymentId}"`) && !b.includes('"errors"'),
    },
    d: {
      serverPid: gw.pid,
      url: gw.graphqlUrl,
      headers: auth,
      next: () => ({ body: createPaymentBody() }),
      check: (b) => b.includes('"__typename":"CreatePaymentPayload"') && b.includes('"replayed":false') && !b.includes('"errors"'),
    },
    // What (d) asks of the embedded sandbox, which shares the gateway's core: its own ceiling.
    s: {
      serverPid: gw.pid,
      url: `${gw.ucanpayUrl}/payment/unifiedorder`,
      headers: { authorization: `Bearer ${gw.ucanpaySecretKey}` },
      next: () => {
        const n = ++keyCounter;
        return {
          headers: { 'idempotency-key': `bench-s-${runTag}-${n}` },
          body: JSON.stringify(
            toCreateOrderRequest(gw.ucanpayMerchantId, {
              outTradeNo: `bench-s-${runTag}-${n}`,
              amount: 1999,
              currency: 'USD',
              description: 'Bench T-shirt',
              returnUrl: 'https://shop.example/return',
              notifyUrl: `${gw.url}/webhooks/ucanpay/${gw.merchantId}`,
              expiresIn: 1800,
            }),
          ),
        };
      },
      check: (b) => b.includes('"order_id"'),
    },
  };
}

export interface OverheadResult {
  rounds: Array<Record<Key, RoundResult>>;
  median: Record<Key, { rps: number; p50: number; p99: number; bad: number; cpuMsPerReq: number; serverCpuShare: number }>;
  /** The same ratios from server CPU per request, cpu(b)/cpu(x): what req/s would show if the server had its core to itself. */
  cpuRatios: Record<'cb' | 'db' | 'ba' | 'sb' | 'fb' | 'c0b' | 'cc0', number>;
  ratios: Record<'cb' | 'db' | 'ba' | 'sb' | 'fb' | 'c0b' | 'cc0', { value: number; target: number | null; pass: boolean | null; perRound: number[] }>;
}

/**
 * Rounds of (a)…(d) and (s), each `roundS` seconds at 10 connections, in alternating
 * order (a→d, then d→a, …) so that drift of the machine hits every scenario
 * alike; medians per scenario, ratios of the medians (and per round).
 */
export async function runOverhead(
  all: Record<Key, Omit<LoadSpec, 'durationS'>>,
  options: { rounds: number; roundS: number; warmupS: number; log: (line: string) => void },
): Promise<OverheadResult> {
  const keys = KEYS;
  for (const k of keys) {
    const warm = await runLoad({ ...all[k], durationS: options.warmupS });
    options.log(`  warm-up ${LABELS[k]}: ${Math.round(warm.rps)} req/s${warm.bad ? `, ${warm.bad} BAD: ${warm.badSamples.join(' | ')}` : ''}`);
    if (warm.rps === 0) throw new Error(`${LABELS[k]}: no successful response during warm-up`);
  }
  const rounds: Array<Record<Key, RoundResult>> = [];
  for (let r = 0; r < options.rounds; r++) {
    const order = r % 2 === 0 ? keys : [...keys].reverse();
    const results = {} as Record<Key, RoundResult>;
    for (const k of order) {
      results[k] = await runLoad({ ...all[k], durationS: options.roundS });
      options.log(
        `  round ${r + 1} ${k}: ${Math.round(results[k].rps)} req/s, p50 ${round(results[k].p50)} ms, p99 ${round(results[k].p99)} ms, server ${round(results[k].cpuMsPerReq, 3)} ms CPU/req at ${Math.round(100 * results[k].serverCpuShare)} % of a core${results[k].bad ? `, ${results[k].bad} BAD: ${results[k].badSamples.join(' | ')}` : ''}`,
      );
    }
    rounds.push(results);
  }
  const med = {} as OverheadResult['median'];
  for (const k of keys) {
    med[k] = {
      rps: median(rounds.map((r) => r[k].rps)),
      p50: median(rounds.map((r) => r[k].p50)),
      p99: median(rounds.map((r) => r[k].p99)),
      bad: rounds.reduce((s, r) => s + r[k].bad, 0),
      cpuMsPerReq: median(rounds.map((r) => r[k].cpuMsPerReq)),
      serverCpuShare: median(rounds.map((r) => r[k].serverCpuShare)),
    };
  }
  const ratio = (x: Key, y: Key, target: number | null) => {
    const value = med[x].rps / med[y].rps;
    return { value, target, pass: target === null ? null : value >= target, perRound: rounds.map((r) => r[x].rps / r[y].rps) };
  };
  const cpuRatio = (x: Key, y: Key) => med[y].cpuMsPerReq / med[x].cpuMsPerReq;
  const cpuRatios = {
    cb: cpuRatio('c', 'b'),
    db: cpuRatio('d', 'b'),
    ba: cpuRatio('b', 'a'),
    sb: cpuRatio('s', 'b'),
    fb: cpuRatio('f', 'b'),
    c0b: cpuRatio('c0', 'b'),
    cc0: cpuRatio('c', 'c0'),
  };
  return {
    rounds,
    median: med,
    cpuRatios,
    ratios: {
      cb: ratio('c', 'b', 0.6),
      db: ratio('d', 'b', 0.15),
      ba: ratio('b', 'a', null),
      sb: ratio('s', 'b', null),
      fb: ratio('f', 'b', null),
      c0b: ratio('c0', 'b', null),
      cc0: ratio('c', 'c0', null),
    },
  };
}
