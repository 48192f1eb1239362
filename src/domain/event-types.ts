/**
 * The gateway's event types: one list (docs/events-and-webhooks.md shows
 * each with an example). A name is `<object>.<what happened>`; the GraphQL
 * enum EventType spells each in upper case with `_` for `.`
 * (`payment.paid` → PAYMENT_PAID).
 */
export const EVENT_TYPES = [
  'payment.created',
  'payment.updated',
  'payment.paid',
  'payment.failed',
  'payment.cancelled',
  'payment.expired',
  'payment.partially_refunded',
  'payment.refunded',
  'refund.created',
  'refund.updated',
  'refund.succeeded',
  'refund.failed',
  'subscription.created',
  'subscription.updated',
  'subscription.trialing',
  'subscription.activated',
  'subscription.renewed',
  'subscription.renewal_failed',
  'subscription.past_due',
  'subscription.unpaid',
  'subscription.cancelled',
  'webhook_endpoint.disabled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_OBJECT_TYPES = ['payment', 'refund', 'billing_subscription', 'webhook_endpoint'] as const;
export type EventObjectType = (typeof EVENT_OBJECT_TYPES)[number];

/** What a versioned write looked like, as far as its event's type depends on it. */
export interface ObjectChange {
  status: string;
  previousStatus: string | undefined;
  /** Payments: the refunded amount before and after. */
  refundedAmount?: number;
  previousRefundedAmount?: number;
  /** Subscriptions: UCanPay's count of charges before and after (a new charge raises it). */
  chargeCount?: number;
  previousChargeCount?: number;
  /** Subscriptions with a new charge: that charge's status (SUCCEEDED, FAILED, PENDING). */
  newChargeStatus?: string;
}

const PAYMENT_STATUS_EVENTS: Record<string, EventType> = {
  PAID: 'payment.paid',
  FAILED: 'payment.failed',
  CANCELLED: 'payment.cancelled',
  EXPIRED: 'payment.expired',
  PARTIALLY_REFUNDED: 'payment.partially_refunded',
  REFUNDED: 'payment.refunded',
};

const REFUND_STATUS_EVENTS: Record<string, EventType> = {
  SUCCEEDED: 'refund.succeeded',
  FAILED: 'refund.failed',
};

const SUBSCRIPTION_STATUS_EVENTS: Record<string, EventType> = {
  TRIALING: 'subscription.trialing',
  ACTIVE: 'subscription.activated',
  PAST_DUE: 'subscription.past_due',
  UNPAID: 'subscription.unpaid',
  CANCELLED: 'subscription.cancelled',
};

/**
 * The type of the event one applied change records. A new status names it;
 * without one, a payment's larger refunded amount is another (partial)
 * refund, a subscription's new charge a renewal (or a failed one while it is
 * past due); anything else visible is `<object>.updated`.
 */
export function eventTypeOf(objectType: EventObjectType, change: ObjectChange): EventType {
  const statusChanged = change.previousStatus !== undefined && change.status !== change.previousStatus;
  switch (objectType) {
    case 'payment': {
      if (statusChanged && PAYMENT_STATUS_EVENTS[change.status]) return PAYMENT_STATUS_EVENTS[change.status];
      if ((change.refundedAmount ?? 0) > (change.previousRefundedAmount ?? 0)) {
        return change.status === 'REFUNDED' ? 'payment.refunded' : 'payment.partially_refunded';
      }
      return 'payment.updated';
    }
    case 'refund':
      return (statusChanged && REFUND_STATUS_EVENTS[change.status]) || 'refund.updated';
    case 'billing_subscription': {
      const charged = (change.chargeCount ?? 0) > (change.previousChargeCount ?? 0);
      const firstCharge = change.previousStatus === 'PENDING_AUTHORIZATION' || change.previousStatus === 'TRIALING';
      // A renewal's success (also one that brings a PAST_DUE subscription back to ACTIVE) is the renewal.
      if (charged && change.newChargeStatus === 'SUCCEEDED' && !firstCharge) return 'subscription.renewed';
      if (statusChanged && SUBSCRIPTION_STATUS_EVENTS[change.status]) return SUBSCRIPTION_STATUS_EVENTS[change.status];
      if (charged && change.newChargeStatus === 'FAILED') return 'subscription.renewal_failed';
      return 'subscription.updated';
    }
    case 'webhook_endpoint':
      throw new Error('webhook endpoint events are named by their writer');
  }
}

/** The `created` event of an object type that has one. */
export function createdEventOf(objectType: Exclude<EventObjectType, 'webhook_endpoint'>): EventType {
  return objectType === 'billing_subscription' ? 'subscription.created' : `${objectType}.created`;
}
