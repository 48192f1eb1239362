import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { GatewayError } from '../../src/domain/errors';
import { IdempotencyKeyEntity, MerchantEntity, PaymentEntity } from '../../src/entities';
import { IdempotencyService } from '../../src/services/idempotency.service';
import { createOnce, type CreateSteps } from '../../src/services/idempotent-create';
import { PAYMENT } from '../../src/services/payment.service';
import { UCanPayError } from '../../src/ucanpay';
import { dropPostgresSchema, freshPostgresSchema, tempSqlitePath } from '../helpers/databases';
import { testMerchant, testPayment } from '../helpers/entities';

/**
 * The one idempotent create (src/services/idempotent-create.ts), without
 * HTTP: a real database, real IdempotencyServices, and as the provider call a
 * plain async function the test controls. The steps below make a payment row
 * and store the "order id" the provider function returns.
 */

const LEASE_MS = 10_000;
const MERCHANT = 'mch_test';

type Input = { amount: number; merchantReference: string | null };
type Made = { kind: 'made'; id: string; orderId: string | null; replayed: boolean };
type TooMuch = { kind: 'tooMuch'; amount: number; limit: number };

/** A deferred answer: the provider call waits until the test settles it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The provider function: records the provider idempotency key of every call (the row id) and answers with `answer`. */
function provider(answer: (call: number) => Promise<string>) {
  const keys: string[] = [];
  const calledWaiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    keys,
    /** Resolves once the provider has been called `n` times. */
    called(n: number): Promise<void> {
      if (keys.length >= n) return Promise.resolve();
      return new Promise((resolve) => calledWaiters.push({ n, resolve }));
    },
    send: async (row: PaymentEntity): Promise<string> => {
      keys.push(row.id);
      for (const w of calledWaiters.filter((w) => keys.length >= w.n)) w.resolve();
      return answer(keys.length);
    },
  };
}

const opened: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

async function world(kind: 'sqlite' | 'postgres') {
  let db: Database;
  if (kind === 'sqlite') {
    db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('idempotent-create'), synchronous: 'FULL' });
    opened.push(() => db.close());
  } else {
    const pg = await freshPostgresSchema('idempotent_create');
    if (!pg) return undefined;
    db = await openDatabase(pg);
    opened.push(async () => {
      await db.close();
      await dropPostgresSchema(pg.schema);
    });
  }
  await db.transaction((tx) => tx.manager.insert(MerchantEntity, testMerchant(MERCHANT)));
  let clock = 1_700_000_000_000;
  const warnings: string[] = [];
  /** This process's idempotency service; `instance` with a new `boot` is the same instance restarted. */
  const idempotency = (boot: string, instance = 'gw-1') =>
    new IdempotencyService(db, { leaseMs: LEASE_MS, instanceId: instance, bootId: boot, now: () => clock });
  /** The refusal limit of the steps' business check: raise it to see that a stored refusal is not decided again. */
  const rules = { limit: 10_000 };

  function create(service: IdempotencyService, send: (row: PaymentEntity) => Promise<string>, key: string | null, input: Input) {
    const steps: CreateSteps<PaymentEntity, string, Made, TooMuch> = {
      aggregate: PAYMENT,
      open: async () => (input.amount > rules.limit ? { refusal: { kind: 'tooMuch', amount: input.amount, limit: rules.limit } } : { row: paymentRow(input) }),
      send: (row) => send(row),
      save: async (tx, current, orderId) => {
        // The first answer's facts stay (as the services' state tables keep them).
        if (current.providerOrderId === null) await tx.manager.update(PaymentEntity, { id: current.id }, { providerOrderId: orderId });
        return { kind: 'made', id: current.id, orderId, replayed: false };
      },
      saveRefusal: (tx, current, { providerCode, message }) =>
        tx.manager.update(PaymentEntity, { id: current.id }, { status: 'FAILED', failureCode: providerCode, failureMessage: message }),
      replay: async (_tx, row) => ({ kind: 'made', id: row.id, orderId: row.providerOrderId, replayed: true }),
    };
    const log = { warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') };
    return createOnce({ db, idempotency: service, log }, { operation: 'createPayment', merchantId: MERCHANT, key, input }, steps);
  }

  return {
    db,
    warnings,
    rules,
    idempotency,
    create,
    advance: (ms: number) => void (clock += ms),
    keyRow: (key: string) => db.manager.findOneByOrFail(IdempotencyKeyEntity, { merchantId: MERCHANT, key }),
    payments: () => db.manager.find(PaymentEntity, { where: { merchantId: MERCHANT } }),
  };
}

