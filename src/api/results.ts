import type { CreatePaymentOutcome } from '../services/payment.service';
import type { RefundPaymentOutcome } from '../services/refund.service';
import type { CreateRefused, ProviderRefused } from '../services/idempotent-create';
import type { CancelSubscriptionOutcome, CreateSubscriptionOutcome, UpdateSubscriptionOutcome } from '../services/billing-subscription.service';
import {
  IdempotencyConflictError,
  MerchantReferenceInUseError,
  PaymentNotRefundableError,
  ProviderError,
  RefundExceedsPaymentError,
  SubscriptionClosedError,
} from './errors/error-results.type';
import { CreatePaymentPayload, type CreatePaymentResult } from './types/create-payment.union';
import { CancelSubscriptionPayload, type CancelSubscriptionResult } from './types/cancel-subscription.union';
import { CreateSubscriptionPayload, type CreateSubscriptionResult } from './types/create-subscription.union';
import { RefundPaymentPayload, type RefundPaymentResult } from './types/refund-payment.union';
import { UpdateSubscriptionPayload, type UpdateSubscriptionResult } from './types/update-subscription.union';

/** The one home of the service outcome → GraphQL result mappings. */

/** The "no"s every idempotent create shares (services/idempotent-create.ts). */
function sharedError(outcome: CreateRefused) {
  switch (outcome.kind) {
    case 'idempotencyConflict':
      return IdempotencyConflictError.of(outcome.idempotencyKey);
    case 'merchantReferenceInUse':
      return MerchantReferenceInUseError.of(outcome.merchantReference);
    case 'providerRefused':
      return providerError(outcome);
  }
}

function providerError(outcome: ProviderRefused): ProviderError {
  return ProviderError.of(outcome.providerCode, outcome.message);
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
      return RefundExceedsPaymentError.of(outcome.requestedAmount, outcome.refundableAmount, outcome.currency, outcome.replayed);
    case 'notRefundable':
      return PaymentNotRefundableError.of(outcome.paymentStatus, outcome.reason, outcome.replayed);
    default:
      return sharedError(outcome);
  }
}

export function toCreateSubscriptionResult(outcome: CreateSubscriptionOutcome): typeof CreateSubscriptionResult {
  if (outcome.kind === 'subscription') {
    return Object.assign(new CreateSubscriptionPayload(), { subscription: outcome.subscription, replayed: outcome.replayed });
  }
  return sharedError(outcome);
}

export function toUpdateSubscriptionResult(outcome: UpdateSubscriptionOutcome): typeof UpdateSubscriptionResult {
  switch (outcome.kind) {
    case 'subscription':
      return Object.assign(new UpdateSubscriptionPayload(), { subscription: outcome.subscription });
    case 'subscriptionClosed':
      return SubscriptionClosedError.of(outcome.status);
    case 'providerRefused':
      return providerError(outcome);
  }
}

export function toCancelSubscriptionResult(outcome: CancelSubscriptionOutcome): typeof CancelSubscriptionResult {
  if (outcome.kind === 'subscription') {
    return Object.assign(new CancelSubscriptionPayload(), { subscription: outcome.subscription, replayed: outcome.replayed });
  }
  return providerError(outcome);
}
