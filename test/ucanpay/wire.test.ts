import { describe, expect, it } from 'vitest';
import { toOrder, toRefund, toSubscription, toWebhookEvent, UCanPayError } from '../../src/ucanpay';
import {
  parseErrorBody,
  toCancelSubscriptionRequest,
  toCreateOrderRequest,
  toCreateRefundRequest,
  toCreateSubscriptionRequest,
  toUpdateSubscriptionRequest,
} from '../../src/ucanpay/wire';

const ISO = '2025-11-25T10:00:00.000Z';
const D = new Date(ISO);

const wireOrder = {
  order_id: 'ord_1',
  out_trade_no: 'A-1',
  status: 'PAID',
  amount: 1999,
  currency: 'USD',
  transaction_id: 'txn_1',
  paid_at: ISO,
  refunded_amount: 500,
  failure_code: null,
  failure_message: null,
};
const wireRefund = {
  refund_id: 'rf_1',
  out_refund_no: 'R-1',
  transaction_id: 'txn_1',
  amount: 500,
  currency: 'USD',
  status: 'SUCCEEDED',
  created_at: ISO,
  succeeded_at: ISO,
  failure_code: null,
};
const wireSub = {
  subscription_id: 'sub_1',
  out_subscription_no: 'S-1',
  status: 'ACTIVE',
  customer: { id: 'cus_1', email: 'a@example.com', name: 'Ann' },
  amount: 999,
  currency: 'JPY',
  interval: 'MONTH',
  interval_count: 1,
  start_date: '2025-11-25',
  current_period_start: ISO,
  current_period_end: '2025-12-25T10:00:00Z',
  next_billing_at: '2025-12-25T10:00:00Z',
  cancel_at_period_end: false,
  failed_renewal_count: 0,
  charges: [{ charge_id: 'ch_1', amount: 999, status: 'SUCCEEDED', period_start: ISO, period_end: '2025-12-25T10:00:00Z', created_at: ISO }],
  metadata: { plan: 'gold' },
};

function expectInvalid(fn: () => unknown, field?: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UCanPayError);
    const e = err as UCanPayError;
    expect(e.code).toBe('INVALID_RESPONSE');
    expect(e.retryable).toBe(false);
    if (field) expect(e.message).toContain(`"${field}"`);
    return;
  }
  throw new Error('expected INVALID_RESPONSE');
}

