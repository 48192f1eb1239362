/**
 * The Redis EventBus against a real Redis (127.0.0.1:6379, a channel prefix
 * per run), and followVersions on top of it. Without Redis (and CI unset)
 * the Redis tests pass with a printed notice; the codec and followVersions
 * tests always run.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentEntity } from '../../src/entities';
import { decodePayload, encodePayload } from '../../src/events/payload-codec';
import { createInMemoryEventBus, type EventBus } from '../../src/events/pubsub';
import { createRedisEventBus, type RedisEventBus } from '../../src/events/redis-event-bus';
import { followVersions, resumeAfter } from '../../src/services/versioned';
import { freshRedisPrefix } from '../helpers/databases';
import { eventually } from '../helpers/gateway';
import { killRedisSubscribers } from '../helpers/instances';

let redis: { url: string; prefix: string } | undefined;
beforeAll(async () => {
  redis = await freshRedisPrefix('event_bus');
});

const buses: EventBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

async function bus(options: { prefix?: string; reconnectMs?: number } = {}): Promise<RedisEventBus> {
  const created = await createRedisEventBus({
    url: redis!.url,
    channelPrefix: options.prefix ?? redis!.prefix,
    reconnectDelayMs: options.reconnectMs === undefined ? undefined : () => options.reconnectMs!,
  });
  buses.push(created);
  return created;
}

function payment(version: number, overrides: Partial<PaymentEntity> = {}): PaymentEntity {
  return {
    id: 'pay_bus',
    merchantId: 'mer_1',
    version,
    status: 'PENDING',
    description: '2024-01-01T00:00:00.000Z',
    metadata: { when: '2024-02-02T00:00:00.000Z' },
    createdAt: new Date('2024-03-03T03:03:03.003Z'),
    updatedAt: new Date(Date.now()),
    paidAt: null,
    syncedAt: null,
    ...overrides,
  } as PaymentEntity;
}

/** A stream's next value, or a failure after `ms`. */
async function nextOf<T>(it: AsyncIterator<T>, ms = 3000): Promise<T> {
  const result = await Promise.race([it.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms))]);
  if (result.done) throw new Error('stream ended');
  return result.value;
}

describe('payload codec', () => {
  it('revives exactly the Date fields, not strings that look like dates', () => {
    const original = payment(3, { paidAt: new Date('2024-04-04T04:04:04.004Z') });
    const decoded = decodePayload(encodePayload(original)) as PaymentEntity;
    expect(decoded.createdAt).toBeInstanceOf(Date);
    expect(decoded.createdAt.getTime()).toBe(original.createdAt.getTime());
    expect(decoded.paidAt).toEqual(original.paidAt);
    expect(decoded.syncedAt).toBeNull();
    expect(decoded.description).toBe('2024-01-01T00:00:00.000Z');
    expect(decoded.metadata).toEqual({ when: '2024-02-02T00:00:00.000Z' });
    const nested = decodePayload(encodePayload({ a: [{ at: new Date(5) }], b: 'x' })) as { a: Array<{ at: Date }> };
    expect(nested.a[0].at).toEqual(new Date(5));
    expect(() => decodePayload('{"not":"an envelope"}')).toThrow();
  });
});

