/**
 * Workflow 3 — subscriptions: create (PENDING_AUTHORIZATION), mandate
 * authorization on the checkout page, renewals, dunning (PAST_DUE → retries
 * every 24 h → UNPAID after the 3rd failed retry), updates effective from
 * the next period, cancellation now or at period end.
 */
import { fingerprint } from './canonical';
import { utcDate } from './clock';
import { emit, type SandboxContext } from './context';
import { apiError, invalid } from './errors';
import { newId } from './ids';
import { failureMessage, magicFailure, type CheckoutAction } from './payments';
import { DAY_MS, periodBoundary } from './periods';
import { subscriptionToApi } from './present';
import { moveSubscription, type ChargeRecord, type Customer, type Merchant, type PendingUpdate, type SubscriptionRecord } from './types';
import {
  checkMerchantField,
  isRecord,
  LIMITS,
  optBool,
  optEmail,
  optInt,
  optInterval,
  optMetadata,
  optString,
  optUrl,
  reqAmount,
  reqCurrency,
  reqIdentifier,
  reqInterval,
  reqIsoDate,
  type Body,
} from './validation';

/** Retries after a failed renewal charge, 24 h apart; the subscription is UNPAID after the last one fails. */
export const MAX_RENEWAL_RETRIES = 3;
export const RETRY_SPACING_MS = DAY_MS;

export function subscriptionApi(ctx: SandboxContext, s: SubscriptionRecord): Record<string, unknown> {
  return subscriptionToApi(s, ctx.baseUrl());
}

/** When the subscription next needs the due-work runner (sandbox ms), or null. */
export function nextDue(s: SubscriptionRecord): number | null {
  switch (s.status) {
    case 'TRIALING':
    case 'ACTIVE':
      return s.current_period_end;
    case 'PAST_DUE': {
      const retry = s.next_retry_at ?? Infinity;
      const end = s.cancel_at_period_end && s.current_period_end !== null ? s.current_period_end : Infinity;
      const due = Math.min(retry, end);
      return due === Infinity ? null : due;
    }
    default:
      return null;
  }
}

async function save(ctx: SandboxContext, s: SubscriptionRecord): Promise<void> {
  await ctx.store.saveSubscription(s, nextDue(s));
}

async function event(ctx: SandboxContext, s: SubscriptionRecord, type: string, at: number): Promise<void> {
  await emit(ctx, type, { merchantId: s.merchant_id, objectId: s.subscription_id, notifyUrl: s.notify_url }, subscriptionApi(ctx, s), at);
}

/**
 * Lays out the first period as if the mandate were authorized at `atMs`:
 * billing starts at max(atMs, start_date 00:00 UTC); a trial (or a future
 * start_date) makes the subscription TRIALING until the first charge.
 */
function layOut(s: SubscriptionRecord, atMs: number): 'TRIALING' | 'ACTIVE' {
  const startMs = Math.max(atMs, Date.parse(`${s.start_date}T00:00:00Z`));
  if (s.trial_days > 0 || startMs > atMs) {
    s.trial_start = atMs;
    s.trial_end = startMs + s.trial_days * DAY_MS;
    s.current_period_start = atMs;
    s.current_period_end = s.trial_end;
    s.billing_anchor = null;
    s.period_index = 0;
    return 'TRIALING';
  }
  s.trial_start = null;
  s.trial_end = null;
  s.billing_anchor = atMs;
  s.period_index = 0;
  s.current_period_start = atMs;
  s.current_period_end = periodBoundary(atMs, s.interval, s.interval_count, 1);
  return 'ACTIVE';
}

function readCustomer(body: Body): Customer {
  const raw = body.customer;
  if (raw === undefined || raw === null) throw invalid('customer', 'is required');
  if (!isRecord(raw)) throw invalid('customer', 'must be an object with id, email, name');
  return {
    id: reqIdentifier(raw, 'id', 'customer.id'),
    email: optEmail(raw.email, 'customer.email'),
    name: optString(raw, 'name', LIMITS.customerField, 'customer.name'),
  };
}

