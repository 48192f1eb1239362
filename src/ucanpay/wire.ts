/**
 * UCanPay wire format (snake_case JSON) and the pure mappers between it and
 * the domain types of `types.ts`. This is the only module that knows
 * snake_case.
 *
 * Parsing is defensive: anything the provider sends is `unknown` until a
 * mapper has checked it, and a payload that is not the contract's shape
 * raises a `UCanPayError` with code `INVALID_RESPONSE` naming the offending
 * field (never echoing its value). Unknown extra fields are ignored; `null`
 * is treated as "absent" for optional fields.
 */
import { invalidResponse } from './errors';
import type {
  CancelSubscriptionInput,
  CreateOrderInput,
  CreateRefundInput,
  CreateSubscriptionInput,
  UCanPayCharge,
  UCanPayChargeStatus,
  UCanPayCustomer,
  UCanPayInterval,
  UCanPayMetadata,
  UCanPayOrder,
  UCanPayOrderStatus,
  UCanPayPendingUpdate,
  UCanPayRefund,
  UCanPayRefundStatus,
  UCanPaySubscription,
  UCanPaySubscriptionStatus,
  UpdateSubscriptionInput,
} from './types';

// ---------------------------------------------------------------------------
// Wire shapes
// ---------------------------------------------------------------------------

export interface WireCreateOrderRequest {
  merchant_id: string;
  out_trade_no: string;
  amount: number;
  currency: string;
  description: string;
  return_url: string;
  notify_url: string;
  expires_in?: number;
  /** Absolute expiry, ISO 8601 UTC (addition, see docs/ucanpay-api.md). */
  time_expire?: string;
  metadata?: Record<string, string>;
}

/** `GET /payment/status` answer (create answers carry a subset plus `pay_url`, `expires_at`, `created_at`). */
export interface WireOrder {
  order_id: string;
  out_trade_no: string;
  status: UCanPayOrderStatus;
  amount: number;
  currency: string;
  transaction_id?: string | null;
  paid_at?: string | null;
  refunded_amount?: number;
  failure_code?: string | null;
  failure_message?: string | null;
  pay_url?: string | null;
  expires_at?: string | null;
  closed_at?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
  description?: string | null;
  metadata?: Record<string, string> | null;
}

export interface WireCreateRefundRequest {
  merchant_id: string;
  transaction_id: string;
  out_refund_no: string;
  amount: number;
  reason: string;
}

export interface WireRefund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  amount: number;
  currency: string;
  status: UCanPayRefundStatus;
  reason?: string | null;
  order_id?: string | null;
  out_trade_no?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
  succeeded_at?: string | null;
  failed_at?: string | null;
  failure_code?: string | null;
  failure_message?: string | null;
}

export interface WireCustomer {
  id: string;
  email?: string | null;
  name?: string | null;
}

export interface WireCreateSubscriptionRequest {
  merchant_id: string;
  out_subscription_no: string;
  customer: { id: string; email: string; name: string };
  amount: number;
  currency: string;
  interval: UCanPayInterval;
  interval_count: number;
  start_date: string;
  trial_days?: number;
  notify_url?: string;
  return_url?: string;
  metadata?: Record<string, string>;
}

export interface WireUpdateSubscriptionRequest {
  merchant_id: string;
  subscription_id: string;
  amount?: number;
  interval?: UCanPayInterval;
  interval_count?: number;
  metadata?: Record<string, string>;
}

export interface WireCancelSubscriptionRequest {
  merchant_id: string;
  subscription_id: string;
  at_period_end: boolean;
}

export interface WireCharge {
  charge_id: string;
  amount: number;
  currency?: string | null;
  status: UCanPayChargeStatus;
  period_start: string;
  period_end: string;
  created_at?: string | null;
  attempt?: number | null;
  failure_code?: string | null;
  failure_message?: string | null;
}

export interface WirePendingUpdate {
  amount?: number | null;
  interval?: UCanPayInterval | null;
  interval_count?: number | null;
  metadata?: Record<string, string> | null;
  effective_at?: string | null;
}

