/**
 * Wire shapes (snake_case JSON) of orders, refunds and subscriptions: the
 * status endpoints, create answers, inspection lists and webhook
 * `data.object` all use these.
 */
import { iso, isoOrNull } from './clock';
import type { ChargeRecord, OrderRecord, RefundRecord, SubscriptionRecord } from './types';

export function payUrl(baseUrl: string, id: string): string {
  return `${baseUrl}/checkout/${encodeURIComponent(id)}`;
}

export function orderToApi(o: OrderRecord, baseUrl: string): Record<string, unknown> {
  return {
    order_id: o.order_id,
    merchant_id: o.merchant_id,
    out_trade_no: o.out_trade_no,
    status: o.status,
    amount: o.amount,
    currency: o.currency,
    description: o.description,
    transaction_id: o.transaction_id,
    paid_at: isoOrNull(o.paid_at),
    refunded_amount: o.refunded_amount,
    failure_code: o.failure_code,
    failure_message: o.failure_message,
    pay_url: payUrl(baseUrl, o.order_id),
    return_url: o.return_url,
    notify_url: o.notify_url,
    expires_in: o.expires_in,
    expires_at: iso(o.expires_at),
    closed_at: isoOrNull(o.closed_at),
    metadata: o.metadata,
    created_at: iso(o.created_at),
    updated_at: iso(o.updated_at),
  };
}

export function refundToApi(r: RefundRecord): Record<string, unknown> {
  return {
    refund_id: r.refund_id,
    merchant_id: r.merchant_id,
    out_refund_no: r.out_refund_no,
    transaction_id: r.transaction_id,
    order_id: r.order_id,
    out_trade_no: r.out_trade_no,
    amount: r.amount,
    currency: r.currency,
    reason: r.reason,
    status: r.status,
    succeeded_at: isoOrNull(r.succeeded_at),
    failed_at: isoOrNull(r.failed_at),
    failure_code: r.failure_code,
    failure_message: r.failure_message,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

function chargeToApi(c: ChargeRecord): Record<string, unknown> {
  return {
    charge_id: c.charge_id,
    amount: c.amount,
    currency: c.currency,
    status: c.status,
    attempt: c.attempt,
    failure_code: c.failure_code,
    failure_message: c.failure_message,
    period_start: iso(c.period_start),
    period_end: iso(c.period_end),
    created_at: iso(c.created_at),
  };
}

/** When the next charge attempt is planned (null when none is). */
export function nextBillingAt(s: SubscriptionRecord): number | null {
  switch (s.status) {
    case 'PENDING_AUTHORIZATION':
      return s.trial_end ?? s.current_period_start;
    case 'TRIALING':
    case 'ACTIVE':
      return s.cancel_at_period_end ? null : s.current_period_end;
    case 'PAST_DUE':
      if (s.cancel_at_period_end && s.current_period_end !== null && s.next_retry_at !== null && s.current_period_end <= s.next_retry_at) return null;
      return s.next_retry_at;
    default:
      return null;
  }
}

export function subscriptionToApi(s: SubscriptionRecord, baseUrl: string): Record<string, unknown> {
  const pending = s.pending_update ? { ...s.pending_update, effective_at: isoOrNull(s.current_period_end) } : null;
  return {
    subscription_id: s.subscription_id,
    merchant_id: s.merchant_id,
    out_subscription_no: s.out_subscription_no,
    status: s.status,
    customer: s.customer,
    amount: s.amount,
    currency: s.currency,
    interval: s.interval,
    interval_count: s.interval_count,
    start_date: s.start_date,
    trial_days: s.trial_days,
    trial_start: isoOrNull(s.trial_start),
    trial_end: isoOrNull(s.trial_end),
    pay_url: payUrl(baseUrl, s.subscription_id),
    return_url: s.return_url,
    notify_url: s.notify_url,
    current_period_start: isoOrNull(s.current_period_start),
    current_period_end: isoOrNull(s.current_period_end),
    next_billing_at: isoOrNull(nextBillingAt(s)),
    cancel_at_period_end: s.cancel_at_period_end,
    cancelled_at: isoOrNull(s.cancelled_at),
    cancellation_reason: s.cancellation_reason,
    failed_renewal_count: s.failed_renewal_count,
    next_retry_at: isoOrNull(s.next_retry_at),
    pending_update: pending,
    authorized_at: isoOrNull(s.authorized_at),
    metadata: s.metadata,
    created_at: iso(s.created_at),
    updated_at: iso(s.updated_at),
    charges: s.charges.map(chargeToApi),
  };
}
