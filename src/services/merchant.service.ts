import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/database';
import { ApiKeyEntity, MerchantEntity, PaymentEntity } from '../entities';
import { newId, randomToken } from '../domain/ids';

/** Who is calling: a merchant's server (API key) or a browser/app holding one payment's client secret. */
export type Principal =
  | { kind: 'merchant'; merchantId: string }
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
 * Merchants and their credentials. API keys are stored as
 * HMAC-SHA-256(pepper, key): fast enough to check on every request, useless
 * without the server's pepper if the database leaks.
 */
export class MerchantService {
  constructor(
    private readonly db: Database,
    private readonly pepper: string,
  ) {}

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
    return this.db.manager.findOne(MerchantEntity, { where: { id } });
  }

  /** The principal a bearer token stands for, or null when it stands for nothing. */
  async authenticate(token: string): Promise<Principal | null> {
    if (!token || token.length > 300) return null;
    const mark = token.indexOf(CLIENT_SECRET_MARK);
    if (mark > 0 && token.startsWith('pay_')) {
      const paymentId = token.slice(0, mark);
      const payment = await this.db.manager.findOne(PaymentEntity, {
        where: { id: paymentId },
        select: { id: true, merchantId: true, clientSecret: true },
      });
      if (!payment || !safeEqual(payment.clientSecret, token)) return null;
      return { kind: 'client', merchantId: payment.merchantId, paymentId: payment.id };
    }
    const key = await this.db.manager.findOne(ApiKeyEntity, {
      where: { keyHash: this.hashApiKey(token) },
      select: { merchantId: true, revokedAt: true },
    });
    if (!key || key.revokedAt) return null;
    return { kind: 'merchant', merchantId: key.merchantId };
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