/** `POST /subscriptions/create` (inside a transaction). */
export async function createSubscription(ctx: SandboxContext, merchant: Merchant, body: Body): Promise<Record<string, unknown>> {
  checkMerchantField(body.merchant_id, merchant, true);
  const outNo = reqIdentifier(body, 'out_subscription_no');
  const customer = readCustomer(body);
  const amount = reqAmount(body);
  const currency = reqCurrency(body);
  const interval = reqInterval(body);
  const intervalCount = optInt(body, 'interval_count', 1, LIMITS.maxIntervalCount) ?? 1;
  const start = reqIsoDate(body, 'start_date');
  const trialDays = optInt(body, 'trial_days', 0, LIMITS.maxTrialDays) ?? 0;
  const notifyUrl = optUrl(body, 'notify_url');
  const returnUrl = optUrl(body, 'return_url');
  const metadata = optMetadata(body) ?? {};
  const paramsHash = fingerprint({
    customer,
    amount,
    currency,
    interval,
    intervalCount,
    startDate: start.date,
    trialDays,
    notifyUrl,
    returnUrl,
    metadata,
  });

  const existing = await ctx.store.getSubscriptionByNo(merchant.merchant_id, outNo);
  if (existing) {
    if (existing.params_hash !== paramsHash) {
      throw apiError('ORDER_CONFLICT', `out_subscription_no "${outNo}" already exists with different parameters`);
    }
    return subscriptionApi(ctx, existing);
  }
  const now = ctx.clock.now();
  const today = utcDate(now);
  if (start.date < today) throw invalid('start_date', `must be today (${today}, sandbox time) or later`);

  const s: SubscriptionRecord = {
    subscription_id: newId('sub'),
    merchant_id: merchant.merchant_id,
    out_subscription_no: outNo,
    status: 'PENDING_AUTHORIZATION',
    customer,
    amount,
    currency,
    interval,
    interval_count: intervalCount,
    start_date: start.date,
    trial_days: trialDays,
    notify_url: notifyUrl,
    return_url: returnUrl,
    metadata,
    params_hash: paramsHash,
    authorized_at: null,
    trial_start: null,
    trial_end: null,
    current_period_start: null,
    current_period_end: null,
    billing_anchor: null,
    period_index: 0,
    next_retry_at: null,
    failed_renewal_count: 0,
    cancel_at_period_end: false,
    cancelled_at: null,
    cancellation_reason: null,
    pending_update: null,
    charges: [],
    created_at: now,
    updated_at: now,
  };
  layOut(s, now);
  await save(ctx, s);
  return subscriptionApi(ctx, s);
}

async function findOwned(ctx: SandboxContext, merchant: Merchant, id: string): Promise<SubscriptionRecord> {
  const s = await ctx.store.getSubscription(id);
  if (!s || s.merchant_id !== merchant.merchant_id) throw apiError('SUBSCRIPTION_NOT_FOUND', 'no such subscription');
  return s;
}

/** `GET /subscriptions/status?subscription_id=…` (or `?out_subscription_no=…`). */
export async function getSubscriptionStatus(ctx: SandboxContext, merchant: Merchant, query: URLSearchParams): Promise<Record<string, unknown>> {
  checkMerchantField(query.get('merchant_id') ?? undefined, merchant, false);
  const id = query.get('subscription_id');
  const outNo = query.get('out_subscription_no');
  if (id) return subscriptionApi(ctx, await findOwned(ctx, merchant, id));
  if (outNo) {
    const s = await ctx.store.getSubscriptionByNo(merchant.merchant_id, outNo);
    if (!s) throw apiError('SUBSCRIPTION_NOT_FOUND', 'no such subscription');
    return subscriptionApi(ctx, s);
  }
  throw invalid('subscription_id', 'is required');
}

/** `POST /subscriptions/update`: new terms from the next period (at once while PENDING_AUTHORIZATION). */
export async function updateSubscription(ctx: SandboxContext, merchant: Merchant, body: Body): Promise<Record<string, unknown>> {
  checkMerchantField(body.merchant_id, merchant, false);
  const id = reqIdentifier(body, 'subscription_id');
  const update: PendingUpdate = {};
  if (body.amount !== undefined && body.amount !== null) update.amount = reqAmount(body);
  const interval = optInterval(body);
  if (interval !== null) update.interval = interval;
  const count = optInt(body, 'interval_count', 1, LIMITS.maxIntervalCount);
  if (count !== null) update.interval_count = count;
  const metadata = optMetadata(body);
  if (metadata !== null) update.metadata = metadata;
  if (Object.keys(update).length === 0) throw invalid('amount', 'or interval, interval_count, metadata: at least one is required');

  const s = await findOwned(ctx, merchant, id);
  if (s.status === 'CANCELLED' || s.status === 'UNPAID') {
    throw apiError('ORDER_CLOSED', `the subscription is ${s.status} and can no longer be updated`);
  }
  const now = ctx.clock.now();
  s.updated_at = now;
  if (s.status === 'PENDING_AUTHORIZATION') {
    applyTerms(s, update);
    layOut(s, now);
  } else {
    s.pending_update = { ...(s.pending_update ?? {}), ...update };
  }
  await save(ctx, s);
  await event(ctx, s, 'subscription.updated', now);
  return subscriptionApi(ctx, s);
}

