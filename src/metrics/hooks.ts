import type { UCanPayAttemptInfo } from '../ucanpay';
import type { WebhookReply } from '../services/webhook.service';
import type { GatewayMetrics } from './metrics';

/** The UCanPay client's `onAttempt`: each attempt's latency, each retry, and each call's final outcome. */
export function ucanpayAttemptObserver(metrics: GatewayMetrics): (info: UCanPayAttemptInfo) => void {
  return (info) => {
    const outcome = info.ok ? 'ok' : (info.code ?? 'error');
    metrics.ucanpayAttemptDuration.observe({ endpoint: info.endpoint, outcome }, info.durationMs / 1000);
    if (info.willRetry) {
      metrics.ucanpayRetries.inc({ endpoint: info.endpoint, outcome });
      return;
    }
    metrics.ucanpayCalls.inc({ endpoint: info.endpoint, outcome });
    metrics.ucanpayLastCallOk.set({ endpoint: info.endpoint }, info.ok ? 1 : 0);
  };
}

/** The outcome label of a webhook reply (bounded: unknown outcome strings count as `other`). */
const WEBHOOK_OUTCOMES = new Set(['applied', 'unchanged', 'duplicate', 'stale', 'mismatch', 'ignored', 'contradicted']);

export function webhookOutcome(reply: WebhookReply): string {
  if (reply.status === 200) return reply.body.outcome && WEBHOOK_OUTCOMES.has(reply.body.outcome) ? reply.body.outcome : 'other';
  if (reply.status === 404) return 'unknown_merchant';
  if (reply.status === 400) return /^signature/.test(reply.body.error ?? '') ? 'bad_signature' : 'bad_request';
  return 'error';
}

/** Wraps webhook ingestion: counts every delivery by outcome, and the lag from the event's `created` (as the service read it) for applied ones. */
export function instrumentWebhooks<T extends { receive(merchantId: string, rawBody: Buffer, signature: string | string[] | undefined): Promise<WebhookReply> }>(
  webhooks: T,
  metrics: GatewayMetrics,
  now: () => number = Date.now,
): Pick<T, 'receive'> {
  return {
    async receive(merchantId, rawBody, signature) {
      let reply: WebhookReply;
      try {
        reply = await webhooks.receive(merchantId, rawBody, signature);
      } catch (error) {
        metrics.webhooksReceived.inc({ outcome: 'error' });
        throw error;
      }
      const outcome = webhookOutcome(reply);
      metrics.webhooksReceived.inc({ outcome });
      if ((outcome === 'applied' || outcome === 'contradicted') && reply.event?.created) {
        metrics.webhookLag.observe(Math.max(0, now() / 1000 - reply.event.created.getTime() / 1000));
      }
      return reply;
    },
  };
}

/** Database transactions: latency by outcome, COMMIT batch sizes, busy errors. */
export function databaseObserver(metrics: GatewayMetrics): import('../db/database').DatabaseObserver {
  return {
    transaction(outcome, seconds) {
      metrics.dbTransactionDuration.observe({ outcome }, seconds);
      if (outcome === 'busy') metrics.dbBusy.inc();
    },
    commit(transactions) {
      metrics.sqliteGroupCommitSize.observe(transactions);
    },
  };
}

/** Reconciliation passes: per kind, objects due (claimed this pass), checked with UCanPay, repaired (changed). */
export function reconciliationObserver(metrics: GatewayMetrics): (kind: string, counts: { due: number; checked: number; changed: number }) => void {
  return (kind, counts) => {
    const label = kind.replace(/\W+/g, '_');
    metrics.reconciliationDue.set({ kind: label }, counts.due);
    metrics.reconciliationChecked.inc({ kind: label }, counts.checked);
    metrics.reconciliationRepaired.inc({ kind: label }, counts.changed);
  };
}
