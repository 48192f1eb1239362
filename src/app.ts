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
import { ensureDemoMerchant } from './seed';
import { buildGatewaySchema } from './api/schema';
import { createApollo } from './api/apollo';
import { bearerToken, type GatewayContext } from './api/context';
import { createLoaders, type Loaders } from './api/loaders';
import { createGraphqlHandler } from './http/graphql-handler';
import { createHttpServer, type HttpRoutes } from './http/server';
import { attachGraphqlWs } from './http/websocket';
import { requestIdOf } from './http/request-id';
import { GRAPHQL_LIMITS } from './http/graphql-limits';
import { createSandbox, type SandboxHandle, type SandboxOptions } from './sandbox';
import { connectRateLimitRedis, MutationRateLimiter, RedisRateLimiter } from './services/rate-limit';

export interface AppOptions {
  logger?: Logger;
  /** Extra options for the embedded sandbox (tests: faster webhook retries, a clock tick). */
  sandbox?: Partial<SandboxOptions>;
  /** Where the demo API key file lives (default ./data). */
  dataDir?: string;
  /** Redis event bus (REDIS_URL): channel prefix (default `ucanpay-gw:`; tests use one per run) and reconnect delay. */
  redis?: { channelPrefix?: string; reconnectDelayMs?: (attempt: number) => number };
}

/** A running gateway. `stop()` closes everything it started. */
export interface App {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  port: number;
  /** The UCanPay base URL in use (the embedded sandbox's when it runs). */
  ucanpayUrl: string;
  sandbox?: SandboxHandle;
  demo: { merchantId: string; apiKey?: string };
  services: Services;
  db: Database;
  events: EventBus;
  log: Logger;
  stop(): Promise<void>;
}

const GRAPHQL_BODY_LIMIT = GRAPHQL_LIMITS.bodyBytes;
const WEBHOOK_BODY_LIMIT = 256 * 1024;

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
      ? await createRedisEventBus({ url: config.redisUrl, ...options.redis, log: log.child({ module: 'events' }) })
      : undefined;
    const events: EventBus = redisBus ?? createInMemoryEventBus();
    cleanup.push(() => events.close());
    // With Redis, every instance draws mutations from one budget per API key.
    let mutationLimiter: MutationRateLimiter | undefined;
    if (config.redisUrl && redisBus && config.rateLimit.mutationsPerMinute > 0) {
      const redis = await connectRateLimitRedis(config.redisUrl);
      cleanup.push(() => redis.quit().then(() => undefined, () => redis.disconnect()));
      mutationLimiter = new MutationRateLimiter(
        new RedisRateLimiter(redis, config.rateLimit.mutationsPerMinute, {
          keyPrefix: `${redisBus.channelPrefix}ratelimit:mutations:`,
          log: log.child({ module: 'rate-limit' }),
        }),
      );
    }

    // Listen first: with port 0 the public URL (webhook notify_url) is only known now.
    let routes: HttpRoutes | undefined;
    const { server, closeAll } = createHttpServer(() => routes);
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

    const services = createServices({ config: { ...config, publicUrl }, db, events, log, ucanpayBaseUrl: ucanpayUrl });
    const demo = await ensureDemoMerchant(config, services.merchants, options.dataDir ?? path.resolve('data'));

    const schema = await buildGatewaySchema();
    const production = config.nodeEnv === 'production';
    const apollo = createApollo(schema, {
      production,
      introspection: config.introspection,
      mutationsPerMinute: config.rateLimit.mutationsPerMinute,
      mutationLimiter,
    });
    await apollo.start();
    cleanup.push(() => apollo.stop());

    // live: a subscription's context outlives one result, so its loaders must not cache between pushes.
    const contextFor = async (authorization: unknown, req: IncomingMessage, live = false): Promise<GatewayContext> => {
      const token = bearerToken(authorization);
      const principal = token ? await services.merchants.authenticate(token) : null;
      const requestId = requestIdOf(req);
      const idem = req.headers['idempotency-key'];
      // Made when first used: most requests need neither the loaders nor a log line of their own.
      let loaders: Loaders | undefined;
      let requestLog: Logger | undefined;
      return {
        principal,
        requestId,
        idempotencyKey: typeof idem === 'string' ? idem : undefined,
        services,
        get loaders() {
          return (loaders ??= createLoaders(services, principal, { cache: !live }));
        },
        get log() {
          return (requestLog ??= log.child({ requestId }));
        },
      };
    };

    routes = {
      graphql: createGraphqlHandler(apollo, (req) => contextFor(req.headers.authorization, req), { bodyLimit: GRAPHQL_BODY_LIMIT }),
      webhooks: services.webhooks,
      ready: async () => {
        await db.dataSource.query('SELECT 1');
        return true;
      },
      log,
      webhookBodyLimit: WEBHOOK_BODY_LIMIT,
    };

    const ws = attachGraphqlWs(server, schema, { buildContext: (auth, req) => contextFor(auth, req, true), production, log });
    cleanup.push(() => ws.close());

    services.reconciliation.start();
    cleanup.push(() => services.reconciliation.stop());
    services.retention.start();
    cleanup.push(() => services.retention.stop());

    return {
      url,
      graphqlUrl: `${url}/graphql`,
      wsUrl: `ws://${shownHost}:${port}/graphql`,
      port,
      ucanpayUrl,
      sandbox,
      demo,
      services,
      db,
      events,
      log,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