export interface WireSubscription {
  subscription_id: string;
  out_subscription_no: string;
  status: UCanPaySubscriptionStatus;
  customer?: WireCustomer | null;
  amount: number;
  currency: string;
  interval: UCanPayInterval;
  interval_count: number;
  start_date?: string | null;
  trial_days?: number | null;
  trial_start?: string | null;
  trial_end?: string | null;
  pay_url?: string | null;
  authorized_at?: string | null;
  current_period_start?: string | null;
  current_period_end?: string | null;
  next_billing_at?: string | null;
  next_retry_at?: string | null;
  cancel_at_period_end?: boolean | null;
  cancelled_at?: string | null;
  cancellation_reason?: string | null;
  failed_renewal_count?: number | null;
  pending_update?: WirePendingUpdate | null;
  charges?: WireCharge[] | null;
  metadata?: Record<string, string> | null;
  created_at?: string | null;
  updated_at?: string | null;
}

/** `{ "error": { "code", "message" } }` */
export interface WireErrorBody {
  error: { code: string; message?: string };
}

/** Webhook envelope. */
export interface WireWebhookEvent {
  id: string;
  type: string;
  created: number;
  data: { object: unknown };
}

// ---------------------------------------------------------------------------
// Enumerations (exactly the contract's)
// ---------------------------------------------------------------------------

export const ORDER_STATUSES: readonly UCanPayOrderStatus[] = ['PENDING', 'PAID', 'FAILED', 'CANCELLED', 'EXPIRED', 'PARTIALLY_REFUNDED', 'REFUNDED'];
export const REFUND_STATUSES: readonly UCanPayRefundStatus[] = ['PROCESSING', 'SUCCEEDED', 'FAILED'];
export const SUBSCRIPTION_STATUSES: readonly UCanPaySubscriptionStatus[] = ['PENDING_AUTHORIZATION', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'UNPAID', 'CANCELLED'];
export const INTERVALS: readonly UCanPayInterval[] = ['DAY', 'WEEK', 'MONTH', 'YEAR'];
export const CHARGE_STATUSES: readonly UCanPayChargeStatus[] = ['PENDING', 'SUCCEEDED', 'FAILED'];

export const ORDER_EVENT_TYPES = ['payment.succeeded', 'payment.failed', 'payment.cancelled', 'payment.expired'] as const;
export const REFUND_EVENT_TYPES = ['refund.succeeded', 'refund.failed'] as const;
export const SUBSCRIPTION_EVENT_TYPES = [
  'subscription.activated',
  'subscription.renewed',
  'subscription.renewal_failed',
  'subscription.past_due',
  'subscription.updated',
  'subscription.cancelled',
] as const;

export type UCanPayOrderEventType = (typeof ORDER_EVENT_TYPES)[number];
export type UCanPayRefundEventType = (typeof REFUND_EVENT_TYPES)[number];
export type UCanPaySubscriptionEventType = (typeof SUBSCRIPTION_EVENT_TYPES)[number];
export type UCanPayEventType = UCanPayOrderEventType | UCanPayRefundEventType | UCanPaySubscriptionEventType;

/**
 * A parsed webhook event; `object` is a snapshot taken at `created`. A type
 * outside the contract is a value (`kind: 'unknown'`, nothing else read), so
 * a receiver can acknowledge events UCanPay adds later without applying them.
 */
export type UCanPayWebhookEvent =
  | { id: string; type: UCanPayOrderEventType; created: Date; kind: 'order'; object: UCanPayOrder }
  | { id: string; type: UCanPayRefundEventType; created: Date; kind: 'refund'; object: UCanPayRefund }
  | { id: string; type: UCanPaySubscriptionEventType; created: Date; kind: 'subscription'; object: UCanPaySubscription }
  | { id: string; type: string; kind: 'unknown' };

const EVENT_TYPES: readonly UCanPayEventType[] = [...ORDER_EVENT_TYPES, ...REFUND_EVENT_TYPES, ...SUBSCRIPTION_EVENT_TYPES];

function isOneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}