describe('toOrder', () => {
  it.each([
    [
      'paid order',
      wireOrder,
      {
        orderId: 'ord_1',
        outTradeNo: 'A-1',
        status: 'PAID',
        amount: 1999,
        currency: 'USD',
        transactionId: 'txn_1',
        paidAt: D,
        refundedAmount: 500,
      },
    ],
    [
      'create answer (pending, refunded_amount absent → 0)',
      {
        order_id: 'ord_2',
        out_trade_no: 'A-2',
        status: 'PENDING',
        amount: 500,
        currency: 'JPY',
        pay_url: 'http://x/checkout/ord_2',
        expires_at: ISO,
        created_at: ISO,
        metadata: { a: 'b' },
      },
      {
        orderId: 'ord_2',
        outTradeNo: 'A-2',
        status: 'PENDING',
        amount: 500,
        currency: 'JPY',
        refundedAmount: 0,
        payUrl: 'http://x/checkout/ord_2',
        expiresAt: D,
        createdAt: D,
        metadata: { a: 'b' },
      },
    ],
    [
      'failed order',
      { ...wireOrder, status: 'FAILED', transaction_id: null, paid_at: null, refunded_amount: 0, failure_code: 'CARD_DECLINED', failure_message: 'declined' },
      {
        orderId: 'ord_1',
        outTradeNo: 'A-1',
        status: 'FAILED',
        amount: 1999,
        currency: 'USD',
        refundedAmount: 0,
        failureCode: 'CARD_DECLINED',
        failureMessage: 'declined',
      },
    ],
    [
      'unknown extra fields ignored',
      { ...wireOrder, surprise: { deep: true } },
      {
        orderId: 'ord_1',
        outTradeNo: 'A-1',
        status: 'PAID',
        amount: 1999,
        currency: 'USD',
        transactionId: 'txn_1',
        paidAt: D,
        refundedAmount: 500,
      },
    ],
  ])('%s', (_name, wire, expected) => {
    expect(toOrder(wire)).toEqual(expected);
  });

  it('accepts every contract order status', () => {
    for (const status of ['PENDING', 'PAID', 'FAILED', 'CANCELLED', 'EXPIRED', 'PARTIALLY_REFUNDED', 'REFUNDED']) {
      expect(toOrder({ ...wireOrder, status }).status).toBe(status);
    }
  });

  it.each([
    ['not an object', null, undefined],
    ['an array', [wireOrder], undefined],
    ['a string', 'ord_1', undefined],
    ['missing order_id', { ...wireOrder, order_id: undefined }, 'order_id'],
    ['empty order_id', { ...wireOrder, order_id: '' }, 'order_id'],
    ['numeric order_id', { ...wireOrder, order_id: 12 }, 'order_id'],
    ['unknown status', { ...wireOrder, status: 'SETTLED' }, 'status'],
    ['lower-case status', { ...wireOrder, status: 'paid' }, 'status'],
    ['decimal amount', { ...wireOrder, amount: 19.99 }, 'amount'],
    ['string amount', { ...wireOrder, amount: '1999' }, 'amount'],
    ['negative amount', { ...wireOrder, amount: -1 }, 'amount'],
    ['huge amount', { ...wireOrder, amount: 2 ** 60 }, 'amount'],
    ['lower-case currency', { ...wireOrder, currency: 'usd' }, 'currency'],
    ['missing currency', { ...wireOrder, currency: undefined }, 'currency'],
    ['bad paid_at', { ...wireOrder, paid_at: 'yesterday' }, 'paid_at'],
    ['impossible paid_at', { ...wireOrder, paid_at: '2025-13-45T99:00:00Z' }, 'paid_at'],
    ['numeric paid_at', { ...wireOrder, paid_at: 1764000000 }, 'paid_at'],
    ['refunded_amount decimal', { ...wireOrder, refunded_amount: 1.5 }, 'refunded_amount'],
    ['metadata not strings', { ...wireOrder, metadata: { a: 1 } }, 'metadata.a'],
    ['metadata array', { ...wireOrder, metadata: ['a'] }, 'metadata'],
  ])('malformed: %s', (_name, wire, field) => {
    expectInvalid(() => toOrder(wire), field);
  });

  it('never echoes the offending value in the message', () => {
    try {
      toOrder({ ...wireOrder, currency: 'SECRET-VALUE' });
    } catch (err) {
      expect((err as Error).message).not.toContain('SECRET-VALUE');
    }
  });
});

describe('toRefund', () => {
  it.each([
    [
      'succeeded',
      wireRefund,
      {
        refundId: 'rf_1',
        outRefundNo: 'R-1',
        transactionId: 'txn_1',
        amount: 500,
        currency: 'USD',
        status: 'SUCCEEDED',
        createdAt: D,
        succeededAt: D,
      },
    ],
    [
      'failed with reason',
      { ...wireRefund, status: 'FAILED', succeeded_at: null, failure_code: 'PROVIDER_ERROR', reason: 'dup' },
      {
        refundId: 'rf_1',
        outRefundNo: 'R-1',
        transactionId: 'txn_1',
        amount: 500,
        currency: 'USD',
        status: 'FAILED',
        createdAt: D,
        failureCode: 'PROVIDER_ERROR',
        reason: 'dup',
      },
    ],
    [
      'processing, minimal',
      { refund_id: 'rf_2', out_refund_no: 'R-2', transaction_id: 't', amount: 1, currency: 'KWD', status: 'PROCESSING' },
      {
        refundId: 'rf_2',
        outRefundNo: 'R-2',
        transactionId: 't',
        amount: 1,
        currency: 'KWD',
        status: 'PROCESSING',
      },
    ],
  ])('%s', (_name, wire, expected) => {
    expect(toRefund(wire)).toEqual(expected);
  });

  it.each([
    ['missing refund_id', { ...wireRefund, refund_id: undefined }, 'refund_id'],
    ['status PENDING is not a refund status', { ...wireRefund, status: 'PENDING' }, 'status'],
    ['missing transaction_id', { ...wireRefund, transaction_id: null }, 'transaction_id'],
    ['amount as float', { ...wireRefund, amount: 5.5 }, 'amount'],
    ['bad succeeded_at', { ...wireRefund, succeeded_at: 'now' }, 'succeeded_at'],
  ])('malformed: %s', (_name, wire, field) => {
    expectInvalid(() => toRefund(wire), field);
  });
});

