import { registerEnumType } from 'type-graphql';

export enum BillingSubscriptionStatus {
  PENDING_AUTHORIZATION = 'PENDING_AUTHORIZATION',
  TRIALING = 'TRIALING',
  ACTIVE = 'ACTIVE',
  PAST_DUE = 'PAST_DUE',
  UNPAID = 'UNPAID',
  CANCELLED = 'CANCELLED',
}

registerEnumType(BillingSubscriptionStatus, {
  name: 'BillingSubscriptionStatus',
  description: 'PENDING_AUTHORIZATION → TRIALING | ACTIVE; ACTIVE ⇄ PAST_DUE (a renewal failed; retried up to 3 times, then UNPAID); any → CANCELLED (final).',
  valuesConfig: {
    PENDING_AUTHORIZATION: { description: 'Waiting for the customer to authorize the mandate at authorizationUrl.' },
    TRIALING: { description: 'Authorized; the first charge comes at the end of the trial (or at startDate).' },
    ACTIVE: { description: 'Paid for the current period.' },
    PAST_DUE: { description: 'The last renewal charge failed; UCanPay retries it.' },
    UNPAID: { description: 'Every retry failed; no more charges are attempted.' },
    CANCELLED: { description: 'Ended; final.' },
  },
});
