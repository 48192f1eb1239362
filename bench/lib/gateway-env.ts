import { SANDBOX_DEFAULTS } from '../../src/config';

/** The bench's demo merchant API key (any 16+ characters; only its HMAC is stored). */
export const BENCH_API_KEY = 'gw_bench_key_for_the_demo_merchant_01';

/**
 * Environment of every gateway under test: production mode, silent logs,
 * durable SQLite (synchronous=FULL, on disk: os.tmpdir() is not a tmpfs
 * here), reconciliation off, the embedded sandbox, a mutation rate limit
 * too high to refuse the load. PORT/DATABASE_URL are
 * chosen by the child itself (free port, fresh temp directory).
 */
export function gatewayEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    SQLITE_SYNCHRONOUS: 'FULL',
    RECONCILE_INTERVAL_MS: '0',
    API_KEY_PEPPER: 'bench-pepper-0123456789abcdef-not-a-secret',
    DEMO_MERCHANT_API_KEY: BENCH_API_KEY,
    UCANPAY_BASE_URL: '',
    PUBLIC_URL: '',
    REDIS_URL: '',
    GRAPHQL_INTROSPECTION: '',
    // The mutation rate limiter stays on (its cost is measured) but never refuses the load generator.
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000',
    // The fan-out and push scenarios open thousands of connections from one address, all on one
    // client secret: capacity is measured past the per-client defaults (docs/errors.md#limits).
    MAX_CONNECTIONS: '100000',
    MAX_CONNECTIONS_PER_CLIENT: '100000',
    WS_MAX_SUBSCRIPTIONS_PER_CLIENT_SECRET: '1000000',
    WS_MAX_SUBSCRIPTIONS_PER_MERCHANT: '1000000',
  };
}

export const WEBHOOK_SECRET: string = SANDBOX_DEFAULTS.webhookSecret;

export interface GatewayReady {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  merchantId: string;
  apiKey: string;
  webhookSecret: string;
  /** The embedded sandbox, and the demo merchant's credentials there (for the sandbox-alone reference row). */
  ucanpayUrl: string;
  /** The gateway's schema and services behind a bare Apollo (decomposition row c0). */
  bareGraphqlUrl: string;
  ucanpayMerchantId: string;
  ucanpaySecretKey: string;
  pid: number;
}
