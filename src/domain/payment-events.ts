import type { PaymentSnapshot } from './payment-state';
import type { UCanPayOrder } from '../ucanpay';

/** What a `payment.*` event says: which payment, and its state at the event's time. */
export interface PaymentEventEffect {
  providerOrderId: string;
  merchantReference: string;
  snapshot: PaymentSnapshot;
}

/** The status each payment event type may carry; anything else is a malformed event. */
const STATUS_OF_TYPE: Readonly<Record<string, readonly string[]>> = {
  'payment.succeeded': ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'],
  'payment.failed': ['FAILED'],
  'payment.cancelled': ['CANCELLED'],
  'payment.expired': ['EXPIRED'],
};

/** Pure: turns a payment event's order snapshot into the change to apply (or null when type and status disagree). */
export function mapPaymentEvent(type: string, order: UCanPayOrder): PaymentEventEffect | null {
  const allowed = STATUS_OF_TYPE[type];
  if (!allowed || !allowed.includes(order.status)) return null;
  return { providerOrderId: order.orderId, merchantReference: order.outTradeNo, snapshot: snapshotOfOrder(order) };
}

export function snapshotOfOrder(order: UCanPayOrder): PaymentSnapshot {
  return {
    status: order.status,
    transactionId: order.transactionId ?? null,
    paidAt: order.paidAt ?? null,
    refundedAmount: order.refundedAmount,
    failureCode: order.failureCode ?? null,
    failureMessage: order.failureMessage ?? null,
  };
}
