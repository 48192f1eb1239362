import path from 'node:path';

/** The gateway's configuration, read once from the environment and validated. */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Base URL UCanPay (or the sandbox) calls back and that links point at. */
  publicUrl: string;
  logLevel: string;
  database:
    | { type: 'sqlite'; path: string; synchronous: 'FULL' | 'NORMAL' }
    | { type: 'postgres'; url: string; schema?: string };
  redisUrl?: string;
  ucanpay: {
    /** Unset: an embedded sandbox is started on `sandboxPort`. */
    baseUrl?: string;
    sandboxPort: number;
    sandboxDbPath: string;
    merchantId: string;
    secretKey: string;
    webhookSecret: string;
    timeoutMs: number;
    maxAttempts: number;
  };
  /** Server-side pepper for the keyed hash of API keys (HMAC-SHA-256). */
  apiKeyPepper: string;
  /** Fixes the seeded demo merchant's API key (16+ characters). */
  demoMerchantApiKey?: string;
  reconcile: {
    /** How often the reconciliation loop runs; 0 disables it. */
    intervalMs: number;
    /** A non-final object untouched for this long is checked with UCanPay. */
    staleAfterSeconds: number;
  };
  retention: {
    /** How often the retention pass runs; 0 disables it. */
    intervalMs: number;
    /** Idempotency keys are deleted once older than this (≥ 24). */
    idempotencyKeyHours: number;
    /** Webhook inbox rows (event ids seen) are deleted once received longer ago than this. */
    webhookInboxHours: number;
    /** Rows deleted per transaction. */
    batchSize: number;
  };
  introspection: boolean;
  rateLimit: {
    /** Mutations per API key per minute (token bucket, in memory per instance); 0 = unlimited. */
    mutationsPerMinute: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Demo credentials of the embedded sandbox; they only ever reach the local sandbox. */
export const SANDBOX_DEFAULTS = {
  merchantId: 'mch_demo',
  secretKey: 'sk_test_demo_0123456789abcdef',
  webhookSecret: 'whsec_demo_0123456789abcdef',
} as const;

type Env = Record<string, string | undefined>;

/**
 * Reads the environment. Every bad value is reported, one line each, in a
 * single ConfigError, so a misconfigured start fails once with the full list.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  };

  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must be a ${protocols.join(' or ')} URL, got "${parsed.protocol}"`);
        return undefined;
      }
      return raw.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be a URL, got "${raw}"`);
      return undefined;
    }
  };

  const nodeEnvRaw = env.NODE_ENV ?? 'development';
  const nodeEnv = (['development', 'production', 'test'] as const).find((e) => e === nodeEnvRaw);
  if (!nodeEnv) problems.push(`NODE_ENV must be development, production or test, got "${nodeEnvRaw}"`);

  const port = int('PORT', 4000, 0, 65535);
  const sandboxPort = int('UCANPAY_SANDBOX_PORT', 4010, 0, 65535);
  const host = env.HOST || '127.0.0.1';

  const logLevel = env.LOG_LEVEL || (nodeEnv === 'test' ? 'warn' : 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }

  const synchronous = (env.SQLITE_SYNCHRONOUS || 'FULL').toUpperCase();
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    problems.push(`SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "${env.SQLITE_SYNCHRONOUS}"`);
  }

  let database: Config['database'] = {
    type: 'sqlite',
    path: path.resolve('data', 'gateway.sqlite'),
    synchronous: synchronous === 'NORMAL' ? 'NORMAL' : 'FULL',
  };
  const dbUrl = env.DATABASE_URL;
  if (dbUrl) {
    if (/^postgres(ql)?:\/\//.test(dbUrl)) {
      try {
        const parsed = new URL(dbUrl);
        const schema = parsed.searchParams.get('schema') ?? undefined;
        if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
          problems.push(`DATABASE_URL ?schema= must be a lower-case SQL identifier, got "${schema}"`);
        }
        database = { type: 'postgres', url: dbUrl, schema };
      } catch {
        problems.push('DATABASE_URL is not a valid postgres:// URL');
      }
    } else if (/^(sqlite|file):/.test(dbUrl)) {
      const file = dbUrl.replace(/^(sqlite|file):(\/\/)?/, '');
      if (!file) problems.push('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/gateway.sqlite');
      else database = { ...database, path: file === ':memory:' ? file : path.resolve(file) };
    } else {
      problems.push(`DATABASE_URL must start with postgres://, postgresql://, sqlite: or file:, got "${dbUrl.split(':')[0]}:…"`);
    }
  }

  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);
  const baseUrl = url('UCANPAY_BASE_URL', ['http:', 'https:']);
  const publicUrl = url('PUBLIC_URL', ['http:', 'https:']) ?? `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;

  const merchantId = env.UCANPAY_MERCHANT_ID || SANDBOX_DEFAULTS.merchantId;
  const secretKey = env.UCANPAY_SECRET_KEY || SANDBOX_DEFAULTS.secretKey;
  const webhookSecret = env.UCANPAY_WEBHOOK_SECRET || SANDBOX_DEFAULTS.webhookSecret;
  if (baseUrl && nodeEnv === 'production') {
    for (const [name, value, fallback] of [
      ['UCANPAY_SECRET_KEY', secretKey, SANDBOX_DEFAULTS.secretKey],
      ['UCANPAY_WEBHOOK_SECRET', webhookSecret, SANDBOX_DEFAULTS.webhookSecret],
    ] as const) {
      if (value === fallback) problems.push(`${name} must be set to your UCanPay credential in production`);
    }
  }

  const apiKeyPepper = env.API_KEY_PEPPER || 'dev-pepper-change-me-in-production';
  if (nodeEnv === 'production' && !env.API_KEY_PEPPER) {
    problems.push('API_KEY_PEPPER must be set in production (a long random string; changing it invalidates every API key)');
  } else if (apiKeyPepper.length < 16) {
    problems.push('API_KEY_PEPPER must be at least 16 characters');
  }

  const demoMerchantApiKey = env.DEMO_MERCHANT_API_KEY || undefined;
  if (demoMerchantApiKey !== undefined && (demoMerchantApiKey.length < 16 || demoMerchantApiKey.length > 200)) {
    problems.push('DEMO_MERCHANT_API_KEY must be 16 to 200 characters');
  }

  const introspectionRaw = env.GRAPHQL_INTROSPECTION;
  if (introspectionRaw && !['true', 'false'].includes(introspectionRaw)) {
    problems.push(`GRAPHQL_INTROSPECTION must be true or false, got "${introspectionRaw}"`);
  }

  const config: Config = {
    nodeEnv: nodeEnv ?? 'development',
    host,
    port,
    publicUrl,
    logLevel,
    database,
    redisUrl,
    ucanpay: {
      baseUrl,
      sandboxPort,
      sandboxDbPath: path.resolve(env.SANDBOX_DB || path.join('data', 'sandbox.sqlite')),
      merchantId,
      secretKey,
      webhookSecret,
      timeoutMs: int('UCANPAY_TIMEOUT_MS', 10_000, 100, 120_000),
      maxAttempts: int('UCANPAY_MAX_ATTEMPTS', 4, 1, 10),
    },
    apiKeyPepper,
    demoMerchantApiKey,
    reconcile: {
      intervalMs: int('RECONCILE_INTERVAL_MS', 30_000, 0, 86_400_000),
      staleAfterSeconds: int('RECONCILE_STALE_AFTER_SECONDS', 300, 0, 30 * 86_400),
    },
    retention: {
      intervalMs: int('RETENTION_INTERVAL_MS', 60_000, 0, 86_400_000),
      idempotencyKeyHours: int('IDEMPOTENCY_KEY_RETENTION_HOURS', 48, 24, 24 * 3650),
      webhookInboxHours: int('WEBHOOK_INBOX_RETENTION_HOURS', 168, 1, 24 * 3650),
      batchSize: int('RETENTION_BATCH_SIZE', 500, 1, 100_000),
    },
    introspection: introspectionRaw ? introspectionRaw === 'true' : nodeEnv !== 'production',
    rateLimit: {
      mutationsPerMinute: int('RATE_LIMIT_MUTATIONS_PER_MINUTE', 600, 0, 1_000_000),
    },
  };

  if (problems.length) throw new ConfigError(problems);
  return config;
}
