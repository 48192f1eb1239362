import { describe, expect, it } from 'vitest';
import { applyRefundSnapshot, paidStatusFor, REFUND_MACHINE, REFUND_STATUSES, refundTotals } from '../../src/domain/refund-state';
import {
  acceptsSnapshot,
  compareFreshness,
  SUBSCRIPTION_MACHINE,
  SUBSCRIPTION_STATUSES,
  type Freshness,
  type SubscriptionStatus,
} from '../../src/domain/billing-subscription-state';

describe('refund state', () => {
  const pairs = REFUND_STATUSES.flatMap((f) => REFUND_STATUSES.map((t) => [f, t] as const));
  it.each(pairs)('%s → %s follows the contract', (from, to) => {
    expect(REFUND_MACHINE.canTransition(from, to)).toBe(from === 'PROCESSING' && to !== 'PROCESSING');
  });

  it.each([
    ['PROCESSING → SUCCEEDED', 'PROCESSING', 'SUCCEEDED', true],
    ['PROCESSING → FAILED', 'PROCESSING', 'FAILED', true],
    ['SUCCEEDED stays', 'SUCCEEDED', 'FAILED', false],
    ['FAILED stays', 'FAILED', 'SUCCEEDED', false],
  ] as const)('%s', (_n, from, to, applies) => {
    const change = applyRefundSnapshot({ status: from, succeededAt: null, failureCode: null, failureMessage: null }, { status: to });
    expect(change?.status ?? null).toBe(applies ? to : null);
  });

  it('reserves processing refunds and frees failed ones', () => {
    const refunds = [
      { status: 'SUCCEEDED' as const, amount: 300 },
      { status: 'PROCESSING' as const, amount: 200 },
      { status: 'FAILED' as const, amount: 400 },
    ];
    expect(refundTotals(1000, refunds)).toEqual({ refundedAmount: 300, refundableAmount: 500 });
  });

  it.each([
    [0, 'PAID'],
    [1, 'PARTIALLY_REFUNDED'],
    [999, 'PARTIALLY_REFUNDED'],
    [1000, 'REFUNDED'],
  ] as const)('refunded %i of 1000 → %s', (refunded, status) => {
    expect(paidStatusFor(1000, refunded)).toBe(status);
  });
});

describe('subscription state machine', () => {
  const ALLOWED: Array<[SubscriptionStatus, SubscriptionStatus]> = [
    ['PENDING_AUTHORIZATION', 'TRIALING'],
    ['PENDING_AUTHORIZATION', 'ACTIVE'],
    ['PENDING_AUTHORIZATION', 'CANCELLED'],
    ['TRIALING', 'ACTIVE'],
    ['TRIALING', 'CANCELLED'],
    ['ACTIVE', 'PAST_DUE'],
    ['ACTIVE', 'CANCELLED'],
    ['PAST_DUE', 'ACTIVE'],
    ['PAST_DUE', 'UNPAID'],
    ['PAST_DUE', 'CANCELLED'],
    ['UNPAID', 'CANCELLED'],
  ];
  const pairs = SUBSCRIPTION_STATUSES.flatMap((f) => SUBSCRIPTION_STATUSES.map((t) => [f, t] as const));
  it.each(pairs)('%s → %s follows the contract', (from, to) => {
    expect(SUBSCRIPTION_MACHINE.canTransition(from, to)).toBe(ALLOWED.some(([f, t]) => f === from && t === to));
  });

  it('CANCELLED is final; UNPAID only cancels', () => {
    expect(SUBSCRIPTION_STATUSES.filter((s) => SUBSCRIPTION_MACHINE.isReachable('CANCELLED', s))).toEqual([]);
    expect(SUBSCRIPTION_STATUSES.filter((s) => SUBSCRIPTION_MACHINE.isReachable('UNPAID', s))).toEqual(['CANCELLED']);
  });

  const f = (periodEnd: number, charges: number, updatedAt: number): Freshness => [periodEnd, charges, updatedAt];
  it.each([
    ['a renewal (later period) applies', 'ACTIVE', f(1, 1, 1), 'ACTIVE', f(2, 2, 2), true],
    ['a failed renewal applies: ACTIVE → PAST_DUE', 'ACTIVE', f(1, 1, 1), 'PAST_DUE', f(2, 2, 2), true],
    ['a successful retry applies: PAST_DUE → ACTIVE (same period, one more charge)', 'PAST_DUE', f(2, 2, 2), 'ACTIVE', f(2, 3, 3), true],
    ['a late PAST_DUE snapshot after recovery is stale', 'ACTIVE', f(2, 3, 3), 'PAST_DUE', f(2, 2, 2), false],
    ['an older period never applies', 'ACTIVE', f(2, 2, 2), 'ACTIVE', f(1, 1, 9), false],
    ['a cancellation applies', 'ACTIVE', f(2, 2, 2), 'CANCELLED', f(2, 2, 3), true],
    ['nothing leaves CANCELLED, however fresh', 'CANCELLED', f(2, 2, 3), 'ACTIVE', f(3, 3, 4), false],
    ['an update at the same freshness applies', 'ACTIVE', f(2, 2, 2), 'ACTIVE', f(2, 2, 2), true],
  ] as const)('%s', (_n, status, freshness, nextStatus, nextFreshness, accepted) => {
    expect(acceptsSnapshot({ status, freshness }, { status: nextStatus, freshness: nextFreshness })).toBe(accepted);
  });

  it('orders freshness lexicographically', () => {
    expect(compareFreshness(f(2, 0, 0), f(1, 9, 9))).toBeGreaterThan(0);
    expect(compareFreshness(f(1, 2, 0), f(1, 1, 9))).toBeGreaterThan(0);
    expect(compareFreshness(f(1, 1, 1), f(1, 1, 1))).toBe(0);
  });
});
