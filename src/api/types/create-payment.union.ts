import { createUnionType, Field, ObjectType } from 'type-graphql';
import { IdempotencyConflictError, MerchantReferenceInUseError, ProviderError } from '../errors/error-results.type';
import { Payment } from './payment.type';

@ObjectType({ simpleResolvers: true })
export class CreatePaymentPayload {
  @Field(() => Payment)
  payment!: Payment;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotency key.' })
  replayed!: boolean;
}

export const CreatePaymentResult = createUnionType({
  name: 'CreatePaymentResult',
  types: () => [CreatePaymentPayload, IdempotencyConflictError, MerchantReferenceInUseError, ProviderError] as const,
});
