import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { loadConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/db/database';
import { BillingSubscriptionEntity, MerchantEntity, PaymentEntity, RefundEntity } from '../../src/entities';
import { createInMemoryEventBus, type EventBus, type Topics } from '../../src/events/pubsub';
import { createFormatError } from '../../src/api/errors/format-error';
import { PAYMENT_MACHINE, PAYMENT_STATUSES, type PaymentStatus } from '../../src/domain/payment-state';
import { REFUND_MACHINE, REFUND_STATUSES, type RefundStatus } from '../../src/domain/refund-state';
import { SUBSCRIPTION_MACHINE, SUBSCRIPTION_STATUSES, type SubscriptionStatus } from '../../src/domain/billing-subscription-state';
import { IllegalTransition, type StateMachine } from '../../src/domain/state-machine';
import { createServices, type Services } from '../../src/services';
import { writeVersioned } from '../../src/services/versioned';
import { tempSqlitePath } from '../helpers/databases';
import { testMerchant, testPayment } from '../helpers/entities';
import { capturingLogger } from '../helpers/logs';

/**
 * Every status write goes through the one write path (services/versioned.ts),
 * which refuses any move its aggregate's table does not allow. Each
 * (from, to) pair of each aggregate is tried through the service layer on a
 * real SQLite database: an illegal one throws, leaves the row and its version
 * as they were, publishes nothing, and rolls its transaction back; a legal
 * one (corrections included) is written once and published once.
 */

const AT = new Date(1_700_000_000_000);
const { logger, lines } = capturingLogger();
let db: Database;
let events: EventBus;
let services: Services;
let seq = 0;

beforeAll(async () => {
  db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('transitions'), synchronous: 'NORMAL' });
  events = createInMemoryEventBus();
  services = createServices({ config: loadConfig({ NODE_ENV: 'test' }), db, events, log: logger, ucanpayBaseUrl: 'http://127.0.0.1:9' });
  await insert(MerchantEntity, testMerchant('mer_t'));
});

afterAll(async () => {
  await db?.close();
});

/** Rows are written in a transaction (the plain manager reads only). */
async function insert<T extends ObjectLiteral>(entity: EntityTarget<T>, row: T): Promise<void> {
  await db.transaction((tx) => tx.manager.insert(entity, row as never));
}

function pairs<S extends string>(statuses: readonly S[]): Array<[S, S]> {
  return statuses.flatMap((from) => statuses.filter((to) => to !== from).map((to) => [from, to] as [S, S]));
}

function split<S extends string>(machine: StateMachine<S>, statuses: readonly S[]) {
  const all = pairs(statuses);
  return { legal: all.filter(([f, t]) => machine.allows(f, t)), illegal: all.filter(([f, t]) => !machine.allows(f, t)) };
}

function payment(status: PaymentStatus): PaymentEntity {
  const id = `pay_t${++seq}`;
  return testPayment(id, 'mer_t', {
    merchantReference: `ref-${id}`,
    status,
    currency: 'USD',
    description: 'transition test',
    clientSecret: `${id}_secret_never_logged`,
    providerOrderId: `ord_${id}`,
    version: 3,
    createdAt: AT,
    updatedAt: AT,
  });
}

function refund(paymentId: string, status: RefundStatus): RefundEntity {
  const id = `ref_t${++seq}`;
  return Object.assign(new RefundEntity(), {
    id,
    merchantId: 'mer_t',
    paymentId,
    merchantReference: id,
    status,
    amount: 100,
    currency: 'USD',
    reason: 'transition test',
    providerRefundId: null,
    failureCode: null,
    failureMessage: null,
    version: 2,
    createdAt: AT,
    updatedAt: AT,
    succeededAt: null,
    syncedAt: null,
  } satisfies RefundEntity);
}

function subscription(status: SubscriptionStatus): BillingSubscriptionEntity {
  const id = `sub_t${++seq}`;
  return Object.assign(new BillingSubscriptionEntity(), {
    id,
    merchantId: 'mer_t',
    merchantReference: id,
    status,
    customerId: 'cus_1',
    customerEmail: 'c@example.com',
    customerName: 'C',
    amount: 500,
    currency: 'USD',
    interval: 'MONTH',
    intervalCount: 1,
    startDate: '2026-01-01',
    trialDays: 0,
    returnUrl: null,
    metadata: {},
    authorizationUrl: null,
    providerSubscriptionId: `ups_${id}`,
    currentPeriodStart: null,
    currentPeriodEnd: null,
    nextBillingAt: null,
    cancelAtPeriodEnd: false,
    cancelledAt: null,
    failedRenewalCount: 0,
    pendingUpdate: null,
    failureCode: null,
    failureMessage: null,
    providerChargeCount: 0,
    providerUpdatedAt: null,
    version: 4,
    createdAt: AT,
    updatedAt: AT,
    syncedAt: null,
  } satisfies BillingSubscriptionEntity);
}

