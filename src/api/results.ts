import type { CreatePaymentOutcome } from '../services/payment.service';
import type { RefundPaymentOutcome } from '../services/refund.service';
import {
  IdempotencyConflictError,
  MerchantReferenceInUseError,
  PaymentNotRefundableError,
  ProviderError,
  RefundExceedsPaymentError,
} from './errors/error-results.type';
import { CreatePaymentPayload, type CreatePaymentResult } from './types/create-payment.union';
import { RefundPaymentPayload, type RefundPaymentResult } from './types/refund-payment.union';

/** The one home of the service outcome → GraphQL result mappings. */

type SharedOutcome =
  | { kind: 'idempotencyConflict'; idempotencyKey: string }
  | { kind: 'merchantReferenceInUse'; merchantReference: string }
  | { kind: 'providerRefused'; providerCode: string; message: string };

/** Outcomes every money-moving mutation shares. */
function sharedError(outcome: SharedOutcome) {
  switch (outcome.kind) {
    case 'idempotencyConflict':
      return IdempotencyConflictError.of(outcome.idempotencyKey);
    case 'merchantReferenceInUse':
      return MerchantReferenceInUseError.of(outcome.merchantReference);
    case 'providerRefused':
      return ProviderError.of(outcome.providerCode, outcome.message);
  }
}

export function toCreatePaymentResult(outcome: CreatePaymentOutcome): typeof CreatePaymentResult {
  if (outcome.kind === 'payment') {
    return Object.assign(new CreatePaymentPayload(), { payment: outcome.payment, replayed: outcome.replayed });
  }
  return sharedError(outcome);
}

export function toRefundPaymentResult(outcome: RefundPaymentOutcome): typeof RefundPaymentResult {
  switch (outcome.kind) {
    case 'refund':
      return Object.assign(new RefundPaymentPayload(), { refund: outcome.refund, payment: outcome.payment, replayed: outcome.replayed });
    case 'exceedsPayment':
      return RefundExceedsPaymentError.of(outcome.requestedAmount, outcome.refundableAmount, outcome.currency);
    case 'notRefundable':
      return PaymentNotRefundableError.of(outcome.paymentStatus, outcome.reason);
    default:
      return sharedError(outcome);
  }
}
