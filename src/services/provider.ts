import type { Config } from '../config';
import type { MerchantEntity } from '../entities';
import { UCanPayClient, type UCanPayAttemptInfo, type UCanPayLogger } from '../ucanpay';

/** One UCanPay client per merchant (each has its own secret key), created on first use. */
export class ProviderClients {
  private readonly clients = new Map<string, UCanPayClient>();

  constructor(
    private readonly options: {
      baseUrl: string;
      timeoutMs: number;
      maxAttempts: number;
      baseDelayMs?: number;
      logger?: UCanPayLogger;
      /** After every HTTP attempt (metrics). */
      onAttempt?: (info: UCanPayAttemptInfo) => void;
      /** The fetch the clients use (tracing). */
      fetch?: typeof fetch;
    },
  ) {}

  static fromConfig(
    config: Config,
    baseUrl: string,
    logger?: UCanPayLogger,
    hooks: { onAttempt?: (info: UCanPayAttemptInfo) => void; fetch?: typeof fetch } = {},
  ): ProviderClients {
    return new ProviderClients({ baseUrl, timeoutMs: config.ucanpay.timeoutMs, maxAttempts: config.ucanpay.maxAttempts, logger, ...hooks });
  }

  for(merchant: MerchantEntity): UCanPayClient {
    const cacheKey = `${merchant.id}:${merchant.ucanpayMerchantId}`;
    let client = this.clients.get(cacheKey);
    if (!client) {
      client = new UCanPayClient({
        baseUrl: this.options.baseUrl,
        merchantId: merchant.ucanpayMerchantId,
        secretKey: merchant.ucanpaySecretKey,
        timeoutMs: this.options.timeoutMs,
        maxAttempts: this.options.maxAttempts,
        baseDelayMs: this.options.baseDelayMs,
        logger: this.options.logger,
        onAttempt: this.options.onAttempt,
        fetch: this.options.fetch,
      });
      this.clients.set(cacheKey, client);
    }
    return client;
  }
}
