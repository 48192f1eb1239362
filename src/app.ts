import 'reflect-metadata';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Config } from './config';
import { openDatabase, type Database } from './db/database';
import { createInMemoryEventBus, type EventBus } from './events/pubsub';
import { createRedisEventBus } from './events/redis-event-bus';
import { createLogger, type Logger } from './logger';
import { createServices, type Services } from './services';
import { causeOfPrincipal, inCauseScope, setCause } from './services/cause';
import { ensureDemoMerchant, type DemoMerchant } from './seed';
import { buildGatewaySchema } from './api/schema';
import { createApollo } from './api/apollo';
import { createPayloadShaper } from './api/webhook-payload';
import type { Resolver } from './services/outbound-url';
import { shippedOperationNames, TrustedDocuments } from './api/trusted-documents';
import { bearerToken, gatewayContext, type GatewayContext } from './api/context';
import { createGraphqlHandler } from './http/graphql-handler';
import { createHttpServer, type HttpRoutes } from './http/server';
import { createIde, IDE_PATH, ideAvailable } from './http/ide';
import { attachGraphqlWs } from './http/websocket';
import { requestIdOf } from './http/request-id';
import { createSandbox, type SandboxHandle, type SandboxOptions } from './sandbox';
import { connectRateLimitRedis, MutationRateLimiter, RedisRateLimiter } from './services/rate-limit';
import { GatewayMetrics } from './metrics/metrics';
import { metricsPlugin, outcomeCodes } from './metrics/apollo-plugin';
import { databaseObserver, instrumentWebhooks, reconciliationObserver, ucanpayAttemptObserver } from './metrics/hooks';
import { startMetricsServer } from './metrics/server';
import { OrderTraceLinks, tracedFetch, tracedGraphqlHandler, tracedTransaction, tracedWebhooks, tracingPlugin } from './telemetry/tracing';

export interface AppOptions {
  logger?: Logger;
  /** Extra options for the embedded sandbox (tests: faster webhook retries, a clock tick). */
  sandbox?: Partial<SandboxOptions>;
  /** Where the demo API key file lives (default ./data). */
  dataDir?: string;
  /**
   * OpenTelemetry spans (requests, UCanPay calls, webhooks, transactions). The
   * caller registers the SDK (main.ts from the OTEL_* variables; tests an
   * in-memory exporter); off, nothing is wrapped at all.
   */
  tracing?: boolean;
  /** Redis event bus (REDIS_URL): channel prefix (default `ucanpay-gw:`; tests use one per run) and reconnect delay. */
  redis?: { channelPrefix?: string; reconnectDelayMs?: (attempt: number) => number };
  /** DNS for outbound webhook URLs (tests: answers that change between save and send). */
  webhookResolver?: Resolver;
  /** false: the event log records nothing. Only for `npm run bench` (webhook ingestion with vs without it); default true. */
  eventLog?: boolean;
}

