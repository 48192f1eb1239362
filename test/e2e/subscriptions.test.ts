import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelSubscriptionDocument,
  CreateSubscriptionDocument,
  GetSubscriptionDocument,
  ListSubscriptionsDocument,
  SubscriptionUpdatedDocument,
  UpdateSubscriptionDocument,
  type CreateSubscriptionInput,
} from '../../src/client/generated/graphql';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { signWebhookPayload } from '../../src/ucanpay';
import { launchBrowser } from '../helpers/browser';
import { checkout, collect, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;
let browser: Browser;
beforeAll(async () => {
  [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

async function sandboxNow(): Promise<Date> {
  return new Date((await sandboxCall<{ now: string }>(gw.sandboxUrl, 'GET', '/sandbox/clock')).now);
}

/** Moves the sandbox clock to just past `when` (renewals, retries and period ends run before it answers). */
async function advancePast(when: string | Date | null | undefined, extraSeconds = 60) {
  const target = new Date(when!).getTime();
  const seconds = Math.max(1, Math.ceil((target - (await sandboxNow()).getTime()) / 1000) + extraSeconds);
  await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/clock/advance', { seconds });
}

let seq = 0;
async function createSubscription(overrides: Partial<CreateSubscriptionInput> = {}) {
  seq++;
  const startDate = (await sandboxNow()).toISOString().slice(0, 10);
  const res = await gw.gql(CreateSubscriptionDocument, {
    input: {
      customer: { id: `cus_${seq}`, email: `buyer${seq}@example.com`, name: `Buyer ${seq}` },
      amount: 1000,
      currency: 'USD',
      interval: 'MONTH',
      startDate,
      returnUrl: `${gw.app.url}/demo/return`,
      ...overrides,
    },
  });
  expect(res.errors).toBeUndefined();
  const result = res.data!.createSubscription;
  if (result.__typename !== 'CreateSubscriptionPayload') throw new Error(JSON.stringify(result));
  return result.subscription;
}

async function get(id: string) {
  return (await gw.gql(GetSubscriptionDocument, { id })).data!.subscription!;
}

/** Creates and authorizes (form POST, as the mandate page's button does); waits for the status. */
async function activeSubscription(overrides: Partial<CreateSubscriptionInput> = {}, expected = 'ACTIVE') {
  const sub = await createSubscription(overrides);
  await checkout(sub.authorizationUrl!, 'authorize');
  return eventually(async () => {
    const s = await get(sub.id);
    return s.status === expected ? s : null;
  });
}

describe('createSubscription and the mandate', () => {
  it('authorizing the mandate in Chromium pushes ACTIVE live, with the first charge', async () => {
    const sub = await createSubscription({ merchantReference: 'SUB-BROWSER-1', metadata: { plan: 'gold' } });
    expect(sub).toMatchObject({ status: 'PENDING_AUTHORIZATION', amount: 1000, interval: 'MONTH', intervalCount: 1, customer: { id: `cus_${seq}` } });
    expect(sub.authorizationUrl).toMatch(/\/checkout\//);
    const live = collect(gw.ws(), SubscriptionUpdatedDocument, { id: sub.id });
    await live.until((v) => v.data?.subscriptionUpdated.status === 'PENDING_AUTHORIZATION');

    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    try {
      await page.goto(sub.authorizationUrl!);
      expect(await page.textContent('body')).toContain('10.00 USD');
      await Promise.all([page.waitForURL((u) => u.pathname === '/demo/return'), page.click('button:has-text("Authorize")')]);
    } finally {
      await page.close();
    }
    const active = await live.until((v) => v.data?.subscriptionUpdated.status === 'ACTIVE');
    const s = active.data!.subscriptionUpdated;
    expect(s.currentPeriodEnd).toBeTruthy();
    expect(s.charges).toHaveLength(1);
    expect(s.charges[0]).toMatchObject({ amount: 1000, status: 'SUCCEEDED' });
    live.unsubscribe();
  });

  it('bad input is BAD_USER_INPUT naming the field, and nothing reaches UCanPay', async () => {
    const before = (await sandboxCall<{ subscriptions: unknown[] }>(gw.sandboxUrl, 'GET', '/sandbox/subscriptions?merchant_id=mch_demo')).subscriptions.length;
    const base = { customer: { id: 'c', email: 'a@example.com', name: 'A' }, amount: 100, currency: 'USD', interval: 'MONTH' as const };
    for (const [input, field] of [
      [{ ...base, amount: -1 }, 'input.amount'],
      [{ ...base, currency: 'EURO' }, 'input.currency'],
      [{ ...base, intervalCount: 0 }, 'input.intervalCount'],
      [{ ...base, startDate: '2001-01-01' }, 'input.startDate'],
      [{ ...base, customer: { ...base.customer, email: 'not-an-email' } }, 'input.customer.email'],
      [{ ...base, trialDays: 1000 }, 'input.trialDays'],
    ] as const) {
      const res = await gw.gql(CreateSubscriptionDocument, { input: input as CreateSubscriptionInput });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const after = (await sandboxCall<{ subscriptions: unknown[] }>(gw.sandboxUrl, 'GET', '/sandbox/subscriptions?merchant_id=mch_demo')).subscriptions.length;
    expect(after).toBe(before);
  });

  it('is idempotent: the same key replays the same subscription, one at UCanPay', async () => {
    const startDate = (await sandboxNow()).toISOString().slice(0, 10);
    const input = {
      customer: { id: 'cus_idem', email: 'idem@example.com', name: 'Idem' },
      amount: 2500,
      currency: 'EUR',
      interval: 'YEAR' as const,
      startDate,
      idempotencyKey: 'sub-idem-1',
    };
    const [a, b] = await Promise.all([
      gw.gql(CreateSubscriptionDocument, { input }),
      new Promise((r) => setTimeout(r, 100)).then(() => gw.gql(CreateSubscriptionDocument, { input })),
    ]);
    const ids = [a, b].filter((r) => !r.errors).map((r) => (r.data!.createSubscription as { subscription: { id: string } }).subscription.id);
    expect(new Set(ids).size).toBe(1);
    const again = await gw.gql(CreateSubscriptionDocument, { input });
    expect(again.data!.createSubscription).toMatchObject({ __typename: 'CreateSubscriptionPayload', replayed: true });
    const conflict = await gw.gql(CreateSubscriptionDocument, { input: { ...input, amount: 2600 } });
    expect(conflict.data!.createSubscription.__typename).toBe('IdempotencyConflictError');
  });

  it('a taken merchantReference under a key is that key’s outcome, like a payment’s or a refund’s', async () => {
    await createSubscription({ merchantReference: 'SUB-TAKEN-1' });
    const before = (await sandboxCall<{ subscriptions: unknown[] }>(gw.sandboxUrl, 'GET', '/sandbox/subscriptions?merchant_id=mch_demo')).subscriptions.length;
    const startDate = (await sandboxNow()).toISOString().slice(0, 10);
    const input = {
      customer: { id: 'cus_taken', email: 'taken@example.com', name: 'Taken' },
      amount: 1000,
      currency: 'USD',
      interval: 'MONTH' as const,
      startDate,
      merchantReference: 'SUB-TAKEN-1',
      idempotencyKey: 'sub-taken-1',
    };
    const refused = await gw.gql(CreateSubscriptionDocument, { input });
    expect(refused.data!.createSubscription).toMatchObject({ __typename: 'MerchantReferenceInUseError', code: 'MERCHANT_REFERENCE_IN_USE' });
    expect((await gw.gql(CreateSubscriptionDocument, { input })).data!.createSubscription.__typename).toBe('MerchantReferenceInUseError');
    // Stored with the key: the same key with a free reference is a conflict, not a new subscription.
    const other = await gw.gql(CreateSubscriptionDocument, { input: { ...input, merchantReference: 'SUB-FREE-1' } });
    expect(other.data!.createSubscription.__typename).toBe('IdempotencyConflictError');
    const after = (await sandboxCall<{ subscriptions: unknown[] }>(gw.sandboxUrl, 'GET', '/sandbox/subscriptions?merchant_id=mch_demo')).subscriptions.length;
    expect(after).toBe(before);
  });
});

describe('renewals, dunning and changes, driven by the sandbox clock', () => {
  it('one period later: renewed, a new charge, currentPeriodEnd moved, pushed live', async () => {
    const sub = await activeSubscription();
    const live = collect(gw.ws(), SubscriptionUpdatedDocument, { id: sub.id });
    await live.until((v) => v.data?.subscriptionUpdated.version === sub.version);
    await advancePast(sub.currentPeriodEnd);
    const renewed = await live.until((v) => (v.data?.subscriptionUpdated.charges.length ?? 0) === 2);
    const s = renewed.data!.subscriptionUpdated;
    expect(s.status).toBe('ACTIVE');
    expect(new Date(s.currentPeriodEnd!).getTime()).toBeGreaterThan(new Date(sub.currentPeriodEnd!).getTime());
    expect(s.charges.map((c) => c.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    live.unsubscribe();
  });

  it('an update shows as pending until the next period; a declining amount then goes PAST_DUE and, after the retries, UNPAID', async () => {
    const sub = await activeSubscription();
    const upd = await gw.gql(UpdateSubscriptionDocument, { input: { id: sub.id, amount: 1002 } });
    const updated = upd.data!.updateSubscription;
    if (updated.__typename !== 'UpdateSubscriptionPayload') throw new Error(JSON.stringify(upd));
    expect(updated.subscription.amount).toBe(1000);
    expect(updated.subscription.pendingUpdate).toMatchObject({ amount: 1002 });

    const live = collect(gw.ws(), SubscriptionUpdatedDocument, { id: sub.id });
    await advancePast(sub.currentPeriodEnd);
    const pastDue = await live.until((v) => v.data?.subscriptionUpdated.status === 'PAST_DUE');
    expect(pastDue.data!.subscriptionUpdated).toMatchObject({ amount: 1002, failedRenewalCount: 1, pendingUpdate: null });
    expect(pastDue.data!.subscriptionUpdated.charges.at(-1)).toMatchObject({ status: 'FAILED', failureCode: 'CARD_DECLINED' });

    for (let retry = 0; retry < 3; retry++) await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/clock/advance', { seconds: 24 * 3600 + 60 });
    const unpaid = await live.until((v) => v.data?.subscriptionUpdated.status === 'UNPAID');
    expect(unpaid.data!.subscriptionUpdated.failedRenewalCount).toBe(4);
    const s = await eventually(async () => {
      const x = await get(sub.id);
      return x.charges.length === 5 ? x : null;
    });
    expect(s.charges.filter((c) => c.status === 'FAILED')).toHaveLength(4);

    const closed = await gw.gql(UpdateSubscriptionDocument, { input: { id: sub.id, amount: 500 } });
    expect(closed.data!.updateSubscription).toMatchObject({ __typename: 'SubscriptionClosedError', code: 'SUBSCRIPTION_CLOSED', subscriptionStatus: 'UNPAID' });
    live.unsubscribe();
  });

  it('a trial: TRIALING after the mandate, ACTIVE with the first charge when the trial ends', async () => {
    const sub = await activeSubscription({ trialDays: 7 }, 'TRIALING');
    expect(sub.charges).toHaveLength(0);
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/clock/advance', { seconds: 7 * 86400 + 60 });
    const active = await eventually(async () => {
      const s = await get(sub.id);
      return s.status === 'ACTIVE' ? s : null;
    });
    expect(active.charges).toHaveLength(1);
  });

  it('cancel at period end: stays ACTIVE until the period ends, then CANCELLED', async () => {
    const sub = await activeSubscription();
    const res = await gw.gql(CancelSubscriptionDocument, { input: { id: sub.id, atPeriodEnd: true } });
    expect(res.data!.cancelSubscription).toMatchObject({ subscription: { status: 'ACTIVE', cancelAtPeriodEnd: true } });
    const live = collect(gw.ws(), SubscriptionUpdatedDocument, { id: sub.id });
    await advancePast(sub.currentPeriodEnd);
    const cancelled = await live.until((v) => v.data?.subscriptionUpdated.status === 'CANCELLED');
    expect(cancelled.data!.subscriptionUpdated.charges).toHaveLength(1); // no charge for a period it will not have
    live.unsubscribe();
  });

  it('cancel now, and cancelling again returns it unchanged', async () => {
    const sub = await activeSubscription();
    const first = await gw.gql(CancelSubscriptionDocument, { input: { id: sub.id } });
    expect(first.data!.cancelSubscription).toMatchObject({ replayed: false, subscription: { status: 'CANCELLED' } });
    const version = (first.data!.cancelSubscription as { subscription: { version: number } }).subscription.version;
    const again = await gw.gql(CancelSubscriptionDocument, { input: { id: sub.id } });
    expect(again.data!.cancelSubscription).toMatchObject({ replayed: true, subscription: { status: 'CANCELLED', version } });
  });
});

describe('subscription webhooks', () => {
  it('a renewal delivered three times is recorded once', async () => {
    const sub = await activeSubscription();
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'duplicate', count: 2, types: ['subscription.renewed'] } });
    await advancePast(sub.currentPeriodEnd);
    const s = await eventually(async () => {
      const x = await get(sub.id);
      return x.charges.length === 2 ? x : null;
    });
    await new Promise((r) => setTimeout(r, 400));
    expect((await get(sub.id)).charges).toHaveLength(2);
    expect(s.version).toBe((await get(sub.id)).version);
  });

  it('a late, older renewal snapshot never rolls currentPeriodEnd back', async () => {
    const sub = await activeSubscription();
    const provider = await sandboxCall<{ subscriptions: Array<Record<string, unknown>> }>(gw.sandboxUrl, 'GET', `/sandbox/subscriptions?merchant_id=mch_demo`);
    const old = provider.subscriptions.find((x) => x.subscription_id === sub.providerSubscriptionId)!;
    await advancePast(sub.currentPeriodEnd);
    const renewed = await eventually(async () => {
      const x = await get(sub.id);
      return x.charges.length === 2 ? x : null;
    });
    // Replay the pre-renewal snapshot as if its webhook arrived late.
    const body = JSON.stringify({ id: 'evt_late_sub_1', type: 'subscription.activated', created: Math.floor(Date.now() / 1000) - 3600, data: { object: old } });
    const res = await fetch(`${gw.app.url}/webhooks/ucanpay/${gw.app.demo.merchantId}`, {
      method: 'POST',
      headers: { 'ucanpay-signature': signWebhookPayload(SANDBOX_DEFAULTS.webhookSecret, body, Math.floor(Date.now() / 1000)) },
      body,
    });
    expect(await res.json()).toEqual({ received: true, outcome: 'unchanged' });
    const after = await get(sub.id);
    expect(after.currentPeriodEnd).toBe(renewed.currentPeriodEnd);
    expect(after.version).toBe(renewed.version);
  });

  it('lists subscriptions by status and customer', async () => {
    const sub = await createSubscription({ customer: { id: 'cus_list', email: 'l@example.com', name: 'L' } });
    const byCustomer = (await gw.gql(ListSubscriptionsDocument, { customerId: 'cus_list', first: 10 })).data!.subscriptions.edges;
    expect(byCustomer.map((e) => e.node.id)).toEqual([sub.id]);
    const pending = (await gw.gql(ListSubscriptionsDocument, { status: 'PENDING_AUTHORIZATION', first: 100 })).data!.subscriptions.edges;
    expect(pending.some((e) => e.node.id === sub.id)).toBe(true);
  });
});
