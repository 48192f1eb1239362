import { describe, expect, it } from 'vitest';
import { createdEventOf, eventTypeOf, EVENT_TYPES } from '../../src/domain/event-types';

describe('event types', () => {
  it('names a payment change by its new status, a larger refunded amount as a (partial) refund, anything else as updated', () => {
    expect(eventTypeOf('payment', { previousStatus: 'PENDING', status: 'PAID' })).toBe('payment.paid');
    expect(eventTypeOf('payment', { previousStatus: 'PENDING', status: 'EXPIRED' })).toBe('payment.expired');
    expect(eventTypeOf('payment', { previousStatus: 'PENDING', status: 'PENDING' })).toBe('payment.updated');
    // A second partial refund: the status stays, the amount grows.
    expect(
      eventTypeOf('payment', { previousStatus: 'PARTIALLY_REFUNDED', status: 'PARTIALLY_REFUNDED', previousRefundedAmount: 100, refundedAmount: 300 }),
    ).toBe('payment.partially_refunded');
    expect(eventTypeOf('payment', { previousStatus: 'PARTIALLY_REFUNDED', status: 'REFUNDED', previousRefundedAmount: 300, refundedAmount: 1000 })).toBe(
      'payment.refunded',
    );
  });

  it('names a refund by its outcome', () => {
    expect(eventTypeOf('refund', { previousStatus: 'PROCESSING', status: 'SUCCEEDED' })).toBe('refund.succeeded');
    expect(eventTypeOf('refund', { previousStatus: 'PROCESSING', status: 'FAILED' })).toBe('refund.failed');
    expect(eventTypeOf('refund', { previousStatus: 'PROCESSING', status: 'PROCESSING' })).toBe('refund.updated');
  });

  it('names a subscription charge by its outcome, the first one by the activation', () => {
    const charged = { previousChargeCount: 1, chargeCount: 2 };
    expect(
      eventTypeOf('billing_subscription', {
        previousStatus: 'PENDING_AUTHORIZATION',
        status: 'ACTIVE',
        previousChargeCount: 0,
        chargeCount: 1,
        newChargeStatus: 'SUCCEEDED',
      }),
    ).toBe('subscription.activated');
    expect(eventTypeOf('billing_subscription', { previousStatus: 'ACTIVE', status: 'ACTIVE', ...charged, newChargeStatus: 'SUCCEEDED' })).toBe(
      'subscription.renewed',
    );
    // A retry that succeeds brings PAST_DUE back to ACTIVE: a renewal.
    expect(eventTypeOf('billing_subscription', { previousStatus: 'PAST_DUE', status: 'ACTIVE', ...charged, newChargeStatus: 'SUCCEEDED' })).toBe(
      'subscription.renewed',
    );
    expect(eventTypeOf('billing_subscription', { previousStatus: 'ACTIVE', status: 'ACTIVE', ...charged, newChargeStatus: 'FAILED' })).toBe(
      'subscription.renewal_failed',
    );
    expect(eventTypeOf('billing_subscription', { previousStatus: 'ACTIVE', status: 'PAST_DUE', ...charged, newChargeStatus: 'FAILED' })).toBe(
      'subscription.past_due',
    );
    expect(eventTypeOf('billing_subscription', { previousStatus: 'PAST_DUE', status: 'UNPAID' })).toBe('subscription.unpaid');
    expect(eventTypeOf('billing_subscription', { previousStatus: 'ACTIVE', status: 'ACTIVE' })).toBe('subscription.updated');
  });

  it('has one created event per object type, all in the one list', () => {
    expect([createdEventOf('payment'), createdEventOf('refund'), createdEventOf('billing_subscription')]).toEqual([
      'payment.created',
      'refund.created',
      'subscription.created',
    ]);
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
  });
});