describe('toSubscription', () => {
  it('maps a full subscription', () => {
    expect(toSubscription(wireSub)).toEqual({
      subscriptionId: 'sub_1',
      outSubscriptionNo: 'S-1',
      status: 'ACTIVE',
      customer: { id: 'cus_1', email: 'a@example.com', name: 'Ann' },
      amount: 999,
      currency: 'JPY',
      interval: 'MONTH',
      intervalCount: 1,
      startDate: '2025-11-25',
      currentPeriodStart: D,
      currentPeriodEnd: new Date('2025-12-25T10:00:00Z'),
      nextBillingAt: new Date('2025-12-25T10:00:00Z'),
      cancelAtPeriodEnd: false,
      failedRenewalCount: 0,
      charges: [{ chargeId: 'ch_1', amount: 999, status: 'SUCCEEDED', periodStart: D, periodEnd: new Date('2025-12-25T10:00:00Z'), createdAt: D }],
      metadata: { plan: 'gold' },
    });
  });

  it('defaults: no charges → [], cancel_at_period_end → false, failed_renewal_count → 0', () => {
    const { charges: _c, cancel_at_period_end: _p, failed_renewal_count: _f, ...rest } = wireSub;
    const s = toSubscription({ ...rest, status: 'PENDING_AUTHORIZATION', pay_url: 'http://x/checkout/sub_1' });
    expect(s.charges).toEqual([]);
    expect(s.cancelAtPeriodEnd).toBe(false);
    expect(s.failedRenewalCount).toBe(0);
    expect(s.payUrl).toBe('http://x/checkout/sub_1');
    expect(s.pendingUpdate).toBeUndefined();
  });

  it('maps pending_update, cancellation and renewal failures', () => {
    const s = toSubscription({
      ...wireSub,
      status: 'PAST_DUE',
      cancel_at_period_end: true,
      failed_renewal_count: 2,
      cancelled_at: null,
      pending_update: { amount: 1500, interval: 'YEAR', interval_count: 1, effective_at: '2025-12-25T10:00:00Z' },
      start_date: '2025-11-25T00:00:00Z',
    });
    expect(s.pendingUpdate).toEqual({ amount: 1500, interval: 'YEAR', intervalCount: 1, effectiveAt: new Date('2025-12-25T10:00:00Z') });
    expect(s.cancelAtPeriodEnd).toBe(true);
    expect(s.failedRenewalCount).toBe(2);
    expect(s.startDate).toBe('2025-11-25');
  });

  it('accepts every contract subscription status and interval', () => {
    for (const status of ['PENDING_AUTHORIZATION', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'UNPAID', 'CANCELLED']) {
      expect(toSubscription({ ...wireSub, status }).status).toBe(status);
    }
    for (const interval of ['DAY', 'WEEK', 'MONTH', 'YEAR']) {
      expect(toSubscription({ ...wireSub, interval }).interval).toBe(interval);
    }
  });

  it.each([
    ['bad status', { ...wireSub, status: 'PAUSED' }, 'status'],
    ['bad interval', { ...wireSub, interval: 'FORTNIGHT' }, 'interval'],
    ['interval_count 0', { ...wireSub, interval_count: 0 }, 'interval_count'],
    ['customer not an object', { ...wireSub, customer: 'cus_1' }, 'customer'],
    ['customer without id', { ...wireSub, customer: { email: 'a@b' } }, 'id'],
    ['charges not an array', { ...wireSub, charges: {} }, 'charges'],
    ['charge without id', { ...wireSub, charges: [{ ...wireSub.charges[0], charge_id: undefined }] }, 'charge_id'],
    ['charge with bad status', { ...wireSub, charges: [{ ...wireSub.charges[0], status: 'MAYBE' }] }, 'status'],
    ['charge with bad period', { ...wireSub, charges: [{ ...wireSub.charges[0], period_end: 'later' }] }, 'period_end'],
    ['cancel_at_period_end as string', { ...wireSub, cancel_at_period_end: 'yes' }, 'cancel_at_period_end'],
    ['bad start_date', { ...wireSub, start_date: '25/11/2025' }, 'start_date'],
  ])('malformed: %s', (_name, wire, field) => {
    expectInvalid(() => toSubscription(wire), field);
  });
});

