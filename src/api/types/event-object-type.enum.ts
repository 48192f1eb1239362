import { registerEnumType } from 'type-graphql';
import { EVENT_OBJECT_TYPES, type EventObjectType as EventObjectTypeName } from '../../domain/event-types';
import { enumName } from './event-type.enum';

/** The GraphQL enum of the kinds of object an event is about; its values are the stored names (`billing_subscription`). */
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