/** Applies new terms; true when the billing cadence changed (the anchor must move). */
function applyTerms(s: SubscriptionRecord, u: PendingUpdate): boolean {
  const cadenceChanged = (u.interval !== undefined && u.interval !== s.interval) || (u.interval_count !== undefined && u.interval_count !== s.interval_count);
  if (u.amount !== undefined) s.amount = u.amount;
  if (u.interval !== undefined) s.interval = u.interval;
  if (u.interval_count !== undefined) s.interval_count = u.interval_count;
  if (u.metadata !== undefined) s.metadata = u.metadata;
  return cadenceChanged;
}

function cancelNow(s: SubscriptionRecord, at: number, reason: string): void {
  moveSubscription(s, 'CANCELLED');
  s.cancelled_at = at;
  s.cancellation_reason = reason;
  s.cancel_at_period_end = false;
  s.next_retry_at = null;
  s.updated_at = at;
}

/** `POST /subscriptions/cancel`. Cancelling a CANCELLED subscription returns it unchanged. */
export async function cancelSubscription(ctx: SandboxContext, merchant: Merchant, body: Body): Promise<Record<string, unknown>> {
  checkMerchantField(body.merchant_id, merchant, false);
  const id = reqIdentifier(body, 'subscription_id');
  const atPeriodEnd = optBool(body, 'at_period_end') ?? false;
  const s = await findOwned(ctx, merchant, id);
  if (s.status === 'CANCELLED') return subscriptionApi(ctx, s);
  const now = ctx.clock.now();
  const periodRunning = s.status === 'TRIALING' || s.status === 'ACTIVE' || s.status === 'PAST_DUE';
  if (!atPeriodEnd || !periodRunning) {
    cancelNow(s, now, 'MERCHANT_CANCELLED');
    await save(ctx, s);
    await event(ctx, s, 'subscription.cancelled', now);
  } else if (!s.cancel_at_period_end) {
    s.cancel_at_period_end = true;
    s.updated_at = now;
    await save(ctx, s);
    await event(ctx, s, 'subscription.updated', now);
  }
  return subscriptionApi(ctx, s);
}

/** One charge of the current terms; a `charges` fault overrides the magic amounts. */
function charge(ctx: SandboxContext, s: SubscriptionRecord, attempt: number, at: number): ChargeRecord {
  const forced = ctx.faults.takeCharge();
  const failure = forced === undefined ? magicFailure(s.amount) : forced === null ? null : { code: forced, message: failureMessage(forced) };
  const c: ChargeRecord = {
    charge_id: newId('ch'),
    amount: s.amount,
    currency: s.currency,
    status: failure ? 'FAILED' : 'SUCCEEDED',
    failure_code: failure?.code ?? null,
    failure_message: failure?.message ?? null,
    attempt,
    period_start: s.current_period_start ?? at,
    period_end: s.current_period_end ?? at,
    created_at: at,
  };
  s.charges.push(c);
  return c;
}

/** After the first charge of a period failed: renewal_failed, then PAST_DUE + past_due. */
async function enterDunning(ctx: SandboxContext, s: SubscriptionRecord, at: number): Promise<void> {
  s.failed_renewal_count = 1;
  await event(ctx, s, 'subscription.renewal_failed', at);
  moveSubscription(s, 'PAST_DUE');
  s.next_retry_at = at + RETRY_SPACING_MS;
  s.updated_at = at;
  await event(ctx, s, 'subscription.past_due', at);
}

