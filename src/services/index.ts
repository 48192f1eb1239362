import type { Config } from '../config';
import type { Database } from '../db/database';
import type { EventBus } from '../events/pubsub';
import type { Logger } from '../logger';
import type { UCanPayAttemptInfo } from '../ucanpay';
import { IdempotencyService } from './idempotency.service';
import { MerchantService } from './merchant.service';
import { PaymentService } from './payment.service';
import { ProviderClients } from './provider';
import { ReconciliationService } from './reconciliation.service';
import { RefundService } from './refund.service';
import { RetentionService } from './retention.service';
import { BillingSubscriptionService } from './billing-subscription.service';
import { WebhookService } from './webhook.service';
import { EventLog } from './event-log';
import { connectOutboundWebhooks, WebhookDeliveryService } from './webhook-delivery';
import { WebhookEndpointService } from './webhook-endpoints.service';
import type { Resolver } from './outbound-url';
import { EVENT_TYPES } from '../domain/event-types';
import { EventService } from './event.service';

/** The service layer, wired once per gateway instance. */
export interface Services {
  merchants: MerchantService;
  payments: PaymentService;
  refunds: RefundService;
  subscriptions: BillingSubscriptionService;
  webhooks: WebhookService;
  reconciliation: ReconciliationService;
  retention: RetentionService;
  /** The durable event log (every applied change; listeners run in the change's transaction). */
  eventLog: EventLog;
  /** Outbound webhooks: the delivery worker and the endpoints' management. */
  webhookDeliveries: WebhookDeliveryService;
  webhookEndpoints: WebhookEndpointService;
  /** The event log over GraphQL: pages, timelines, the eventCreated stream. */
  events: EventService;
}

export function createServices(deps: {
  config: Config;
  db: Database;
  events: EventBus;
  log: Logger;
  ucanpayBaseUrl: string;
  /** After every UCanPay HTTP attempt (metrics). */
  onUCanPayAttempt?: (info: UCanPayAttemptInfo) => void;
  /** The fetch UCanPay clients use (tracing). */
  ucanpayFetch?: typeof fetch;
  /** The gateway's clock (tests move it; default Date.now). */
  now?: () => number;
  /** DNS for webhook URLs (tests: a resolver whose answers change). */
  webhookResolver?: Resolver;
  /** false: nothing is recorded in the event log (bench only: webhook ingestion with vs without it). */
  eventLog?: boolean;
}): Services {
  const { config, db, events, log } = deps;
  const providers = ProviderClients.fromConfig(config, deps.ucanpayBaseUrl, log.child({ module: 'ucanpay' }), {
    onAttempt: deps.onUCanPayAttempt,
    fetch: deps.ucanpayFetch,
  });
  const merchants = new MerchantService(db, config.apiKeyPepper);
  const now = deps.now ?? Date.now;
  const eventLog = new EventLog(db, events, now, deps.eventLog !== false);
  const idempotency = new IdempotencyService(db, { leaseMs: config.idempotency.claimLeaseMs, instanceId: config.idempotency.instanceId, now });
  const payments = new PaymentService(db, providers, events, idempotency, config.publicUrl, log.child({ module: 'payments' }), now);
  const refunds = new RefundService(db, providers, events, idempotency, payments, log.child({ module: 'refunds' }));
  const subscriptions = new BillingSubscriptionService(
    db,
    providers,
    events,
    idempotency,
    (merchantId) => payments.notifyUrl(merchantId),
    log.child({ module: 'subscriptions' }),
  );
  const webhooks = new WebhookService(db, payments, refunds, subscriptions, log.child({ module: 'webhooks' }));
  const reconciliation = new ReconciliationService(
    payments,
    refunds,
    subscriptions,
    idempotency,
    db,
    { ...config.reconcile, now },
    log.child({ module: 'reconcile' }),
  );
  const retention = new RetentionService(
    db,
    {
      intervalMs: config.retention.intervalMs,
      idempotencyKeyRetentionMs: config.retention.idempotencyKeyHours * 3600_000,
      webhookInboxRetentionMs: config.retention.webhookInboxHours * 3600_000,
      batchSize: config.retention.batchSize,
      eventRetentionMs: config.retention.eventDays * 86_400_000,
    },
    log.child({ module: 'retention' }),
  );
  const webhookDeliveries = new WebhookDeliveryService(db, config.webhooks, log.child({ module: 'webhook-delivery' }), { now, resolve: deps.webhookResolver });
  const webhookEndpoints = new WebhookEndpointService(db, webhookDeliveries, EVENT_TYPES, {
    secretGraceMs: config.webhooks.secretGraceMs,
    now,
    resolve: deps.webhookResolver,
    events: eventLog,
  });
  connectOutboundWebhooks(eventLog, webhookDeliveries);
  const eventService = new EventService(eventLog, events, { pollMs: config.events.streamPollMs });
  return {
    merchants,
    payments,
    refunds,
    subscriptions,
    webhooks,
    reconciliation,
    retention,
    eventLog,
    events: eventService,
    webhookDeliveries,
    webhookEndpoints,
  };
}
