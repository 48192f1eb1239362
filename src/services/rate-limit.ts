import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { GatewayError } from '../domain/errors';

export type RateLimitVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Token buckets by key: in this process ({@link RateLimiter}) or shared by every instance ({@link RedisRateLimiter}). */
export interface TokenBuckets {
  readonly perMinute: number;
  take(key: string, cost?: number): RateLimitVerdict | Promise<RateLimitVerdict>;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key: `perMinute` requests may come at once, then one
 * more every 60/perMinute seconds. In memory, per gateway instance (with
 * REDIS_URL the gateway uses {@link RedisRateLimiter} instead, shared by all).
 * At most `maxKeys` buckets are kept (least recently used dropped first),
 * so a flood of distinct keys cannot grow memory without bound.
 */
export class RateLimiter implements TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly options: { maxKeys?: number; now?: () => number } = {},
  ) {
    this.perMs = perMinute / 60_000;
  }

  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** Takes `cost` tokens from `key`'s bucket, or says how long until they are there. */
  take(key: string, cost = 1): RateLimitVerdict {
    if (!this.enabled || cost <= 0) return { ok: true };
    const now = (this.options.now ?? Date.now)();
    const previous = this.buckets.get(key);
    const tokens = previous ? Math.min(this.perMinute, previous.tokens + (now - previous.at) * this.perMs) : this.perMinute;
    // Re-insert so the Map's order is least recently used first.
    this.buckets.delete(key);
    if (tokens >= cost) {
      this.buckets.set(key, { tokens: tokens - cost, at: now });
      this.evict();
      return { ok: true };
    }
    this.buckets.set(key, { tokens, at: now });
    const missing = Math.min(cost, this.perMinute) - tokens;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.perMs / 1000)) };
  }

  private evict(): void {
    const max = this.options.maxKeys ?? 10_000;
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= max) return;
      this.buckets.delete(key);
    }
  }
}

/**
 * The same token buckets kept in Redis (REDIS_URL), so that every gateway
 * instance draws from one budget per key: N instances allow the limit, not
 * N × the limit. One Lua script per take (atomic; Redis's clock, so instances'
 * clocks do not matter); a bucket expires a minute after its last use.
 *
 * Redis is a guard here, never a gate for payments: when a take fails (Redis
 * down, or slower than the client's command timeout) the key is limited by
 * this instance's own in-memory bucket instead, and a warning is logged at
 * most every 30 s.
 */
export class RedisRateLimiter implements TokenBuckets {
  private readonly local: RateLimiter;
  private lastWarning = -Infinity;

  constructor(
    private readonly redis: Redis,
    readonly perMinute: number,
    private readonly options: { keyPrefix: string; log?: { warn(obj: object, msg?: string): void }; maxKeys?: number },
  ) {
    this.local = new RateLimiter(perMinute, { maxKeys: options.maxKeys });
    // EVALSHA, falling back to EVAL once per connection.
    redis.defineCommand(TAKE_COMMAND, { numberOfKeys: 1, lua: TAKE_SCRIPT });
  }

  async take(key: string, cost = 1): Promise<RateLimitVerdict> {
    if (this.perMinute <= 0 || cost <= 0) return { ok: true };
    try {
      const take = (this.redis as unknown as Record<string, (...args: unknown[]) => Promise<[number, number]>>)[TAKE_COMMAND];
      const [ok, retryAfterSeconds] = await take.call(this.redis, `${this.options.keyPrefix}${key}`, this.perMinute, cost);
      return ok === 1 ? { ok: true } : { ok: false, retryAfterSeconds };
    } catch (error) {
      if (Date.now() - this.lastWarning > 30_000) {
        this.lastWarning = Date.now();
        this.options.log?.warn({ err: error }, 'rate limit: Redis unavailable, limiting per instance until it answers again');
      }
      return this.local.take(key, cost);
    }
  }
}

const TAKE_COMMAND = 'ucanpayTakeTokens';

/**
 * The rate limiter's own Redis connection: no offline queue and no retries
 * per command, and a 200 ms command timeout, so that a missing or slow Redis
 * makes a take fail at once (and fall back) instead of holding a mutation.
 * ioredis reconnects on its own. Rejects when Redis cannot be reached at start.
 */
export async function connectRateLimitRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 200,
    connectionName: 'ucanpay-gw-rate-limit',
  });
  // Connection errors are seen (and logged, throttled) by the takes that fail.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}

/** KEYS[1] bucket; ARGV[1] tokens per minute (= capacity); ARGV[2] cost. Returns {1, 0} or {0, retryAfterSeconds}. */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMs = capacity / 60000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = capacity
if bucket[1] then
  tokens = math.min(capacity, tonumber(bucket[1]) + math.max(0, now - tonumber(bucket[2])) * perMs)
end
local ok = 0
if tokens >= cost then
  tokens = tokens - cost
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], 61000)
if ok == 1 then return {1, 0} end
local missing = math.min(cost, capacity) - tokens
return {0, math.max(1, math.ceil(missing / perMs / 1000))}
`;

/**
 * Mutations per API key. Keyed by a hash of the bearer token, so the
 * limiter never holds a usable credential.
 */
export class MutationRateLimiter {
  private readonly buckets: TokenBuckets;

  /** `perMinute` for an in-memory, per-instance limiter; or shared `TokenBuckets` (Redis). */
  constructor(limit: number | TokenBuckets, options?: { maxKeys?: number; now?: () => number }) {
    this.buckets = typeof limit === 'number' ? new RateLimiter(limit, options) : limit;
  }

  get perMinute(): number {
    return this.buckets.perMinute;
  }

  /** Rejects with RATE_LIMITED (with `retryAfterSeconds`) when `token` has no `mutations` left. */
  async check(token: string, mutations: number): Promise<void> {
    if (this.buckets.perMinute <= 0) return;
    const verdict = await this.buckets.take(createHash('sha256').update(token).digest('base64url'), mutations);
    if (!verdict.ok) {
      throw new GatewayError(
        'RATE_LIMITED',
        `Too many mutations for this API key (limit ${this.buckets.perMinute} per minute); retry in ${verdict.retryAfterSeconds} s with the same idempotencyKey`,
        { retryAfterSeconds: verdict.retryAfterSeconds },
      );
    }
  }
}