/** Everything published on `topic` for `id` from now on. */
async function published<K extends keyof Topics>(topic: K, id: string): Promise<{ seen: Topics[K][]; stop: () => void }> {
  const seen: Topics[K][] = [];
  const stop = await events.listen(topic, id, (record) => void seen.push(record));
  return { seen, stop };
}

/** The in-memory bus may hand a publish to the next turn of the event loop: wait one before asserting nothing came. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

interface Aggregate<S extends string> {
  entity: typeof PaymentEntity | typeof RefundEntity | typeof BillingSubscriptionEntity;
  topic: Exclude<keyof Topics, 'eventsRecorded'>;
  /** Inserts a row in `from`; returns its id. */
  insert(from: S): Promise<string>;
  /** Writes `{ status: to }` to the locked row through the service layer's write path, in one transaction. */
  move(id: string, to: S): Promise<unknown>;
}

const payments: Aggregate<PaymentStatus> = {
  entity: PaymentEntity,
  topic: 'paymentUpdated',
  async insert(from) {
    const row = payment(from);
    await insert(PaymentEntity, row);
    return row.id;
  },
  move: (id, to) => db.transaction(async (tx) => services.payments.applyChange(tx, await tx.manager.findOneByOrFail(PaymentEntity, { id }), { status: to })),
};

const refunds: Aggregate<RefundStatus> = {
  entity: RefundEntity,
  topic: 'refundUpdated',
  async insert(from) {
    const paid = payment('PAID');
    const row = refund(paid.id, from);
    await insert(PaymentEntity, paid);
    await insert(RefundEntity, row);
    return row.id;
  },
  move: (id, to) =>
    db.transaction(async (tx) => services.refunds.applyRefundChange(tx, await tx.manager.findOneByOrFail(RefundEntity, { id }), { status: to })),
};

const subscriptions: Aggregate<SubscriptionStatus> = {
  entity: BillingSubscriptionEntity,
  topic: 'subscriptionUpdated',
  async insert(from) {
    const row = subscription(from);
    await insert(BillingSubscriptionEntity, row);
    return row.id;
  },
  // The billing subscription service writes only through writeVersioned with its own `writes()`.
  move: (id, to) =>
    db.transaction(async (tx) =>
      writeVersioned(
        tx,
        BillingSubscriptionEntity,
        await tx.manager.findOneByOrFail(BillingSubscriptionEntity, { id }),
        { status: to },
        services.subscriptions['writes'](),
      ),
    ),
};

interface Case {
  name: string;
  aggregate: Aggregate<string>;
  legal: Array<[string, string]>;
  illegal: Array<[string, string]>;
}

const cases: Case[] = [
  { name: 'payment', aggregate: payments, ...split(PAYMENT_MACHINE, PAYMENT_STATUSES) },
  { name: 'refund', aggregate: refunds, ...split(REFUND_MACHINE, REFUND_STATUSES) },
  { name: 'billing subscription', aggregate: subscriptions, ...split(SUBSCRIPTION_MACHINE, SUBSCRIPTION_STATUSES) },
];