// ---------------------------------------------------------------------------
// Defensive reader
// ---------------------------------------------------------------------------

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const CURRENCY = /^[A-Z]{3}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads fields of one wire object, raising INVALID_RESPONSE with the field's path on a mismatch. */
class Reader {
  private readonly obj: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly what: string,
  ) {
    if (!isRecord(value)) throw invalidResponse(`UCanPay ${what} payload is not a JSON object`);
    this.obj = value;
  }

  fail(field: string, expected: string): never {
    throw invalidResponse(`UCanPay ${this.what} payload: field "${field}" ${expected}`);
  }

  private present(field: string): boolean {
    const v = this.obj[field];
    return v !== undefined && v !== null;
  }

  raw(field: string): unknown {
    return this.obj[field];
  }

  string(field: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string' || v.length === 0) this.fail(field, 'must be a non-empty string');
    return v;
  }

  optString(field: string): string | undefined {
    if (!this.present(field)) return undefined;
    const v = this.obj[field];
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    return v === '' ? undefined : v;
  }

  /** A non-negative safe integer (money in minor units, counts). */
  int(field: string, min = 0): number {
    const v = this.obj[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      this.fail(field, `must be an integer ≥ ${min}`);
    }
    return v;
  }

  optInt(field: string, min = 0): number | undefined {
    return this.present(field) ? this.int(field, min) : undefined;
  }

  bool(field: string, fallback: boolean): boolean {
    if (!this.present(field)) return fallback;
    const v = this.obj[field];
    if (typeof v !== 'boolean') this.fail(field, 'must be a boolean');
    return v;
  }

  currency(field: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string' || !CURRENCY.test(v)) this.fail(field, 'must be an upper-case ISO 4217 code');
    return v;
  }

  optCurrency(field: string): string | undefined {
    return this.present(field) ? this.currency(field) : undefined;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.obj[field];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(field, `must be one of ${allowed.join(', ')}`);
    }
    return v as T;
  }

  optOneOf<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    return this.present(field) ? this.oneOf(field, allowed) : undefined;
  }

  date(field: string): Date {
    const v = this.obj[field];
    if (typeof v !== 'string' || !ISO_DATETIME.test(v)) this.fail(field, 'must be an ISO 8601 timestamp');
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) this.fail(field, 'must be a valid ISO 8601 timestamp');
    return d;
  }

  optDate(field: string): Date | undefined {
    return this.present(field) ? this.date(field) : undefined;
  }

  /** A calendar date kept as `YYYY-MM-DD` (a full timestamp is cut to its date part). */
  optIsoDate(field: string): string | undefined {
    if (!this.present(field)) return undefined;
    const v = this.obj[field];
    if (typeof v !== 'string') this.fail(field, 'must be an ISO date');
    const day = v.slice(0, 10);
    if (!ISO_DATE.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) this.fail(field, 'must be an ISO date');
    return day;
  }

  optMetadata(field: string): UCanPayMetadata | undefined {
    if (!this.present(field)) return undefined;
    const v = this.obj[field];
    if (!isRecord(v)) this.fail(field, 'must be an object of strings');
    const out: UCanPayMetadata = {};
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string') this.fail(`${field}.${k}`, 'must be a string');
      out[k] = val;
    }
    return out;
  }

  optObject(field: string): Record<string, unknown> | undefined {
    if (!this.present(field)) return undefined;
    const v = this.obj[field];
    if (!isRecord(v)) this.fail(field, 'must be an object');
    return v;
  }

  optArray(field: string): unknown[] | undefined {
    if (!this.present(field)) return undefined;
    const v = this.obj[field];
    if (!Array.isArray(v)) this.fail(field, 'must be an array');
    return v;
  }
}

/** Drops `undefined` properties so optional fields stay truly absent. */
function compact<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as (keyof T)[]) {
    if (obj[key] === undefined) delete obj[key];
  }
  return obj;
}

// ---------------------------------------------------------------------------
// Wire → domain
// ---------------------------------------------------------------------------

/**
 * Maps an order as UCanPay sends it (status endpoint, create answer, webhook
 * `data.object`) to a {@link UCanPayOrder}. `refunded_amount` defaults to 0
 * when absent. Throws `UCanPayError` (`INVALID_RESPONSE`) on a malformed payload.
 */
export function toOrder(wire: unknown): UCanPayOrder {
  const r = new Reader(wire, 'order');
  return compact<UCanPayOrder>({
    orderId: r.string('order_id'),
    outTradeNo: r.string('out_trade_no'),
    status: r.oneOf('status', ORDER_STATUSES),
    amount: r.int('amount'),
    currency: r.currency('currency'),
    transactionId: r.optString('transaction_id'),
    paidAt: r.optDate('paid_at'),
    refundedAmount: r.optInt('refunded_amount') ?? 0,
    failureCode: r.optString('failure_code'),
    failureMessage: r.optString('failure_message'),
    payUrl: r.optString('pay_url'),
    expiresAt: r.optDate('expires_at'),
    closedAt: r.optDate('closed_at'),
    createdAt: r.optDate('created_at'),
    updatedAt: r.optDate('updated_at'),
    description: r.optString('description'),
    metadata: r.optMetadata('metadata'),
  });
}