/** Starts the paid period that begins at `start` (trial end or renewal) and charges it. */
async function startPaidPeriod(ctx: SandboxContext, s: SubscriptionRecord, start: number): Promise<void> {
  let reanchor = s.status === 'TRIALING' || s.billing_anchor === null;
  if (s.pending_update) {
    reanchor = applyTerms(s, s.pending_update) || reanchor;
    s.pending_update = null;
  }
  if (s.status === 'TRIALING') moveSubscription(s, 'ACTIVE');
  if (reanchor) {
    s.billing_anchor = start;
    s.period_index = 0;
  } else {
    s.period_index += 1;
  }
  const anchor = s.billing_anchor ?? start;
  s.current_period_start = periodBoundary(anchor, s.interval, s.interval_count, s.period_index);
  s.current_period_end = periodBoundary(anchor, s.interval, s.interval_count, s.period_index + 1);
  s.updated_at = start;
  const c = charge(ctx, s, 1, start);
  if (c.status === 'SUCCEEDED') {
    s.failed_renewal_count = 0;
    await event(ctx, s, 'subscription.renewed', start);
  } else {
    await enterDunning(ctx, s, start);
  }
}

/** Customer's answer on the mandate page (inside a transaction). */
export async function checkoutSubscription(ctx: SandboxContext, s: SubscriptionRecord, action: CheckoutAction): Promise<SubscriptionRecord> {
  if (s.status === 'CANCELLED') throw apiError('ORDER_CLOSED', 'This subscription has been cancelled.');
  if (s.status !== 'PENDING_AUTHORIZATION') throw apiError('ORDER_ALREADY_PAID', 'This subscription has already been authorized.');
  const now = ctx.clock.now();
  if (action !== 'authorize') {
    cancelNow(s, now, action === 'decline' ? 'MANDATE_DECLINED' : 'CUSTOMER_CANCELLED');
    await save(ctx, s);
    await event(ctx, s, 'subscription.cancelled', now);
    return s;
  }
  const status = layOut(s, now);
  s.authorized_at = now;
  s.updated_at = now;
  moveSubscription(s, status);
  if (status === 'ACTIVE') {
    const c = charge(ctx, s, 1, now);
    await event(ctx, s, 'subscription.activated', now);
    if (c.status === 'FAILED') await enterDunning(ctx, s, now);
  } else {
    await event(ctx, s, 'subscription.activated', now);
  }
  await save(ctx, s);
  return s;
}

/** Runs the subscription's work that is due at `dueMs` (inside a transaction); events are stamped at `dueMs`. */
export async function processDueSubscription(ctx: SandboxContext, s: SubscriptionRecord, dueMs: number): Promise<void> {
  const periodEnd = s.current_period_end;
  const running = s.status === 'TRIALING' || s.status === 'ACTIVE' || s.status === 'PAST_DUE';
  if (running && s.cancel_at_period_end && periodEnd !== null && periodEnd <= dueMs) {
    cancelNow(s, periodEnd, 'CANCELLED_AT_PERIOD_END');
    await save(ctx, s);
    await event(ctx, s, 'subscription.cancelled', periodEnd);
    return;
  }
  if ((s.status === 'TRIALING' || s.status === 'ACTIVE') && periodEnd !== null && periodEnd <= dueMs) {
    await startPaidPeriod(ctx, s, periodEnd);
    await save(ctx, s);
    return;
  }
  if (s.status === 'PAST_DUE' && s.next_retry_at !== null && s.next_retry_at <= dueMs) {
    const at = s.next_retry_at;
    s.updated_at = at;
    const c = charge(ctx, s, s.failed_renewal_count + 1, at);
    if (c.status === 'SUCCEEDED') {
      moveSubscription(s, 'ACTIVE');
      s.failed_renewal_count = 0;
      s.next_retry_at = null;
      await event(ctx, s, 'subscription.renewed', at);
    } else {
      s.failed_renewal_count += 1;
      const exhausted = s.failed_renewal_count > MAX_RENEWAL_RETRIES;
      if (exhausted) s.next_retry_at = null;
      else s.next_retry_at = at + RETRY_SPACING_MS;
      await event(ctx, s, 'subscription.renewal_failed', at);
      if (exhausted) {
        moveSubscription(s, 'UNPAID');
        await event(ctx, s, 'subscription.updated', at);
      }
    }
    await save(ctx, s);
    return;
  }
  // Nothing due after all (should not happen): re-save so next_due_ms is recomputed.
  await save(ctx, s);
}