describe('the write path refuses every move its state table does not allow', () => {
  it('knows which moves are illegal (forwards and corrections are legal, backwards and out of a final state are not)', () => {
    expect(cases.map((c) => [c.name, c.legal.length, c.illegal.length])).toEqual([
      ['payment', 18, 24],
      ['refund', 2, 4],
      ['billing subscription', 16, 14],
    ]);
    const illegal = (c: Case) => c.illegal.map(([f, t]) => `${f}→${t}`);
    expect(illegal(cases[0])).toEqual(expect.arrayContaining(['PAID→PENDING', 'REFUNDED→PAID', 'FAILED→PENDING', 'EXPIRED→CANCELLED']));
    expect(illegal(cases[1])).toEqual(expect.arrayContaining(['SUCCEEDED→FAILED', 'FAILED→PROCESSING']));
    expect(illegal(cases[2])).toEqual(expect.arrayContaining(['CANCELLED→ACTIVE', 'UNPAID→ACTIVE', 'ACTIVE→TRIALING']));
  });

  for (const { name, aggregate, illegal } of cases) {
    it.each(illegal)(`${name} %s → %s is refused: nothing written, nothing published, logged at error`, async (from, to) => {
      const id = await aggregate.insert(from);
      const before = await db.manager.findOneByOrFail(aggregate.entity as typeof PaymentEntity, { id });
      const listener = await published(aggregate.topic, id);
      const logged = lines.length;

      const error = await aggregate.move(id, to).then(
        () => null,
        (e: unknown) => e,
      );
      await settled();
      listener.stop();

      expect(error).toBeInstanceOf(IllegalTransition);
      expect((error as Error).message).toContain(`${from} → ${to}`);
      expect(await db.manager.findOneByOrFail(aggregate.entity as typeof PaymentEntity, { id })).toEqual(before);
      expect(listener.seen).toEqual([]);
      const line = lines.slice(logged).find((l) => l.level >= 50);
      expect(line).toMatchObject({ aggregate: name, id, merchantId: 'mer_t', from, to });
      expect(JSON.stringify(lines.slice(logged))).not.toContain('secret');
    });

    it.each(illegal.slice(0, 1))(`${name}: a client sees a masked INTERNAL_SERVER_ERROR for %s → %s`, async (from, to) => {
      const id = await aggregate.insert(from);
      const error = await aggregate.move(id, to).catch((e: unknown) => e);
      const formatted = createFormatError({ production: true })(
        { message: (error as Error).message },
        new GraphQLError((error as Error).message, { originalError: error as Error }),
      );
      expect(formatted.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', retryable: true });
      expect(formatted.message).not.toContain(id);
    });
  }

  it('rolls back what the same transaction wrote before the refused move', async () => {
    const paymentId = await payments.insert('PENDING');
    const refundId = await refunds.insert('SUCCEEDED');
    const before = await db.manager.findOneByOrFail(PaymentEntity, { id: paymentId });
    const listener = await published('paymentUpdated', paymentId);
    const attempt = db.transaction(async (tx) => {
      await services.payments.applyChange(tx, await tx.manager.findOneByOrFail(PaymentEntity, { id: paymentId }), { status: 'PAID', transactionId: 'txn_x' });
      await services.refunds.applyRefundChange(tx, await tx.manager.findOneByOrFail(RefundEntity, { id: refundId }), { status: 'PROCESSING' });
    });
    await expect(attempt).rejects.toBeInstanceOf(IllegalTransition);
    await settled();
    listener.stop();
    expect(await db.manager.findOneByOrFail(PaymentEntity, { id: paymentId })).toEqual(before);
    expect(listener.seen).toEqual([]);
  });
});

describe('the write path accepts every move its state table allows', () => {
  for (const { name, aggregate, legal } of cases) {
    it.each(legal)(`${name} %s → %s is written once, version + 1, published once`, async (from, to) => {
      const id = await aggregate.insert(from);
      const before = await db.manager.findOneByOrFail(aggregate.entity as typeof PaymentEntity, { id });
      const listener = await published(aggregate.topic, id);
      await aggregate.move(id, to);
      await settled();
      listener.stop();
      const after = await db.manager.findOneByOrFail(aggregate.entity as typeof PaymentEntity, { id });
      expect({ status: after.status, version: after.version }).toEqual({ status: to, version: before.version + 1 });
      expect(listener.seen.map((r) => [r.status, r.version])).toEqual([[to, before.version + 1]]);
    });
  }

  it('a write of the same status, or of other fields only, is no move', async () => {
    const id = await payments.insert('REFUNDED');
    await db.transaction(async (tx) =>
      services.payments.applyChange(tx, await tx.manager.findOneByOrFail(PaymentEntity, { id }), { status: 'REFUNDED', failureMessage: 'note' }),
    );
    const after = await db.manager.findOneByOrFail(PaymentEntity, { id });
    expect({ status: after.status, failureMessage: after.failureMessage, version: after.version }).toEqual({
      status: 'REFUNDED',
      failureMessage: 'note',
      version: 4,
    });
  });
});
