import { describe, expect, it } from 'vitest';
import { applySnapshot, PAYMENT_MACHINE, PAYMENT_STATUSES, type PaymentFacts, type PaymentStatus } from '../../src/domain/payment-state';

const ALLOWED: Array<[PaymentStatus, PaymentStatus]> = [
  ['PENDING', 'PAID'],
  ['PENDING', 'FAILED'],
  ['PENDING', 'CANCELLED'],
  ['PENDING', 'EXPIRED'],
  ['PAID', 'PARTIALLY_REFUNDED'],
  ['PAID', 'REFUNDED'],
  ['PARTIALLY_REFUNDED', 'REFUNDED'],
];

describe('payment state machine', () => {
  const pairs = PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.map((to) => [from, to] as const));
  it.each(pairs)('%s → %s follows the contract table', (from, to) => {
    const allowed = ALLOWED.some(([f, t]) => f === from && t === to);
    expect(PAYMENT_MACHINE.canTransition(from, to)).toBe(allowed);
  });

  it('reaches REFUNDED from PENDING only forwards', () => {
    expect(PAYMENT_MACHINE.isReachable('PENDING', 'REFUNDED')).toBe(true);
    expect(PAYMENT_MACHINE.isReachable('REFUNDED', 'PAID')).toBe(false);
    expect(PAYMENT_MACHINE.isReachable('FAILED', 'PAID')).toBe(false);
  });

  it('allows corrections only from a closed unpaid state to a captured one', () => {
    const closed = ['FAILED', 'CANCELLED', 'EXPIRED'];
    const captured = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];
    for (const [from, to] of pairs) expect(PAYMENT_MACHINE.isCorrection(from, to)).toBe(closed.includes(from) && captured.includes(to));
  });

  it('knows the final states', () => {
    expect(PAYMENT_STATUSES.filter((s) => PAYMENT_MACHINE.isFinal(s))).toEqual(['FAILED', 'CANCELLED', 'EXPIRED', 'REFUNDED']);
  });
});

const pending: PaymentFacts = {
  status: 'PENDING',
  transactionId: null,
  paidAt: null,
  refundedAmount: 0,
  failureCode: null,
  failureMessage: null,
};
const paid: PaymentFacts = { ...pending, status: 'PAID', transactionId: 'txn_1', paidAt: new Date(1000) };

describe('applySnapshot', () => {
  it.each([
    [
      'pending → paid',
      pending,
      { status: 'PAID', transactionId: 'txn_1', paidAt: new Date(1000), refundedAmount: 0 },
      { status: 'PAID', transactionId: 'txn_1', paidAt: new Date(1000) },
    ],
    [
      'pending → failed with its reason',
      pending,
      { status: 'FAILED', failureCode: 'CARD_DECLINED', failureMessage: 'declined' },
      { status: 'FAILED', failureCode: 'CARD_DECLINED', failureMessage: 'declined' },
    ],
    ['a stale pending snapshot never undoes paid', paid, { status: 'PENDING' }, null],
    ['a repeated paid snapshot changes nothing', paid, { status: 'PAID', transactionId: 'txn_1', refundedAmount: 0 }, null],
    ['paid → refunded in one jump', paid, { status: 'REFUNDED', refundedAmount: 1999 }, { status: 'REFUNDED', refundedAmount: 1999 }],
    [
      'refunded amount never goes down',
      { ...paid, status: 'PARTIALLY_REFUNDED', refundedAmount: 500 } as PaymentFacts,
      { status: 'PARTIALLY_REFUNDED', refundedAmount: 300 },
      null,
    ],
    [
      'a snapshot may skip states it implies: pending → refunded',
      pending,
      { status: 'REFUNDED', transactionId: 'txn_1', refundedAmount: 1999 },
      { status: 'REFUNDED', transactionId: 'txn_1', refundedAmount: 1999 },
    ],
    [
      'refunded cannot go back to paid',
      { ...paid, status: 'REFUNDED', refundedAmount: 1999 } as PaymentFacts,
      { status: 'PAID', transactionId: 'txn_1' },
      null,
    ],
    // A capture UCanPay reports is the truth even against a closed state (a correction, logged as contradicted by the caller).
    [
      'a capture corrects expired to paid',
      { ...pending, status: 'EXPIRED' } as PaymentFacts,
      { status: 'PAID', transactionId: 'txn_2' },
      { status: 'PAID', transactionId: 'txn_2', failureCode: null, failureMessage: null },
    ],
    [
      "a capture corrects the gateway's own failure",
      { ...pending, status: 'FAILED', failureCode: 'PROVIDER_UNAVAILABLE', failureMessage: 'x' } as PaymentFacts,
      { status: 'PAID', transactionId: 'txn_3', paidAt: new Date(5) },
      { status: 'PAID', transactionId: 'txn_3', paidAt: new Date(5), failureCode: null, failureMessage: null },
    ],
    ['a failure snapshot never reopens a failed payment', { ...pending, status: 'FAILED' } as PaymentFacts, { status: 'PENDING' }, null],
    ['cancelled cannot become expired', { ...pending, status: 'CANCELLED' } as PaymentFacts, { status: 'EXPIRED' }, null],
    [
      'a late snapshot with another transaction id never replaces the recorded one',
      paid,
      { status: 'PAID', transactionId: 'txn_other', paidAt: new Date(1) },
      null,
    ],
  ] as const)('%s', (_name, current, snapshot, expected) => {
    expect(applySnapshot(current, snapshot as never)).toEqual(expected);
  });
});
