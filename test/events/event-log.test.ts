import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { EventEntity, MerchantEntity, PaymentEntity } from '../../src/entities';
import { createInMemoryEventBus } from '../../src/events/pubsub';
import { withCause } from '../../src/services/cause';
import { EventLog, recordCreated, type LoggedEvent } from '../../src/services/event-log';
import { writeVersioned } from '../../src/services/versioned';
import { newId } from '../../src/domain/ids';
import { PAYMENT_MACHINE } from '../../src/domain/payment-state';
import { testMerchant, testPayment } from '../helpers/entities';
import { tempSqlitePath } from '../helpers/databases';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

async function setUp() {
  const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('event-log'), synchronous: 'NORMAL' });
  opened.push(db);
  const bus = createInMemoryEventBus();
  const log = new EventLog(db, bus);
  await db.transaction((tx) => tx.manager.insert(MerchantEntity, testMerchant('mer_a')));
  return { db, bus, log };
}

function newPayment(): PaymentEntity {
  const id = newId('pay');
  return testPayment(id, 'mer_a', { amount: 1250, description: 'Order 1', returnUrl: 'https://shop.example/back', clientSecret: `${id}_secret_abc` });
}

async function createPayment(db: Database): Promise<PaymentEntity> {
  const payment = newPayment();
  await db.transaction(async (tx) => {
    await tx.manager.insert(PaymentEntity, payment);
    await recordCreated(tx, PaymentEntity, payment);
  });
  return payment;
}

const quiet = { error: () => undefined };
const bus = () => ({ states: PAYMENT_MACHINE, events: createInMemoryEventBus(), topic: 'paymentUpdated' as const, log: quiet });

describe('event log (SQLite file)', () => {
  it('records one event per visible change in the same transaction, typed by the transition, with the public shape', async () => {
    const { db, log } = await setUp();
    const payment = await createPayment(db);
    await withCause({ kind: 'ucanpay_webhook', id: 'evt_ucanpay_1' }, () =>
      db.transaction((tx) => writeVersioned(tx, PaymentEntity, payment, { status: 'PAID', paidAt: new Date(), transactionId: 'tx_1' }, bus())),
    );
    // Bookkeeping only (syncedAt) and a write that changes nothing: no event.
    await db.transaction((tx) => writeVersioned(tx, PaymentEntity, payment, { syncedAt: new Date() }, bus()));
    await db.transaction((tx) => writeVersioned(tx, PaymentEntity, payment, { status: 'PAID' }, bus()));

    const page = await log.page('mer_a', { first: 10 });
    expect(page.edges.map((e) => [e.node.type, e.node.objectVersion])).toEqual([
      ['payment.created', 1],
      ['payment.paid', 2],
    ]);
    const paid = page.edges[1].node;
    expect(paid).toMatchObject({
      merchantId: 'mer_a',
      objectType: 'payment',
      objectId: payment.id,
      cause: { kind: 'ucanpay_webhook', id: 'evt_ucanpay_1' },
      data: { id: payment.id, status: 'PAID', version: 2, transactionId: 'tx_1', amount: 1250, currency: 'EUR' },
    });
    expect(paid.id).toMatch(/^evt_[0-9a-z]{26}$/);
    expect(page.edges[0].node.cause).toEqual({ kind: 'system', id: null });
    // Never the client secret.
    expect(JSON.stringify(page)).not.toContain('_secret_');
    expect(await log.get('mer_a', paid.id)).toEqual(paid);
    expect(await log.get('mer_other', paid.id)).toBeNull();
  });

  it('a change that rolls back leaves no event; a listener runs inside the transaction and its failure rolls the change back', async () => {
    const { db, log } = await setUp();
    const payment = await createPayment(db);
    await expect(
      db.transaction(async (tx) => {
        await writeVersioned(tx, PaymentEntity, { ...payment }, { status: 'FAILED', failureCode: 'CARD_DECLINED' }, bus());
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const seen: LoggedEvent[] = [];
    log.onRecorded(async (tx, event) => {
      // Same transaction: the listener sees the event row and the change.
      const rows = await tx.manager.count(EventEntity, { where: { id: event.id } });
      expect(rows).toBe(1);
      if (event.type === 'payment.cancelled') throw new Error('listener refused');
      seen.push(event);
    });
    await expect(db.transaction((tx) => writeVersioned(tx, PaymentEntity, { ...payment }, { status: 'CANCELLED' }, bus()))).rejects.toThrow('listener refused');
    await db.transaction((tx) => writeVersioned(tx, PaymentEntity, { ...payment }, { status: 'EXPIRED' }, bus()));
    expect(seen.map((e) => e.type)).toEqual(['payment.expired']);
    const page = await log.page('mer_a', { first: 10 });
    expect(page.edges.map((e) => e.node.type)).toEqual(['payment.created', 'payment.expired']);
    expect((await db.manager.findOneByOrFail(PaymentEntity, { id: payment.id })).status).toBe('EXPIRED');
  });

  it('pages in cursor order with filters; a cursor it did not hand out is BAD_USER_INPUT naming after', async () => {
    const { db, log } = await setUp();
    const a = await createPayment(db);
    const b = await createPayment(db);
    await db.transaction((tx) => writeVersioned(tx, PaymentEntity, a, { checkoutUrl: 'https://pay.example/a' }, bus()));
    const first = await log.page('mer_a', { first: 2 });
    expect(first.edges.map((e) => e.node.objectId)).toEqual([a.id, b.id]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await log.page('mer_a', { first: 2, after: first.pageInfo.endCursor });
    expect(second.edges.map((e) => e.node.type)).toEqual(['payment.updated']);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect((await log.page('mer_a', { first: 10, objectId: b.id })).edges).toHaveLength(1);
    expect((await log.page('mer_a', { first: 10, types: ['payment.updated'] })).edges.map((e) => e.node.objectId)).toEqual([a.id]);
    const timelines = await log.timelines('mer_a', [a.id, b.id], 1, null);
    expect(timelines.get(a.id)!.edges.map((e) => e.node.type)).toEqual(['payment.created']);
    expect(timelines.get(a.id)!.pageInfo.hasNextPage).toBe(true);
    expect(timelines.get(b.id)!.pageInfo.hasNextPage).toBe(false);
    for (const bad of ['nope', Buffer.from('1:x').toString('base64url'), Buffer.from(`${first.pageInfo.endCursor}`).toString('base64url')]) {
      await expect(log.page('mer_a', { first: 1, after: bad })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'after' } });
    }
  });
});
