import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, GetPaymentDocument, ListPaymentsDocument, PaymentUpdatedDocument } from '../../src/client/generated/graphql';
import { collect, startGateway, type TestGateway } from '../helpers/gateway';
import { dataStatements, statementsOf } from '../helpers/query-count';

let gw: TestGateway;
const created: Array<{ id: string; clientSecret: string | null }> = [];

beforeAll(async () => {
  gw = await startGateway();
  for (let i = 0; i < 55; i++) {
    const res = await gw.gql(CreatePaymentDocument, {
      input: { amount: 100 + i, currency: 'USD', description: `List ${i}`, returnUrl: 'https://shop.example/r' },
    });
    const result = res.data!.createPayment;
    if (result.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(res));
    created.push(result.payment);
  }
}, 60_000);
afterAll(async () => {
  await gw?.stop();
});

describe('credentials', () => {
  it('no or a wrong token: UNAUTHENTICATED', async () => {
    for (const token of [null, 'gw_not_a_real_key_0000000000']) {
      const res = await gw.gql(GetPaymentDocument, { id: created[0].id }, { token });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false });
      expect(res.data?.payment ?? null).toBeNull();
    }
  });

  it('an id that does not exist and one the caller may not see look the same: NOT_FOUND', async () => {
    const res = await gw.gql(GetPaymentDocument, { id: 'pay_doesnotexist' });
    expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('a client secret reads and follows its own payment, without seeing the secret field', async () => {
    const [mine] = created;
    const res = await gw.gql(GetPaymentDocument, { id: mine.id }, { token: mine.clientSecret });
    expect(res.data!.payment).toMatchObject({ id: mine.id, clientSecret: null });
    const sub = collect(gw.ws(mine.clientSecret), PaymentUpdatedDocument, { id: mine.id });
    const first = await sub.until(() => true);
    expect(first.data!.paymentUpdated.id).toBe(mine.id);
    sub.unsubscribe();
  });

  it('a client secret cannot read or follow another payment, list payments or create one', async () => {
    const [mine, other] = created;
    const read = await gw.gql(GetPaymentDocument, { id: other.id }, { token: mine.clientSecret });
    expect(read.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const list = await gw.gql(ListPaymentsDocument, { first: 5 }, { token: mine.clientSecret });
    expect(list.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const create = await gw.gql(
      CreatePaymentDocument,
      { input: { amount: 100, currency: 'USD', description: 'x', returnUrl: 'https://shop.example/r' } },
      { token: mine.clientSecret },
    );
    expect(create.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const sub = collect(gw.ws(mine.clientSecret), PaymentUpdatedDocument, { id: other.id });
    const refused = await sub.until(() => true, 5000);
    expect(refused.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(refused.data ?? null).toBeNull();
  });

  it('a WebSocket without credentials is closed at connection_init with 4403 Forbidden', async () => {
    const sub = collect(gw.ws(null), PaymentUpdatedDocument, { id: created[0].id });
    await expect(sub.until(() => true, 5000)).rejects.toThrow(/ended before a match/);
    expect((sub.error as { code?: number }).code).toBe(4403);
    expect(sub.values).toEqual([]);
  });
});

const listPage = (after: string | null) => gw.gql(ListPaymentsDocument, { first: 20, after });

describe('payments connection', () => {
  it('pages newest first with stable cursors and no overlap', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: Awaited<ReturnType<typeof listPage>> = await listPage(after);
      const conn = res.data!.payments;
      seen.push(...conn.edges.map((e) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(created.length);
    expect(new Set(seen).size).toBe(created.length);
    expect(seen).toEqual([...created.map((p) => p.id)].reverse());
  });

  it('caps first at 100 and rejects a forged cursor', async () => {
    expect((await gw.gql(ListPaymentsDocument, { first: 101 })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect((await gw.gql(ListPaymentsDocument, { first: 5, after: 'bm9wZQ' })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('filters by status and creation time', async () => {
    const all = (await gw.gql(ListPaymentsDocument, { first: 100, status: 'PENDING' })).data!.payments.edges;
    expect(all.length).toBe(created.length);
    expect((await gw.gql(ListPaymentsDocument, { first: 100, status: 'PAID' })).data!.payments.edges).toHaveLength(0);
    const middle = all[30].node.createdAt;
    const older = (await gw.gql(ListPaymentsDocument, { first: 100, createdBefore: middle })).data!.payments.edges;
    expect(older.every((e) => e.node.createdAt < middle)).toBe(true);
  });

  it('costs a constant number of SQL queries, whatever the page size', async () => {
    const counts: number[] = [];
    for (const first of [5, 50]) {
      const { result, statements } = await statementsOf([gw.app.db.readDataSource, gw.app.db.dataSource], (headers) =>
        gw.gql(ListPaymentsDocument, { first }, { headers }),
      );
      expect(result.data!.payments.edges).toHaveLength(first);
      counts.push(dataStatements(statements).length);
    }
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[0]).toBe(counts[1]);
    expect(counts[1]).toBeLessThanOrEqual(2);
  });
});