/** A running gateway. `stop()` closes everything it started. */
export interface App {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  /** The offline GraphiQL; absent in production (same switch as Apollo's landing page) or when its dev dependencies are not installed. */
  ideUrl?: string;
  /** Apollo Sandbox (loads from Apollo's CDN: online only); absent when the landing page is off. */
  sandboxIdeUrl?: string;
  production: boolean;
  port: number;
  /** The UCanPay base URL in use (the embedded sandbox's when it runs). */
  ucanpayUrl: string;
  sandbox?: SandboxHandle;
  demo: DemoMerchant;
  services: Services;
  db: Database;
  events: EventBus;
  log: Logger;
  /** Prometheus metrics, when METRICS_PORT is set, and where they are served. */
  metrics?: GatewayMetrics;
  metricsUrl?: string;
  stop(): Promise<void>;
  /**
   * Graceful shutdown (SIGTERM): readiness false at once, no new connections,
   * WebSockets closed with 1001, in-flight requests finished, background loops
   * stopped between items; then everything is stopped. Resolves true when all
   * of it finished within `timeoutMs`, false when the deadline cut it short.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

/** The composition root: used by `npm start`, the tests and the benchmarks. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.logger ?? createLogger(config.logLevel);
  const cleanup: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const fn of cleanup.splice(0).reverse()) {
      await fn().catch((error) => log.error({ err: error }, 'error while stopping'));
    }
  };

  try {
    let sandbox: SandboxHandle | undefined;
    let ucanpayUrl: string;
    if (config.ucanpay.baseUrl) ucanpayUrl = config.ucanpay.baseUrl;
    else {
      sandbox = await createSandbox({
        port: config.ucanpay.sandboxPort,
        host: config.host,
        dbPath: config.ucanpay.sandboxDbPath,
        merchants: [
          {
            merchantId: config.ucanpay.merchantId,
            secretKey: config.ucanpay.secretKey,
            webhookSecret: config.ucanpay.webhookSecret,
            name: 'Demo Shop',
          },
        ],
        logger: log.child({ module: 'sandbox' }),
        ...options.sandbox,
      });
      cleanup.push(() => sandbox!.stop());
      ucanpayUrl = sandbox.url;
    }

    const db = await openDatabase(config.database);
    cleanup.push(() => db.close());
    // REDIS_URL: updates reach the subscribers of every instance; otherwise this process only.
    const redisBus = config.redisUrl
      ? await createRedisEventBus({ url: config.redisUrl, ...options.redis, log: log.child({ module: 'events' }), fanoutBatch: config.limits.fanoutBatch })
      : undefined;
    const events: EventBus = redisBus ?? createInMemoryEventBus({ fanoutBatch: config.limits.fanoutBatch });
    cleanup.push(() => events.close());
    // With Redis, every instance draws mutations from one budget per API key.
    let mutationLimiter: MutationRateLimiter | undefined;
    if (config.redisUrl && redisBus && config.rateLimit.mutationsPerMinute > 0) {
      const redis = await connectRateLimitRedis(config.redisUrl);
      cleanup.push(() =>
        redis.quit().then(
          () => undefined,
          () => redis.disconnect(),
        ),
      );
      mutationLimiter = new MutationRateLimiter(
        new RedisRateLimiter(redis, config.rateLimit.mutationsPerMinute, {
          keyPrefix: `${redisBus.channelPrefix}ratelimit:mutations:`,
          log: log.child({ module: 'rate-limit' }),
        }),
      );
    }

    // Listen first: with port 0 the public URL (webhook notify_url) is only known now.
    let routes: HttpRoutes | undefined;
    const { server, closeAll, connections, drain: httpDrain } = createHttpServer(() => routes, config.limits);
    let draining = false;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          closeAll();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const shownHost = config.host === '0.0.0.0' ? 'localhost' : config.host;
    const url = `http://${shownHost}:${port}`;
    const publicUrl = process.env.PUBLIC_URL ? config.publicUrl : url;

    // Prometheus metrics on their own port (METRICS_PORT), never on the public one.
    const metrics = config.metrics ? new GatewayMetrics() : undefined;
    let metricsUrl: string | undefined;
    if (metrics && config.metrics) {
      db.observer = databaseObserver(metrics);
      const metricsServer = await startMetricsServer(metrics, config.metrics);
      cleanup.push(() => metricsServer.close());
      metricsUrl = metricsServer.url;
    }

    const traceLinks = options.tracing ? new OrderTraceLinks() : undefined;
    if (traceLinks) db.around = tracedTransaction;

    const services = createServices({
      config: { ...config, publicUrl },
      db,
      events,
      log,
      ucanpayBaseUrl: ucanpayUrl,
      onUCanPayAttempt: metrics ? ucanpayAttemptObserver(metrics) : undefined,
      ucanpayFetch: traceLinks ? tracedFetch(traceLinks) : undefined,
      webhookResolver: options.webhookResolver,
      eventLog: options.eventLog,
    });
    const demo = await ensureDemoMerchant(config, services.merchants, options.dataDir ?? path.resolve('data'));

    const schema = await buildGatewaySchema();
    services.webhookDeliveries.shaper = createPayloadShaper(schema, services, log.child({ module: 'webhook-payload' }));
    const production = config.nodeEnv === 'production';
    // Same switch as Apollo's landing page (GRAPHQL_INTROSPECTION, off in production).
    const withIde = config.introspection && ideAvailable();
    const trustedDocuments = TrustedDocuments.load(config.trustedDocuments.policy, config.trustedDocuments.manifests);
    log.info({ policy: trustedDocuments.policy, documents: trustedDocuments.size }, 'trusted documents');
    const apollo = createApollo(schema, {
      production,
      introspection: config.introspection,
      mutationsPerMinute: config.rateLimit.mutationsPerMinute,
      mutationLimiter,
      // Metric labels: the operations the gateway ships and those of the merchants' manifests (others count as `other`).
      plugins: [
        ...(metrics ? [metricsPlugin(metrics, new Set([...shippedOperationNames(), ...trustedDocuments.operationNames()]), outcomeCodes())] : []),
        ...(traceLinks ? [tracingPlugin()] : []),
      ],
    });
    await apollo.start();
    cleanup.push(() => apollo.stop());

    /** The API key or client secret behind an `Authorization` value (header or connectionParams), or null. */
    const principalOf = async (authorization: unknown) => {
      const token = bearerToken(authorization);
      return token ? services.merchants.authenticate(token) : null;
    };
    // live: a subscription's context outlives one result, so its loaders must not cache between pushes.
    const contextFor = async (authorization: unknown, req: IncomingMessage, live = false): Promise<GatewayContext> => {
      const principal = await principalOf(authorization);
      // Over HTTP, inside the request's cause scope (below): what this operation writes names its key.
      setCause(causeOfPrincipal(principal));
      const idem = req.headers['idempotency-key'];
      return gatewayContext({ principal, requestId: requestIdOf(req), idempotencyKey: typeof idem === 'string' ? idem : undefined, services, log }, { live });
    };

