/**
 * Programs: short sequences of steps a merchant, a customer, UCanPay's
 * network and the operator's clock might take, some of them at the same time.
 * Steps are plain data so fast-check shrinks a failing program to a short,
 * readable one and prints it; `run` plays them against a World.
 */
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { signWebhookPayload } from '../../src/ucanpay';
import type { GqlAnswer, World } from './world';

/** Two payments at most: p0 and p1 (each has its own createPayment idempotency key; p1 expires after 60 s, p0 after 1800 s). */
export type Slot = 0 | 1;
/** Refund idempotency keys r0…r2 (per payment). */
export type RefundKey = 0 | 1 | 2;
export type RefundAmount = 3000 | 6000 | 'rest';
export type Endpoint = 'POST /payment/unifiedorder' | 'GET /payment/status' | 'POST /payment/refund' | 'GET /payment/refund/status';
/**
 * What UCanPay does to one call: refuse it unprocessed (503-before), process it
 * and answer 503 or drop the connection (…-after: a retry with the same
 * Idempotency-Key gets the real answer), or answer late — waiting before
 * processing (slow-before: the order does not exist yet while it waits) or after.
 */
export type HttpFault = '503-before' | '503-after' | 'drop-after' | 'slow-before' | 'slow-after' | 'slow-503-after';
/** A fault on the step's own UCanPay call, set just before it ('none': as UCanPay normally answers). */
export type CallFault = 'none' | HttpFault;

export type Step =
  /** createPayment with the slot's key; `changed` sends another description under the same key. */
  | { t: 'create'; p: Slot; input: 'same' | 'changed'; fault: CallFault }
  /** The customer at the hosted checkout of the last checkoutUrl the gateway handed out for the slot. */
  | { t: 'checkout'; p: Slot; action: 'authorize' | 'decline' | 'cancel' }
  | { t: 'refund'; p: Slot; key: RefundKey; amount: RefundAmount; fault: CallFault }
  | { t: 'webhookFault'; mode: 'drop' | 'duplicate' | 'out_of_order' | 'delay'; count: 1 | 2 }
  | { t: 'httpFault'; endpoint: Endpoint; fault: HttpFault }
  /** The next refund UCanPay creates ends FAILED. */
  | { t: 'refundFails' }
  /** Time passes; with `tick`, the reconciliation loop's timer fires once it has (as it would in that time). */
  | { t: 'clock'; seconds: 6 | 61 | 1801; tick: boolean }
  /** One reconciliation pass (its GET /payment/status calls get `fault`). */
  | { t: 'reconcile'; fault: CallFault }
  | { t: 'refresh'; p: Slot; fault: CallFault }
  | { t: 'crash' }
  /** A signed, older snapshot of the slot's last payment event under a new event id (same or another transaction id). */
  | { t: 'staleEvent'; p: Slot; tx: 'same' | 'other' }
  /** Steps started one after the other without waiting for each to finish. */
  | { t: 'par'; steps: Step[] };

export const PAYMENT_AMOUNT = 10_000;
/** Steps whose work includes a UCanPay call (a `par` lets each reach it before starting the next). */
const CALLS_UCANPAY = new Set<Step['t']>(['create', 'refund', 'refresh', 'reconcile']);
/** A slow UCanPay call: well under the client timeout, long enough for a racing step to start and finish. */
export const SLOW_MS = 700;

const slot = fc.constantFrom<Slot>(0, 0, 1);
/** In a race the 60 s payment is as likely as the other: its expiry is where the gateway infers most. */
const raceSlot = fc.constantFrom<Slot>(0, 1);
const HTTP_FAULTS: HttpFault[] = ['503-before', '503-after', 'drop-after', 'slow-before', 'slow-after', 'slow-503-after'];
/** Half the calls meet a fault. */
const callFault: fc.Arbitrary<CallFault> = fc.oneof(fc.constant<CallFault>('none'), fc.constantFrom<CallFault>(...HTTP_FAULTS));
const slowFault = fc.constantFrom<CallFault>('slow-before', 'slow-after', 'slow-503-after');

const create = (fault: fc.Arbitrary<CallFault>, p = slot) =>
  fc.record({ t: fc.constant('create' as const), p, input: fc.constantFrom<'same' | 'changed'>('same', 'same', 'same', 'changed'), fault });
