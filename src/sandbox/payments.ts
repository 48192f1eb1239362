/** Workflow 1 — payment orders: create, look up, checkout actions, expiry. */
import { fingerprint } from './canonical';
import { emit, type SandboxContext } from './context';
import { apiError, invalid } from './errors';
import { newId } from './ids';
import { orderToApi } from './present';
import { moveOrder, type Merchant, type OrderRecord } from './types';
import { checkMerchantField, LIMITS, optInt, optMetadata, reqAmount, reqCurrency, reqIdentifier, reqString, reqUrl, type Body } from './validation';

export const DEFAULT_EXPIRES_IN = 1800;

export interface Failure {
  code: 'CARD_DECLINED' | 'INSUFFICIENT_FUNDS' | string;
  message: string;
}

const FAILURE_MESSAGES: Record<string, string> = {
  CARD_DECLINED: 'The card was declined.',
  INSUFFICIENT_FUNDS: 'The card has insufficient funds.',
};

export function failureMessage(code: string): string {
  return FAILURE_MESSAGES[code] ?? `The charge failed (${code}).`;
}

/** Magic amounts: minor units ending in 02 are declined, ending in 51 lack funds. */
export function magicFailure(amount: number): Failure | null {
  const lastTwo = amount % 100;
  if (lastTwo === 2) return { code: 'CARD_DECLINED', message: failureMessage('CARD_DECLINED') };
  if (lastTwo === 51) return { code: 'INSUFFICIENT_FUNDS', message: failureMessage('INSUFFICIENT_FUNDS') };
  return null;
}

export function orderApi(ctx: SandboxContext, o: OrderRecord): Record<string, unknown> {
  return orderToApi(o, ctx.baseUrl());
}

function target(o: OrderRecord): { merchantId: string; objectId: string; notifyUrl: string } {
  return { merchantId: o.merchant_id, objectId: o.order_id, notifyUrl: o.notify_url };
}

/** `POST /payment/unifiedorder` (inside a transaction). */
export async function createOrder(ctx: SandboxContext, merchant: Merchant, body: Body): Promise<Record<string, unknown>> {
  checkMerchantField(body.merchant_id, merchant, true);
  const outTradeNo = reqIdentifier(body, 'out_trade_no');
  const amount = reqAmount(body);
  const currency = reqCurrency(body);
  const description = reqString(body, 'description', LIMITS.description);
  const returnUrl = reqUrl(body, 'return_url');
  const notifyUrl = reqUrl(body, 'notify_url');
  const expiresIn = optInt(body, 'expires_in', 1, LIMITS.maxExpiresIn) ?? DEFAULT_EXPIRES_IN;
  const metadata = optMetadata(body) ?? {};
  const timeExpire = optTimeExpire(body);
  // Only when sent: orders created before time_expire existed keep their fingerprint.
  const paramsHash = fingerprint({ amount, currency, description, returnUrl, notifyUrl, expiresIn, metadata, ...(timeExpire === null ? {} : { timeExpire }) });

  const existing = await ctx.store.getOrderByOutTradeNo(merchant.merchant_id, outTradeNo);
  if (existing) {
    if (existing.params_hash !== paramsHash) {
      throw apiError('ORDER_CONFLICT', `out_trade_no "${outTradeNo}" already exists with different parameters`);
    }
    return orderApi(ctx, await expireIfDue(ctx, existing));
  }
  const now = ctx.clock.now();
  const order: OrderRecord = {
    order_id: newId('ord'),
    merchant_id: merchant.merchant_id,
    out_trade_no: outTradeNo,
    status: 'PENDING',
    amount,
    currency,
    description,
    return_url: returnUrl,
    notify_url: notifyUrl,
    expires_in: expiresIn,
    metadata,
    params_hash: paramsHash,
    transaction_id: null,
    paid_at: null,
    refunded_amount: 0,
    failure_code: null,
    failure_message: null,
    expires_at: timeExpire === null ? now + expiresIn * 1000 : Math.min(now + expiresIn * 1000, timeExpire),
    closed_at: null,
    created_at: now,
    updated_at: now,
  };
  if (order.expires_at <= now) {
    // Addition: an order asked for after its absolute expiry is born EXPIRED and can never be paid.
    moveOrder(order, 'EXPIRED');
    order.closed_at = now;
    await ctx.store.saveOrder(order);
    await emit(ctx, 'payment.expired', target(order), orderApi(ctx, order), now);
    return orderApi(ctx, order);
  }
  await ctx.store.saveOrder(order);
  return orderApi(ctx, order);
}