    const graphqlHandler = createGraphqlHandler(apollo, (req) => contextFor(req.headers.authorization, req), {
      bodyLimit: config.limits.graphqlBodyBytes,
      variablesDepth: config.limits.variablesDepth,
      variablesBytes: config.limits.variablesBytes,
      trustedDocuments,
    });
    let webhooks: HttpRoutes['webhooks'] = services.webhooks;
    if (metrics) webhooks = instrumentWebhooks(webhooks, metrics);
    if (traceLinks) webhooks = tracedWebhooks(webhooks, traceLinks);

    const graphqlRoute = traceLinks ? tracedGraphqlHandler(graphqlHandler) : graphqlHandler;
    routes = {
      graphql: (req, res, search) => inCauseScope(() => graphqlRoute(req, res, search)),
      webhooks,
      // Ready = migrations done (routes exist only after), the database answers, and Redis does when configured.
      // UCanPay's health does not gate readiness (docs/operations.md).
      ready: async () => {
        if (draining) return false;
        await db.dataSource.query('SELECT 1');
        return redisBus ? redisBus.ping(1000) : true;
      },
      log,
      webhookBodyLimit: config.limits.webhookBodyBytes,
      // The demo key is pre-filled only where the banner may print it: outside production, and only the generated one.
      ide: withIde ? createIde({ apiKey: !production && demo.apiKeyGenerated ? demo.apiKey : undefined }) : undefined,
    };

    const ws = attachGraphqlWs(server, schema, {
      buildContext: (auth, req) => contextFor(auth, req, true),
      production,
      introspection: config.introspection,
      log,
      limits: config.limits,
      principalOf,
      admit: (req) => connections.admit(req),
      trustedDocuments,
    });
    cleanup.push(() => ws.close());
    if (metrics) metrics.live = () => ({ connections: ws.connections, subscriptions: ws.subscriptions.active });

    if (metrics) services.reconciliation.observer = reconciliationObserver(metrics);
    services.reconciliation.start();
    cleanup.push(() => services.reconciliation.stop());
    services.retention.start();
    cleanup.push(() => services.retention.stop());
    services.webhookDeliveries.start();
    cleanup.push(() => services.webhookDeliveries.stop());

    return {
      url,
      graphqlUrl: `${url}/graphql`,
      wsUrl: `ws://${shownHost}:${port}/graphql`,
      ideUrl: withIde ? `${url}${IDE_PATH}` : undefined,
      sandboxIdeUrl: config.introspection ? `${url}/graphql` : undefined,
      production,
      port,
      ucanpayUrl,
      sandbox,
      demo,
      services,
      db,
      events,
      log,
      metrics,
      metricsUrl,
      stop: stopAll,
      async drain(timeoutMs: number): Promise<boolean> {
        if (draining) return false;
        draining = true;
        log.info({ inFlight: httpDrain.inFlight, timeoutMs }, 'draining: not ready, no new connections, finishing in-flight requests');
        httpDrain.begin();
        ws.drain();
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
        const finished = await Promise.race([
          // Background loops stop between items; requests finish (a createPayment that called UCanPay saves its answer).
          Promise.all([httpDrain.idle(), services.reconciliation.stop(), services.retention.stop(), services.webhookDeliveries.stop()]).then(
            () => true as const,
          ),
          deadline,
        ]);
        clearTimeout(timer);
        if (!finished) log.error({ inFlight: httpDrain.inFlight, timeoutMs }, 'drain deadline passed with requests still in flight; stopping anyway');
        else log.info('drained');
        await stopAll();
        return finished;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
