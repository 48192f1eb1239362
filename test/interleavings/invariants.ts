/**
import { performance } from 'node:perf_hooks';
 * After a program: let the system settle (bounded), then compare the
 * gateway's record with UCanPay's (the sandbox's inspection endpoints) and
 * with what the client was told. Each violation is one line, tagged with the
 * invariant of issue 12 it breaks.
 */
import type { Model } from './program';
import type { World } from './world';

const CAPTURED = new Set(['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED']);
const CLOSED_UNPAID = new Set(['FAILED', 'CANCELLED', 'EXPIRED']);
/** Seconds of test clock per settle round: past the claim lease (60 s) and the stale window. */
const SETTLE_STEP_SECONDS = 61;
const MAX_SETTLE_ROUNDS = 4;
/** Past the gateway's longest wait before it infers anything (RefundService abandons an unsent refund after 10 min). */
const LONGEST_WINDOW_SECONDS = 601;

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 40));
  }
}

/** Every UCanPay event delivered or given up (none pending or held by a fault). */
function webhooksDelivered(world: World, ms: number): Promise<boolean> {
  return waitFor(async () => {
    const { events } = await world.sandboxCall<{ events: Array<{ state: string }> }>('GET', `/sandbox/webhooks?merchant_id=${world.config.ucanpay.merchantId}`);
    return events.every((e) => e.state !== 'pending' && e.state !== 'held');
  }, ms);
}

/**
 * Faults off; then rounds of: webhooks delivered (or given up), refunds
 * settled at UCanPay, clock past the lease and stale window, one
 * reconciliation pass — until a pass changes nothing. Returns notes about
 * anything that did not settle within the bounds.
 */
export async function quiesce(world: World): Promise<string[]> {
  const notes: string[] = [];
  const mch = world.config.ucanpay.merchantId;
  await world.sandboxCall('DELETE', '/sandbox/faults');
  // A crashed gateway's call may still be on its way through UCanPay: time moves on once UCanPay has answered it.
  if (!(await waitFor(async () => (await world.callsInProgress()) === 0, 5000))) notes.push('UCanPay calls still in progress after 5 s');
  // Short steps first (leases and the stale window lapse), then one step past the longest
  // inference window (an unsent refund is abandoned after 10 min): the reconciliation bound.
  const steps = [...Array<number>(MAX_SETTLE_ROUNDS - 1).fill(SETTLE_STEP_SECONDS), LONGEST_WINDOW_SECONDS, SETTLE_STEP_SECONDS];
  for (let round = 0; round < steps.length; round++) {
    if (!(await webhooksDelivered(world, 6000))) notes.push(`round ${round}: webhooks still pending after 6 s`);
    const settled = await waitFor(async () => {
      const { refunds } = await world.sandboxCall<{ refunds: Array<{ status: string }> }>('GET', `/sandbox/refunds?merchant_id=${mch}`);
      return refunds.every((r) => r.status !== 'PROCESSING');
    }, 3000);
    if (!settled) notes.push(`round ${round}: UCanPay refunds still PROCESSING after 3 s`);
    await world.advanceClock(steps[round]);
    let changed = 0;
    try {
      changed = await world.app.services.reconciliation.runOnce();
    } catch (error) {
      notes.push(`round ${round}: reconciliation threw ${String(error)}`);
    }
    // Nothing moved after the leases lapsed: skip to the long step.
    if (changed === 0 && round > 0 && round < MAX_SETTLE_ROUNDS - 1) round = MAX_SETTLE_ROUNDS - 2;
  }
  if (!(await webhooksDelivered(world, 6000))) notes.push('webhooks still pending after settling');
  return notes;
}

