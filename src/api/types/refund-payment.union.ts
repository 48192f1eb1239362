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

@ObjectType({ simpleResolvers: true })
export class RefundPaymentPayload {
  @Field(() => Refund)
  refund!: Refund;

  @Field(() => Payment, { description: 'The refunded payment, as it is now.' })
  payment!: Payment;

  @Field(() => Boolean, { description: 'True when this is the stored result of an earlier call with the same idempotency key.' })
  replayed!: boolean;
}

export const RefundPaymentResult = createUnionType({
  name: 'RefundPaymentResult',
  types: () =>
    [
      RefundPaymentPayload,
      RefundExceedsPaymentError,
      PaymentNotRefundableError,
      IdempotencyConflictError,
      MerchantReferenceInUseError,
      ProviderError,
    ] as const,
});
