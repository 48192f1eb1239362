import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { MutationRateLimiter, RateLimiter } from '../../src/services/rate-limit';
import { sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';
import { createTestMerchant, firstError, rawGql, type TestMerchant } from './helpers';

describe('RateLimiter (token bucket)', () => {
  it('allows a burst of the per-minute limit, then one more every 60/limit seconds', () => {
    let now = 0;
    const limiter = new RateLimiter(3, { now: () => now });
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')].every((v) => v.ok)).toBe(true);
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterSeconds: 20 });
    now += 19_000;
    expect(limiter.take('k').ok).toBe(false);
    now += 1_000;
    expect(limiter.take('k').ok).toBe(true);
    expect(limiter.take('other').ok).toBe(true);
  });

  it('charges an operation per mutation field, and 0 turns it off', () => {
    const limiter = new RateLimiter(5, { now: () => 0 });
    expect(limiter.take('k', 4).ok).toBe(true);
    expect(limiter.take('k', 2)).toEqual({ ok: false, retryAfterSeconds: 12 });
    const off = new RateLimiter(0);
    for (let i = 0; i < 1000; i++) expect(off.take('k').ok).toBe(true);
  });

  it('keeps at most maxKeys buckets (least recently used dropped)', () => {
    const limiter = new RateLimiter(1, { now: () => 0, maxKeys: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c'); // drops a
    expect(limiter.take('b').ok).toBe(false);
    expect(limiter.take('a').ok).toBe(true);
  });

  it('MutationRateLimiter rejects with RATE_LIMITED with retryAfterSeconds, keyed by a hash of the token', async () => {
    const limiter = new MutationRateLimiter(1, { now: () => 0 });
    await limiter.check('gw_token_one', 1);
    await expect(limiter.check('gw_token_one', 1)).rejects.toThrow(
      expect.objectContaining({ code: 'RATE_LIMITED', retryable: true, details: { retryAfterSeconds: 60 } }),
    );
    await expect(limiter.check('gw_token_two', 1)).resolves.toBeUndefined();
  });
});

describe('RATE_LIMIT_MUTATIONS_PER_MINUTE', () => {
  it('defaults to 600, accepts 0 (off), refuses anything else that is not a whole number', () => {
    expect(loadConfig({}).rateLimit.mutationsPerMinute).toBe(600);
    expect(loadConfig({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' }).rateLimit.mutationsPerMinute).toBe(0);
    expect(() => loadConfig({ RATE_LIMIT_MUTATIONS_PER_MINUTE: 'lots' })).toThrow(ConfigError);
    expect(() => loadConfig({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '-5' })).toThrow(/RATE_LIMIT_MUTATIONS_PER_MINUTE/);
  });
});

describe('mutations per API key on a gateway (RATE_LIMIT_MUTATIONS_PER_MINUTE=3)', () => {
  let gw: TestGateway;
  let B: TestMerchant;
  beforeAll(async () => {
    gw = await startGateway({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '3' });
    B = await createTestMerchant(gw, 'Rate limited B');
  });
  afterAll(async () => {
    await gw?.stop();
  });

  const CREATE = 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { __typename } }';
  const input = (key: string) => ({
    amount: 700,
    currency: 'USD',
    description: 'Rate',
    returnUrl: 'https://shop.example/r',
    idempotencyKey: key,
    merchantReference: key,
  });

  it('the 4th mutation in a minute answers 429 RATE_LIMITED with a retry hint; nothing is created; queries and other keys are not limited', async () => {
    const ordersBefore = (await sandboxCall<{ orders: unknown[] }>(gw.sandboxUrl, 'GET', `/sandbox/orders?merchant_id=${gw.config.ucanpay.merchantId}`)).orders
      .length;
    for (let i = 1; i <= 3; i++) {
      const ok = await rawGql(gw, CREATE, { input: input(`rl-${i}`) });
      expect(ok.json?.data?.createPayment.__typename).toBe('CreatePaymentPayload');
    }
    const limited = await rawGql(gw, CREATE, { input: input('rl-4') });
    expect(limited.status).toBe(429);
    const error = firstError(limited);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterSeconds: 20 });
    expect(error.message).toMatch(/limit 3 per minute/);
    expect(typeof error.requestId).toBe('string');
    expect(limited.headers.get('retry-after')).toBe('20');
    expect(limited.json?.data ?? null).toBeNull();
    const ordersAfter = (await sandboxCall<{ orders: unknown[] }>(gw.sandboxUrl, 'GET', `/sandbox/orders?merchant_id=${gw.config.ucanpay.merchantId}`)).orders
      .length;
    expect(ordersAfter).toBe(ordersBefore + 3);
    // The limited key still reads.
    expect((await rawGql(gw, '{ payments(first: 1) { edges { cursor } } }')).status).toBe(200);
    // Another merchant's key has its own bucket.
    expect((await rawGql(gw, CREATE, { input: input('rl-b-1') }, { token: B.apiKey })).json?.data?.createPayment.__typename).toBe('CreatePaymentPayload');
  });

  it('aliased mutations count one each', async () => {
    const two = `mutation($a: CreatePaymentInput!, $b: CreatePaymentInput!) { a: createPayment(input: $a) { __typename } b: createPayment(input: $b) { __typename } }`;
    const ok = await rawGql(gw, two, { a: input('rl-b-2'), b: input('rl-b-3') }, { token: B.apiKey });
    expect(ok.json?.data).toEqual({ a: { __typename: 'CreatePaymentPayload' }, b: { __typename: 'CreatePaymentPayload' } });
    // B has used 3 of 3 now.
    const limited = await rawGql(gw, CREATE, { input: input('rl-b-4') }, { token: B.apiKey });
    expect(firstError(limited).code).toBe('RATE_LIMITED');
  });

  it('unauthenticated mutations are refused as UNAUTHENTICATED, not counted against anyone', async () => {
    const res = await rawGql(gw, CREATE, { input: input('rl-anon') }, { token: 'gw_not_a_real_key_000000000' });
    expect(firstError(res).code).toBe('UNAUTHENTICATED');
  });
});