/** An object's timeline (the event log): one event per version, oldest first. */
interface Timeline {
  version: number;
  /** The first page (20: a literal `first` would multiply the query's cost past its limit); these objects have a few versions. */
  events: { edges: Array<{ node: { objectVersion: number } }>; pageInfo: { hasNextPage: boolean } };
}
interface GwRefund extends Timeline {
  id: string;
  status: string;
  amount: number;
  merchantReference: string;
  providerRefundId: string | null;
}
interface GwPayment extends Timeline {
  id: string;
  status: string;
  amount: number;
  currency: string;
  merchantReference: string;
  providerOrderId: string | null;
  transactionId: string | null;
  checkoutUrl: string | null;
  refundedAmount: number;
  failureCode: string | null;
  paidAt: string | null;
  refunds: GwRefund[];
}

export interface Snapshot {
  payments: GwPayment[];
  orders: any[];
  ucanpayRefunds: any[];
}

export async function snapshot(world: World): Promise<Snapshot> {
  const answer = await world.gql(`{ payments(first: 5) { edges { node {
      id status amount currency merchantReference providerOrderId transactionId checkoutUrl refundedAmount failureCode paidAt
      version events { edges { node { objectVersion } } pageInfo { hasNextPage } }
      refunds { id status amount merchantReference providerRefundId version events { edges { node { objectVersion } } pageInfo { hasNextPage } } } } } } }`);
  if (answer.kind !== 'answer' || !answer.data?.payments) {
    throw new Error(`harness: could not read the gateway's payments: ${JSON.stringify(answer).slice(0, 500)}`);
  }
  const mch = world.config.ucanpay.merchantId;
  const { orders } = await world.sandboxCall<{ orders: any[] }>('GET', `/sandbox/orders?merchant_id=${mch}`);
  const { refunds } = await world.sandboxCall<{ refunds: any[] }>('GET', `/sandbox/refunds?merchant_id=${mch}`);
  return { payments: answer.data.payments.edges.map((e: { node: GwPayment }) => e.node), orders, ucanpayRefunds: refunds };
}

const sum = (xs: Array<{ amount: number }>) => xs.reduce((s, x) => s + x.amount, 0);
const ms = (iso: string | null | undefined) => (iso ? new Date(iso).getTime() : null);

