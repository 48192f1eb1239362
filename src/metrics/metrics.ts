import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The gateway's Prometheus metrics (prom-client), one registry per app so
 * that several gateways in one process (the tests) never mix their numbers.
 *
 * Every label set is bounded: endpoints, outcome codes, operation types and
 * the operation names the gateway knows (everything else is `other`). Never
 * an id, a key or free text as a label. docs/operations.md lists them all.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly graphqlOperations = new Counter({
    name: 'gateway_graphql_operations_total',
    help: 'GraphQL operations answered, by type, known operation name (else "other") and outcome (ok, a typed result code, or the thrown extensions.code).',
    labelNames: ['type', 'name', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly graphqlDuration = new Histogram({
    name: 'gateway_graphql_operation_duration_seconds',
    help: 'Time from request start to response, by operation type and known operation name.',
    labelNames: ['type', 'name'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly ucanpayCalls = new Counter({
    name: 'gateway_ucanpay_calls_total',
    help: "UCanPay calls (after the client's retries), by endpoint and outcome (ok or the UCanPay/client error code).",
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly ucanpayAttemptDuration = new Histogram({
    name: 'gateway_ucanpay_attempt_duration_seconds',
    help: 'Duration of each HTTP attempt to UCanPay, by endpoint and outcome.',
    labelNames: ['endpoint', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly ucanpayRetries = new Counter({
    name: 'gateway_ucanpay_retries_total',
    help: 'Attempts the UCanPay client retried, by endpoint and the error that caused the retry.',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly ucanpayLastCallOk = new Gauge({
    name: 'gateway_ucanpay_last_call_ok',
    help: '1 when the last call to this UCanPay endpoint succeeded, 0 when it failed.',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly webhooksReceived = new Counter({
    name: 'gateway_ucanpay_webhooks_received_total',
    help: 'UCanPay webhook deliveries, by outcome (applied, unchanged, duplicate, stale, mismatch, ignored, contradicted, bad_signature, bad_request, unknown_merchant, error).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookLag = new Histogram({
    name: 'gateway_ucanpay_webhook_lag_seconds',
    help: "From the event's `created` at UCanPay to the gateway having applied it (applied outcomes only).",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly reconciliationChecked = new Counter({
    name: 'gateway_reconciliation_checked_total',
    help: 'Objects reconciliation asked UCanPay about, by kind (payment, refund, subscription).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly reconciliationRepaired = new Counter({
    name: 'gateway_reconciliation_repaired_total',
    help: 'Objects reconciliation changed (a lost webhook repaired), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly reconciliationDue = new Gauge({
    name: 'gateway_reconciliation_due',
    help: 'Objects due for reconciliation at the last pass, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly reconciliationOldestOverdue = new Gauge({
    name: 'gateway_reconciliation_oldest_overdue_seconds',
    help: 'Age of the oldest object overdue for reconciliation at the last pass (0 when none), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** Read at each scrape (set by the app once graphql-ws is up). */
  live?: () => { connections: number; subscriptions: number };

  readonly wsConnections: Gauge = new Gauge({
    name: 'gateway_websocket_connections',
    help: 'Open graphql-ws connections.',
    registers: [this.registry],
    collect: () => {
      if (this.live) this.wsConnections.set(this.live().connections);
    },
  });

  readonly wsSubscriptions: Gauge = new Gauge({
    name: 'gateway_websocket_subscriptions',
    help: 'Active operations over graphql-ws (subscriptions, and queries while they run).',
    registers: [this.registry],
    collect: () => {
      if (this.live) this.wsSubscriptions.set(this.live().subscriptions);
    },
  });

  readonly dbTransactionDuration = new Histogram({
    name: 'gateway_db_transaction_duration_seconds',
    help: 'Time from a transaction being submitted to its commit (on SQLite including its wait in the queue), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly sqliteGroupCommitSize = new Histogram({
    name: 'gateway_sqlite_group_commit_transactions',
    help: 'SQLite: transactions that shared one COMMIT (group commit batch size).',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });

  readonly dbBusy = new Counter({
    name: 'gateway_db_busy_errors_total',
    help: 'Transactions that failed because the database was locked past its busy timeout (DATABASE_BUSY).',
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'gateway_rate_limit_refusals_total',
    help: 'Requests refused by the per-API-key mutation rate limit (RATE_LIMITED).',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Node's process metrics under their standard names (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, …).
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every metric. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
