import { RedisPubSub } from 'graphql-redis-subscriptions';
import Redis from 'ioredis';
import { FanOut } from './fan-out';
import { DEFAULT_FANOUT_BATCH, type EventBus, type Topics } from './pubsub';
import { decodePayload, encodePayload } from './payload-codec';

export interface RedisEventBusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RedisEventBusOptions {
  /** redis:// or rediss:// URL (REDIS_URL). */
  url: string;
  /**
   * Starts every channel name. Gateways that should hear each other use the
   * same prefix; other deployments (or test runs) on the same Redis use
   * another one and never see these events. Default `ucanpay-gw:`.
   */
  channelPrefix?: string;
  /** Delay before reconnect attempt `n` (1, 2, …) in ms. Default min(100 × n, 2000). */
  reconnectDelayMs?: (attempt: number) => number;
  log?: RedisEventBusLogger;
  /** Listener calls per turn of the event loop (see FanOut). Default 100. */
  fanoutBatch?: number;
}

/** The Redis bus, with what tests and operators may look at. */
export interface RedisEventBus extends EventBus {
  readonly channelPrefix: string;
  /** CLIENT SETNAME of the subscriber connection (find it in CLIENT LIST). */
  readonly subscriberName: string;
  /** How many times the subscriber came back after a drop and followers were told to resync. */
  readonly resyncs: number;
  /** Readiness: true when both connections answer a PING within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
}

const DEFAULT_PREFIX = 'ucanpay-gw:';
let busCount = 0;
const silent: RedisEventBusLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The EventBus over Redis pub/sub (graphql-redis-subscriptions on two ioredis
 * connections: one publishes, one subscribes). Every instance subscribes to
 * the channels its own subscribers follow, so an update committed on any
 * instance reaches the subscribers on all of them.
 *
 * Pub/sub is at most once. While the subscriber connection is down, messages
 * published to it are gone; ioredis reconnects and re-subscribes on its own,
 * and once the re-subscription is confirmed every `onResync` listener runs so
 * followers reload from the database. A publish made while the *publisher*
 * connection is down waits in ioredis's offline queue and is sent on
 * reconnect; if Redis itself was down, the subscriber connections dropped too
 * and resync covers what was lost.
 *
 * Payloads are entity objects: their `Date` fields are carried explicitly
 * (see payload-codec.ts) and revived as `Date`s on the other side.
 *
 * Resolves once both connections are up; an unreachable Redis fails the start.
 */
export async function createRedisEventBus(options: RedisEventBusOptions): Promise<RedisEventBus> {
  const prefix = options.channelPrefix ?? DEFAULT_PREFIX;
  const log = options.log ?? silent;
  const where = redactUrl(options.url);
  // Named per instance so an operator (or a test) can tell them apart in CLIENT LIST.
  const instance = `${process.pid}.${++busCount}`;
  const subscriberName = `${prefix}subscriber:${instance}`.replace(/\s/g, '_');
  const common = {
    lazyConnect: true,
    retryStrategy: (attempt: number) => (options.reconnectDelayMs ?? ((n: number) => Math.min(100 * n, 2000)))(attempt),
  };
  const publisher = new Redis(options.url, { ...common, connectionName: `${prefix}publisher:${instance}`.replace(/\s/g, '_') });
  const subscriber = new Redis(options.url, { ...common, connectionName: subscriberName });
  // graphql-redis-subscriptions fires UNSUBSCRIBE without handling its promise;
  // while Redis is down (or after close) that rejects, which must not become an
  // unhandled rejection that ends the process.
  for (const method of ['unsubscribe', 'punsubscribe'] as const) {
    const original = subscriber[method].bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
    (subscriber as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const result = original(...args);
      result.catch(() => undefined);
      return result;
    };
  }

  let closing = false;
  let everReady = false;
  let lost = false;
  let resyncs = 0;
  const resyncListeners = new Set<() => void>();
  const errorLogged = new WeakSet<Redis>();

  for (const [name, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (error: Error) => {
      // ioredis emits one per failed reconnect attempt: log the first of each outage.
      if (closing || errorLogged.has(client)) return;
      errorLogged.add(client);
      log.warn({ redis: where, connection: name, err: error.message }, 'redis connection error');
    });
    client.on('ready', () => errorLogged.delete(client));
  }

  subscriber.on('close', () => {
    if (closing || !everReady || lost) return;
    lost = true;
    log.warn({ redis: where }, 'redis subscriber connection lost: subscribers resync when it is back');
  });
  subscriber.on('ready', () => {
    if (!everReady) {
      everReady = true;
      return;
    }
    if (!lost || closing) return;
    lost = false;
    // 'ready' is emitted after ioredis re-sent SUBSCRIBE for every channel; a
    // PING behind them answers once all of them are in effect. Only then can a
    // reload from the database not miss a change published in between.
    subscriber.ping().then(
      () => {
        if (closing) return;
        resyncs++;
        log.info({ redis: where, followers: resyncListeners.size }, 'redis subscriber back: followers resync from the database');
        for (const listener of [...resyncListeners]) {
          try {
            listener();
          } catch (error) {
            log.error({ err: (error as Error).message }, 'resync listener failed');
          }
        }
      },
      () => {
        // Dropped again before the PING answered; the next 'ready' retries.
        lost = true;
      },
    );
  });

  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (error) {
    closing = true;
    publisher.disconnect();
    subscriber.disconnect();
    throw new Error(`REDIS_URL ${where} is not reachable: ${(error as Error).message}`);
  }
  log.info({ redis: where, channelPrefix: prefix }, 'events over redis pub/sub');

  const fanOut = new FanOut(options.fanoutBatch ?? DEFAULT_FANOUT_BATCH);
  const pubsub = new RedisPubSub({ publisher, subscriber, serializer: encodePayload, deserializer: (raw) => decodePayload(raw) });
  const channel = (topic: string, id: string) => `${prefix}${topic}:${id}`;

  return {
    channelPrefix: prefix,
    subscriberName,
    get resyncs() {
      return resyncs;
    },
    publish<T extends keyof Topics>(topic: T, id: string, payload: Topics[T]) {
      if (closing) return;
      pubsub.publish(channel(topic, id), payload).catch((error: Error) => {
        log.error({ redis: where, topic, id, err: error.message }, 'could not publish an update; subscribers catch up on their next resync or change');
      });
    },
    async listen<T extends keyof Topics>(topic: T, id: string, listener: (payload: Topics[T]) => void) {
      const subId = await pubsub.subscribe(channel(topic, id), (payload: unknown) => {
        if (payload && typeof payload === 'object') fanOut.schedule(() => listener(payload as Topics[T]));
      });
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        try {
          pubsub.unsubscribe(subId);
        } catch {
          // Already gone (closed bus).
        }
      };
    },
    async ping(timeoutMs = 1000) {
      if (closing) return false;
      const answer = (client: Redis) =>
        client.status !== 'ready'
          ? Promise.resolve(false)
          : Promise.race([
              client.ping().then(
                () => true,
                () => false,
              ),
              new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
            ]);
      const [p, s] = await Promise.all([answer(publisher), answer(subscriber)]);
      return p && s;
    },
    onResync(listener) {
      resyncListeners.add(listener);
      return () => void resyncListeners.delete(listener);
    },
    async close() {
      if (closing) return;
      closing = true;
      resyncListeners.clear();
      await Promise.all(
        [publisher, subscriber].map((client) =>
          client.status === 'ready' ? client.quit().catch(() => client.disconnect()) : Promise.resolve(client.disconnect()),
        ),
      );
    },
  };
}

/** The URL without its password, for logs and errors. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://(unparsable)';
  }
}
