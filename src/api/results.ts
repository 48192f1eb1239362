import type { CreatePaymentOutcome } from '../services/payment.service';
import type { RefundPaymentOutcome } from '../services/refund.service';
import type { SubscriptionOutcome } from '../services/subscription.service';
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
      return RefundExceedsPaymentError.of(outcome.requestedAmount, outcome.refundableAmount, outcome.currency, outcome.replayed);
    case 'notRefundable':
      return PaymentNotRefundableError.of(outcome.paymentStatus, outcome.reason, outcome.replayed);
    default:
      return sharedError(outcome);
  }
}

export function toCreateSubscriptionResult(outcome: SubscriptionOutcome): typeof CreateSubscriptionResult {
  switch (outcome.kind) {
    case 'subscription':
      return Object.assign(new CreateSubscriptionPayload(), { subscription: outcome.subscription, replayed: outcome.replayed });
    case 'subscriptionClosed':
      throw new Error('createSubscription cannot find a closed subscription');
    default:
      return sharedError(outcome);
  }
}

export function toUpdateSubscriptionResult(outcome: SubscriptionOutcome): typeof UpdateSubscriptionResult {
  switch (outcome.kind) {
    case 'subscription':
      return Object.assign(new UpdateSubscriptionPayload(), { subscription: outcome.subscription });
    case 'subscriptionClosed':
      return SubscriptionClosedError.of(outcome.status);
    case 'providerRefused':
      return sharedError(outcome) as ProviderError;
    default:
      throw new Error(`updateSubscription cannot end in ${outcome.kind}`);
  }
}

export function toCancelSubscriptionResult(outcome: SubscriptionOutcome): typeof CancelSubscriptionResult {
  switch (outcome.kind) {
    case 'subscription':
      return Object.assign(new CancelSubscriptionPayload(), { subscription: outcome.subscription, replayed: outcome.replayed });
    case 'providerRefused':
      return sharedError(outcome) as ProviderError;
    default:
      throw new Error(`cancelSubscription cannot end in ${outcome.kind}`);
  }
}