describe('toWebhookEvent', () => {
  it.each([
    ['payment.succeeded', wireOrder, 'order'],
    ['refund.failed', wireRefund, 'refund'],
    ['subscription.renewed', wireSub, 'subscription'],
  ])('%s → %s', (type, object, kind) => {
    const e = toWebhookEvent({ id: 'evt_1', type, created: 1764000000, data: { object } });
    expect(e).toMatchObject({ kind, id: 'evt_1', type, created: new Date(1764000000 * 1000) });
  });

  it('an unknown type is a value, its created and data unread: a later event type is acknowledged, not an error', () => {
    expect(toWebhookEvent({ id: 'evt_1', type: 'payment.teleported', created: 'whenever' })).toEqual({
      id: 'evt_1',
      type: 'payment.teleported',
      kind: 'unknown',
    });
  });

  it.each([
    ['no id', { type: 'payment.succeeded', created: 1, data: { object: wireOrder } }, 'id'],
    ['type not a string', { id: 'evt_1', type: 7, created: 1, data: { object: wireOrder } }, 'type'],
    ['no data', { id: 'evt_1', type: 'payment.succeeded', created: 1 }, 'data.object'],
    ['created as ISO', { id: 'evt_1', type: 'payment.succeeded', created: ISO, data: { object: wireOrder } }, 'created'],
    ['object of the wrong kind', { id: 'evt_1', type: 'payment.succeeded', created: 1, data: { object: wireRefund } }, 'order_id'],
  ])('malformed: %s', (_name, wire, field) => {
    expectInvalid(() => toWebhookEvent(wire), field);
  });
});

describe('domain → wire', () => {
  it('createOrder request', () => {
    expect(
      toCreateOrderRequest('mch_1', {
        outTradeNo: 'A-1',
        amount: 1999,
        currency: 'USD',
        description: 'Tea',
        returnUrl: 'https://r',
        notifyUrl: 'https://n',
      }),
    ).toEqual({
      merchant_id: 'mch_1',
      out_trade_no: 'A-1',
      amount: 1999,
      currency: 'USD',
      description: 'Tea',
      return_url: 'https://r',
      notify_url: 'https://n',
    });
    expect(
      toCreateOrderRequest('m', {
        outTradeNo: 'A',
        amount: 1,
        currency: 'JPY',
        description: 'd',
        returnUrl: 'r',
        notifyUrl: 'n',
        expiresIn: 60,
        metadata: { k: 'v' },
      }),
    ).toMatchObject({ expires_in: 60, metadata: { k: 'v' } });
  });

  it('refund and subscription requests', () => {
    expect(toCreateRefundRequest('m', { transactionId: 't', outRefundNo: 'R', amount: 5, reason: 'r' })).toEqual({
      merchant_id: 'm',
      transaction_id: 't',
      out_refund_no: 'R',
      amount: 5,
      reason: 'r',
    });
    expect(
      toCreateSubscriptionRequest('m', {
        outSubscriptionNo: 'S',
        customer: { id: 'c', email: 'e', name: 'n' },
        amount: 1,
        currency: 'USD',
        interval: 'WEEK',
        intervalCount: 2,
        startDate: '2030-01-01',
        trialDays: 7,
      }),
    ).toEqual({
      merchant_id: 'm',
      out_subscription_no: 'S',
      customer: { id: 'c', email: 'e', name: 'n' },
      amount: 1,
      currency: 'USD',
      interval: 'WEEK',
      interval_count: 2,
      start_date: '2030-01-01',
      trial_days: 7,
    });
    expect(toUpdateSubscriptionRequest('m', { subscriptionId: 's', amount: 2 })).toEqual({ merchant_id: 'm', subscription_id: 's', amount: 2 });
    expect(toCancelSubscriptionRequest('m', { subscriptionId: 's', atPeriodEnd: true })).toEqual({
      merchant_id: 'm',
      subscription_id: 's',
      at_period_end: true,
    });
  });
});

describe('parseErrorBody', () => {
  it.each([
    [{ error: { code: 'ORDER_NOT_FOUND', message: 'no' } }, { code: 'ORDER_NOT_FOUND', message: 'no' }],
    [{ error: { code: 'X' } }, { code: 'X', message: undefined }],
    [{ error: { code: 1 } }, undefined],
    [{ error: 'boom' }, undefined],
    ['<html>', undefined],
    [undefined, undefined],
  ])('%j', (body, expected) => {
    expect(parseErrorBody(body)).toEqual(expected);
  });
});