let rows = 0;
function paymentRow(input: Input): PaymentEntity {
  const id = `pay_${String(++rows).padStart(26, '0')}`;
  return testPayment(id, MERCHANT, { merchantReference: input.merchantReference ?? id, amount: input.amount });
}

const outage = () => new UCanPayError({ code: 'SERVICE_UNAVAILABLE', message: 'down', retryable: true, attempts: 4 });
const input = (amount = 5000, merchantReference: string | null = null): Input => ({ amount, merchantReference });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error('expected a thrown GatewayError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return (error as GatewayError).code;
}

describe.each(['sqlite', 'postgres'] as const)('the idempotent create (%s)', (kind) => {
  it('the same key with the same input replays the first result: UCanPay is called once', async () => {
    const w = await world(kind);
    if (!w) return;
    const p = provider(async (n) => `ord_${n}`);
    const gw = w.idempotency('boot-1');
    const first = await w.create(gw, p.send, 'k1', input());
    const again = await w.create(gw, p.send, 'k1', input());
    expect(first).toMatchObject({ kind: 'made', orderId: 'ord_1', replayed: false });
    expect(again).toEqual({ kind: 'made', id: (first as Made).id, orderId: 'ord_1', replayed: true });
    expect(p.keys).toHaveLength(1);
    expect(await w.payments()).toHaveLength(1);
    expect(await w.keyRow('k1')).toMatchObject({ state: 'COMPLETED', resourceId: (first as Made).id });
  });

  it('the same key with another input is a conflict; nothing is made or sent', async () => {
    const w = await world(kind);
    if (!w) return;
    const p = provider(async (n) => `ord_${n}`);
    const gw = w.idempotency('boot-1');
    await w.create(gw, p.send, 'k1', input(5000));
    expect(await w.create(gw, p.send, 'k1', input(6000))).toEqual({ kind: 'idempotencyConflict', idempotencyKey: 'k1' });
    expect(p.keys).toHaveLength(1);
    expect(await w.payments()).toHaveLength(1);
    // The input itself is fine: under a new key it is made.
    expect(await w.create(gw, p.send, 'k2', input(6000))).toMatchObject({ kind: 'made', replayed: false });
  });

  it('a concurrent duplicate is IDEMPOTENCY_KEY_IN_USE while the first is at UCanPay; afterwards it replays', async () => {
    const w = await world(kind);
    if (!w) return;
    const answer = deferred<string>();
    const p = provider(() => answer.promise);
    const gw = w.idempotency('boot-1');
    const first = w.create(gw, p.send, 'k1', input());
    await p.called(1);
    expect(await codeOf(w.create(gw, p.send, 'k1', input()))).toBe('IDEMPOTENCY_KEY_IN_USE');
    answer.resolve('ord_1');
    expect(await first).toMatchObject({ kind: 'made', orderId: 'ord_1', replayed: false });
    expect(await w.create(gw, p.send, 'k1', input())).toMatchObject({ kind: 'made', orderId: 'ord_1', replayed: true });
    expect(p.keys).toHaveLength(1);
  });

  it('a retryable UCanPay failure is thrown and releases the key: the retry sends the same row again at once', async () => {
    const w = await world(kind);
    if (!w) return;
    const p = provider(async (n) => {
      if (n === 1) throw outage();
      return `ord_${n}`;
    });
    const gw = w.idempotency('boot-1');
    expect(await codeOf(w.create(gw, p.send, 'k1', input()))).toBe('PROVIDER_UNAVAILABLE');
    const retry = await w.create(gw, p.send, 'k1', input());
    expect(retry).toMatchObject({ kind: 'made', orderId: 'ord_2', replayed: false });
    expect(p.keys).toEqual([(retry as Made).id, (retry as Made).id]);
    expect(await w.payments()).toHaveLength(1);
  });

  it('an error that is not UCanPay’s (a bug) is thrown as is and keeps the claim until its lease ends', async () => {
    const w = await world(kind);
    if (!w) return;
    const p = provider(async (n) => {
      if (n === 1) throw new TypeError('bug');
      return `ord_${n}`;
    });
    const gw = w.idempotency('boot-1');
    await expect(w.create(gw, p.send, 'k1', input())).rejects.toThrow(TypeError);
    expect(await codeOf(w.create(gw, p.send, 'k1', input()))).toBe('IDEMPOTENCY_KEY_IN_USE');
    w.advance(LEASE_MS + 1);
    expect(await w.create(gw, p.send, 'k1', input())).toMatchObject({ kind: 'made', orderId: 'ord_2' });
    expect(new Set(p.keys).size).toBe(1);
  });

  it('a typed refusal is stored with the key and replayed, even when a new decision would say yes', async () => {
    const w = await world(kind);
    if (!w) return;
    const p = provider(async (n) => `ord_${n}`);
    const gw = w.idempotency('boot-1');
    w.rules.limit = 1000;
    expect(await w.create(gw, p.send, 'k1', input(5000))).toEqual({ kind: 'tooMuch', amount: 5000, limit: 1000, replayed: false });
    w.rules.limit = 10_000;
    expect(await w.create(gw, p.send, 'k1', input(5000))).toEqual({ kind: 'tooMuch', amount: 5000, limit: 1000, replayed: true });
    expect(await w.create(gw, p.send, 'k1', input(4000))).toEqual({ kind: 'idempotencyConflict', idempotencyKey: 'k1' });
    expect(p.keys).toEqual([]);
    expect(await w.payments()).toEqual([]);
    expect(await w.create(gw, p.send, 'k2', input(5000))).toMatchObject({ kind: 'made', replayed: false });
  });

  it('a taken merchant reference is a stored refusal of the key', async () => {
    const w = await world(kind);
    if (!w) return;
    const p = provider(async (n) => `ord_${n}`);
    const gw = w.idempotency('boot-1');
    await w.create(gw, p.send, 'k1', input(5000, 'REF-1'));
    const taken = { kind: 'merchantReferenceInUse', merchantReference: 'REF-1' };
    expect(await w.create(gw, p.send, 'k2', input(6000, 'REF-1'))).toEqual({ ...taken, replayed: false });
    expect(await w.create(gw, p.send, 'k2', input(6000, 'REF-1'))).toEqual({ ...taken, replayed: true });
    expect(await w.create(gw, p.send, 'k2', input(6000, 'REF-2'))).toEqual({ kind: 'idempotencyConflict', idempotencyKey: 'k2' });
    expect(p.keys).toHaveLength(1);
  });

  it('UCanPay’s refusal is recorded on the row and replayed as the same ProviderError', async () => {
    const w = await world(kind);
    if (!w) return;
    const p = provider(async () => {
      throw new UCanPayError({ code: 'CARD_DECLINED', message: 'declined', retryable: false, attempts: 1 });
    });
    const gw = w.idempotency('boot-1');
    const refused = await w.create(gw, p.send, 'k1', input());
    expect(refused).toEqual({ kind: 'providerRefused', providerCode: 'CARD_DECLINED', message: 'UCanPay refused the payment: declined' });
    expect(await w.create(gw, p.send, 'k1', input())).toEqual(refused);
    expect(p.keys).toHaveLength(1);
    expect(await w.payments()).toMatchObject([{ status: 'FAILED', failureCode: 'CARD_DECLINED' }]);
  });

  it('after a crash between the claim and UCanPay’s answer, the restarted instance resumes with the same provider key', async () => {
    const w = await world(kind);
    if (!w) return;
    const lost = deferred<string>();
    const p = provider((n) => (n === 1 ? lost.promise : Promise.resolve(`ord_${n}`)));
    const crashed = w.create(w.idempotency('boot-1'), p.send, 'k1', input());
    await p.called(1);
    // Another instance cannot tell a crash from a slow peer: it waits for the lease.
    expect(await codeOf(w.create(w.idempotency('boot-1', 'gw-2'), p.send, 'k1', input()))).toBe('IDEMPOTENCY_KEY_IN_USE');
    // The same instance, restarted (same INSTANCE_ID, new boot), knows its own dead claim: it resumes at once.
    const restarted = w.idempotency('boot-2');
    const resumed = await w.create(restarted, p.send, 'k1', input());
    expect(resumed).toMatchObject({ kind: 'made', orderId: 'ord_2', replayed: false });
    expect(p.keys).toEqual([(resumed as Made).id, (resumed as Made).id]);
    expect(await w.payments()).toHaveLength(1);
    expect(await w.keyRow('k1')).toMatchObject({ state: 'COMPLETED', boot: 'boot-2' });
    lost.reject(outage()); // the dead request's call never ends; settle it so nothing is left running
    await expect(crashed).rejects.toThrow(GatewayError);
    expect(await w.keyRow('k1')).toMatchObject({ state: 'COMPLETED' });
  });

  it('a claim whose lease ran out is resumed by another instance, with the same provider key', async () => {
    const w = await world(kind);
    if (!w) return;
    const lost = deferred<string>();
    const p = provider((n) => (n === 1 ? lost.promise : Promise.resolve(`ord_${n}`)));
    const stalled = w.create(w.idempotency('boot-1'), p.send, 'k1', input());
    await p.called(1);
    w.advance(LEASE_MS + 1);
    const resumed = await w.create(w.idempotency('boot-9', 'gw-2'), p.send, 'k1', input());
    expect(resumed).toMatchObject({ kind: 'made', orderId: 'ord_2', replayed: false });
    expect(p.keys).toEqual([(resumed as Made).id, (resumed as Made).id]);
    lost.reject(outage());
    await expect(stalled).rejects.toThrow(GatewayError);
  });

  it('a late writer (its lapsed claim taken over) records its answer but completes nothing', async () => {
    const w = await world(kind);
    if (!w) return;
    const answers = [deferred<string>(), deferred<string>()];
    const p = provider((n) => answers[n - 1].promise);
    const slow = w.create(w.idempotency('boot-1'), p.send, 'k1', input());
    await p.called(1);
    const { token: firstToken } = await w.keyRow('k1');
    w.advance(LEASE_MS + 1);
    const takeover = w.create(w.idempotency('boot-9', 'gw-2'), p.send, 'k1', input());
    await p.called(2);
    const { token: takenToken } = await w.keyRow('k1');
    expect(takenToken).not.toBe(firstToken);

    answers[0].resolve('ord_late');
    expect(await slow).toMatchObject({ kind: 'made', orderId: 'ord_late', replayed: false });
    // UCanPay's fact is recorded; the key stays with the request that took it over.
    expect(await w.payments()).toMatchObject([{ providerOrderId: 'ord_late' }]);
    expect(await w.keyRow('k1')).toMatchObject({ state: 'IN_PROGRESS', token: takenToken });
    expect(w.warnings).toEqual([expect.stringMatching(/after the request lost its idempotency claim/)]);

    answers[1].resolve('ord_late');
    await takeover;
    expect(await w.keyRow('k1')).toMatchObject({ state: 'COMPLETED', token: takenToken });
    expect(w.warnings).toHaveLength(1);
    expect(await w.create(w.idempotency('boot-9', 'gw-2'), p.send, 'k1', input())).toMatchObject({ orderId: 'ord_late', replayed: true });
  });

  it('a retry that takes over a lapsed claim on a row already answered replays it and completes the key (the next retry is not IN_USE)', async () => {
    const w = await world(kind);
    if (!w) return;
    const answers = [deferred<string>(), deferred<string>()];
    const p = provider((n) => answers[n - 1].promise);
    const first = w.create(w.idempotency('boot-1'), p.send, 'k1', input());
    await p.called(1);
    w.advance(LEASE_MS + 1);
    const second = w.create(w.idempotency('boot-9', 'gw-2'), p.send, 'k1', input());
    await p.called(2);
    answers[0].resolve('ord_1'); // the first request, a late writer now, records UCanPay's order
    await first;
    w.advance(LEASE_MS + 1); // the second request hangs past its own lease

    expect(await w.create(w.idempotency('boot-3', 'gw-3'), p.send, 'k1', input())).toMatchObject({ orderId: 'ord_1', replayed: true });
    expect(await w.keyRow('k1')).toMatchObject({ state: 'COMPLETED' });
    expect(await w.create(w.idempotency('boot-3', 'gw-3'), p.send, 'k1', input())).toMatchObject({ orderId: 'ord_1', replayed: true });
    expect(p.keys).toHaveLength(2);
    answers[1].resolve('ord_1');
    await second;
  });

  it('without a key nothing is claimed: every call makes a new row', async () => {
    const w = await world(kind);
    if (!w) return;
    const p = provider(async (n) => `ord_${n}`);
    const gw = w.idempotency('boot-1');
    const a = await w.create(gw, p.send, null, input());
    const b = await w.create(gw, p.send, null, input());
    expect((a as Made).id).not.toBe((b as Made).id);
    expect(await w.db.manager.count(IdempotencyKeyEntity)).toBe(0);
  });
});
