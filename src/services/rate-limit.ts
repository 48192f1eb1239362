import { createHash } from 'node:crypto';
import { GatewayError } from '../domain/errors';

export type RateLimitVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key: `perMinute` requests may come at once, then one
 * more every 60/perMinute seconds. In memory, per gateway instance: N
 * instances behind a load balancer allow up to N × the limit in total.
 * At most `maxKeys` buckets are kept (least recently used dropped first),
 * so a flood of distinct keys cannot grow memory without bound.
 */
export class RateLimiter {
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
 * Mutations per API key. Keyed by a hash of the bearer token, so the
 * limiter never holds a usable credential.
 */
export class MutationRateLimiter {
  private readonly limiter: RateLimiter;

  constructor(perMinute: number, options?: { maxKeys?: number; now?: () => number }) {
    this.limiter = new RateLimiter(perMinute, options);
  }

  get perMinute(): number {
    return this.limiter.perMinute;
  }

  /** Throws RATE_LIMITED (with `retryAfterSeconds`) when `token` has no `mutations` left. */
  check(token: string, mutations: number): void {
    const verdict = this.limiter.take(createHash('sha256').update(token).digest('base64url'), mutations);
    if (!verdict.ok) {
      throw new GatewayError(
        'RATE_LIMITED',
        `Too many mutations for this API key (limit ${this.limiter.perMinute} per minute); retry in ${verdict.retryAfterSeconds} s with the same idempotencyKey`,
        { retryAfterSeconds: verdict.retryAfterSeconds },
      );
    }
  }
}
