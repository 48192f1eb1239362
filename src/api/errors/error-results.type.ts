import { Field, Int, ObjectType } from 'type-graphql';
import { ErrorCode } from './error-code.enum';
import { ErrorResult } from './error-result.interface';

@ObjectType({ simpleResolvers: true, implements: ErrorResult, description: 'The idempotency key was already used with a different input.' })
export class IdempotencyConflictError extends ErrorResult {
  @Field(() => String, { description: 'The key that was reused.' })
  idempotencyKey!: string;

  static of(idempotencyKey: string): IdempotencyConflictError {
    return Object.assign(new IdempotencyConflictError(), {
      code: ErrorCode.IDEMPOTENCY_CONFLICT,
      message: `Idempotency key "${idempotencyKey}" was already used with a different input; use a new key for a new request`,
      idempotencyKey,
    });
  }
}

@ObjectType({ simpleResolvers: true, implements: ErrorResult, description: 'Another payment of this merchant already has this merchantReference.' })
export class MerchantReferenceInUseError extends ErrorResult {
  @Field(() => String, { description: 'The reference already in use.' })
  merchantReference!: string;

  static of(merchantReference: string): MerchantReferenceInUseError {
    return Object.assign(new MerchantReferenceInUseError(), {
      code: ErrorCode.MERCHANT_REFERENCE_IN_USE,
      message: `merchantReference "${merchantReference}" is already used by another payment; references are unique per merchant`,
      merchantReference,
    });
  }
}

@ObjectType({
  simpleResolvers: true,
  implements: ErrorResult,
  description: 'UCanPay refused the request (not retryable). providerCode is the UCanPay error code.',
})
export class ProviderError extends ErrorResult {
  @Field(() => String, { description: "UCanPay's error code, e.g. INVALID_PARAMETER (docs/errors.md lists how each maps)." })
  providerCode!: string;

  static of(providerCode: string, message: string): ProviderError {
    return Object.assign(new ProviderError(), { code: ErrorCode.PROVIDER_ERROR, message, providerCode });
  }
}

@ObjectType({ simpleResolvers: true, implements: ErrorResult, description: 'The amount asked for is more than can still be refunded.' })
export class RefundExceedsPaymentError extends ErrorResult {
  @Field(() => Int, { description: 'What can still be refunded now, in minor units (paid minus succeeded and processing refunds).' })
  refundableAmount!: number;

  @Field(() => Int, { description: 'The amount asked for, in minor units.' })
  requestedAmount!: number;

  @Field(() => String, { description: "ISO 4217 code of both amounts (the payment's currency)." })
  currency!: string;

  @Field(() => Boolean, {
    description: 'True when this is the stored answer to an earlier request with the same idempotency key (the amounts are as they were then).',
  })
  replayed!: boolean;

  static of(requestedAmount: number, refundableAmount: number, currency: string, replayed = false): RefundExceedsPaymentError {
    return Object.assign(new RefundExceedsPaymentError(), {
      code: ErrorCode.REFUND_EXCEEDS_PAYMENT,
      message: `amount ${requestedAmount} is more than the ${refundableAmount} ${currency} minor units that can still be refunded`,
      refundableAmount,
      requestedAmount,
      currency,
      replayed,
    });
  }
}

@ObjectType({ simpleResolvers: true, implements: ErrorResult, description: 'The payment cannot be refunded: not paid, or already fully refunded.' })
export class PaymentNotRefundableError extends ErrorResult {
  @Field(() => String, { description: 'The payment status, e.g. PENDING or REFUNDED.' })
  paymentStatus!: string;

  @Field(() => Boolean, {
    description: 'True when this is the stored answer to an earlier request with the same idempotency key (the status is as it was then).',
  })
  replayed!: boolean;

  static of(paymentStatus: string, reason: string, replayed = false): PaymentNotRefundableError {
    return Object.assign(new PaymentNotRefundableError(), {
      code: ErrorCode.PAYMENT_NOT_REFUNDABLE,
      message: `The payment cannot be refunded: ${reason}`,
      paymentStatus,
      replayed,
    });
  }
}

@ObjectType({ simpleResolvers: true, implements: ErrorResult, description: 'The subscription is CANCELLED or UNPAID and can no longer change terms.' })
export class SubscriptionClosedError extends ErrorResult {
  @Field(() => String, { description: 'The subscription status: CANCELLED or UNPAID.' })
  subscriptionStatus!: string;

  static of(subscriptionStatus: string): SubscriptionClosedError {
    return Object.assign(new SubscriptionClosedError(), {
      code: ErrorCode.SUBSCRIPTION_CLOSED,
      message: `The subscription is ${subscriptionStatus}; create a new one instead of updating it`,
      subscriptionStatus,
    });
  }
}
