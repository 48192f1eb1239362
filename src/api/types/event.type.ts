import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { EVENT_OBJECT_TYPES, EVENT_TYPES, type EventObjectType as EventObjectTypeName, type EventType as EventTypeName } from '../../domain/event-types';
import { Node } from './node.interface';
import { PageInfo } from './payment-connection.type';

/** `payment.paid` → PAYMENT_PAID: GraphQL enum names cannot hold a dot. */
function enumName(value: string): string {
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
  description: 'What happened, named <object>.<what> in payloads and docs (PAYMENT_PAID is payment.paid). docs/events-and-webhooks.md lists them with examples.',
  valuesConfig: Object.fromEntries(EVENT_TYPES.map((type) => [enumName(type), { description: EVENT_TYPE_DESCRIPTIONS[type] }])),
});

export const EventObjectType = Object.fromEntries(EVENT_OBJECT_TYPES.map((type) => [enumName(type), type])) as Record<string, EventObjectTypeName>;

registerEnumType(EventObjectType, {
  name: 'EventObjectType',
  description: 'The kind of object an event is about.',
  valuesConfig: {
    PAYMENT: { description: 'A Payment (objectId pay_…).' },
    REFUND: { description: 'A Refund (objectId ref_…).' },
    BILLING_SUBSCRIPTION: { description: 'A BillingSubscription (objectId sub_…).' },
    WEBHOOK_ENDPOINT: { description: 'An outbound webhook endpoint of yours.' },
  },
});

export enum EventCauseKind {
  API_KEY = 'api_key',
  CLIENT_SECRET = 'client_secret',
  UCANPAY_WEBHOOK = 'ucanpay_webhook',
  RECONCILIATION = 'reconciliation',
  REFRESH = 'refresh',
  SYSTEM = 'system',
}

registerEnumType(EventCauseKind, {
  name: 'EventCauseKind',
  description: 'What made the change.',
  valuesConfig: {
    API_KEY: { description: 'A request with your API key; id is the key’s id (never the key).' },
    CLIENT_SECRET: { description: "A request with a payment's client secret; id is the payment's id." },
    UCANPAY_WEBHOOK: { description: "A UCanPay webhook; id is UCanPay's event id." },
    RECONCILIATION: { description: 'The gateway asked UCanPay on its own (reconciliation); id is null.' },
    REFRESH: { description: 'A read with refresh: true; id is the API key’s id (or the payment’s, for a client secret).' },
    SYSTEM: { description: 'The gateway itself, e.g. a background job; id is null.' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'What made a change.' })
export class EventCause {
  @Field(() => EventCauseKind, { description: 'API key, client secret, UCanPay webhook, reconciliation, refresh or the gateway itself.' })
  kind!: EventCauseKind;

  @Field(() => String, { nullable: true, description: "The API key's id, the payment's id (client secret) or UCanPay's event id; null for the others." })
  id!: string | null;
}

@ObjectType({
  simpleResolvers: true,
  implements: Node,
  description: 'One applied change of a payment, refund or subscription, recorded in the same transaction as the change. Kept EVENT_RETENTION_DAYS (30).',
})
export class Event implements Node {
  @Field(() => ID, { description: 'The event id, evt_ then 26 characters.' })
  id!: string;

  @Field(() => EventType, { description: 'What happened.' })
  type!: string;

  @Field(() => EventObjectType, { description: 'The kind of object it happened to.' })
  objectType!: string;

  @Field(() => ID, { description: 'The object’s id (pay_…, ref_…, sub_…).' })
  objectId!: string;

  @Field(() => Int, { description: 'The object’s version after the change: drop an event whose version you have already seen.' })
  objectVersion!: number;

  @Field(() => JSONObjectResolver, { description: 'The object at objectVersion, as the GraphQL type shows it (dates as ISO 8601; never a client secret).' })
  data!: Record<string, unknown>;

  @Field(() => DateTimeISOResolver, { description: 'When the change was recorded (UTC).' })
  createdAt!: Date;

  @Field(() => EventCause, { description: 'What made the change.' })
  cause!: EventCause;

  @Field(() => String, { description: 'This event’s place in the log: pass it as after (events, eventCreated) to read on from here.' })
  cursor!: string;
}

@ObjectType({ simpleResolvers: true, description: 'One event of a page, with its cursor.' })
export class EventEdge {
  @Field(() => String, { description: 'Opaque position of this event in the log; pass it as after.' })
  cursor!: string;

  @Field(() => Event, { description: 'The event.' })
  node!: Event;
}

@ObjectType({ simpleResolvers: true, description: 'A page of events, oldest first (cursor order).' })
export class EventConnection {
  @Field(() => [EventEdge], { description: 'The events of this page (at most first of them).' })
  edges!: EventEdge[];

  @Field(() => PageInfo, { description: 'Whether more events follow now, and the cursor to read on from (keep it: more events may come later).' })
  pageInfo!: PageInfo;
}
