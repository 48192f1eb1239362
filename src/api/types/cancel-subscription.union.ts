import { createUnionType, Field, ObjectType } from 'type-graphql';
import { ProviderError } from '../errors/error-results.type';
import { BillingSubscription } from './billing-subscription.type';

@ObjectType({ simpleResolvers: true, description: 'The subscription is cancelled, or will be at the end of its period.' })
export class CancelSubscriptionPayload {
  @Field(() => BillingSubscription, { description: 'The subscription: CANCELLED, or ACTIVE with cancelAtPeriodEnd.' })
  subscription!: BillingSubscription;

  @Field(() => Boolean, { description: 'True when it was already cancelled (or already set to cancel at period end): nothing changed.' })
  replayed!: boolean;
}

export const CancelSubscriptionResult = createUnionType({
  name: 'CancelSubscriptionResult',
  description: 'What cancelSubscription did: the payload, or an error result.',
  types: () => [CancelSubscriptionPayload, ProviderError] as const,
});
