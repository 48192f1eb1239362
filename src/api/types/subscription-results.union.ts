import { createUnionType, Field, ObjectType } from 'type-graphql';
import { IdempotencyConflictError, MerchantReferenceInUseError, ProviderError, SubscriptionClosedError } from '../errors/error-results.type';
import { BillingSubscription } from './billing-subscription.type';

@ObjectType({ simpleResolvers: true, description: 'The subscription was created (or, with replayed, this is the stored result of the same call).' })
export class CreateSubscriptionPayload {
  @Field(() => BillingSubscription, { description: 'The subscription, PENDING_AUTHORIZATION; send the customer to its authorizationUrl.' })
  subscription!: BillingSubscription;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotency key.' })
  replayed!: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'The new terms were accepted.' })
export class UpdateSubscriptionPayload {
  @Field(() => BillingSubscription, { description: 'With the new terms in pendingUpdate until the next period.' })
  subscription!: BillingSubscription;
}

@ObjectType({ simpleResolvers: true, description: 'The subscription is cancelled, or will be at the end of its period.' })
export class CancelSubscriptionPayload {
  @Field(() => BillingSubscription, { description: 'The subscription: CANCELLED, or ACTIVE with cancelAtPeriodEnd.' })
  subscription!: BillingSubscription;

  @Field(() => Boolean, { description: 'True when it was already cancelled (or already set to cancel at period end): nothing changed.' })
  replayed!: boolean;
}

export const CreateSubscriptionResult = createUnionType({
  name: 'CreateSubscriptionResult',
  description: 'What createSubscription did: the payload, or an error result (switch on __typename; every error has code and message).',
  types: () => [CreateSubscriptionPayload, IdempotencyConflictError, MerchantReferenceInUseError, ProviderError] as const,
});

export const UpdateSubscriptionResult = createUnionType({
  name: 'UpdateSubscriptionResult',
  description: 'What updateSubscription did: the payload, or an error result.',
  types: () => [UpdateSubscriptionPayload, SubscriptionClosedError, ProviderError] as const,
});

export const CancelSubscriptionResult = createUnionType({
  name: 'CancelSubscriptionResult',
  description: 'What cancelSubscription did: the payload, or an error result.',
  types: () => [CancelSubscriptionPayload, ProviderError] as const,
});