const refund = (fault: fc.Arbitrary<CallFault>) =>
  fc.record({
    t: fc.constant('refund' as const),
    p: slot,
    key: fc.constantFrom<RefundKey>(0, 1, 2),
    amount: fc.constantFrom<RefundAmount>(3000, 6000, 'rest'),
    fault,
  });
const refresh = (fault: fc.Arbitrary<CallFault>) => fc.record({ t: fc.constant('refresh' as const), p: slot, fault });
const reconcile = (fault: fc.Arbitrary<CallFault>) => fc.record({ t: fc.constant('reconcile' as const), fault });
const checkout = fc.record({
  t: fc.constant('checkout' as const),
  p: slot,
  action: fc.constantFrom<'authorize' | 'decline' | 'cancel'>('authorize', 'authorize', 'authorize', 'decline', 'cancel'),
});
const clock = fc.record({ t: fc.constant('clock' as const), seconds: fc.constantFrom<6 | 61 | 1801>(61, 6, 1801), tick: fc.boolean() });
const crash = fc.constant({ t: 'crash' as const });

const atom: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: create(callFault) },
  { weight: 4, arbitrary: checkout },
  { weight: 4, arbitrary: refund(callFault) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('webhookFault' as const),
      mode: fc.constantFrom('drop' as const, 'duplicate' as const, 'out_of_order' as const, 'delay' as const),
      count: fc.constantFrom<1 | 2>(1, 2),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('httpFault' as const),
      endpoint: fc.constantFrom<Endpoint>('POST /payment/unifiedorder', 'GET /payment/status', 'POST /payment/refund', 'GET /payment/refund/status'),
      fault: fc.constantFrom<HttpFault>(...HTTP_FAULTS),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'refundFails' as const }) },
  { weight: 2, arbitrary: clock },
  { weight: 3, arbitrary: reconcile(callFault) },
  { weight: 2, arbitrary: refresh(callFault) },
  { weight: 1, arbitrary: crash },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('staleEvent' as const), p: slot, tx: fc.constantFrom<'same' | 'other'>('same', 'other') }) },
);

/** What can happen while a slow UCanPay call is in flight. */
const disruptor: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: clock },
  { weight: 3, arbitrary: reconcile(callFault) },
  { weight: 2, arbitrary: create(callFault) },
  { weight: 2, arbitrary: refund(callFault) },
  { weight: 1, arbitrary: refresh(callFault) },
  { weight: 1, arbitrary: checkout },
  { weight: 1, arbitrary: crash },
);

/** A race: a call UCanPay answers slowly, and one or two steps started while it waits. */
const race: fc.Arbitrary<Step> = fc
  .tuple(
    fc.oneof({ weight: 2, arbitrary: create(slowFault, raceSlot) }, refund(slowFault), refresh(slowFault), reconcile(slowFault)),
    fc.array(disruptor, { minLength: 1, maxLength: 2 }),
  )
  .map(([slow, others]) => ({ t: 'par' as const, steps: [slow, ...others] }));

export const stepArb: fc.Arbitrary<Step> = fc.oneof({ weight: 3, arbitrary: atom }, { weight: 1, arbitrary: race });

/** A program usually starts by creating p0 (most steps need a payment); 3 to 12 steps. */
export const programArb: fc.Arbitrary<Step[]> = fc
  .tuple(fc.boolean(), fc.array(stepArb, { minLength: 2, maxLength: 11 }))
  .map(([createFirst, rest]) => (createFirst ? [{ t: 'create', p: 0, input: 'same', fault: 'none' } as Step, ...rest] : rest))
  .filter((steps) => steps.length >= 3);

/** One step, one line: `par[refund p0 r1 6000 | reconcile]`. */
export function describeStep(step: Step): string {
  switch (step.t) {
    case 'create':
      return `create p${step.p}${step.input === 'changed' ? ' (changed input)' : ''}${withFault(step.fault)}`;
    case 'checkout':
      return `checkout p${step.p} ${step.action}`;
    case 'refund':
      return `refund p${step.p} r${step.key} ${step.amount}${withFault(step.fault)}`;
    case 'webhookFault':
      return `webhooks ${step.mode} ×${step.count}`;
    case 'httpFault':
      return `fault ${step.endpoint} ${step.fault}`;
    case 'refundFails':
      return 'next UCanPay refund fails';
    case 'clock':
      return `clock +${step.seconds}s${step.tick ? ' + reconcile' : ''}`;
    case 'reconcile':
      return `reconcile${withFault(step.fault)}`;
    case 'refresh':
      return `payment p${step.p} refresh:true${withFault(step.fault)}`;
    case 'crash':
      return 'crash + restart';
    case 'staleEvent':
      return `stale payment event for p${step.p} (${step.tx} transaction id)`;
    case 'par':
      return `par[${step.steps.map(describeStep).join(' | ')}]`;
  }
}

