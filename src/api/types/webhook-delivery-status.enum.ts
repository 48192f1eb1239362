import { registerEnumType } from 'type-graphql';

export enum WebhookDeliveryStatus {
  FAILED = 'FAILED',
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
}

registerEnumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description: 'PENDING (being retried) → SUCCEEDED (a 2xx) | FAILED (410 Gone, no retry left, or the endpoint disabled).',
  valuesConfig: {
    FAILED: { description: 'Given up: 410 Gone, the retry window ended, or the endpoint is disabled or deleted. redeliverEvent sends it again.' },
    PENDING: { description: 'Not delivered yet: the next attempt is at nextAttemptAt.' },
    SUCCEEDED: { description: 'The endpoint answered 2xx.' },
  },
});
