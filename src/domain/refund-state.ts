import { StateMachine, type TransitionTable } from './state-machine';

/** The refund state machine: PROCESSING → SUCCEEDED | FAILED, both final. */
export const REFUND_STATUSES = ['PROCESSING', 'SUCCEEDED', 'FAILED'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

const TRANSITIONS: TransitionTable<RefundStatus> = {
  PROCESSING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
};

export const REFUND_MACHINE = new StateMachine('refund', TRANSITIONS);

export interface RefundFacts {
  status: RefundStatus;
  succeededAt: Date | null;
  failureCode: string | null;
  failureMessage: string | null;
}

export interface RefundSnapshot {
  status: RefundStatus;
  succeededAt?: Date | null;
  failureCode?: string | null;
  failureMessage?: string | null;
}

/** Pure: the change a provider snapshot makes to a refund, or null (same state, or stale). */
export function applyRefundSnapshot(current: RefundFacts, snapshot: RefundSnapshot): Partial<RefundFacts> | null {
  if (snapshot.status === current.status) return null;
  if (!REFUND_MACHINE.allows(current.status, snapshot.status)) return null;
  const changes: Partial<RefundFacts> = { status: snapshot.status };
  if (snapshot.status === 'SUCCEEDED') changes.succeededAt = snapshot.succeededAt ?? new Date();
  if (snapshot.status === 'FAILED') {
    changes.failureCode = snapshot.failureCode ?? 'REFUND_FAILED';
    changes.failureMessage = snapshot.failureMessage ?? null;
  }
  return changes;
}

/**
 * What a payment's refunds add up to. `reserved` counts every refund that is
 * not FAILED (a PROCESSING one holds its amount until it settles), so
 * concurrent refunds can never together exceed the paid amount.
 */
export function refundTotals(paidAmount: number, refunds: ReadonlyArray<{ status: RefundStatus; amount: number }>) {
  let succeeded = 0;
  let reserved = 0;
  for (const refund of refunds) {
    if (refund.status === 'SUCCEEDED') succeeded += refund.amount;
    if (refund.status !== 'FAILED') reserved += refund.amount;
  }
  return { refundedAmount: succeeded, refundableAmount: Math.max(0, paidAmount - reserved) };
}

/** The payment status that follows from its succeeded refunds (only for a paid payment). */
export function paidStatusFor(paidAmount: number, refundedAmount: number): 'PAID' | 'PARTIALLY_REFUNDED' | 'REFUNDED' {
  if (refundedAmount <= 0) return 'PAID';
  return refundedAmount >= paidAmount ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}
