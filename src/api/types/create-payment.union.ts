import { createUnionType, Field, ObjectType } from 'type-graphql';
import { IdempotencyConflictError, MerchantReferenceInUseError, ProviderError } from '../errors/error-results.type';
import { Payment } from './payment.type';

@ObjectType({ simpleResolvers: true, description: 'The payment was created (or, with replayed, this is the stored result of the same call).' })
export class CreatePaymentPayload {
  @Field(() => Payment, { description: 'The payment; send the customer to its checkoutUrl.' })
  payment!: Payment;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotency key.' })
  replayed!: boolean;
}

export const CreatePaymentResult = createUnionType({
  name: 'CreatePaymentResult',
  description: 'What createPayment did: the payload, or an error result (switch on __typename; every error has code and message).',
  types: () => [CreatePaymentPayload, IdempotencyConflictError, MerchantReferenceInUseError, ProviderError] as const,
});
