/**
 * Internal records of the sandbox (times are epoch milliseconds of sandbox
 * time) and the transition tables that every status change goes through.
 */
import { InternalError } from './errors';
import type { Interval } from './periods';

export type Metadata = Record<string, string>;

export interface Merchant {
  merchant_id: string;
  secret_key: string;
  webhook_secret: string;
  name: string;
}

export type OrderStatus = 'PENDING' | 'PAID' | 'FAILED' | 'CANCELLED' | 'EXPIRED' | 'PARTIALLY_REFUNDED' | 'REFUNDED';

export interface OrderRecord {
  order_id: string;
  merchant_id: string;
  out_trade_no: string;
  status: OrderStatus;
  amount: number;
  currency: string;
  description: string;
  return_url: string;
  notify_url: string;
  expires_in: number;
  metadata: Metadata;
  params_hash: string;
  transaction_id: string | null;
  paid_at: number | null;
  refunded_amount: number;
  failure_code: string | null;
  failure_message: string | null;
  expires_at: number;
  closed_at: number | null;
  created_at: number;
  updated_at: number;
}

export type RefundStatus = 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

export interface RefundRecord {
  refund_id: string;
  merchant_id: string;
  out_refund_no: string;
  order_id: string;
  out_trade_no: string;
  transaction_id: string;
  amount: number;
  currency: string;
  reason: string | null;
  notify_url: string;
  params_hash: string;
  status: RefundStatus;
  /** Set by a refund fault at creation: the refund will end FAILED with this code. */
  forced_failure_code: string | null;
  /** Real (wall-clock) time at which PROCESSING ends. */
  due_real_ms: number;
  succeeded_at: number | null;
  failed_at: number | null;
  failure_code: string | null;
  failure_message: string | null;
  created_at: number;
  updated_at: number;
}

export type SubscriptionStatus = 'PENDING_AUTHORIZATION' | 'TRIALING' | 'ACTIVE' | 'PAST_DUE' | 'UNPAID' | 'CANCELLED';

export interface Customer {
  id: string;
  email: string | null;
  name: string | null;
}

export interface ChargeRecord {
  charge_id: string;
  amount: number;
  currency: string;
  status: 'SUCCEEDED' | 'FAILED';
  failure_code: string | null;
  failure_message: string | null;
  /** 1 for the first try of a period's charge, 2..4 for the retries. */
  attempt: number;
  period_start: number;
  period_end: number;
  created_at: number;
}

export interface PendingUpdate {
  amount?: number;
  interval?: Interval;
  interval_count?: number;
  metadata?: Metadata;
}

export interface SubscriptionRecord {
  subscription_id: string;
  merchant_id: string;
  out_subscription_no: string;
  status: SubscriptionStatus;
  customer: Customer;
  amount: number;
  currency: string;
  interval: Interval;
  interval_count: number;
  start_date: string;
  trial_days: number;
  notify_url: string | null;
  return_url: string | null;
  metadata: Metadata;
  params_hash: string;
  authorized_at: number | null;
  trial_start: number | null;
  trial_end: number | null;
  current_period_start: number | null;
  current_period_end: number | null;
  /** Billing anchor of paid periods and the index of the current period from it. */
  billing_anchor: number | null;
  period_index: number;
  next_retry_at: number | null;
  /** Consecutive failed charges of the current period (0 when none; 4 when UNPAID). */
  failed_renewal_count: number;
  cancel_at_period_end: boolean;
  cancelled_at: number | null;
  cancellation_reason: string | null;
  pending_update: PendingUpdate | null;
  charges: ChargeRecord[];
  created_at: number;
  updated_at: number;
}

const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING: ['PAID', 'FAILED', 'CANCELLED', 'EXPIRED'],
  PAID: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  PARTIALLY_REFUNDED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  REFUNDED: [],
  FAILED: [],
  CANCELLED: [],
  EXPIRED: [],
};

const REFUND_TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  PROCESSING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
};

const SUBSCRIPTION_TRANSITIONS: Readonly<Record<SubscriptionStatus, readonly SubscriptionStatus[]>> = {
  PENDING_AUTHORIZATION: ['TRIALING', 'ACTIVE', 'CANCELLED'],
  TRIALING: ['ACTIVE', 'CANCELLED'],
  ACTIVE: ['PAST_DUE', 'CANCELLED'],
  PAST_DUE: ['ACTIVE', 'UNPAID', 'CANCELLED'],
  UNPAID: ['CANCELLED'],
  CANCELLED: [],
};

function check<S extends string>(table: Readonly<Record<S, readonly S[]>>, what: string, from: S, to: S): void {
  if (!table[from].includes(to)) throw new InternalError(`illegal ${what} transition ${from} -> ${to}`);
}

/** Every status change goes through these; an illegal one is a sandbox bug (500). */
export function moveOrder(order: OrderRecord, to: OrderStatus): void {
  check(ORDER_TRANSITIONS, 'order', order.status, to);
  order.status = to;
}

export function moveRefund(refund: RefundRecord, to: RefundStatus): void {
  check(REFUND_TRANSITIONS, 'refund', refund.status, to);
  refund.status = to;
}

export function moveSubscription(sub: SubscriptionRecord, to: SubscriptionStatus): void {
  check(SUBSCRIPTION_TRANSITIONS, 'subscription', sub.status, to);
  sub.status = to;
}
