/**
 * Domain types of the UCanPay client: what the rest of the gateway sees.
 *
 * All money amounts are integers in the currency's minor unit (cents for
 * USD, yen for JPY, fils for KWD — the ISO 4217 exponent, see
 * `src/domain/money.ts`); `currency` is an upper-case ISO 4217 code.
 * Timestamps are `Date`s; calendar dates (`startDate`) stay `YYYY-MM-DD`
 * strings. snake_case exists only in `wire.ts`.
 */

/** Order status. `PENDING` → `PAID` | `FAILED` | `CANCELLED` | `EXPIRED`; `PAID` → `PARTIALLY_REFUNDED` → `REFUNDED`. */
export type UCanPayOrderStatus = 'PENDING' | 'PAID' | 'FAILED' | 'CANCELLED' | 'EXPIRED' | 'PARTIALLY_REFUNDED' | 'REFUNDED';

/** Refund status. `PROCESSING` → `SUCCEEDED` | `FAILED`. */
export type UCanPayRefundStatus = 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

/**
 * Subscription status. `PENDING_AUTHORIZATION` → `TRIALING` | `ACTIVE`;
 * `ACTIVE` ⇄ `PAST_DUE` (renewal failed; retried up to 3 times, then
 * `UNPAID`); any → `CANCELLED` (final).
 */
export type UCanPaySubscriptionStatus = 'PENDING_AUTHORIZATION' | 'TRIALING' | 'ACTIVE' | 'PAST_DUE' | 'UNPAID' | 'CANCELLED';

/** Billing interval unit of a subscription. */
export type UCanPayInterval = 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';

/** Status of one renewal charge of a subscription. */
export type UCanPayChargeStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** Metadata: a flat string → string map, passed through untouched. */
export type UCanPayMetadata = Record<string, string>;

/** A payment order. */
export interface UCanPayOrder {
  /** UCanPay's id of the order. */
  orderId: string;
  /** The merchant's own order number (unique per merchant). */
  outTradeNo: string;
  status: UCanPayOrderStatus;
  /** Integer minor units (e.g. 1999 = 19.99 USD). */
  amount: number;
  /** Upper-case ISO 4217 code. */
  currency: string;
  /** Present once the order is paid. */
  transactionId?: string;
  paidAt?: Date;
  /** Sum of succeeded refunds, integer minor units (0 when none). */
  refundedAmount: number;
  /** Why the order failed (e.g. `CARD_DECLINED`, `INSUFFICIENT_FUNDS`). */
  failureCode?: string;
  failureMessage?: string;
  /** Hosted checkout page to redirect the customer to (create answer). */
  payUrl?: string;
  expiresAt?: Date;
  /** When the order reached a final non-paid status (FAILED/CANCELLED/EXPIRED), if the provider says. */
  closedAt?: Date;
  createdAt?: Date;
  updatedAt?: Date;
  description?: string;
  metadata?: UCanPayMetadata;
}

/** A refund of (part of) a paid order. */
export interface UCanPayRefund {
  /** UCanPay's id of the refund. */
  refundId: string;
  /** The merchant's own refund number (unique per merchant). */
  outRefundNo: string;
  /** Transaction id of the refunded (paid) order. */
  transactionId: string;
  /** Integer minor units. */
  amount: number;
  /** Upper-case ISO 4217 code. */
  currency: string;
  status: UCanPayRefundStatus;
  reason?: string;
  orderId?: string;
  outTradeNo?: string;
  createdAt?: Date;
  updatedAt?: Date;
  succeededAt?: Date;
  failedAt?: Date;
  failureCode?: string;
  failureMessage?: string;
}

/** The subscriber. */
export interface UCanPayCustomer {
  id: string;
  email?: string;
  name?: string;
}

/** One renewal charge of a subscription. */
export interface UCanPayCharge {
  chargeId: string;
  /** Integer minor units. */
  amount: number;
  currency?: string;
  status: UCanPayChargeStatus;
  periodStart: Date;
  periodEnd: Date;
  createdAt?: Date;
  /** 1 for the first try of a period's charge, 2.. for renewal retries. */
  attempt?: number;
  failureCode?: string;
  failureMessage?: string;
}

/** Terms changed by `updateSubscription` that take effect from the next period. */
export interface UCanPayPendingUpdate {
  /** Integer minor units. */
  amount?: number;
  interval?: UCanPayInterval;
  intervalCount?: number;
  metadata?: UCanPayMetadata;
  /** When the new terms apply (start of the next period). */
  effectiveAt?: Date;
}