/** Every violation of the invariants, one line each (empty: the program passed). */
export function violations(model: Model, snap: Snapshot): string[] {
  const out: string[] = [];
  const byRef = new Map(snap.payments.map((p) => [p.merchantReference, p]));
  const orderByRef = new Map(snap.orders.map((o) => [o.out_trade_no as string, o]));

  // One payment per createPayment key, one UCanPay order per payment.
  const createKeys = new Set(model.calls.filter((c) => c.op === 'createPayment').map((c) => c.key));
  if (snap.payments.length > createKeys.size)
    out.push(`[one order per key] ${snap.payments.length} gateway payments for ${createKeys.size} idempotency key(s)`);
  if (snap.orders.length > createKeys.size) out.push(`[one order per key] ${snap.orders.length} UCanPay orders for ${createKeys.size} idempotency key(s)`);

  for (const o of snap.orders) {
    const g = byRef.get(o.out_trade_no);
    if (!g) {
      out.push(`[one order per key] UCanPay order ${o.order_id} (${o.status}) has no gateway payment`);
      continue;
    }
    if (g.providerOrderId !== null && g.providerOrderId !== o.order_id) out.push(`[agree] ${g.id} links order ${g.providerOrderId}, UCanPay has ${o.order_id}`);
    if (g.amount !== o.amount || g.currency !== o.currency) out.push(`[agree] ${g.id} is ${g.amount} ${g.currency}, its order ${o.amount} ${o.currency}`);
    if (CAPTURED.has(o.status)) {
      if (!CAPTURED.has(g.status)) {
        out.push(
          `[1 captured => paid] UCanPay captured order ${o.order_id} (${o.status}) but the gateway says ${g.status}${g.failureCode ? ` (${g.failureCode})` : ''}`,
        );
        continue;
      }
      if (g.status !== o.status) out.push(`[agree] ${g.id}: gateway ${g.status}, UCanPay ${o.status}`);
      if (g.transactionId !== o.transaction_id)
        out.push(`[4 no stale snapshot] ${g.id}: gateway transactionId ${g.transactionId}, UCanPay ${o.transaction_id}`);
      if (ms(g.paidAt) !== ms(o.paid_at)) out.push(`[4 no stale snapshot] ${g.id}: gateway paidAt ${g.paidAt}, UCanPay ${o.paid_at}`);
      if (g.refundedAmount !== o.refunded_amount) out.push(`[agree] ${g.id}: gateway refundedAmount ${g.refundedAmount}, UCanPay ${o.refunded_amount}`);
    } else if (o.status === 'PENDING') {
      if (g.status !== 'PENDING')
        out.push(
          `[2 inferred failure stays unpayable] ${g.id} is ${g.status}${g.failureCode ? ` (${g.failureCode})` : ''} while its UCanPay order ${o.order_id} is still open (payable)`,
        );
    } else if (g.status !== o.status) {
      // The gateway failed it on its own inference and UCanPay's (late) order ended unpaid too: no money
      // moved and the state machine has no way from FAILED to EXPIRED, so this one disagreement is allowed.
      const ownInference = g.status === 'FAILED' && g.failureCode !== o.failure_code;
      if (!ownInference) out.push(`[agree] ${g.id}: gateway ${g.status}${g.failureCode ? ` (${g.failureCode})` : ''}, UCanPay ${o.status}`);
    }
  }
  for (const g of snap.payments) {
    if (orderByRef.has(g.merchantReference)) continue;
    if (g.providerOrderId !== null) out.push(`[agree] ${g.id} links order ${g.providerOrderId} that UCanPay does not have`);
    else if (g.status !== 'PENDING' && g.status !== 'FAILED') out.push(`[agree] ${g.id} is ${g.status} without a UCanPay order`);
  }

  // Never a checkout page with a payment the gateway has declared failed, unless UCanPay closed that order itself.
  for (const h of model.handedOut) {
    if (!CLOSED_UNPAID.has(h.status) || !h.checkoutUrl) continue;
    const g = snap.payments.find((p) => p.id === h.paymentId);
    const o = g ? orderByRef.get(g.merchantReference) : undefined;
    // UCanPay closed it the same way (a decline, a cancel, an expiry): the page shows a closed order.
    const closedByUCanPay = o && o.status === h.status && (o.failure_code ?? null) === h.failureCode;
    if (!closedByUCanPay) {
      out.push(
        `[1 no checkoutUrl when failed] ${h.via} returned ${h.paymentId} ${h.status}${h.failureCode ? ` (${h.failureCode})` : ''} with checkoutUrl; UCanPay's order is ${o?.status ?? 'absent'}`,
      );
    }
  }

  // Refunds: never above the paid amount on either side, and the two sides agree.
  const gwRefundByRef = new Map<string, { refund: GwRefund; payment: GwPayment }>();
  for (const g of snap.payments) {
    for (const r of g.refunds) gwRefundByRef.set(r.merchantReference, { refund: r, payment: g });
    const held = g.refunds.filter((r) => r.status === 'SUCCEEDED' || r.status === 'PROCESSING');
    if (sum(held) > g.amount) out.push(`[refunds <= paid] gateway ${g.id}: ${sum(held)} refunded or processing of ${g.amount}`);
    const succeeded = sum(g.refunds.filter((r) => r.status === 'SUCCEEDED'));
    if (succeeded !== g.refundedAmount) out.push(`[agree] gateway ${g.id}: refundedAmount ${g.refundedAmount}, its SUCCEEDED refunds ${succeeded}`);
    for (const r of g.refunds) if (r.status === 'PROCESSING') out.push(`[agree] gateway refund ${r.id} still PROCESSING after settling`);
  }
  for (const o of snap.orders) {
    const theirs = snap.ucanpayRefunds.filter((r) => r.order_id === o.order_id && r.status === 'SUCCEEDED');
    if (sum(theirs) > o.amount) out.push(`[refunds <= paid] UCanPay order ${o.order_id}: ${sum(theirs)} refunded of ${o.amount}`);
  }
  for (const r of snap.ucanpayRefunds) {
    const mine = gwRefundByRef.get(r.out_refund_no);
    if (!mine) {
      out.push(`[agree] UCanPay refund ${r.refund_id} (${r.status} ${r.amount}) has no gateway refund`);
      continue;
    }
    if (mine.refund.status !== r.status || mine.refund.amount !== r.amount) {
      out.push(`[agree] refund ${mine.refund.id}: gateway ${mine.refund.status} ${mine.refund.amount}, UCanPay ${r.status} ${r.amount}`);
    }
    if (mine.refund.providerRefundId !== null && mine.refund.providerRefundId !== r.refund_id)
      out.push(`[agree] refund ${mine.refund.id} links ${mine.refund.providerRefundId}, UCanPay has ${r.refund_id}`);
  }
  const theirRefundRefs = new Set(snap.ucanpayRefunds.map((r) => r.out_refund_no as string));
  for (const [ref, { refund }] of gwRefundByRef) {
    if (!theirRefundRefs.has(ref) && refund.status === 'SUCCEEDED') out.push(`[agree] gateway refund ${refund.id} SUCCEEDED but UCanPay has no such refund`);
  }

  out.push(...keyViolations(model));
  out.push(...timelineViolations(snap));
  return out;
}

