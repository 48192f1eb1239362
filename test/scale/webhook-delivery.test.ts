/**
 * Outbound webhooks with two gateway processes on one PostgreSQL schema and
 * one Redis: 200 events recorded on both, one receiver. Each event is
 * delivered, and no delivery is ever attempted by both instances at once
 * (the receiver records each request's start and end; the attempts of one
 * webhook-id never overlap), retries included. Without PostgreSQL or Redis
 * (and CI unset) the test passes with a printed notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, CreateWebhookEndpointDocument, WebhookDeliveriesDocument } from '../../src/client/generated/graphql';
import { scaleOutServices } from '../helpers/databases';
import { eventually } from '../helpers/gateway';
import { startTestSandbox } from '../helpers/external-sandbox';
import { SPAWN_HOOK_TIMEOUT_MS, spawnGateway, type GatewayProcess } from '../helpers/instances';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver';

const EVENTS = 200;
type Services = NonNullable<Awaited<ReturnType<typeof scaleOutServices>>>;
let services: Services | undefined;
let sandbox: Awaited<ReturnType<typeof startTestSandbox>> | undefined;
let receiver: WebhookReceiver;
let a: GatewayProcess;
let b: GatewayProcess;

beforeAll(async () => {
  services = await scaleOutServices('webhook_delivery');
  if (!services) return;
  sandbox = await startTestSandbox('webhook-delivery-scale');
  receiver = await startWebhookReceiver();
  const env = {
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    UCANPAY_BASE_URL: sandbox.url,
    TEST_REDIS_CHANNEL_PREFIX: services.channelPrefix,
    // Both instances look for due deliveries often, so they race for the same rows.
    WEBHOOK_POLL_INTERVAL_MS: '50',
    WEBHOOK_RETRY_BASE_MS: '50',
    WEBHOOK_CONCURRENCY: '8',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
  };
  a = await spawnGateway('WA', env);
  b = await spawnGateway('WB', env);
}, SPAWN_HOOK_TIMEOUT_MS);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await receiver?.stop();
  await sandbox?.stopAndClean();
  await services?.drop();
});

describe('outbound webhooks on two instances (PostgreSQL + Redis)', () => {
  it(
    `${EVENTS} events, one receiver: each delivered, never attempted by both instances at once`,
    async () => {
      if (!services) return;
      const created = await a.gql(CreateWebhookEndpointDocument, { input: { url: receiver.url, eventTypes: ['PAYMENT_CREATED'] } });
      const secret = created.data!.createWebhookEndpoint.secret;
      // A little slow, and the first attempt of every 4th event fails: the retries are claimed by either instance.
      const firstSeen = new Set<string>();
      receiver.respond = async (req) => {
        await new Promise((resolve) => setTimeout(resolve, 15));
        const retried = Number.parseInt(req.id.slice(-2), 36) % 4 === 0 && !firstSeen.has(req.id);
        firstSeen.add(req.id);
        return retried ? 503 : 200;
      };
      const paymentIds: string[] = [];
      for (let batch = 0; batch < EVENTS / 10; batch++) {
        const made = await Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            const on = i % 2 ? b : a;
            const res = await on.gql(CreatePaymentDocument, {
              input: { amount: 100 + batch, currency: 'USD', description: `two ${batch}-${i}`, returnUrl: 'https://shop.example/r' },
            });
            const payment = res.data?.createPayment;
            if (payment?.__typename !== 'CreatePaymentPayload') throw new Error(`${JSON.stringify(res)}\n${on.logs()}`);
            return payment.payment.id;
          }),
        );
        paymentIds.push(...made);
      }
      await eventually(
        async () => {
          const ok = new Set(receiver.received.filter((r) => r.answered === 200).map((r) => r.json.objectId));
          return paymentIds.every((id) => ok.has(id));
        },
        90_000,
        200,
      );

      const byId = new Map<string, ReceivedWebhook[]>();
      for (const r of receiver.received) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
      expect(byId.size).toBe(EVENTS);
      let retried = 0;
      for (const [, attempts] of byId) {
        attempts.sort((x, y) => x.startedAt - y.startedAt);
        for (let i = 1; i < attempts.length; i++) expect(attempts[i].startedAt).toBeGreaterThanOrEqual(attempts[i - 1].endedAt);
        if (attempts.length > 1) retried++;
        expect(receiver.verify(attempts[attempts.length - 1], secret)).toMatchObject({ type: 'payment.created' });
      }
      expect(retried).toBeGreaterThan(10);
      // The log agrees: every delivery SUCCEEDED, its attempts as many as the receiver saw.
      const log = [];
      let after: string | null | undefined;
      do {
        const page = (await b.gql(WebhookDeliveriesDocument, { first: 100, after })).data!.webhookDeliveries;
        log.push(...page.edges.map((e) => e.node));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      expect(log).toHaveLength(EVENTS);
      for (const d of log) {
        expect(d.status).toBe('SUCCEEDED');
        expect(d.attemptCount).toBe(byId.get(d.eventId)!.length);
      }
    },
    SPAWN_HOOK_TIMEOUT_MS,
  );
});
