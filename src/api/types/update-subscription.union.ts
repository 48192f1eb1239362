import { createUnionType, Field, ObjectType } from 'type-graphql';
import { ProviderError, SubscriptionClosedError } from '../errors/error-results.type';
import { BillingSubscription } from './billing-subscription.type';

@ObjectType({ simpleResolvers: true, description: 'The new terms were accepted.' })
export class UpdateSubscriptionPayload {
  @Field(() => BillingSubscription, { description: 'With the new terms in pendingUpdate until the next period.' })
  subscription!: BillingSubscription;
}

export const UpdateSubscriptionResult = createUnionType({
  name: 'UpdateSubscriptionResult',
  description: 'What updateSubscription did: the payload, or an error result.',
  types: () => [UpdateSubscriptionPayload, SubscriptionClosedError, ProviderError] as const,
});