function withFault(fault: CallFault): string {
  return fault === 'none' ? '' : ` [UCanPay: ${fault}]`;
}

export function describeProgram(steps: Step[]): string {
  return steps.map((s, i) => `  ${String(i + 1).padStart(2)}. ${describeStep(s)}`).join('\n');
}

/** What one client call got: a typed result, a thrown GraphQL error, or nothing (the connection broke). */
export type Outcome =
  | {
      type: 'result';
      typename: string;
      id?: string;
      replayed?: boolean;
      status?: string;
      checkoutUrl?: string | null;
      failureCode?: string | null;
      providerCode?: string;
    }
  | { type: 'thrown'; code: string }
  | { type: 'network' };

export interface CallRecord {
  op: 'createPayment' | 'refundPayment';
  /** The idempotency key as sent. */
  key: string;
  /** Same key + same input must give one outcome: the input as the harness chose it. */
  input: string;
  outcome: Outcome;
  step: string;
  /** The payment the call was about (refunds). */
  paymentId?: string;
}

export interface HandedOut {
  paymentId: string;
  status: string;
  checkoutUrl: string | null;
  failureCode: string | null;
  via: string;
}

const PAYMENT_FIELDS = 'id status amount currency checkoutUrl failureCode providerOrderId transactionId version';

/** The record of one program: what the client was told. The invariants are checked against it and UCanPay. */
export class Model {
  readonly calls: CallRecord[] = [];
  /** Every payment state the gateway showed the client (create, replay, refresh). */
  readonly handedOut: HandedOut[] = [];
  readonly paymentIds: Partial<Record<Slot, string>> = {};
  readonly checkoutUrls: Partial<Record<Slot, string>> = {};
  readonly notes: string[] = [];

  constructor(
    readonly prefix: string,
    /** Whether RefundExceedsPaymentError etc. have a `replayed` field in this build's schema. */
    readonly errorsHaveReplayed: boolean,
  ) {}

  seePayment(p: Slot | undefined, payment: any, via: string): void {
    if (!payment?.id) return;
    if (p !== undefined) this.paymentIds[p] ??= payment.id;
    if (p !== undefined && payment.checkoutUrl) this.checkoutUrls[p] = payment.checkoutUrl;
    this.handedOut.push({
      paymentId: payment.id,
      status: payment.status,
      checkoutUrl: payment.checkoutUrl ?? null,
      failureCode: payment.failureCode ?? null,
      via,
    });
  }
}

function outcomeOf(answer: GqlAnswer, field: string): { outcome: Outcome; value?: any } {
  if (answer.kind === 'network') return { outcome: { type: 'network' } };
  const value = answer.data?.[field];
  if (value && typeof value === 'object' && typeof value.__typename === 'string') {
    return {
      outcome: {
        type: 'result',
        typename: value.__typename,
        id: value.refund?.id ?? value.payment?.id,
        replayed: value.replayed,
        status: value.refund?.status ?? value.payment?.status,
        checkoutUrl: value.payment?.checkoutUrl,
        failureCode: value.payment?.failureCode,
        providerCode: value.providerCode,
      },
      value,
    };
  }
  const code = answer.errors?.[0]?.extensions?.code;
  return { outcome: { type: 'thrown', code: typeof code === 'string' ? code : `HTTP_${answer.status}` } };
}

function httpFaultRule(endpoint: Endpoint, fault: HttpFault): Record<string, unknown> {
  switch (fault) {
    case '503-before':
      return { endpoint, status: 503, when: 'before' };
    case '503-after':
      return { endpoint, status: 503, when: 'after' };
    case 'drop-after':
      return { endpoint, drop: true, when: 'after' };
    case 'slow-before':
      return { endpoint, latency_ms: SLOW_MS, when: 'before' };
    case 'slow-after':
      return { endpoint, latency_ms: SLOW_MS, when: 'after' };
    case 'slow-503-after':
      return { endpoint, latency_ms: SLOW_MS, status: 503, when: 'after' };
  }
}