/** Maps a refund (create answer, status endpoint, webhook object). Throws `INVALID_RESPONSE` when malformed. */
export function toRefund(wire: unknown): UCanPayRefund {
  const r = new Reader(wire, 'refund');
  return compact<UCanPayRefund>({
    refundId: r.string('refund_id'),
    outRefundNo: r.string('out_refund_no'),
    transactionId: r.string('transaction_id'),
    amount: r.int('amount'),
    currency: r.currency('currency'),
    status: r.oneOf('status', REFUND_STATUSES),
    reason: r.optString('reason'),
    orderId: r.optString('order_id'),
    outTradeNo: r.optString('out_trade_no'),
    createdAt: r.optDate('created_at'),
    updatedAt: r.optDate('updated_at'),
    succeededAt: r.optDate('succeeded_at'),
    failedAt: r.optDate('failed_at'),
    failureCode: r.optString('failure_code'),
    failureMessage: r.optString('failure_message'),
  });
}

function toCustomer(wire: Record<string, unknown>): UCanPayCustomer {
  const r = new Reader(wire, 'subscription.customer');
  return compact<UCanPayCustomer>({ id: r.string('id'), email: r.optString('email'), name: r.optString('name') });
}

function toCharge(wire: unknown, index: number): UCanPayCharge {
  const r = new Reader(wire, `subscription.charges[${index}]`);
  return compact<UCanPayCharge>({
    chargeId: r.string('charge_id'),
    amount: r.int('amount'),
    currency: r.optCurrency('currency'),
    status: r.oneOf('status', CHARGE_STATUSES),
    periodStart: r.date('period_start'),
    periodEnd: r.date('period_end'),
    createdAt: r.optDate('created_at'),
    attempt: r.optInt('attempt', 1),
    failureCode: r.optString('failure_code'),
    failureMessage: r.optString('failure_message'),
  });
}

function toPendingUpdate(wire: Record<string, unknown>): UCanPayPendingUpdate {
  const r = new Reader(wire, 'subscription.pending_update');
  return compact<UCanPayPendingUpdate>({
    amount: r.optInt('amount'),
    interval: r.optOneOf('interval', INTERVALS),
    intervalCount: r.optInt('interval_count', 1),
    metadata: r.optMetadata('metadata'),
    effectiveAt: r.optDate('effective_at'),
  });
}

/**
 * Maps a subscription (create/update/cancel answers, status endpoint, webhook
 * object). Absent `charges` → `[]`, `cancel_at_period_end` → false,
 * `failed_renewal_count` → 0. Throws `INVALID_RESPONSE` when malformed.
 */
export function toSubscription(wire: unknown): UCanPaySubscription {
  const r = new Reader(wire, 'subscription');
  const customer = r.optObject('customer');
  const pending = r.optObject('pending_update');
  const charges = r.optArray('charges') ?? [];
  return compact<UCanPaySubscription>({
    subscriptionId: r.string('subscription_id'),
    outSubscriptionNo: r.string('out_subscription_no'),
    status: r.oneOf('status', SUBSCRIPTION_STATUSES),
    customer: customer ? toCustomer(customer) : undefined,
    amount: r.int('amount'),
    currency: r.currency('currency'),
    interval: r.oneOf('interval', INTERVALS),
    intervalCount: r.int('interval_count', 1),
    startDate: r.optIsoDate('start_date'),
    trialDays: r.optInt('trial_days'),
    trialStart: r.optDate('trial_start'),
    trialEnd: r.optDate('trial_end'),
    payUrl: r.optString('pay_url'),
    authorizedAt: r.optDate('authorized_at'),
    currentPeriodStart: r.optDate('current_period_start'),
    currentPeriodEnd: r.optDate('current_period_end'),
    nextBillingAt: r.optDate('next_billing_at'),
    nextRetryAt: r.optDate('next_retry_at'),
    cancelAtPeriodEnd: r.bool('cancel_at_period_end', false),
    cancelledAt: r.optDate('cancelled_at'),
    cancellationReason: r.optString('cancellation_reason'),
    failedRenewalCount: r.optInt('failed_renewal_count') ?? 0,
    pendingUpdate: pending && Object.keys(pending).length > 0 ? toPendingUpdate(pending) : undefined,
    charges: charges.map(toCharge),
    metadata: r.optMetadata('metadata'),
    createdAt: r.optDate('created_at'),
    updatedAt: r.optDate('updated_at'),
  });
}

