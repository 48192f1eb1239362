import path from 'node:path';
import { longestCallMs } from './ucanpay';
import { readManifest, TRUSTED_DOCUMENTS_POLICIES, type TrustedDocumentsPolicy } from './api/trusted-documents';

/** The gateway's configuration, read once from the environment and validated. */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Base URL UCanPay (or the sandbox) calls back and that links point at. */
  publicUrl: string;
  logLevel: string;
  database:
    | {
        type: 'sqlite';
        path: string;
        synchronous: 'FULL' | 'NORMAL' /** How long a statement waits for another connection's lock before failing with DATABASE_BUSY (default 5000). */;
        busyTimeoutMs?: number;
      }
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
  idempotency: {
    /**
     * How long a request's claim on its idempotency key keeps same-key
     * retries (IDEMPOTENCY_KEY_IN_USE) and reconciliation off its object while
     * UCanPay is called. Must cover the longest UCanPay call plus saving its answer.
     */
    claimLeaseMs: number;
    /**
     * Stable name of this instance (INSTANCE_ID), unique among the running
     * instances: after a restart, claims this instance held under an earlier
     * boot are known dead at once. Undefined: a crashed claim waits out its lease.
     */
    instanceId?: string;
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
    /** Events of the event log are deleted once older than this (≥ 30). */
    eventDays: number;
  };
  events: {
    /** How often an eventCreated stream reads the log without a notice (the safety net for a lost Redis message). */
    streamPollMs: number;
  };
  introspection: boolean;
  rateLimit: {
    /** Mutations per API key per minute (token bucket, in memory per instance); 0 = unlimited. */
    mutationsPerMinute: number;
  };
  /** SIGTERM: how long in-flight work may take before the process exits non-zero. */
  shutdownTimeoutMs: number;
  /** Prometheus `/metrics` on its own port; undefined = off. */
  metrics?: { port: number; host: string; token?: string };
  /** What one client may hold of this instance (docs/errors.md#limits). */
  limits: Limits;
  /** Which requests must name a trusted document (docs/operations.md#trusted-documents), and the merchant's manifests merged with the gateway's. */
  trustedDocuments: { policy: TrustedDocumentsPolicy; manifests: string[] };
  /** Outbound webhooks to the merchants' endpoints (docs/events-and-webhooks.md). */
  webhooks: WebhookConfig;
}

/** Outbound webhook delivery; each has an environment variable (docs/events-and-webhooks.md#settings). */
export interface WebhookConfig {
  /** One attempt, connect to last byte of the answer (WEBHOOK_DELIVERY_TIMEOUT_MS). */
  timeoutMs: number;
  /** How long an event keeps being retried after it was recorded (WEBHOOK_RETRY_FOR_SECONDS, default 3 days). */
  retryForMs: number;
  /** The first retry's delay; each next one doubles, ±20 % jitter (WEBHOOK_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** No retry waits longer than this (WEBHOOK_RETRY_MAX_DELAY_MS). */
  retryMaxDelayMs: number;
  /** Consecutive failed attempts after which an endpoint is disabled; 0 = never (WEBHOOK_DISABLE_AFTER_FAILURES). */
  disableAfterFailures: number;
  /** …and only once it has been failing (no success) for at least this long (WEBHOOK_DISABLE_AFTER_FAILING_SECONDS): an outage of minutes with many events does not disable it. */
  disableAfterFailingMs: number;
  /** After a rotation the old secret keeps signing alongside the new one this long (WEBHOOK_SECRET_GRACE_SECONDS). */
  secretGraceMs: number;
  /** Loopback receivers allowed (WEBHOOK_ALLOW_LOOPBACK; default true outside production, false in it). */
  allowLoopback: boolean;
  /** Only https endpoint URLs (always in production). */
  httpsOnly: boolean;
  /** Safety-net poll for due deliveries, besides the wake-up after each commit (WEBHOOK_POLL_INTERVAL_MS; 0 = no worker). */
  pollIntervalMs: number;
  /** Attempts in flight at once on one instance (WEBHOOK_CONCURRENCY). */
  concurrency: number;
}