/** Optional `time_expire` (addition): an absolute ISO 8601 UTC instant after which the order cannot be paid. */
function optTimeExpire(body: Body): number | null {
  const raw = body.time_expire;
  if (raw === undefined || raw === null) return null;
  const ms = typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid('time_expire', 'must be an ISO 8601 UTC timestamp such as 2026-01-01T12:00:00Z');
  return ms;
}

/** `GET /payment/status?order_id=…|out_trade_no=…` (inside a transaction). */
export async function getOrderStatus(ctx: SandboxContext, merchant: Merchant, query: URLSearchParams): Promise<Record<string, unknown>> {
  checkMerchantField(query.get('merchant_id') ?? undefined, merchant, false);
  const orderId = query.get('order_id');
  const outTradeNo = query.get('out_trade_no');
  let order: OrderRecord | undefined;
  if (orderId) {
    order = await ctx.store.getOrder(orderId);
    if (order && outTradeNo && order.out_trade_no !== outTradeNo) order = undefined;
  } else if (outTradeNo) {
    order = await ctx.store.getOrderByOutTradeNo(merchant.merchant_id, outTradeNo);
  } else {
    throw invalid('order_id', 'or out_trade_no is required');
  }
  if (!order || order.merchant_id !== merchant.merchant_id) throw apiError('ORDER_NOT_FOUND', 'no such order');
  return orderApi(ctx, await expireIfDue(ctx, order));
}

/** Expires a PENDING order whose `expires_at` has passed (sandbox time), stamping it at `expires_at`. */
export async function expireIfDue(ctx: SandboxContext, order: OrderRecord): Promise<OrderRecord> {
  if (order.status === 'PENDING' && order.expires_at <= ctx.clock.now()) await expireOrder(ctx, order);
  return order;
}

export async function expireOrder(ctx: SandboxContext, order: OrderRecord): Promise<void> {
  const at = order.expires_at;
  moveOrder(order, 'EXPIRED');
  order.closed_at = at;
  order.updated_at = at;
  await ctx.store.saveOrder(order);
  await emit(ctx, 'payment.expired', target(order), orderApi(ctx, order), at);
}

export type CheckoutAction = 'authorize' | 'decline' | 'cancel';

/** What the customer's button does to a PENDING order (inside a transaction). */
export async function checkoutOrder(ctx: SandboxContext, order: OrderRecord, action: CheckoutAction): Promise<OrderRecord> {
  await expireIfDue(ctx, order);
  if (order.status === 'PAID' || order.status === 'PARTIALLY_REFUNDED' || order.status === 'REFUNDED') {
    throw apiError('ORDER_ALREADY_PAID', 'This order has already been paid.');
  }
  if (order.status !== 'PENDING') {
    throw apiError('ORDER_CLOSED', `This order is ${order.status.toLowerCase()} and can no longer be paid.`);
  }
  const now = ctx.clock.now();
  order.updated_at = now;
  let type: string;
  if (action === 'authorize') {
    const failure = magicFailure(order.amount);
    if (failure) {
      moveOrder(order, 'FAILED');
      order.failure_code = failure.code;
      order.failure_message = failure.message;
      order.closed_at = now;
      type = 'payment.failed';
    } else {
      moveOrder(order, 'PAID');
      order.transaction_id = newId('txn');
      order.paid_at = now;
      type = 'payment.succeeded';
    }
  } else if (action === 'decline') {
    moveOrder(order, 'FAILED');
    order.failure_code = 'CARD_DECLINED';
    order.failure_message = 'The customer declined the payment.';
    order.closed_at = now;
    type = 'payment.failed';
  } else {
    moveOrder(order, 'CANCELLED');
    order.closed_at = now;
    type = 'payment.cancelled';
  }
  await ctx.store.saveOrder(order);
  await emit(ctx, type, target(order), orderApi(ctx, order), now);
  return order;
}