/**
 * Parses a webhook envelope `{ id, type, created, data: { object } }` and maps
 * its object by event type. Verify the signature on the raw body first
 * (`verifyWebhookSignature`). An unknown type is answered `{ kind: 'unknown' }`
 * (its `created` and `data` are not read); a malformed event of a known type
 * throws `INVALID_RESPONSE`.
 */
export function toWebhookEvent(wire: unknown): UCanPayWebhookEvent {
  const r = new Reader(wire, 'webhook event');
  const id = r.string('id');
  const type = r.raw('type');
  if (typeof type !== 'string') return r.fail('type', 'must be a string');
  if (!isOneOf(type, EVENT_TYPES)) return { id, type, kind: 'unknown' };
  const created = new Date(r.int('created') * 1000);
  const object = r.optObject('data')?.object;
  if (!isRecord(object)) return r.fail('data.object', 'must be an object');
  if (isOneOf(type, ORDER_EVENT_TYPES)) return { id, type, created, kind: 'order', object: toOrder(object) };
  if (isOneOf(type, REFUND_EVENT_TYPES)) return { id, type, created, kind: 'refund', object: toRefund(object) };
  return { id, type, created, kind: 'subscription', object: toSubscription(object) };
}

/**
 * Reads `{ "error": { "code", "message" } }`; `undefined` when the body is not
 * that shape (the caller then classifies by HTTP status).
 */
export function parseErrorBody(body: unknown): { code: string; message?: string } | undefined {
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const { code, message } = body.error;
  if (typeof code !== 'string' || code.length === 0) return undefined;
  return { code, message: typeof message === 'string' ? message : undefined };
}

// ---------------------------------------------------------------------------
// Domain → wire
// ---------------------------------------------------------------------------

export function toCreateOrderRequest(merchantId: string, input: CreateOrderInput): WireCreateOrderRequest {
  return compact<WireCreateOrderRequest>({
    merchant_id: merchantId,
    out_trade_no: input.outTradeNo,
    amount: input.amount,
    currency: input.currency,
    description: input.description,
    return_url: input.returnUrl,
    notify_url: input.notifyUrl,
    expires_in: input.expiresIn,
    time_expire: input.expiresAt?.toISOString(),
    metadata: input.metadata,
  });
}

export function toCreateRefundRequest(merchantId: string, input: CreateRefundInput): WireCreateRefundRequest {
  return {
    merchant_id: merchantId,
    transaction_id: input.transactionId,
    out_refund_no: input.outRefundNo,
    amount: input.amount,
    reason: input.reason,
  };
}

export function toCreateSubscriptionRequest(merchantId: string, input: CreateSubscriptionInput): WireCreateSubscriptionRequest {
  return compact<WireCreateSubscriptionRequest>({
    merchant_id: merchantId,
    out_subscription_no: input.outSubscriptionNo,
    customer: { id: input.customer.id, email: input.customer.email, name: input.customer.name },
    amount: input.amount,
    currency: input.currency,
    interval: input.interval,
    interval_count: input.intervalCount,
    start_date: input.startDate,
    trial_days: input.trialDays,
    notify_url: input.notifyUrl,
    return_url: input.returnUrl,
    metadata: input.metadata,
  });
}

export function toUpdateSubscriptionRequest(merchantId: string, input: UpdateSubscriptionInput): WireUpdateSubscriptionRequest {
  return compact<WireUpdateSubscriptionRequest>({
    merchant_id: merchantId,
    subscription_id: input.subscriptionId,
    amount: input.amount,
    interval: input.interval,
    interval_count: input.intervalCount,
    metadata: input.metadata,
  });
}

export function toCancelSubscriptionRequest(merchantId: string, input: CancelSubscriptionInput): WireCancelSubscriptionRequest {
  return { merchant_id: merchantId, subscription_id: input.subscriptionId, at_period_end: input.atPeriodEnd };
}