/** Connection, body, timeout and subscription limits; each has an environment variable (README). */
export interface Limits {
  /** Open TCP connections, HTTP and WebSocket together (MAX_CONNECTIONS). */
  maxConnections: number;
  /** Open connections of one client address (MAX_CONNECTIONS_PER_CLIENT). */
  maxConnectionsPerClient: number;
  /**
   * Lower-case name of the header that carries the client's address behind a
   * proxy (CLIENT_ADDRESS_HEADER, e.g. x-forwarded-for: its last value is
   * used). Unset: the TCP peer address; the header is never trusted.
   */
  clientAddressHeader?: string;
  /** Time to receive a request's headers (HTTP_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body (HTTP_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** A connection on which nothing moves for this long (an answer the client does not read) is destroyed (HTTP_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
  /** Body of one GraphQL request (GRAPHQL_MAX_BODY_BYTES). */
  graphqlBodyBytes: number;
  /** Body of one webhook delivery (WEBHOOK_MAX_BODY_BYTES). */
  webhookBodyBytes: number;
  /** Nesting of a request's `variables` (GRAPHQL_MAX_VARIABLES_DEPTH). */
  variablesDepth: number;
  /** A request's `variables` as JSON (GRAPHQL_MAX_VARIABLES_BYTES). */
  variablesBytes: number;
  /** graphql-ws: time from the upgrade to `connection_init` (WS_CONNECTION_INIT_TIMEOUT_MS). */
  wsConnectionInitTimeoutMs: number;
  /** Active subscriptions on one WebSocket (WS_MAX_SUBSCRIPTIONS_PER_CONNECTION). */
  subscriptionsPerConnection: number;
  /** Active subscriptions of one payment's client secret, all its connections together (WS_MAX_SUBSCRIPTIONS_PER_CLIENT_SECRET). */
  subscriptionsPerClientSecret: number;
  /** Active subscriptions of one merchant's API keys, all connections together (WS_MAX_SUBSCRIPTIONS_PER_MERCHANT). */
  subscriptionsPerMerchant: number;
  /** Subscribers handed one event before the event loop is yielded to other work (EVENTS_FANOUT_BATCH). */
  fanoutBatch: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxConnections: 4096,
  maxConnectionsPerClient: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  graphqlBodyBytes: 256 * 1024,
  webhookBodyBytes: 256 * 1024,
  variablesDepth: 10,
  variablesBytes: 64 * 1024,
  wsConnectionInitTimeoutMs: 3_000,
  subscriptionsPerConnection: 100,
  subscriptionsPerClientSecret: 5,
  subscriptionsPerMerchant: 1000,
  fanoutBatch: 100,
};

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

function webhookConfig(
  int: (name: string, fallback: number, min: number, max: number) => number,
  env: Env,
  production: boolean,
  problems: string[],
): WebhookConfig {
  const loopbackRaw = env.WEBHOOK_ALLOW_LOOPBACK;
  if (loopbackRaw && !['true', 'false'].includes(loopbackRaw)) problems.push(`WEBHOOK_ALLOW_LOOPBACK must be true or false, got "${loopbackRaw}"`);
  const config: WebhookConfig = {
    timeoutMs: int('WEBHOOK_DELIVERY_TIMEOUT_MS', 10_000, 100, 120_000),
    retryForMs: int('WEBHOOK_RETRY_FOR_SECONDS', 3 * 86_400, 0, 30 * 86_400) * 1000,
    retryBaseMs: int('WEBHOOK_RETRY_BASE_MS', 10_000, 10, 3_600_000),
    retryMaxDelayMs: int('WEBHOOK_RETRY_MAX_DELAY_MS', 6 * 3_600_000, 10, 86_400_000),
    disableAfterFailures: int('WEBHOOK_DISABLE_AFTER_FAILURES', 50, 0, 1_000_000),
    disableAfterFailingMs: int('WEBHOOK_DISABLE_AFTER_FAILING_SECONDS', 86_400, 0, 30 * 86_400) * 1000,
    secretGraceMs: int('WEBHOOK_SECRET_GRACE_SECONDS', 86_400, 0, 30 * 86_400) * 1000,
    allowLoopback: loopbackRaw ? loopbackRaw === 'true' : !production,
    httpsOnly: production,
    pollIntervalMs: int('WEBHOOK_POLL_INTERVAL_MS', 2_000, 0, 3_600_000),
    concurrency: int('WEBHOOK_CONCURRENCY', 16, 1, 1000),
  };
  if (config.retryMaxDelayMs < config.retryBaseMs) {
    problems.push(`WEBHOOK_RETRY_MAX_DELAY_MS (${config.retryMaxDelayMs}) must not be shorter than WEBHOOK_RETRY_BASE_MS (${config.retryBaseMs})`);
  }
  return config;
}

