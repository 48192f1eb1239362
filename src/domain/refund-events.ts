import type { RefundSnapshot } from './refund-state';
import type { UCanPayRefund } from '../ucanpay';

/** What a `refund.*` event says: which refund, and its state at the event's time. */
export interface RefundEventEffect {
  providerRefundId: string;
  merchantReference: string;
  snapshot: RefundSnapshot;
}

const STATUS_OF_TYPE: Readonly<Record<string, string>> = {
  'refund.succeeded': 'SUCCEEDED',
  'refund.failed': 'FAILED',
};

/** Pure: a refund event's snapshot → the change to apply, or null when type and status disagree. */
export function mapRefundEvent(type: string, refund: UCanPayRefund): RefundEventEffect | null {
  if (STATUS_OF_TYPE[type] !== refund.status) return null;
  return { providerRefundId: refund.refundId, merchantReference: refund.outRefundNo, snapshot: snapshotOfRefund(refund) };
}

export function snapshotOfRefund(refund: UCanPayRefund): RefundSnapshot {
  return {
    status: refund.status,
    succeededAt: refund.succeededAt ?? null,
    failureCode: refund.failureCode ?? null,
    failureMessage: refund.failureMessage ?? null,
  };
}
