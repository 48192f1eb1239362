/**
 * The main workflow with DATABASE_URL on PostgreSQL (every migration run on a
 * fresh schema) and events over Redis: create → checkout → webhook → PAID
 * pushed; refunds → PARTIALLY_REFUNDED → REFUNDED pushed. Without PostgreSQL
 * or Redis (and CI unset) the test passes with a printed notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreatePaymentDocument,
  GetPaymentDocument,
  PaymentUpdatedDocument,
  PaymentWithRefundsDocument,
  RefundPaymentDocument,
  RefundUpdatedDocument,
} from '../../src/client/generated/graphql';
import { migrations } from '../../migrations';
import type { RedisEventBus } from '../../src/events/redis-event-bus';
import { scaleOutServices } from '../helpers/databases';
import { checkout, collect, eventually, startGateway, type TestGateway } from '../helpers/gateway';

type Services = NonNullable<Awaited<ReturnType<typeof scaleOutServices>>>;
let services: Services | undefined;
let gw: TestGateway;

beforeAll(async () => {
  services = await scaleOutServices('pg_workflow');
  if (!services) return;
  gw = await startGateway({ DATABASE_URL: services.databaseUrl, REDIS_URL: services.redisUrl }, { redis: { channelPrefix: services.channelPrefix } });
});
afterAll(async () => {
  try {
    await gw?.stop();
  } finally {
    await services?.drop();
  }
});

describe('on PostgreSQL with Redis events', () => {
  it('runs every migration into the configured schema', async () => {
    if (!services) return;
    expect(gw.app.db.kind).toBe('postgres');
    expect((gw.app.events as RedisEventBus).channelPrefix).toBe(services.channelPrefix);
    const applied = await gw.app.db.dataSource.query(`SELECT name FROM "${services.schema}".migrations ORDER BY id`);
    expect(applied.map((r: { name: string }) => r.name)).toEqual(migrations.map((m) => m.name));
    const diff = await gw.app.db.dataSource.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('create → checkout → webhook → PAID pushed; refund → PARTIALLY_REFUNDED → REFUNDED pushed', async () => {
    if (!services) return;
    const created = await gw.gql(CreatePaymentDocument, {
      input: {
        amount: 5000,
        currency: 'USD',
        description: 'PG flow',
        returnUrl: 'https://shop.example/r',
        idempotencyKey: 'pg-flow-1',
        metadata: { cart: '7' },
      },
    });
    const result = created.data!.createPayment;
    if (result.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(created));
    const payment = result.payment;
    expect(payment).toMatchObject({ status: 'PENDING', version: 2, metadata: { cart: '7' } });
    const again = await gw.gql(CreatePaymentDocument, {
      input: {
        amount: 5000,
        currency: 'USD',
        description: 'PG flow',
        returnUrl: 'https://shop.example/r',
        idempotencyKey: 'pg-flow-1',
        metadata: { cart: '7' },
      },
    });
    expect(again.data!.createPayment).toMatchObject({ replayed: true, payment: { id: payment.id } });

    const ws = gw.ws();
    const paymentSub = collect(ws, PaymentUpdatedDocument, { id: payment.id });
    await paymentSub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    await checkout(payment.checkoutUrl!, 'authorize');
    const paid = await paymentSub.until((v) => v.data?.paymentUpdated.status === 'PAID');
    expect(paid.data!.paymentUpdated).toMatchObject({ version: 3, transactionId: expect.any(String) });
    expect(Date.parse(paid.data!.paymentUpdated.paidAt!)).toBeGreaterThan(0);

    const first = (await gw.gql(RefundPaymentDocument, { input: { paymentId: payment.id, amount: 2000 } })).data!.refundPayment;
    if (first.__typename !== 'RefundPaymentPayload') throw new Error(JSON.stringify(first));
    const refundSub = collect(ws, RefundUpdatedDocument, { id: first.refund.id });
    await refundSub.until((v) => v.data?.refundUpdated.status === 'SUCCEEDED');
    await paymentSub.until((v) => v.data?.paymentUpdated.status === 'PARTIALLY_REFUNDED');
    const over = (await gw.gql(RefundPaymentDocument, { input: { paymentId: payment.id, amount: 3001 } })).data!.refundPayment;
    expect(over).toMatchObject({ __typename: 'RefundExceedsPaymentError', refundableAmount: 3000 });
    const rest = (await gw.gql(RefundPaymentDocument, { input: { paymentId: payment.id } })).data!.refundPayment;
    expect(rest).toMatchObject({ __typename: 'RefundPaymentPayload', refund: { amount: 3000 } });
    await paymentSub.until((v) => v.data?.paymentUpdated.status === 'REFUNDED');

    const stored = (await gw.gql(PaymentWithRefundsDocument, { id: payment.id })).data!.payment!;
    expect(stored).toMatchObject({ status: 'REFUNDED', refundedAmount: 5000, refundableAmount: 0 });
    expect(stored.refunds.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const versions = paymentSub.values.map((v) => v.data!.paymentUpdated.version);
    expect(versions).toEqual([...new Set(versions)].sort((x, y) => x - y));
    expect(versions.at(-1)).toBe((await gw.gql(GetPaymentDocument, { id: payment.id })).data!.payment!.version);
    paymentSub.unsubscribe();
    refundSub.unsubscribe();
  });

  it('a declined payment and a reconciliation pass work the same way', async () => {
    if (!services) return;
    const created = (
      await gw.gql(CreatePaymentDocument, {
        input: { amount: 1002, currency: 'JPY', description: 'Declined', returnUrl: 'https://shop.example/r' },
      })
    ).data!.createPayment;
    if (created.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(created));
    await checkout(created.payment.checkoutUrl!, 'authorize');
    const failed = await eventually(async () => {
      const p = (await gw.gql(GetPaymentDocument, { id: created.payment.id })).data!.payment!;
      return p.status === 'FAILED' ? p : null;
    });
    expect(failed.failureCode).toBe('CARD_DECLINED');
    expect(await gw.app.services.reconciliation.runOnce()).toBe(0);
  });
});

describe('one idempotency key, many concurrent requests, on PostgreSQL', () => {
  it('each duplicate gets the first result or IDEMPOTENCY_KEY_IN_USE — never a false business error', async () => {
    if (!services) return;
    const input = {
      amount: 3000,
      currency: 'USD',
      description: 'PG race',
      returnUrl: 'https://shop.example/r',
      merchantReference: 'PG-RACE-1',
      idempotencyKey: 'pg-race-1',
    };
    const creates = await Promise.all(Array.from({ length: 15 }, () => gw.gql(CreatePaymentDocument, { input })));
    const paymentIds = new Set<string>();
    for (const res of creates) {
      if (res.errors) expect(res.errors[0].extensions?.code).toBe('IDEMPOTENCY_KEY_IN_USE');
      else {
        expect(res.data!.createPayment.__typename).toBe('CreatePaymentPayload');
        paymentIds.add((res.data!.createPayment as { payment: { id: string } }).payment.id);
      }
    }
    expect(paymentIds.size).toBe(1);
    const [paymentId] = [...paymentIds];
    const { checkoutUrl } = (await gw.gql(GetPaymentDocument, { id: paymentId })).data!.payment!;
    await checkout(checkoutUrl!, 'authorize');
    await eventually(async () => (await gw.gql(GetPaymentDocument, { id: paymentId })).data!.payment!.status === 'PAID');

    const refunds = await Promise.all(
      Array.from({ length: 15 }, () => gw.gql(RefundPaymentDocument, { input: { paymentId, idempotencyKey: 'pg-race-refund-1' } })),
    );
    const refundIds = new Set<string>();
    for (const res of refunds) {
      if (res.errors) expect(res.errors[0].extensions?.code).toBe('IDEMPOTENCY_KEY_IN_USE');
      else {
        expect(res.data!.refundPayment.__typename).toBe('RefundPaymentPayload');
        refundIds.add((res.data!.refundPayment as { refund: { id: string } }).refund.id);
      }
    }
    expect(refundIds.size).toBe(1);
  });
});
