import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshRedisPrefix } from '../helpers/databases';
import { killRedisSubscribers } from '../helpers/instances';
import { eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * /health/ready: true only when the database answers and, with REDIS_URL,
 * Redis does; UCanPay being down does not take the gateway out of rotation
 * (it still serves reads, webhooks and subscriptions, and mutations fail
 * with a retryable PROVIDER_UNAVAILABLE).
 */
let gw: TestGateway | undefined;
let redis: { url: string; prefix: string } | undefined;

beforeAll(async () => {
  redis = await freshRedisPrefix('ready');
  if (!redis) return;
  gw = await startGateway(
    { REDIS_URL: redis.url },
    // Reconnects after 2 s, so that "Redis is gone" can be observed in between.
    { redis: { channelPrefix: redis.prefix, reconnectDelayMs: () => 2000 } },
  );
});
afterAll(async () => {
  await gw?.stop();
});

const ready = async () => (await fetch(`${gw!.app.url}/health/ready`, { signal: AbortSignal.timeout(5000) })).status;

describe('readiness', () => {
  it('is ready with the database and Redis up, and stays ready while UCanPay is down', async () => {
    if (!gw) return;
    expect(await ready()).toBe(200);
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { endpoint: '*', status: 503, count: 1000 });
    try {
      expect(await ready()).toBe(200);
    } finally {
      await sandboxCall(gw.sandboxUrl, 'DELETE', '/sandbox/faults');
    }
  });

  it('is not ready while its Redis connection is down, and ready again once it is back', async () => {
    if (!gw || !redis) return;
    const bus = gw.app.events as unknown as { subscriberName: string };
    expect(await killRedisSubscribers(redis.url, bus.subscriberName, { anyType: true })).toBe(1);
    await eventually(async () => (await ready()) === 503);
    expect((await fetch(`${gw.app.url}/health/live`)).status).toBe(200);
    await eventually(async () => (await ready()) === 200, 15_000, 100);
  });
});