/** Plays a program's steps in order (a `par` starts its steps a moment apart and waits for all). */
export class Runner {
  constructor(
    private readonly world: World,
    readonly model: Model,
  ) {}

  async run(steps: Step[]): Promise<void> {
    for (const step of steps) await this.step(step);
  }

  /** Steps whose UCanPay call may be in flight right now. */
  private inFlight = 0;

  async step(step: Step): Promise<void> {
    if (!CALLS_UCANPAY.has(step.t)) return this.play(step);
    this.inFlight++;
    try {
      return await this.play(step);
    } finally {
      this.inFlight--;
    }
  }

  private async play(step: Step): Promise<void> {
    const w = this.world;
    const m = this.model;
    const label = describeStep(step);
    switch (step.t) {
      case 'create': {
        await this.callFault('POST /payment/unifiedorder', step.fault);
        const input: Record<string, unknown> = {
          amount: PAYMENT_AMOUNT,
          currency: 'USD',
          description: step.input === 'changed' ? 'Interleaving (changed)' : 'Interleaving',
          returnUrl: 'https://shop.example/return',
          idempotencyKey: `${m.prefix}-p${step.p}`,
          expiresInSeconds: step.p === 1 ? 60 : null,
        };
        const answer = await w.gql(
          `mutation($input: CreatePaymentInput!) { createPayment(input: $input) { __typename
             ... on CreatePaymentPayload { replayed payment { ${PAYMENT_FIELDS} } }
             ... on ProviderError { code providerCode }
             ... on ErrorResult { code message } } }`,
          { input },
        );
        const { outcome, value } = outcomeOf(answer, 'createPayment');
        m.calls.push({ op: 'createPayment', key: input.idempotencyKey as string, input: step.input, outcome, step: label });
        if (value?.payment) m.seePayment(step.p, value.payment, label);
        return;
      }
      case 'checkout': {
        const url = m.checkoutUrls[step.p];
        if (!url) return;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ action: step.action }).toString(),
            redirect: 'manual',
            signal: AbortSignal.timeout(10_000),
          });
          await res.text();
          m.notes.push(`${label}: ${res.status}`);
        } catch (error) {
          m.notes.push(`${label}: ${String(error)}`);
        }
        return;
      }
      case 'refund': {
        const paymentId = m.paymentIds[step.p];
        if (!paymentId) return;
        await this.callFault('POST /payment/refund', step.fault);
        const input: Record<string, unknown> = { paymentId, idempotencyKey: `${m.prefix}-p${step.p}-r${step.key}` };
        if (step.amount !== 'rest') input.amount = step.amount;
        const replayed = m.errorsHaveReplayed ? 'replayed' : '';
        const answer = await w.gql(
          `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename
             ... on RefundPaymentPayload { replayed refund { id status amount } payment { ${PAYMENT_FIELDS} } }
             ... on RefundExceedsPaymentError { requestedAmount refundableAmount ${replayed} }
             ... on PaymentNotRefundableError { paymentStatus ${replayed} }
             ... on ProviderError { providerCode }
             ... on ErrorResult { code message } } }`,
          { input },
        );
        const { outcome } = outcomeOf(answer, 'refundPayment');
        m.calls.push({ op: 'refundPayment', key: input.idempotencyKey as string, input: String(step.amount), outcome, step: label, paymentId });
        return;
      }
      case 'webhookFault': {
        const rule: Record<string, unknown> = { mode: step.mode, count: step.count };
        if (step.mode === 'delay') rule.delay_ms = 400;
        await w.sandboxCall('POST', '/sandbox/faults', { webhooks: rule });
        return;
      }
      case 'httpFault':
        await w.sandboxCall('POST', '/sandbox/faults', httpFaultRule(step.endpoint, step.fault));
        return;
      case 'refundFails':
        await w.sandboxCall('POST', '/sandbox/faults', { refunds: { count: 1, failure_code: 'PROVIDER_ERROR' } });
        return;
      case 'clock': {
        // While a call is in flight, less time passes than that call could take (else it would have timed out).
        const busy = this.inFlight > 0 || (await w.callsInProgress()) > 0;
        const seconds = busy ? Math.min(step.seconds, Math.max(1, w.longestCallSeconds - 5)) : step.seconds;
        if (seconds !== step.seconds) m.notes.push(`${label}: +${seconds}s only (a UCanPay call is in flight)`);
        await w.advanceClock(seconds);
        if (step.tick) await this.step({ t: 'reconcile', fault: 'none' });
        return;
      }
      case 'reconcile':
        await this.callFault('GET /payment/status', step.fault);
        await w.app.services.reconciliation.runOnce().then(
          (changed) => m.notes.push(`${label}: ${changed} changed`),
          (error) => m.notes.push(`${label}: ${String(error)}`),
        );
        return;
      case 'refresh': {
        const id = m.paymentIds[step.p];
        if (!id) return;
        await this.callFault('GET /payment/status', step.fault);
        const answer = await w.gql(`query($id: ID!) { payment(id: $id, refresh: true) { ${PAYMENT_FIELDS} } }`, { id });
        if (answer.kind === 'answer' && answer.data?.payment) m.seePayment(step.p, answer.data.payment, label);
        else m.notes.push(`${label}: ${answer.kind === 'network' ? answer.message : answer.errors?.[0]?.extensions?.code}`);
        return;
      }
      case 'crash':
        await w.crash();
        return;
      case 'staleEvent':
        await this.staleEvent(step.p, step.tx);
        return;
      case 'par': {
        const running: Array<Promise<void>> = [];
        for (const sub of step.steps) {
          const before = await this.requestCount();
          let finished = false;
          const done = this.step(sub).finally(() => {
            finished = true;
          });
          running.push(done);
          // The next one starts once this one has reached UCanPay (or finished): bounded, so a step that never calls UCanPay cannot hold it up.
          const deadline = performance.now() + (CALLS_UCANPAY.has(sub.t) ? 2000 : 150);
          while (!finished && performance.now() < deadline && (await this.requestCount()) === before) await new Promise((r) => setTimeout(r, 15));
        }
        await Promise.all(running);
        return;
      }
    }
  }

  private async requestCount(): Promise<number> {
    return (await this.world.sandboxCall<{ requests: unknown[] }>('GET', '/sandbox/requests')).requests.length;
  }

  private async callFault(endpoint: Endpoint, fault: CallFault): Promise<void> {
    if (fault !== 'none') await this.world.sandboxCall('POST', '/sandbox/faults', httpFaultRule(endpoint, fault));
  }

  /** Re-sends the slot's last payment event as a new, signed event stamped 60 s earlier. */
  private async staleEvent(p: Slot, tx: 'same' | 'other'): Promise<void> {
    const w = this.world;
    const id = this.model.paymentIds[p];
    if (!id) return;
    const { orders } = await w.sandboxCall<{ orders: any[] }>('GET', `/sandbox/orders?merchant_id=${w.config.ucanpay.merchantId}`);
    const order = orders.find((o) => o.out_trade_no === id);
    if (!order) return;
    const { events } = await w.sandboxCall<{ events: any[] }>('GET', `/sandbox/webhooks?merchant_id=${w.config.ucanpay.merchantId}`);
    const last = events.filter((e) => e.object_id === order.order_id && String(e.type).startsWith('payment.')).pop();
    if (!last?.payload) return;
    const payload = typeof last.payload === 'string' ? JSON.parse(last.payload) : last.payload;
    const object = { ...payload.data.object };
    if (tx === 'other' && object.transaction_id) object.transaction_id = `${object.transaction_id}x`;
    const event = { ...payload, id: `evt_stale_${Math.random().toString(36).slice(2, 12)}`, created: payload.created - 60, data: { object } };
    const raw = JSON.stringify(event);
    const signature = signWebhookPayload(w.config.ucanpay.webhookSecret, raw, Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(`${w.app.url}/webhooks/ucanpay/${w.merchantId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'ucanpay-signature': signature },
        body: raw,
        signal: AbortSignal.timeout(10_000),
      });
      this.model.notes.push(`stale ${payload.type} (${tx}): ${res.status} ${(await res.text()).slice(0, 100)}`);
    } catch (error) {
      this.model.notes.push(`stale event: ${String(error)}`);
    }
  }
}
