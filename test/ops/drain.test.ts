import http from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument } from '../../src/client/generated/graphql';
import { tempSqlitePath } from '../helpers/databases';
import { eventually, sandboxCall, TEST_API_KEY } from '../helpers/gateway';
import { freePort, startTestSandbox } from '../helpers/external-sandbox';
import { SPAWN_HOOK_TIMEOUT_MS, spawnGateway, type GatewayProcess } from '../helpers/instances';

/**
 * SIGTERM during 50 concurrent createPayment calls, each waiting on a slow
 * UCanPay: readiness turns false at once, WebSocket clients get 1001, every
 * call either completes or gets a retryable error, the process exits 0, and
 * the same-key retries against the restarted gateway give exactly one
 * UCanPay order per key.
 */
let sandbox: Awaited<ReturnType<typeof startTestSandbox>>;
const databaseUrl = `sqlite:${tempSqlitePath('drain')}`;
const started: GatewayProcess[] = [];

beforeAll(async () => {
  sandbox = await startTestSandbox('drain');
}, SPAWN_HOOK_TIMEOUT_MS);

afterAll(async () => {
  await Promise.allSettled(started.map((g) => g.stop()));
  await sandbox?.stopAndClean();
});

async function gateway(name: string, port: number): Promise<GatewayProcess> {
  const g = await spawnGateway(name, {
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    UCANPAY_BASE_URL: sandbox.url,
    INSTANCE_ID: 'drain-1',
    UCANPAY_MAX_ATTEMPTS: '1',
    UCANPAY_TIMEOUT_MS: '10000',
    SHUTDOWN_TIMEOUT_MS: '20000',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
  });
  started.push(g);
  return g;
}

const input = (ref: string) => ({
  input: { amount: 2500, currency: 'USD', description: 'Drain', returnUrl: 'https://shop.example/r', merchantReference: ref, idempotencyKey: `key-${ref}` },
});

async function ordersFor(ref: string): Promise<unknown[]> {
  return (await sandboxCall<{ orders: unknown[] }>(sandbox.url, 'GET', `/sandbox/orders?merchant_id=mch_demo&out_trade_no=${ref}`)).orders;
}

/** GET on a kept-alive connection opened before the drain (new connections are refused by then). */
function getOn(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('SIGTERM drains the gateway', () => {
  it('in-flight createPayment calls finish or fail retryably, WebSockets get 1001, exit 0; same-key retries then give one order each', async () => {
    const port = await freePort();
    const first = await gateway('drain-a', port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect(await getOn(agent, `${first.url}/health/ready`)).toBe(200);

    const socket = new WebSocket(first.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TEST_API_KEY}` } })));
      socket.on('message', (data) => (JSON.parse(String(data)).type === 'connection_ack' ? resolve() : undefined));
      socket.on('error', reject);
    });

    // UCanPay answers each of the next 50 orders after 1.5 s: all 50 calls are in flight when SIGTERM comes.
    await sandboxCall(sandbox.url, 'POST', '/sandbox/faults', { endpoint: 'POST /payment/unifiedorder', latency_ms: 1500, count: 50 });
    const refs = Array.from({ length: 50 }, (_, i) => `DRAIN-${i}`);
    const calls = refs.map((ref) =>
      first.gql(CreatePaymentDocument, input(ref)).then(
        (res) => ({ ref, res }),
        (error: unknown) => ({ ref, network: String(error) }),
      ),
    );
    await eventually(async () => {
      const { requests } = await sandboxCall<{ requests: unknown[] }>(sandbox.url, 'GET', '/sandbox/requests?endpoint=POST%20/payment/unifiedorder');
      return requests.length >= 10;
    }, 20_000);

    const exit = first.terminate(30_000);
    await eventually(async () => (await getOn(agent, `${first.url}/health/ready`).catch(() => 503)) === 503, 5000, 20);
    expect(await closed).toBe(1001);

    const outcomes = await Promise.all(calls);
    expect(await exit).toBe(0);
    for (const outcome of outcomes) {
      if ('network' in outcome) continue; // never answered: the client retries, as after any lost connection
      const { res } = outcome;
      if (res.errors?.length) {
        expect(res.errors[0].extensions, `${outcome.ref}: ${JSON.stringify(res.errors)}`).toMatchObject({ retryable: true });
      } else {
        expect(res.data!.createPayment.__typename).toBe('CreatePaymentPayload');
      }
    }
    // Most of them were in flight and finished, saving UCanPay's answer before the process went.
    expect(outcomes.filter((o) => !('network' in o) && !o.res.errors).length).toBeGreaterThanOrEqual(10);
    agent.destroy();

    const second = await gateway('drain-b', port);
    for (const ref of refs) {
      const retry = await second.gql(CreatePaymentDocument, input(ref));
      expect(retry.errors, `${ref}: ${JSON.stringify(retry.errors)}`).toBeUndefined();
      expect(retry.data!.createPayment.__typename).toBe('CreatePaymentPayload');
    }
    for (const ref of refs) expect(await ordersFor(ref), ref).toHaveLength(1);
  }, 180_000);
});
