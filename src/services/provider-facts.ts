import { GatewayError, type ProviderErrorTarget, type ProviderFailure } from '../domain/errors';
import type { PaymentSnapshot } from '../domain/payment-state';
import type { RefundSnapshot } from '../domain/refund-state';
import type { UCanPayError, UCanPayErrorCode, UCanPayOrder, UCanPayRefund } from '../ucanpay';

/**
 * The one adapter between UCanPay's vocabulary and the gateway's: its
 * objects become the domain's snapshots, its error codes the gateway's
 * codes. The domain knows only its own types (a test keeps src/domain free
 * of src/ucanpay), and the client knows nothing of the gateway.
 */

/** THE mapping: every UCanPay error code (contract and client-side) → exactly one gateway code (docs/errors.md). */
export const UCANPAY_ERROR_MAP: Readonly<Record<UCanPayErrorCode, ProviderErrorTarget>> = {
  INVALID_REQUEST: 'PROVIDER_ERROR',
  AUTHENTICATION_FAILED: 'INTERNAL_SERVER_ERROR',
  PERMISSION_DENIED: 'INTERNAL_SERVER_ERROR',
  ORDER_NOT_FOUND: 'PROVIDER_ERROR',
  REFUND_NOT_FOUND: 'PROVIDER_ERROR',
  SUBSCRIPTION_NOT_FOUND: 'PROVIDER_ERROR',
  ORDER_CONFLICT: 'PROVIDER_ERROR',
  IDEMPOTENCY_CONFLICT: 'INTERNAL_SERVER_ERROR',
  ORDER_CLOSED: 'PROVIDER_ERROR',
  ORDER_ALREADY_PAID: 'PROVIDER_ERROR',
  PAYMENT_NOT_PAID: 'PROVIDER_ERROR',
  REFUND_EXCEEDS_PAYMENT: 'PROVIDER_ERROR',
  CARD_DECLINED: 'PROVIDER_ERROR',
  INSUFFICIENT_FUNDS: 'PROVIDER_ERROR',
  RATE_LIMITED: 'PROVIDER_UNAVAILABLE',
  PROVIDER_ERROR: 'PROVIDER_UNAVAILABLE',
  SERVICE_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  GATEWAY_TIMEOUT: 'PROVIDER_UNAVAILABLE',
  NETWORK_ERROR: 'PROVIDER_UNAVAILABLE',
  TIMEOUT: 'PROVIDER_UNAVAILABLE',
  INVALID_RESPONSE: 'INTERNAL_SERVER_ERROR',
  // A code outside the contract: a refusal, unless UCanPay answered 5xx/429 (then `retryable`, see below).
  UNKNOWN_ERROR: 'PROVIDER_ERROR',
};

/** The gateway code for a UCanPay error: the table, except that a retryable UNKNOWN_ERROR (5xx/429) is an outage. */
export function providerErrorTarget(error: Pick<UCanPayError, 'code' | 'retryable'>): ProviderErrorTarget {
  if (error.code === 'UNKNOWN_ERROR' && error.retryable) return 'PROVIDER_UNAVAILABLE';
  return UCANPAY_ERROR_MAP[error.code] ?? 'INTERNAL_SERVER_ERROR';
}

/**
 * Maps a UCanPay error through {@link UCANPAY_ERROR_MAP} to what the
 * operation does next. `what` names the object ("payment", "refund",
 * "subscription"); `action` is "create" for money-moving calls that take an
 * idempotency key, "check" for status reads. Messages carry codes only,
 * never provider payloads.
 */
export function providerFailure(error: UCanPayError, what: string, action: 'create' | 'check' = 'create'): ProviderFailure {
  const code = error.providerCode && error.code === 'UNKNOWN_ERROR' ? error.providerCode : error.code;
  const retryHint =
    action === 'create' ? `retry with the same idempotencyKey — no ${what} is created twice` : `retry later, or read the ${what} without refresh`;
  switch (providerErrorTarget(error)) {
    case 'PROVIDER_UNAVAILABLE':
      return {
        kind: 'thrown',
        error: new GatewayError('PROVIDER_UNAVAILABLE', `UCanPay is unavailable (${code} after ${error.attempts} attempt(s)); ${retryHint}`, {
          retryAfterSeconds: Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000)),
          providerCode: code,
        }),
      };
    case 'INTERNAL_SERVER_ERROR':
      return { kind: 'thrown', error: new GatewayError('INTERNAL_SERVER_ERROR', internalMessage(code, what, retryHint), { providerCode: code }) };
    case 'PROVIDER_ERROR': {
      const message = action === 'create' ? `UCanPay refused the ${what}: ${error.message}`.slice(0, 500) : `UCanPay could not check the ${what} (${code})`;
      return { kind: 'refused', providerCode: code, message, error: new GatewayError('PROVIDER_ERROR', message, { providerCode: code }) };
    }
  }
}

function internalMessage(code: string, what: string, retryHint: string): string {
  switch (code) {
    case 'AUTHENTICATION_FAILED':
    case 'PERMISSION_DENIED':
      return `UCanPay rejected this merchant's UCanPay credentials (${code}); the gateway operator must correct them. Nothing was recorded as failed; afterwards ${retryHint}`;
    case 'INVALID_RESPONSE':
      return `UCanPay's answer could not be read (${code}); the gateway confirms the ${what} with UCanPay on its own. ${capitalize(retryHint)}`;
    default:
      return `The gateway's request to UCanPay failed (${code}); this is logged as a gateway fault. ${capitalize(retryHint)}`;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** UCanPay's order (webhook, status read, create answer) as the payment state machine reads it. */
export function snapshotOfOrder(order: UCanPayOrder): PaymentSnapshot {
  return {
    status: order.status,
    transactionId: order.transactionId ?? null,
    paidAt: order.paidAt ?? null,
    refundedAmount: order.refundedAmount,
    failureCode: order.failureCode ?? null,
    failureMessage: order.failureMessage ?? null,
  };
}

/** UCanPay's refund as the refund state machine reads it. */
export function snapshotOfRefund(refund: UCanPayRefund): RefundSnapshot {
  return {
    status: refund.status,
    succeededAt: refund.succeededAt ?? null,
    failureCode: refund.failureCode ?? null,
    failureMessage: refund.failureMessage ?? null,
  };
}

/**
 * What applying UCanPay's view of an object did, the same for every
 * aggregate (`applyProviderState` of payments, refunds and billing
 * subscriptions); the webhook answers it as its outcome.
 * - `applied`: something visible changed (a new version, published after commit);
 * - `unchanged`: nothing to change (the same state, or an older snapshot);
 * - `mismatch`: UCanPay's object is for another amount or currency than the
 *   gateway's record: nothing of it is applied, an error is logged;
 * - `contradicted`: UCanPay captured a payment the gateway had closed: applied
 *   as the truth, an error is logged.
 */
export type ProviderStateOutcome = 'applied' | 'unchanged' | 'mismatch' | 'contradicted';

export interface AppliedProviderState<T> {
  /** The row as it is after (the same row when nothing was written). */
  entity: T;
  outcome: ProviderStateOutcome;
}
