import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument } from '../../src/client/generated/graphql';
import { tempSqlitePath } from '../helpers/databases';
import { eventually, sandboxCall } from '../helpers/gateway';
import { freePort, startTestSandbox } from '../helpers/external-sandbox';
import { SPAWN_HOOK_TIMEOUT_MS, spawnGateway, type GatewayProcess } from '../helpers/instances';

/**
 * A gateway killed (kill -9) while UCanPay is creating an order leaves its
 * idempotency claim behind. Restarted under the same INSTANCE_ID it knows the
 * claim died with its earlier boot: the same-key retry resumes at once (no
 * IDEMPOTENCY_KEY_IN_USE for the rest of the lease) and, sending the same
 * UCanPay Idempotency-Key, adopts the one order. Another instance still
 * waits the lease out: it cannot know the holder is dead.
 */
let sandbox: Awaited<ReturnType<typeof startTestSandbox>>;
const databaseUrl = `sqlite:${tempSqlitePath('crash-claims')}`;
const started: GatewayProcess[] = [];

beforeAll(async () => {
  sandbox = await startTestSandbox('crash-claims');
}, SPAWN_HOOK_TIMEOUT_MS);

afterAll(async () => {
  await Promise.allSettled(started.map((g) => g.stop()));
  await sandbox?.stopAndClean();
});

async function gateway(name: string, instanceId: string, port: number): Promise<GatewayProcess> {
  const g = await spawnGateway(name, {
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    UCANPAY_BASE_URL: sandbox.url,
    INSTANCE_ID: instanceId,
    UCANPAY_MAX_ATTEMPTS: '1',
    UCANPAY_TIMEOUT_MS: '10000',
    // Far longer than any restart here: whatever resumes a claim below does so because the claim is known dead, not because it lapsed.
    IDEMPOTENCY_CLAIM_LEASE_MS: '600000',
  });
  started.push(g);
  return g;
}

const input = (ref: string) => ({
  input: {
    amount: 3100,
    currency: 'USD',
    description: 'Crash claims',
    returnUrl: 'https://shop.example/r',
    merchantReference: ref,
    idempotencyKey: `key-${ref}`,
  },
});

async function ordersFor(ref: string): Promise<Array<{ order_id: string }>> {
  return (await sandboxCall<{ orders: Array<{ order_id: string }> }>(sandbox.url, 'GET', `/sandbox/orders?merchant_id=mch_demo&out_trade_no=${ref}`)).orders;
}

/** createPayment on `g` reaches UCanPay, which creates the order and holds its answer; then `g` is killed. */
async function crashMidCall(g: GatewayProcess, ref: string): Promise<void> {
  await sandboxCall(sandbox.url, 'POST', '/sandbox/faults', { endpoint: 'POST /payment/unifiedorder', latency_ms: 8000, when: 'after' });
  const pending = g.gql(CreatePaymentDocument, input(ref)).catch(() => undefined); // its connection dies with it
  await eventually(async () => (await ordersFor(ref)).length === 1, 20_000);
  await g.crash();
  await pending;
  await sandboxCall(sandbox.url, 'DELETE', '/sandbox/faults');
}

describe('claims of a killed instance', () => {
  it(
    'the restarted instance resumes its own dead claim at once: the same-key retry adopts the one order',
    async () => {
      const port = await freePort();
      const first = await gateway('A1', 'gw-crash-a', port);
      await crashMidCall(first, 'CRASH-1');
      const restarted = await gateway('A2', 'gw-crash-a', port);

      const retry = await restarted.gql(CreatePaymentDocument, input('CRASH-1'));
      const result = retry.data?.createPayment;
      if (result?.__typename !== 'CreatePaymentPayload') throw new Error(`${JSON.stringify(retry)}\n${restarted.logs()}`);
      const orders = await ordersFor('CRASH-1');
      expect(orders).toHaveLength(1);
      expect(result.payment).toMatchObject({ status: 'PENDING', providerOrderId: orders[0].order_id });
      expect(result.payment.checkoutUrl).toBeTruthy();
      // Both calls sent the same UCanPay Idempotency-Key (the payment id): one order, however many attempts.
      const { requests } = await sandboxCall<{ requests: Array<{ idempotency_key: string }> }>(
        sandbox.url,
        'GET',
        `/sandbox/requests?endpoint=${encodeURIComponent('POST /payment/unifiedorder')}`,
      );
      expect(new Set(requests.map((r) => r.idempotency_key))).toEqual(new Set([result.payment.id]));
      await restarted.crash();
    },
    SPAWN_HOOK_TIMEOUT_MS,
  );

  it(
    'another instance cannot tell the holder is dead: it keeps answering IDEMPOTENCY_KEY_IN_USE during the lease',
    async () => {
      const port = await freePort();
      const holder = await gateway('B1', 'gw-crash-b', port);
      await crashMidCall(holder, 'CRASH-2');
      const other = await gateway('C1', 'gw-crash-c', port);
      const retry = await other.gql(CreatePaymentDocument, input('CRASH-2'));
      expect(retry.errors?.[0].extensions).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE', retryable: true });
      expect(await ordersFor('CRASH-2')).toHaveLength(1);
    },
    SPAWN_HOOK_TIMEOUT_MS,
  );
});