describe('followVersions', () => {
  const load = (record: PaymentEntity | null) => async () => record;
  const notFound = () => new Error('not found');

  it('emits the current state, then newer versions once, in order; drops other merchants and old versions', async () => {
    const events = createInMemoryEventBus();
    const stream = await followVersions(events, 'paymentUpdated', 'pay_bus', load(payment(2)), notFound);
    expect((await nextOf(stream)).version).toBe(2);
    events.publish('paymentUpdated', 'pay_bus', payment(2));
    events.publish('paymentUpdated', 'pay_bus', payment(4, { merchantId: 'mer_other' }));
    events.publish('paymentUpdated', 'pay_bus', payment(3));
    events.publish('paymentUpdated', 'pay_bus', payment(3));
    events.publish('paymentUpdated', 'pay_bus', payment(5));
    events.publish('paymentUpdated', 'pay_bus', payment(4));
    expect((await nextOf(stream)).version).toBe(3);
    expect((await nextOf(stream)).version).toBe(5);
    await stream.return!();
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('sinceVersion skips the current state unless it is newer', async () => {
    const events = createInMemoryEventBus();
    const upToDate = await followVersions(events, 'paymentUpdated', 'pay_bus', load(payment(4)), notFound, { sinceVersion: 4 });
    const behind = await followVersions(events, 'paymentUpdated', 'pay_bus', load(payment(4)), notFound, { sinceVersion: 3 });
    expect((await nextOf(behind)).version).toBe(4);
    events.publish('paymentUpdated', 'pay_bus', payment(5));
    expect((await nextOf(upToDate)).version).toBe(5);
    expect((await nextOf(behind)).version).toBe(5);
    // The resolver-side equivalent.
    const wrapped = await resumeAfter(4, () => followVersions(events, 'paymentUpdated', 'pay_bus', load(payment(4)), notFound));
    const it = wrapped[Symbol.asyncIterator]();
    events.publish('paymentUpdated', 'pay_bus', payment(6));
    expect((await nextOf(it)).version).toBe(6);
    for (const s of [upToDate, behind]) await s.return!();
    await it.return!();
    await expect(resumeAfter(-1, () => followVersions(events, 'paymentUpdated', 'pay_bus', load(payment(4)), notFound))).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });

  it('stops listening when returned, even before the first read; not found stops it too', async () => {
    const listening = new Set<string>();
    const inner = createInMemoryEventBus();
    const counting: EventBus = {
      ...inner,
      async listen(topic, id, listener) {
        const stop = await inner.listen(topic, id, listener);
        const key = `${topic}:${id}:${Math.random()}`;
        listening.add(key);
        return () => {
          listening.delete(key);
          stop();
        };
      },
    };
    const stream = await followVersions(counting, 'paymentUpdated', 'pay_bus', load(payment(1)), notFound);
    expect(listening.size).toBe(1);
    await stream.return!();
    expect(listening.size).toBe(0);
    await expect(followVersions(counting, 'paymentUpdated', 'pay_gone', load(null), notFound)).rejects.toThrow('not found');
    expect(listening.size).toBe(0);
  });

  it('on resync, reloads and emits what it missed', async () => {
    const resyncs = new Set<() => void>();
    const inner = createInMemoryEventBus();
    const events: EventBus = {
      ...inner,
      onResync(listener) {
        resyncs.add(listener);
        return () => void resyncs.delete(listener);
      },
    };
    let current = payment(2);
    const stream = await followVersions(events, 'paymentUpdated', 'pay_bus', async () => current, notFound);
    expect((await nextOf(stream)).version).toBe(2);
    current = payment(4, { status: 'PAID' }); // versions 3 and 4 were published while we heard nothing
    resyncs.forEach((fn) => fn());
    expect(await nextOf(stream)).toMatchObject({ version: 4, status: 'PAID' });
    resyncs.forEach((fn) => fn()); // nothing new: nothing emitted
    inner.publish('paymentUpdated', 'pay_bus', payment(5));
    expect((await nextOf(stream)).version).toBe(5);
    await stream.return!();
    expect(resyncs.size).toBe(0);
  });
});

describe('Redis event bus', () => {
  it('carries an entity between two buses (two instances) with its Dates revived', async () => {
    if (!redis) return;
    const [a, b] = [await bus(), await bus()];
    const received: PaymentEntity[] = [];
    const stop = await b.listen('paymentUpdated', 'pay_bus', (p) => received.push(p));
    // listen() resolved: the SUBSCRIBE is in effect, so an immediate publish is not missed.
    a.publish('paymentUpdated', 'pay_bus', payment(7, { paidAt: new Date('2024-05-05T05:05:05.005Z') }));
    await eventually(async () => received.length === 1, 3000);
    expect(received[0].paidAt).toEqual(new Date('2024-05-05T05:05:05.005Z'));
    expect(received[0].createdAt).toBeInstanceOf(Date);
    expect(received[0].version).toBe(7);
    stop();
    a.publish('paymentUpdated', 'pay_bus', payment(8));
    await new Promise((r) => setTimeout(r, 150));
    expect(received).toHaveLength(1);
  });

  it('another channel prefix (deployment, test run) hears nothing', async () => {
    if (!redis) return;
    const mine = await bus();
    const other = await bus({ prefix: `${redis.prefix}other:` });
    const heard: unknown[] = [];
    await other.listen('paymentUpdated', 'pay_bus', (p) => heard.push(p));
    const own: unknown[] = [];
    await mine.listen('paymentUpdated', 'pay_bus', (p) => own.push(p));
    mine.publish('paymentUpdated', 'pay_bus', payment(1));
    await eventually(async () => own.length === 1, 3000);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual([]);
  });

  it('a killed subscriber connection reconnects, resubscribes and tells followers to resync', async () => {
    if (!redis) return;
    const publisher = await bus();
    const subscriber = await bus({ reconnectMs: 300 });
    const heard: number[] = [];
    await subscriber.listen('paymentUpdated', 'pay_bus', (p) => heard.push(p.version));
    let resynced = 0;
    subscriber.onResync(() => resynced++);
    expect(await killRedisSubscribers(redis.url, subscriber.subscriberName)).toBe(1);
    publisher.publish('paymentUpdated', 'pay_bus', payment(2)); // lost: nobody is subscribed right now
    await eventually(async () => resynced === 1, 5000);
    expect(subscriber.resyncs).toBe(1);
    // Resync comes after the channels are subscribed again: what follows is heard.
    publisher.publish('paymentUpdated', 'pay_bus', payment(3));
    await eventually(async () => heard.includes(3), 3000);
    expect(heard).not.toContain(2);
  });

  it('followVersions over Redis converges after the subscriber connection drops', async () => {
    if (!redis) return;
    const publisher = await bus();
    const subscriber = await bus({ reconnectMs: 400 });
    let stored = payment(2);
    const streams = await Promise.all(
      [0, 1, 2].map(() =>
        followVersions(
          subscriber,
          'paymentUpdated',
          'pay_bus',
          async () => stored,
          () => new Error('not found'),
        ),
      ),
    );
    for (const s of streams) expect((await nextOf(s)).version).toBe(2);
    await killRedisSubscribers(redis.url, subscriber.subscriberName);
    for (const version of [3, 4, 5]) {
      stored = payment(version, { status: version === 5 ? 'PAID' : 'PENDING' });
      publisher.publish('paymentUpdated', 'pay_bus', stored);
    }
    for (const s of streams) expect(await nextOf(s, 5000)).toMatchObject({ version: 5, status: 'PAID' });
    await Promise.all(streams.map((s) => s.return!()));
  });

  it('closing releases both connections; an unreachable Redis fails the start with a clear message', async () => {
    if (!redis) return;
    const b = await bus();
    await b.listen('paymentUpdated', 'pay_bus', () => undefined);
    await b.close();
    expect(await killRedisSubscribers(redis.url, b.subscriberName)).toBe(0);
    await expect(createRedisEventBus({ url: 'redis://127.0.0.1:1', reconnectDelayMs: () => 50 })).rejects.toThrow(
      /REDIS_URL redis:\/\/127\.0\.0\.1:1.* is not reachable/,
    );
  });
});

afterAll(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});
