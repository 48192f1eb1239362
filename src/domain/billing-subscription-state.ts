import { StateMachine, type TransitionTable } from './state-machine';

/**
 * The billing subscription state machine (the provider contract's): one
 * table of allowed transitions, and the freshness rule that keeps a late or
 * reordered snapshot from moving a subscription backwards.
 */
export const SUBSCRIPTION_STATUSES = ['PENDING_AUTHORIZATION', 'TRIALING', 'ACTIVE', 'PAST_DUE', 'UNPAID', 'CANCELLED'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const BILLING_INTERVALS = ['DAY', 'WEEK', 'MONTH', 'YEAR'] as const;
export type BillingInterval = (typeof BILLING_INTERVALS)[number];

const TRANSITIONS: TransitionTable<SubscriptionStatus> = {
  PENDING_AUTHORIZATION: ['TRIALING', 'ACTIVE', 'CANCELLED'],
  TRIALING: ['ACTIVE', 'CANCELLED'],
  ACTIVE: ['PAST_DUE', 'CANCELLED'],
  PAST_DUE: ['ACTIVE', 'UNPAID', 'CANCELLED'],
  UNPAID: ['CANCELLED'],
  CANCELLED: [],
};

export const SUBSCRIPTION_MACHINE = new StateMachine('billing subscription', TRANSITIONS);

/**
 * How new a snapshot is: its current period's end, then how many charges it
 * has seen (charges are only ever appended), then the provider's update time.
 * Compared lexicographically; a snapshot older than what is stored is stale.
 */
export type Freshness = readonly [periodEnd: number, charges: number, updatedAt: number];

export function compareFreshness(a: Freshness, b: Freshness): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Whether a snapshot may be applied over the stored state. ACTIVE ⇄ PAST_DUE
 * is a cycle, so status order alone cannot tell new from old: freshness
 * decides, and the transition table still forbids leaving a final state.
 */
export function acceptsSnapshot(
  current: { status: SubscriptionStatus; freshness: Freshness },
  snapshot: { status: SubscriptionStatus; freshness: Freshness },
): boolean {
  if (compareFreshness(snapshot.freshness, current.freshness) < 0) return false;
  return SUBSCRIPTION_MACHINE.allows(current.status, snapshot.status);
}
