import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/database';
import { ApiKeyEntity, MerchantEntity, PaymentEntity } from '../entities';
import { newId, randomToken } from '../domain/ids';

/** Who is calling: a merchant's server (API key) or a browser/app holding one payment's client secret. */
export type Principal =
  | { kind: 'merchant'; merchantId: string /** The API key's id (never the key): what an event names as its cause. */; keyId?: string }
  | { kind: 'client'; merchantId: string; paymentId: string };

export interface NewMerchant {
  name: string;
  ucanpayMerchantId: string;
  ucanpaySecretKey: string;
  ucanpayWebhookSecret: string;
  id?: string;
}

const API_KEY_PREFIX = 'gw_';
const CLIENT_SECRET_MARK = '_secret_';

/**
 * How long an API key, once found valid, is trusted without asking the
 * database again. A revocation takes effect within this time on every
 * instance (at once on the one that revoked it).
 */
export const API_KEY_CACHE_TTL_MS = 5_000;
/** At most this many keys are remembered; beyond it the oldest entry goes. */
export const API_KEY_CACHE_MAX_ENTRIES = 10_000;

export interface MerchantServiceOptions {
  apiKeyCacheTtlMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * Merchants and their credentials. API keys are stored as
 * HMAC-SHA-256(pepper, key): fast enough to check on every request, useless
 * without the server's pepper if the database leaks. Valid keys are
 * remembered for a few seconds by that same hash (never the key itself), so
 * that a busy client costs one HMAC per request instead of one query.
 * Unknown keys are never remembered: a new key works at once.
 */
export class MerchantService {
  private readonly keyCache = new Map<string, { principal: Principal; until: number }>();
  /** Bumped by every local revocation: a lookup that raced with one is not remembered. */
  private revocations = 0;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    private readonly pepper: string,
    options: MerchantServiceOptions = {},
  ) {
    this.ttlMs = options.apiKeyCacheTtlMs ?? API_KEY_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  hashApiKey(apiKey: string): string {
    return createHmac('sha256', this.pepper).update(apiKey).digest('hex');
  }

  async createMerchant(input: NewMerchant): Promise<MerchantEntity> {
    const merchant = Object.assign(new MerchantEntity(), {
      id: input.id ?? newId('mer'),
      name: input.name,
      ucanpayMerchantId: input.ucanpayMerchantId,
      ucanpaySecretKey: input.ucanpaySecretKey,
      ucanpayWebhookSecret: input.ucanpayWebhookSecret,
      createdAt: new Date(),
    });
    await this.db.transaction((tx) => tx.manager.insert(MerchantEntity, merchant));
    return merchant;
  }

  /** Adds an API key to a merchant and returns it: the only time it is ever shown. */
  async issueApiKey(merchantId: string, apiKey: string = `${API_KEY_PREFIX}${randomToken(24)}`): Promise<string> {
    const row = Object.assign(new ApiKeyEntity(), {
      id: newId('key'),
      merchantId,
      keyHash: this.hashApiKey(apiKey),
      keyPrefix: apiKey.slice(0, 8),
      createdAt: new Date(),
      revokedAt: null,
    });
    await this.db.transaction((tx) => tx.manager.insert(ApiKeyEntity, row));
    return apiKey;
  }

  async hasApiKey(merchantId: string, apiKey: string): Promise<boolean> {
    return this.db.manager.exists(ApiKeyEntity, { where: { merchantId, keyHash: this.hashApiKey(apiKey) } });
  }

  findMerchant(id: string): Promise<MerchantEntity | null> {
    return this.db.findOneBy(MerchantEntity, { id });
  }

  /** The principal a bearer token stands for, or null when it stands for nothing. */
  async authenticate(token: string): Promise<Principal | null> {
    if (!token || token.length > 300) return null;
    const mark = token.indexOf(CLIENT_SECRET_MARK);
    if (mark > 0 && token.startsWith('pay_')) {
      const paymentId = token.slice(0, mark);
      const payment = await this.db.findOneBy(PaymentEntity, { id: paymentId });
      if (!payment || !safeEqual(payment.clientSecret, token)) return null;
      return { kind: 'client', merchantId: payment.merchantId, paymentId: payment.id };
    }
    const keyHash = this.hashApiKey(token);
    const hit = this.keyCache.get(keyHash);
    if (hit) {
      if (hit.until > this.now()) return hit.principal;
      this.keyCache.delete(keyHash);
    }
    const revocationsBefore = this.revocations;
    const key = await this.db.findOneBy(ApiKeyEntity, { keyHash });
    if (!key || key.revokedAt) return null;
    const principal: Principal = Object.freeze({ kind: 'merchant', merchantId: key.merchantId, keyId: key.id });
    if (this.ttlMs > 0 && revocationsBefore === this.revocations) {
      if (this.keyCache.size >= API_KEY_CACHE_MAX_ENTRIES) this.keyCache.delete(this.keyCache.keys().next().value as string);
      this.keyCache.set(keyHash, { principal, until: this.now() + this.ttlMs });
    }
    return principal;
  }

  /**
   * Revokes one of a merchant's API keys: refused from now on by this
   * instance, and by every other within API_KEY_CACHE_TTL_MS. False when the
   * merchant has no such (unrevoked) key.
   */
  async revokeApiKey(merchantId: string, apiKey: string): Promise<boolean> {
    const keyHash = this.hashApiKey(apiKey);
    this.revocations++;
    this.keyCache.delete(keyHash);
    const result = await this.db.transaction((tx) =>
      tx.manager
        .createQueryBuilder()
        .update(ApiKeyEntity)
        .set({ revokedAt: new Date() })
        .where('merchant_id = :merchantId AND key_hash = :keyHash AND revoked_at IS NULL', { merchantId, keyHash })
        .execute(),
    );
    this.revocations++;
    this.keyCache.delete(keyHash);
    return (result.affected ?? 0) > 0;
  }
}

/** A payment's client secret: `<payment id>_secret_<random>`. */
export function newClientSecret(paymentId: string): string {
  return `${paymentId}${CLIENT_SECRET_MARK}${randomToken(18)}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
