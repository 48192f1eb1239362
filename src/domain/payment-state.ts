import { StateMachine, type TransitionTable } from './state-machine';

/**
 * The payment state machine: the one table of allowed transitions, plus its
 * corrections. Every write of a payment's status goes through
 * `PAYMENT_MACHINE.allows` (services/versioned.ts refuses anything else), so
 * a late or duplicated webhook can never move a paid payment back to pending.
 */
export const PAYMENT_STATUSES = ['PENDING', 'PAID', 'FAILED', 'CANCELLED', 'EXPIRED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

const TRANSITIONS: TransitionTable<PaymentStatus> = {
  PENDING: ['PAID', 'FAILED', 'CANCELLED', 'EXPIRED'],
  PAID: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  PARTIALLY_REFUNDED: ['REFUNDED'],
  FAILED: [],
  CANCELLED: [],
  EXPIRED: [],
  REFUNDED: [],
};

/**
 * Corrections: UCanPay's word that it captured the money overrides a closed
 * state the gateway recorded (most often on its own inference, e.g.
 * PROVIDER_UNAVAILABLE after the expiry). The money was taken, so the
 * payment says so; the caller logs it at error and reports `contradicted`.
 */
const CORRECTIONS: TransitionTable<PaymentStatus> = {
  PENDING: [],
  PAID: [],
  PARTIALLY_REFUNDED: [],
  REFUNDED: [],
  FAILED: ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'],
  CANCELLED: ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'],
  EXPIRED: ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'],
};

export const PAYMENT_MACHINE = new StateMachine('payment', TRANSITIONS, CORRECTIONS);

/** Closed without the customer's money: never shown a checkout page; only a capture (CORRECTIONS) moves one on. */
export function isClosedUnpaid(status: PaymentStatus): boolean {
  return CORRECTIONS[status].length > 0;
}

/** A snapshot of the payment at UCanPay (from a webhook or the status endpoint). */
export interface PaymentSnapshot {
  status: PaymentStatus;
  transactionId?: string | null;
  paidAt?: Date | null;
  refundedAmount?: number;
  failureCode?: string | null;
  failureMessage?: string | null;
}

export interface PaymentFacts {
  status: PaymentStatus;
  transactionId: string | null;
  paidAt: Date | null;
  refundedAmount: number;
  failureCode: string | null;
  failureMessage: string | null;
}

/**
 * What applying a provider snapshot changes, or null when it changes nothing
 * (same state, or a stale snapshot that the state machine refuses).
 * Pure: the caller writes the returned fields and bumps the version.
 */
export function applySnapshot(current: PaymentFacts, snapshot: PaymentSnapshot): Partial<PaymentFacts> | null {
  const changes: Partial<PaymentFacts> = {};
  if (snapshot.status !== current.status) {
    // A snapshot may skip states we never heard of (PENDING → REFUNDED when the
    // PAID event was lost), but never goes backwards: that one is stale.
    // A capture is the exception (see CORRECTIONS): the money was taken, whatever the gateway had concluded.
    if (!PAYMENT_MACHINE.allows(current.status, snapshot.status)) return null;
    changes.status = snapshot.status;
    if (PAYMENT_MACHINE.isCorrection(current.status, snapshot.status)) Object.assign(changes, { failureCode: null, failureMessage: null });
  }
  const target = changes.status ?? current.status;
  // One capture has one transaction id: a late or replayed snapshot never replaces the one recorded.
  if (snapshot.transactionId && current.transactionId === null) changes.transactionId = snapshot.transactionId;
  if (snapshot.paidAt && (target === 'PAID' || target === 'PARTIALLY_REFUNDED' || target === 'REFUNDED') && !current.paidAt) {
    changes.paidAt = snapshot.paidAt;
  }
  if (snapshot.refundedAmount !== undefined && snapshot.refundedAmount > current.refundedAmount) {
    changes.refundedAmount = snapshot.refundedAmount;
  }
  if (target === 'FAILED') {
    if (snapshot.failureCode && snapshot.failureCode !== current.failureCode) changes.failureCode = snapshot.failureCode;
    if (snapshot.failureMessage && snapshot.failureMessage !== current.failureMessage) {
      changes.failureMessage = snapshot.failureMessage;
    }
  }
  return Object.keys(changes).length ? changes : null;
}