/** A recurring-payment subscription. */
export interface UCanPaySubscription {
  subscriptionId: string;
  /** The merchant's own subscription number (unique per merchant). */
  outSubscriptionNo: string;
  status: UCanPaySubscriptionStatus;
  customer?: UCanPayCustomer;
  /** Per-period price, integer minor units (current terms). */
  amount: number;
  /** Upper-case ISO 4217 code. */
  currency: string;
  interval: UCanPayInterval;
  /** Number of `interval`s per period (≥ 1). */
  intervalCount: number;
  /** First billing day, `YYYY-MM-DD`. */
  startDate?: string;
  trialDays?: number;
  trialStart?: Date;
  trialEnd?: Date;
  /** Hosted page where the customer authorizes the mandate (create answer). */
  payUrl?: string;
  /** When the customer authorized the mandate. */
  authorizedAt?: Date;
  currentPeriodStart?: Date;
  currentPeriodEnd?: Date;
  /** Next planned charge attempt (absent when none is planned). */
  nextBillingAt?: Date;
  /** Next retry of a failed renewal (PAST_DUE). */
  nextRetryAt?: Date;
  /** True when cancelled with `atPeriodEnd` and the period has not ended yet. */
  cancelAtPeriodEnd: boolean;
  cancelledAt?: Date;
  cancellationReason?: string;
  /** Consecutive failed renewal charges of the current period (0 when none; 4 once UNPAID in the sandbox). */
  failedRenewalCount: number;
  /** An update waiting for the next period, if any. */
  pendingUpdate?: UCanPayPendingUpdate;
  /** Renewal charges, oldest first (empty when the provider lists none). */
  charges: UCanPayCharge[];
  metadata?: UCanPayMetadata;
  createdAt?: Date;
  updatedAt?: Date;
}

/** Input of `createOrder`. `merchant_id` comes from the client options. */
export interface CreateOrderInput {
  /** The merchant's own order number (unique per merchant). */
  outTradeNo: string;
  /** Integer minor units, > 0. */
  amount: number;
  /** Upper-case ISO 4217 code. */
  currency: string;
  description: string;
  /** Where the customer's browser returns after checkout. */
  returnUrl: string;
  /** Where UCanPay sends webhooks for this order. */
  notifyUrl: string;
  /** Seconds until the order expires (provider default 1800). */
  expiresIn?: number;
  /**
   * Absolute expiry (`time_expire`): an order created after it is born
   * EXPIRED, so a call that reaches UCanPay late can never open a payable
   * order. A provider without the field ignores it (then `expiresIn` counts
   * from the order's creation).
   */
  expiresAt?: Date;
  metadata?: UCanPayMetadata;
}

/** Input of `createRefund`. */
export interface CreateRefundInput {
  /** Transaction id of the paid order. */
  transactionId: string;
  /** The merchant's own refund number (unique per merchant). */
  outRefundNo: string;
  /** Integer minor units, > 0; all non-failed refunds together ≤ the paid amount. */
  amount: number;
  reason: string;
}

/** Input of `createSubscription`. */
export interface CreateSubscriptionInput {
  outSubscriptionNo: string;
  customer: { id: string; email: string; name: string };
  /** Per-period price, integer minor units. */
  amount: number;
  currency: string;
  interval: UCanPayInterval;
  /** ≥ 1. */
  intervalCount: number;
  /** ISO date `YYYY-MM-DD`, today or later. */
  startDate: string;
  trialDays?: number;
  notifyUrl?: string;
  returnUrl?: string;
  metadata?: UCanPayMetadata;
}

/** Input of `updateSubscription`: new terms, effective from the next period. */
export interface UpdateSubscriptionInput {
  subscriptionId: string;
  /** Integer minor units. */
  amount?: number;
  interval?: UCanPayInterval;
  intervalCount?: number;
  metadata?: UCanPayMetadata;
}

/** Input of `cancelSubscription`. */
export interface CancelSubscriptionInput {
  subscriptionId: string;
  /** true: keep it until the current period ends; false: cancel now. */
  atPeriodEnd: boolean;
}

/** Look an order up by UCanPay id or by the merchant's order number. */
export type GetOrderQuery = { orderId: string } | { outTradeNo: string };
/** Look a refund up by UCanPay id or by the merchant's refund number. */
export type GetRefundQuery = { refundId: string } | { outRefundNo: string };
/** Look a subscription up by UCanPay id. */
export interface GetSubscriptionQuery {
  subscriptionId: string;
}

/** Options of every POST call. */
export interface MutationOptions {
  /**
   * Sent as `Idempotency-Key` (1–255 chars) on every attempt of the call, so
   * a retry can never create or charge twice.
   */
  idempotencyKey: string;
  /** Aborts the call (all attempts and waits) when signalled. */
  signal?: AbortSignal;
}

/** Options of every GET call. */
export interface QueryOptions {
  signal?: AbortSignal;
}
