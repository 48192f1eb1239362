import { createUnionType, Field, ObjectType } from 'type-graphql';
import { IdempotencyConflictError, MerchantReferenceInUseError, ProviderError } from '../errors/error-results.type';
import { BillingSubscription } from './billing-subscription.type';

@ObjectType({ simpleResolvers: true, description: 'The subscription was created (or, with replayed, this is the stored result of the same call).' })
export class CreateSubscriptionPayload {
  @Field(() => BillingSubscription, { description: 'The subscription, PENDING_AUTHORIZATION; send the customer to its authorizationUrl.' })
  subscription!: BillingSubscription;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotency key.' })
  replayed!: boolean;
}

export const CreateSubscriptionResult = createUnionType({
  name: 'CreateSubscriptionResult',
  description: 'What createSubscription did: the payload, or an error result (switch on __typename; every error has code and message).',
  types: () => [CreateSubscriptionPayload, IdempotencyConflictError, MerchantReferenceInUseError, ProviderError] as const,
});
