/**
 * The mutation rate limit shared through Redis (REDIS_URL): one budget per
 * API key across instances, Redis's clock, and a per-instance fallback when
 * Redis does not answer. Against a real Redis (127.0.0.1:6379, a key prefix
 * per run); without Redis (and CI unset) the tests pass with a printed notice.
 */
import Redis from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRateLimitRedis, MutationRateLimiter, RedisRateLimiter } from '../../src/services/rate-limit';
import { freshRedisPrefix } from '../helpers/databases';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { firstError, rawGql } from '../hardening/helpers';

let redis: { url: string; prefix: string } | undefined;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await freshRedisPrefix('rate_limit');
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
});
afterAll(async () => {
  if (!redis) return;
  const cleaner = new Redis(redis.url);
  const keys = await cleaner.keys(`${redis.prefix}*`);
  if (keys.length) await cleaner.del(...keys);
  await cleaner.quit();
});

/** A limiter on its own Redis connection, as each gateway instance has. */
async function instance(perMinute: number, keyPrefix = `${redis!.prefix}rl:`): Promise<RedisRateLimiter> {
  const client = await connectRateLimitRedis(redis!.url);
  clients.push(client);
  return new RedisRateLimiter(client, perMinute, { keyPrefix });
}

describe('RedisRateLimiter', () => {
  it('two instances draw from one bucket per key: 5 per minute in total, not 5 each', async () => {
    if (!redis) return;
    const a = await instance(5);
    const b = await instance(5);
    const takes = [await a.take('k'), await a.take('k'), await b.take('k'), await a.take('k'), await b.take('k')];
    expect(takes.every((t) => t.ok)).toBe(true);
    expect(await a.take('k')).toEqual({ ok: false, retryAfterSeconds: 12 });
    expect((await b.take('k')).ok).toBe(false);
    // Another key, and another deployment's prefix, have their own buckets.
    expect((await b.take('other')).ok).toBe(true);
    const elsewhere = await instance(5, `${redis.prefix}other-deployment:`);
    expect((await elsewhere.take('k')).ok).toBe(true);
  });

  it('charges the cost at once and refills at perMinute/60 per second', async () => {
    if (!redis) return;
    const a = await instance(1200); // 20 per second
    expect((await a.take('r', 1200)).ok).toBe(true);
    expect(await a.take('r', 1)).toEqual({ ok: false, retryAfterSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await a.take('r', 3)).ok).toBe(true);
  });

  it('when Redis does not answer, limits per instance instead (never blocks, never lets everything through) and warns once', async () => {
    const warnings: unknown[] = [];
    // Never connected, no offline queue: every command fails at once, as with Redis gone.
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    dead.on('error', () => undefined);
    const limiter = new RedisRateLimiter(dead, 2, { keyPrefix: 'x:', log: { warn: (obj) => void warnings.push(obj) } });
    const started = Date.now();
    expect((await limiter.take('k')).ok).toBe(true);
    expect((await limiter.take('k')).ok).toBe(true);
    expect((await limiter.take('k')).ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(warnings).toHaveLength(1);
    dead.disconnect();
  });

  it('MutationRateLimiter over Redis rejects with RATE_LIMITED and the retry hint', async () => {
    if (!redis) return;
    const limiter = new MutationRateLimiter(await instance(2));
    await limiter.check('gw_token_shared', 2);
    await expect(limiter.check('gw_token_shared', 1)).rejects.toThrow(expect.objectContaining({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 30 } }));
  });
});

describe('two gateways with REDIS_URL and RATE_LIMIT_MUTATIONS_PER_MINUTE=3', () => {
  let a: TestGateway | undefined;
  let b: TestGateway | undefined;
  beforeAll(async () => {
    if (!redis) return;
    const env = { REDIS_URL: redis.url, RATE_LIMIT_MUTATIONS_PER_MINUTE: '3' };
    const options = { redis: { channelPrefix: `${redis.prefix}gw:` } };
    a = await startGateway(env, options);
    b = await startGateway(env, options);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const CREATE = 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { __typename } }';
  const input = (key: string) => ({ amount: 700, currency: 'USD', description: 'Shared limit', returnUrl: 'https://shop.example/r', idempotencyKey: key });

  it('share one budget per API key: 2 mutations on A and 1 on B, then the 4th is refused on either', async () => {
    if (!a || !b) return;
    for (const [gw, key] of [
      [a, 'sh-1'],
      [a, 'sh-2'],
      [b, 'sh-3'],
    ] as const) {
      expect((await rawGql(gw, CREATE, { input: input(key) })).json?.data?.createPayment.__typename).toBe('CreatePaymentPayload');
    }
    for (const gw of [b, a]) {
      const limited = await rawGql(gw, CREATE, { input: input('sh-4') });
      expect(limited.status).toBe(429);
      // 3 per minute: one token per 20 s, minus whatever refilled while the first three ran (seconds on a loaded machine).
      const error = firstError(limited) as unknown as { code: string; retryAfterSeconds: number };
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(10);
      expect(error.retryAfterSeconds).toBeLessThanOrEqual(20);
      expect(limited.headers.get('retry-after')).toBe(String(error.retryAfterSeconds));
    }
  });
});
