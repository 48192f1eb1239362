import { registerEnumType } from 'type-graphql';

/** Codes of the typed error results that mutations return (business outcomes). */
export enum ErrorCode {
  /** The idempotency key was used before with a different input. */
  IDEMPOTENCY_CONFLICT = 'IDEMPOTENCY_CONFLICT',
  /** The merchant reference is already used by another payment. */
  MERCHANT_REFERENCE_IN_USE = 'MERCHANT_REFERENCE_IN_USE',
  /** The refund asks for more than the payment's refundable amount. */
  REFUND_EXCEEDS_PAYMENT = 'REFUND_EXCEEDS_PAYMENT',
  /** The payment is not paid, or already fully refunded. */
  PAYMENT_NOT_REFUNDABLE = 'PAYMENT_NOT_REFUNDABLE',
  /** The subscription is CANCELLED or UNPAID. */
  SUBSCRIPTION_CLOSED = 'SUBSCRIPTION_CLOSED',
  /** UCanPay refused the request for a reason retrying will not fix. */
  PROVIDER_ERROR = 'PROVIDER_ERROR',
}

registerEnumType(ErrorCode, {
  name: 'ErrorCode',
  description: 'Stable codes of typed error results; switch on these, not on messages.',
  valuesConfig: {
    IDEMPOTENCY_CONFLICT: { description: 'The idempotency key was used before with a different input; use a new key.' },
    MERCHANT_REFERENCE_IN_USE: { description: 'The merchant reference is already used by another object of this merchant.' },
    REFUND_EXCEEDS_PAYMENT: { description: "The refund asks for more than the payment's refundableAmount." },
    PAYMENT_NOT_REFUNDABLE: { description: 'The payment is not paid, or already fully refunded.' },
    SUBSCRIPTION_CLOSED: { description: 'The subscription is CANCELLED or UNPAID and cannot change.' },
    PROVIDER_ERROR: { description: 'UCanPay refused the request for a reason retrying will not fix; see providerCode.' },
  },
});
