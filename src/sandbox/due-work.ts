/**
 * Due work driven by the sandbox clock: order expiry and subscription
 * renewals/retries/period-end cancellations, processed one item at a time in
 * due-time order (each in its own transaction, stamped with its due time),
 * so a long clock advance replays every renewal in sequence. Refund
 * settlement is driven by real time.
 */
import type { SandboxContext } from './context';
import { InternalError } from './errors';
import { expireOrder } from './payments';
import { settleRefund } from './refunds';
import { processDueSubscription } from './subscriptions';

/** Upper bound of items processed by one run (guards against a scheduling bug looping forever). */
const MAX_ITEMS_PER_RUN = 200_000;

/** Runs everything due at or before `nowMs` (call inside `exclusive`). Returns the number of items processed. */
export async function runDueWork(ctx: SandboxContext, nowMs: number): Promise<number> {
  const { store } = ctx;
  let processed = 0;
  let previous = '';
  for (;;) {
    const order = await store.nextExpiringOrder(nowMs);
    const due = await store.nextDueSubscription(nowMs);
    if (!order && !due) return processed;
    processed += 1;
    if (processed > MAX_ITEMS_PER_RUN) throw new InternalError('due-work runner did not converge');
    if (order && (!due || order.expires_at <= due.dueMs)) {
      await store.tx(() => expireOrder(ctx, order));
    } else if (due) {
      const key = `${due.sub.subscription_id}@${due.dueMs}@${due.sub.status}@${due.sub.charges.length}`;
      if (key === previous) throw new InternalError(`subscription ${due.sub.subscription_id} did not progress at ${due.dueMs}`);
      previous = key;
      await store.tx(() => processDueSubscription(ctx, due.sub, due.dueMs));
    }
  }
}

/** Settles refunds whose real-time delay has passed (call inside `exclusive`). */
export async function runDueRefunds(ctx: SandboxContext): Promise<number> {
  const refunds = await ctx.store.dueRefunds(Date.now());
  for (const refund of refunds) await ctx.store.tx(() => settleRefund(ctx, refund));
  return refunds.length;
}

/** Moves the sandbox clock forward and runs everything that fell due, in order. Returns the number of items processed. */
export function advanceClock(ctx: SandboxContext, seconds: number): Promise<number> {
  const { store, clock } = ctx;
  return store.exclusive(async () => {
    const offset = clock.offset + Math.round(seconds * 1000);
    await store.tx(async () => {
      await store.setMeta('clock_offset_ms', String(offset));
      store.onCommit(() => clock.setOffset(offset));
    });
    return runDueWork(ctx, clock.now());
  });
}
