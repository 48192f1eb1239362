/** Workflow 2 — refunds: create (PROCESSING), settle after `refundDelayMs`, look up. */
import { fingerprint } from './canonical';
import { emit, type SandboxContext } from './context';
import { apiError, InternalError, invalid } from './errors';
import { displayAmount } from './currencies';
import { newId } from './ids';
import { failureMessage } from './payments';
import { refundToApi } from './present';
import { moveOrder, moveRefund, type Merchant, type OrderRecord, type RefundRecord } from './types';
import { checkMerchantField, LIMITS, optString, reqAmount, reqIdentifier, type Body } from './validation';

/** `POST /payment/refund` (inside a transaction). */
export async function createRefund(ctx: SandboxContext, merchant: Merchant, body: Body): Promise<Record<string, unknown>> {
  checkMerchantField(body.merchant_id, merchant, true);
  // The contract names the payment by transaction_id; as an addition the sandbox also accepts
  // order_id or out_trade_no, which is how a refund of a never-paid order meets PAYMENT_NOT_PAID.
  const byOrder =
    (body.transaction_id === undefined || body.transaction_id === null) &&
    ((body.order_id !== undefined && body.order_id !== null) || (body.out_trade_no !== undefined && body.out_trade_no !== null));
  const transactionId = byOrder ? null : reqIdentifier(body, 'transaction_id');
  const orderId = byOrder ? optString(body, 'order_id', LIMITS.identifier) : null;
  const outTradeNo = byOrder && orderId === null ? reqIdentifier(body, 'out_trade_no') : null;
  const outRefundNo = reqIdentifier(body, 'out_refund_no');
  const amount = reqAmount(body);
  const reason = optString(body, 'reason', LIMITS.reason);
  const paramsHash = fingerprint({ transactionId, orderId, outTradeNo, amount, reason });

  const existing = await ctx.store.getRefundByOutRefundNo(merchant.merchant_id, outRefundNo);
  if (existing) {
    if (existing.params_hash !== paramsHash) {
      throw apiError('ORDER_CONFLICT', `out_refund_no "${outRefundNo}" already exists with different parameters`);
    }
    return refundToApi(existing);
  }
  let order: OrderRecord | undefined;
  if (transactionId !== null) order = await ctx.store.getOrderByTransaction(merchant.merchant_id, transactionId);
  else if (orderId !== null) order = await ctx.store.getOrder(orderId);
  else if (outTradeNo !== null) order = await ctx.store.getOrderByOutTradeNo(merchant.merchant_id, outTradeNo);
  if (!order || order.merchant_id !== merchant.merchant_id) {
    throw apiError('ORDER_NOT_FOUND', transactionId !== null ? 'no paid order has this transaction_id' : 'no such order');
  }
  if (order.status === 'REFUNDED') {
    throw apiError('REFUND_EXCEEDS_PAYMENT', 'the payment has already been refunded in full');
  }
  if ((order.status !== 'PAID' && order.status !== 'PARTIALLY_REFUNDED') || order.transaction_id === null) {
    throw apiError('PAYMENT_NOT_PAID', `the order is ${order.status}, not paid`);
  }
  const paidTransaction = order.transaction_id;
  const committed = await ctx.store.committedRefundTotal(order.order_id);
  if (committed + amount > order.amount) {
    const left = Math.max(0, order.amount - committed);
    throw apiError(
      'REFUND_EXCEEDS_PAYMENT',
      `amount exceeds what is left to refund (${displayAmount(left, order.currency)} of ${displayAmount(order.amount, order.currency)})`,
    );
  }
  const now = ctx.clock.now();
  const refund: RefundRecord = {
    refund_id: newId('rf'),
    merchant_id: merchant.merchant_id,
    out_refund_no: outRefundNo,
    order_id: order.order_id,
    out_trade_no: order.out_trade_no,
    transaction_id: paidTransaction,
    amount,
    currency: order.currency,
    reason,
    notify_url: order.notify_url,
    params_hash: paramsHash,
    status: 'PROCESSING',
    forced_failure_code: ctx.faults.takeRefund() ?? null,
    due_real_ms: Date.now() + ctx.refundDelayMs,
    succeeded_at: null,
    failed_at: null,
    failure_code: null,
    failure_message: null,
    created_at: now,
    updated_at: now,
  };
  await ctx.store.saveRefund(refund);
  ctx.store.onCommit(() => ctx.scheduleRefundCheck(ctx.refundDelayMs));
  return refundToApi(refund);
}

/** `GET /payment/refund/status?refund_id=…|out_refund_no=…`. */
export async function getRefundStatus(ctx: SandboxContext, merchant: Merchant, query: URLSearchParams): Promise<Record<string, unknown>> {
  checkMerchantField(query.get('merchant_id') ?? undefined, merchant, false);
  const refundId = query.get('refund_id');
  const outRefundNo = query.get('out_refund_no');
  let refund: RefundRecord | undefined;
  if (refundId) {
    refund = await ctx.store.getRefund(refundId);
    if (refund && outRefundNo && refund.out_refund_no !== outRefundNo) refund = undefined;
  } else if (outRefundNo) {
    refund = await ctx.store.getRefundByOutRefundNo(merchant.merchant_id, outRefundNo);
  } else {
    throw invalid('refund_id', 'or out_refund_no is required');
  }
  if (!refund || refund.merchant_id !== merchant.merchant_id) throw apiError('REFUND_NOT_FOUND', 'no such refund');
  return refundToApi(refund);
}

/** Settles one PROCESSING refund (inside a transaction): SUCCEEDED, or FAILED when a refund fault chose so. */
export async function settleRefund(ctx: SandboxContext, refund: RefundRecord): Promise<void> {
  if (refund.status !== 'PROCESSING') return;
  const order = await ctx.store.getOrder(refund.order_id);
  if (!order) throw new InternalError(`refund ${refund.refund_id} has no order`);
  const now = ctx.clock.now();
  refund.updated_at = now;
  const tgt = { merchantId: refund.merchant_id, objectId: refund.refund_id, notifyUrl: refund.notify_url };
  if (refund.forced_failure_code) {
    moveRefund(refund, 'FAILED');
    refund.failed_at = now;
    refund.failure_code = refund.forced_failure_code;
    refund.failure_message = failureMessage(refund.forced_failure_code);
    await ctx.store.saveRefund(refund);
    await emit(ctx, 'refund.failed', tgt, refundToApi(refund), now);
    return;
  }
  moveRefund(refund, 'SUCCEEDED');
  refund.succeeded_at = now;
  await ctx.store.saveRefund(refund);
  const refunded = await ctx.store.succeededRefundTotal(order.order_id);
  if (refunded > order.amount) throw new InternalError(`order ${order.order_id} over-refunded`);
  order.refunded_amount = refunded;
  moveOrder(order, refunded === order.amount ? 'REFUNDED' : 'PARTIALLY_REFUNDED');
  order.updated_at = now;
  await ctx.store.saveOrder(order);
  await emit(ctx, 'refund.succeeded', tgt, refundToApi(refund), now);
}