/** Time a claim keeps after the longest UCanPay call, to save the answer. */
export const CLAIM_SAVE_MARGIN_MS = 5_000;

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

  const busyTimeoutMs = int('SQLITE_BUSY_TIMEOUT_MS', 5000, 1, 600_000);

  let database: Config['database'] = {
    type: 'sqlite',
    path: path.resolve('data', 'gateway.sqlite'),
    synchronous: synchronous === 'NORMAL' ? 'NORMAL' : 'FULL',
    busyTimeoutMs,
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

  let metrics: Config['metrics'];
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== '') {
    metrics = { port: int('METRICS_PORT', 9464, 0, 65535), host: env.METRICS_HOST || '127.0.0.1', token: env.METRICS_TOKEN || undefined };
    if (metrics.token !== undefined && metrics.token.length < 16) problems.push('METRICS_TOKEN must be at least 16 characters');
    if (metrics.port !== 0 && metrics.port === port) problems.push('METRICS_PORT must differ from PORT: metrics are never served on the public port');
  } else if (env.METRICS_HOST || env.METRICS_TOKEN) {
    problems.push('METRICS_HOST and METRICS_TOKEN need METRICS_PORT (metrics are off without it)');
  }

  const timeoutMs = int('UCANPAY_TIMEOUT_MS', 10_000, 100, 120_000);
  const maxAttempts = int('UCANPAY_MAX_ATTEMPTS', 4, 1, 10);
  // The claim must outlive the longest call, or a retry / reconciliation takes over while UCanPay may still create the order.
  const neededLeaseMs = longestCallMs({ timeoutMs, maxAttempts }) + CLAIM_SAVE_MARGIN_MS;
  const leaseRaw = env.IDEMPOTENCY_CLAIM_LEASE_MS;
  const claimLeaseMs = leaseRaw === undefined || leaseRaw === '' ? neededLeaseMs : int('IDEMPOTENCY_CLAIM_LEASE_MS', neededLeaseMs, 1000, 3_600_000);
  if (claimLeaseMs < neededLeaseMs) {
    problems.push(
      `IDEMPOTENCY_CLAIM_LEASE_MS=${claimLeaseMs} cannot cover one UCanPay call: with UCANPAY_TIMEOUT_MS=${timeoutMs} and UCANPAY_MAX_ATTEMPTS=${maxAttempts} a call can take ${neededLeaseMs - CLAIM_SAVE_MARGIN_MS} ms (+${CLAIM_SAVE_MARGIN_MS} ms to save the answer); raise it to at least ${neededLeaseMs}, lower the timeout or attempts, or leave it unset`,
    );
  }
  const instanceId = env.INSTANCE_ID || undefined;
  if (instanceId !== undefined && !/^[A-Za-z0-9._:-]{1,100}$/.test(instanceId)) {
    problems.push('INSTANCE_ID must be 1-100 letters, digits or . _ : -');
  }

  const policyRaw = env.TRUSTED_DOCUMENTS || (nodeEnv === 'production' ? 'enforce-client-secrets' : 'allow');
  const policy = TRUSTED_DOCUMENTS_POLICIES.find((p) => p === policyRaw);
  if (!policy) problems.push(`TRUSTED_DOCUMENTS must be one of ${TRUSTED_DOCUMENTS_POLICIES.join(', ')}, got "${policyRaw}"`);
  const manifests = (env.TRUSTED_DOCUMENTS_MANIFESTS ?? '')
    .split(',')
    .map((file) => file.trim())
    .filter(Boolean)
    .map((file) => path.resolve(file));
  if (manifests.length && policy === 'off')
    problems.push('TRUSTED_DOCUMENTS_MANIFESTS needs TRUSTED_DOCUMENTS other than off (documentId is not accepted when off)');
  for (const file of manifests) {
    try {
      readManifest(file);
    } catch (error) {
      problems.push(`TRUSTED_DOCUMENTS_MANIFESTS: ${(error as Error).message}`);
    }
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
      timeoutMs,
      maxAttempts,
    },
    idempotency: { claimLeaseMs, instanceId },
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
      eventDays: int('EVENT_RETENTION_DAYS', 30, 30, 3650),
    },
    events: {
      streamPollMs: int('EVENT_STREAM_POLL_MS', 3000, 100, 60_000),
    },
    introspection: introspectionRaw ? introspectionRaw === 'true' : nodeEnv !== 'production',
    rateLimit: {
      mutationsPerMinute: int('RATE_LIMIT_MUTATIONS_PER_MINUTE', 600, 0, 1_000_000),
    },
    metrics,
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 25_000, 100, 3_600_000),
    limits: DEFAULT_LIMITS,
    trustedDocuments: { policy: policy ?? 'off', manifests },
    webhooks: webhookConfig(int, env, nodeEnv === 'production', problems),
  };

  const clientAddressHeader = env.CLIENT_ADDRESS_HEADER?.trim().toLowerCase() || undefined;
  if (clientAddressHeader !== undefined && !/^[a-z0-9-]{1,64}$/.test(clientAddressHeader)) {
    problems.push(`CLIENT_ADDRESS_HEADER must be a header name (letters, digits, -), got "${env.CLIENT_ADDRESS_HEADER}"`);
  }
  const d = DEFAULT_LIMITS;
  config.limits = {
    maxConnections: int('MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
    maxConnectionsPerClient: int('MAX_CONNECTIONS_PER_CLIENT', d.maxConnectionsPerClient, 1, 1_000_000),
    clientAddressHeader,
    headersTimeoutMs: int('HTTP_HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 1000, 600_000),
    requestTimeoutMs: int('HTTP_REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 1000, 3_600_000),
    idleTimeoutMs: int('HTTP_IDLE_TIMEOUT_MS', d.idleTimeoutMs, 1000, 3_600_000),
    graphqlBodyBytes: int('GRAPHQL_MAX_BODY_BYTES', d.graphqlBodyBytes, 1024, 64 * 1024 * 1024),
    webhookBodyBytes: int('WEBHOOK_MAX_BODY_BYTES', d.webhookBodyBytes, 1024, 64 * 1024 * 1024),
    variablesDepth: int('GRAPHQL_MAX_VARIABLES_DEPTH', d.variablesDepth, 1, 1000),
    variablesBytes: int('GRAPHQL_MAX_VARIABLES_BYTES', d.variablesBytes, 256, 64 * 1024 * 1024),
    wsConnectionInitTimeoutMs: int('WS_CONNECTION_INIT_TIMEOUT_MS', d.wsConnectionInitTimeoutMs, 100, 600_000),
    subscriptionsPerConnection: int('WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', d.subscriptionsPerConnection, 1, 1_000_000),
    subscriptionsPerClientSecret: int('WS_MAX_SUBSCRIPTIONS_PER_CLIENT_SECRET', d.subscriptionsPerClientSecret, 1, 1_000_000),
    subscriptionsPerMerchant: int('WS_MAX_SUBSCRIPTIONS_PER_MERCHANT', d.subscriptionsPerMerchant, 1, 10_000_000),
    fanoutBatch: int('EVENTS_FANOUT_BATCH', d.fanoutBatch, 1, 1_000_000),
  };
  if (config.limits.requestTimeoutMs < config.limits.headersTimeoutMs) {
    problems.push(
      `HTTP_REQUEST_TIMEOUT_MS (${config.limits.requestTimeoutMs}) must not be shorter than HTTP_HEADERS_TIMEOUT_MS (${config.limits.headersTimeoutMs})`,
    );
  }

  if (problems.length) throw new ConfigError(problems);
  return config;
}
