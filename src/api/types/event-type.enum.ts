import { registerEnumType } from 'type-graphql';
import { EVENT_TYPES, type EventType as EventTypeName } from '../../domain/event-types';

/** `payment.paid` → PAYMENT_PAID: GraphQL enum names cannot hold a dot. */
export function enumName(value: string): string {
  return value.toUpperCase().replace(/\./g, '_');
}

/** The GraphQL enum of the event types; its values are the gateway's names (`payment.paid`), as stored. */
export const EventType = Object.fromEntries(EVENT_TYPES.map((type) => [enumName(type), type])) as Record<string, EventTypeName>;

const EVENT_TYPE_DESCRIPTIONS: Record<EventTypeName, string> = {
  'payment.created': 'payment.created: createPayment wrote the payment (PENDING, before UCanPay was called).',
  'payment.updated': 'payment.updated: another visible change, e.g. the checkout URL attached or the expiry known.',
  'payment.paid': 'payment.paid: the customer paid (PAID).',
  'payment.failed': 'payment.failed: declined, refused by UCanPay, or never created in time (FAILED).',
  'payment.cancelled': 'payment.cancelled: the customer cancelled at checkout (CANCELLED).',
  'payment.expired': 'payment.expired: nobody paid before expiresAt (EXPIRED).',
  'payment.partially_refunded': 'payment.partially_refunded: a refund succeeded and part of the amount is refunded.',
  'payment.refunded': 'payment.refunded: the whole paid amount is refunded (REFUNDED).',
  'refund.created': 'refund.created: refundPayment wrote the refund (PROCESSING).',
  'refund.updated': "refund.updated: another visible change, e.g. UCanPay's refund id attached.",
  'refund.succeeded': 'refund.succeeded: UCanPay returned the money (SUCCEEDED).',
  'refund.failed': 'refund.failed: UCanPay refused or failed the refund (FAILED).',
  'subscription.created': 'subscription.created: createSubscription wrote the subscription (PENDING_AUTHORIZATION).',
  'subscription.updated': 'subscription.updated: another visible change, e.g. the authorization URL, pending terms, cancelAtPeriodEnd.',
  'subscription.trialing': 'subscription.trialing: the mandate is authorized and the trial runs (TRIALING).',
  'subscription.activated': 'subscription.activated: authorized and charged, or recovered (ACTIVE).',
  'subscription.renewed': 'subscription.renewed: a new charge succeeded (a renewal, or a retry of one).',
  'subscription.renewal_failed': 'subscription.renewal_failed: a new charge failed while past due.',
  'subscription.past_due': 'subscription.past_due: a renewal failed; UCanPay retries (PAST_DUE).',
  'subscription.unpaid': 'subscription.unpaid: the retries are exhausted (UNPAID).',
  'subscription.cancelled': 'subscription.cancelled: cancelled, by you or by UCanPay (CANCELLED).',
  'webhook_endpoint.disabled': 'webhook_endpoint.disabled: an outbound webhook endpoint was disabled after failing deliveries.',
};

registerEnumType(EventType, {
  name: 'EventType',
  description:
    'What happened, named <object>.<what> in payloads and docs (PAYMENT_PAID is payment.paid). docs/events-and-webhooks.md lists them with examples.',
  valuesConfig: Object.fromEntries(EVENT_TYPES.map((type) => [enumName(type), { description: EVENT_TYPE_DESCRIPTIONS[type] }])),
});
