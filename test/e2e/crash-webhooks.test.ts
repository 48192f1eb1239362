import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, CreateWebhookEndpointDocument, WebhookDeliveriesDocument } from '../../src/client/generated/graphql';
import { INTERRUPTED } from '../../src/services/webhook-delivery';
import { tempSqlitePath } from '../helpers/databases';
import { eventually } from '../helpers/gateway';
import { freePort, startTestSandbox } from '../helpers/external-sandbox';
import { SPAWN_HOOK_TIMEOUT_MS, spawnGateway, type GatewayProcess } from '../helpers/instances';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * kill -9 with webhook deliveries pending — two of them in flight at a
 * receiver that does not answer, the rest waiting their turn — loses none:
 * they are rows. After the restart the leases of the cut attempts lapse and
 * every event goes out; the log shows each attempt, the cut ones as attempts
 * without an outcome.
 */
let sandbox: Awaited<ReturnType<typeof startTestSandbox>>;
let receiver: WebhookReceiver;
const databaseUrl = `sqlite:${tempSqlitePath('crash-webhooks')}`;
const started: GatewayProcess[] = [];
let release: () => void = () => undefined;

beforeAll(async () => {
  sandbox = await startTestSandbox('crash-webhooks');
  receiver = await startWebhookReceiver();
}, SPAWN_HOOK_TIMEOUT_MS);

afterAll(async () => {
  release();
  await Promise.allSettled(started.map((g) => g.stop()));
  await receiver?.stop();
  await sandbox?.stopAndClean();
});

async function gateway(name: string, port: number): Promise<GatewayProcess> {
  const g = await spawnGateway(name, {
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    UCANPAY_BASE_URL: sandbox.url,
    WEBHOOK_CONCURRENCY: '2',
    // Lease = timeout + 2 s: the cut attempts are due again 4 s after they were claimed.
    WEBHOOK_DELIVERY_TIMEOUT_MS: '2000',
    WEBHOOK_RETRY_BASE_MS: '200',
    WEBHOOK_POLL_INTERVAL_MS: '500',
  });
  started.push(g);
  return g;
}

describe('webhook deliveries across a kill -9', () => {
  it(
    'every event is delivered at least once after the restart; the log shows each attempt',
    async () => {
      const port = await freePort();
      const first = await gateway('W1', port);
      const created = await first.gql(CreateWebhookEndpointDocument, { input: { url: receiver.url, eventTypes: ['PAYMENT_CREATED'] } });
      const secret = created.data!.createWebhookEndpoint.secret;
      const hang = new Promise<void>((resolve) => (release = resolve));
      receiver.respond = async () => {
        await hang;
        return 200;
      };
      const paymentIds: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await first.gql(CreatePaymentDocument, {
          input: { amount: 700 + i, currency: 'USD', description: `crash ${i}`, returnUrl: 'https://shop.example/r' },
        });
        const payment = res.data?.createPayment;
        if (payment?.__typename !== 'CreatePaymentPayload') throw new Error(`${JSON.stringify(res)}\n${first.logs()}`);
        paymentIds.push(payment.payment.id);
      }
      // Two attempts are at the receiver, unanswered; four deliveries wait for a free slot.
      await eventually(async () => receiver.started.length === 2, 15_000);
      await first.crash();
      const cut = receiver.started.map((r) => r.id);
      receiver.respond = () => 200;
      release();

      const restarted = await gateway('W2', port);
      const deliveries = await eventually(async () => {
        const res = await restarted.gql(WebhookDeliveriesDocument, { first: 100 });
        const nodes = res.data!.webhookDeliveries.edges.map((e) => e.node);
        return nodes.length === 6 && nodes.every((d) => d.status === 'SUCCEEDED') ? nodes : null;
      }, 30_000);

      for (const paymentId of paymentIds) {
        const got = receiver.received.filter((r) => r.json.objectId === paymentId && r.answered === 200);
        expect(got.length).toBeGreaterThanOrEqual(1);
        expect(receiver.verify(got[got.length - 1], secret)).toMatchObject({ type: 'payment.created', objectId: paymentId });
      }
      for (const d of deliveries) {
        expect(d.attempts).toHaveLength(d.attemptCount);
        expect(d.attempts[d.attempts.length - 1]).toMatchObject({ httpStatus: 200, error: null });
        if (cut.includes(d.eventId)) expect(d.attempts[0]).toMatchObject({ httpStatus: null, error: INTERRUPTED });
        else expect(d.attempts).toHaveLength(1);
      }
      expect(deliveries.filter((d) => cut.includes(d.eventId))).toHaveLength(2);
    },
    SPAWN_HOOK_TIMEOUT_MS,
  );
});