/** The event log: every applied change of a payment or refund recorded one event, in version order, whatever crashed or raced. */
function timelineViolations(snap: Snapshot): string[] {
  const out: string[] = [];
  for (const o of snap.payments.flatMap((p): Array<Timeline & { id: string }> => [p, ...p.refunds])) {
    const versions = o.events.edges.map((e) => e.node.objectVersion);
    const expected = Array.from({ length: Math.min(o.version, 20) }, (_, i) => i + 1);
    if (versions.join(',') !== expected.join(',')) out.push(`[event log] ${o.id} at version ${o.version} has events for versions [${versions.join(', ')}]`);
  }
  return out;
}

/** Invariant 3: one outcome per idempotency key (and input); a refusal replays as itself. */
function keyViolations(model: Model): string[] {
  const out: string[] = [];
  const groups = new Map<string, typeof model.calls>();
  for (const call of model.calls) {
    const k = `${call.op} ${call.key}`;
    groups.set(k, [...(groups.get(k) ?? []), call]);
  }
  for (const [k, calls] of groups) {
    const decidedInputs = new Set<string>();
    const byInput = new Map<string, typeof calls>();
    for (const call of calls) {
      if (call.outcome.type !== 'result') continue;
      byInput.set(call.input, [...(byInput.get(call.input) ?? []), call]);
      if (call.outcome.typename !== 'IdempotencyConflictError') decidedInputs.add(call.input);
    }
    if (decidedInputs.size > 1) out.push(`[3 one outcome per key] ${k}: decided for ${decidedInputs.size} different inputs (${[...decidedInputs].join(', ')})`);
    for (const [input, results] of byInput) {
      const first = results[0].outcome as Extract<(typeof results)[0]['outcome'], { type: 'result' }>;
      for (const later of results.slice(1)) {
        const o = later.outcome as typeof first;
        if (o.typename !== first.typename || (first.id !== undefined && o.id !== first.id)) {
          out.push(
            `[3 one outcome per key] ${k} (input ${input}): first "${first.typename}${first.id ? ` ${first.id}` : ''}" at "${results[0].step}", later "${o.typename}${o.id ? ` ${o.id}` : ''}" at "${later.step}"`,
          );
          break;
        }
        if (first.typename !== 'CreatePaymentPayload' && first.typename !== 'RefundPaymentPayload' && o.replayed === false) {
          out.push(`[3 one outcome per key] ${k} (input ${input}): the refusal ${o.typename} was decided again (replayed: false) at "${later.step}"`);
          break;
        }
      }
    }
  }
  return out;
}
