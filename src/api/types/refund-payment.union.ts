import { createUnionType, Field, ObjectType } from 'type-graphql';
import {
  IdempotencyConflictError,
  MerchantReferenceInUseError,
  PaymentNotRefundableError,
  ProviderError,
  RefundExceedsPaymentError,
} from '../errors/error-results.type';
import { Payment } from './payment.type';
import { Refund } from './refund.type';

@ObjectType({ simpleResolvers: true, description: 'The refund was created (or, with replayed, this is the stored result of the same call).' })
export class RefundPaymentPayload {
  @Field(() => Refund, { description: 'The refund, usually PROCESSING; refundUpdated tells when it SUCCEEDED or FAILED.' })
  refund!: Refund;

  @Field(() => Payment, { description: 'The refunded payment, as it is now.' })
  payment!: Payment;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotency key.' })
  replayed!: boolean;
}

export const RefundPaymentResult = createUnionType({
  name: 'RefundPaymentResult',
  description: 'What refundPayment did: the payload, or an error result (switch on __typename; every error has code and message).',
  types: () =>
    [RefundPaymentPayload, RefundExceedsPaymentError, PaymentNotRefundableError, IdempotencyConflictError, MerchantReferenceInUseError, ProviderError] as const,
});
