import { createUnionType, Field, ObjectType } from 'type-graphql';
import { IdempotencyConflictError, MerchantReferenceInUseError, ProviderError, SubscriptionClosedError } from '../errors/error-results.type';
import { BillingSubscription } from './billing-subscription.type';

@ObjectType({ simpleResolvers: true })
export class CreateSubscriptionPayload {
  @Field(() => BillingSubscription)
  subscription!: BillingSubscription;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotency key.' })
  replayed!: boolean;
}

@ObjectType({ simpleResolvers: true })
export class UpdateSubscriptionPayload {
  @Field(() => BillingSubscription, { description: 'With the new terms in pendingUpdate until the next period.' })
  subscription!: BillingSubscription;
}

@ObjectType({ simpleResolvers: true })
export class CancelSubscriptionPayload {
  @Field(() => BillingSubscription)
  subscription!: BillingSubscription;

  @Field(() => Boolean, { description: 'True when it was already cancelled (or already set to cancel at period end): nothing changed.' })
  replayed!: boolean;
}

export const CreateSubscriptionResult = createUnionType({
  name: 'CreateSubscriptionResult',
  types: () => [CreateSubscriptionPayload, IdempotencyConflictError, MerchantReferenceInUseError, ProviderError] as const,
});

export const UpdateSubscriptionResult = createUnionType({
  name: 'UpdateSubscriptionResult',
  types: () => [UpdateSubscriptionPayload, SubscriptionClosedError, ProviderError] as const,
});

export const CancelSubscriptionResult = createUnionType({
  name: 'CancelSubscriptionResult',
  types: () => [CancelSubscriptionPayload, ProviderError] as const,
});
