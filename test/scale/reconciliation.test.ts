/**
 * The reconciliation loop on several instances: each due row is claimed (and
 * checked with UCanPay) by one instance, once per stale window. On
 * PostgreSQL (fresh schema per run); without it (and CI unset) the tests pass
 * with a printed notice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument } from '../../src/client/generated/graphql';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { openDatabase, type Database } from '../../src/db/database';
import { MerchantEntity, PaymentEntity } from '../../src/entities';
import { createSandbox, type SandboxHandle } from '../../src/sandbox';
import { ReconciliationService } from '../../src/services/reconciliation.service';
import type { IdempotencyService } from '../../src/services/idempotency.service';
import type { PaymentService } from '../../src/services/payment.service';
import type { RefundService } from '../../src/services/refund.service';
import type { BillingSubscriptionService } from '../../src/services/billing-subscription.service';
import { dropPostgresSchema, freshPostgresSchema, scaleOutServices } from '../helpers/databases';
import { eventually, sandboxCall } from '../helpers/gateway';
import { SPAWN_HOOK_TIMEOUT_MS, spawnGateway, type GatewayProcess } from '../helpers/instances';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch((error) => console.error('cleanup failed:', error));
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function pendingPayment(i: number, updatedAt: Date): PaymentEntity {
  const id = `pay_recon${String(i).padStart(21, '0')}`;
  return Object.assign(new PaymentEntity(), {
    id,
    merchantId: 'mer_recon',
    merchantReference: id,
    status: 'PENDING',
    amount: 1000,
    currency: 'USD',
    description: 'due',
    returnUrl: 'https://shop.example/r',
    metadata: {},
    expiresInSeconds: 1800,
    clientSecret: `${id}_secret`,
    providerOrderId: `ord_${i}`,
    checkoutUrl: null,
    transactionId: null,
    refundedAmount: 0,
    failureCode: null,
    failureMessage: null,
    version: 2,
    expiresAt: null,
    paidAt: null,
    createdAt: updatedAt,
    updatedAt,
    syncedAt: null,
  } satisfies PaymentEntity);
}

describe('claiming due rows on PostgreSQL', () => {
  it('two instances passing at the same time check every due payment exactly once; a failed check is retried', async () => {
    const pg = await freshPostgresSchema('reconcile_claim');
    if (!pg) return;
    cleanups.push(() => dropPostgresSchema(pg.schema));
    const first = await openDatabase(pg);
    cleanups.push(() => first.close());
    const second = await openDatabase(pg);
    cleanups.push(() => second.close());
    const old = new Date(Date.now() - 3600_000);
    await first.transaction(async (tx) => {
      await tx.manager.insert(
        MerchantEntity,
        Object.assign(new MerchantEntity(), {
          id: 'mer_recon',
          name: 'R',
          ucanpayMerchantId: 'mch_r',
          ucanpaySecretKey: 'sk',
          ucanpayWebhookSecret: 'wh',
          createdAt: old,
        }),
      );
      await tx.manager.insert(
        PaymentEntity,
        Array.from({ length: 60 }, (_, i) => pendingPayment(i, old)),
      );
    });

    const checked: string[] = [];
    let failOnce: string | undefined = pendingPayment(7, old).id;
    const instance = (db: Database) =>
      new ReconciliationService(
        {
          refresh: async (_merchantId: string, id: string) => {
            checked.push(id);
            await new Promise((r) => setTimeout(r, 2));
            if (id === failOnce) {
              failOnce = undefined;
              throw new Error('UCanPay did not answer');
            }
            return { version: 2, status: 'PENDING' };
          },
        } as unknown as PaymentService,
        { refresh: async () => ({ version: 1, status: 'PROCESSING' }) } as unknown as RefundService,
        { refresh: async () => ({ version: 1, status: 'ACTIVE' }) } as unknown as BillingSubscriptionService,
        { inFlight: async () => false } as unknown as IdempotencyService,
        db,
        { intervalMs: 0, staleAfterSeconds: 60, batchSize: 7 },
        silent,
      );
    const a = instance(first);
    const b = instance(second);
    for (let round = 0; round < 30; round++) {
      const before = checked.length;
      await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
      if (checked.length === before) break;
    }
    const failed = pendingPayment(7, old).id;
    // 60 checks plus the retry of the one that failed (its claim was given back).
    expect(checked).toHaveLength(61);
    expect(new Set(checked).size).toBe(60);
    expect(checked.filter((id) => id === failed)).toHaveLength(2);
    // Everything is claimed now: no instance checks anything again within the stale window.
    await Promise.all([a.runOnce(), b.runOnce()]);
    expect(checked).toHaveLength(61);
    const unsynced = await first.manager.createQueryBuilder(PaymentEntity, 'p').where('p.synced_at IS NULL').getCount();
    expect(unsynced).toBe(0);
  });
});

describe('reconciliation running in two gateway processes', () => {
  let services: Awaited<ReturnType<typeof scaleOutServices>>;
  let sandbox: SandboxHandle;
  const instances: GatewayProcess[] = [];

  beforeAll(async () => {
    services = await scaleOutServices('reconcile_procs');
    if (!services) return;
    const dropSchema = services.drop;
    cleanups.push(() => dropSchema());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-scale-recon-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    sandbox = await createSandbox({ port: 0, dbPath: path.join(dir, 'sandbox.sqlite'), merchants: [{ ...SANDBOX_DEFAULTS, name: 'Demo Shop' }], tickMs: 200 });
    const sb = sandbox;
    cleanups.push(() => sb.stop());
    const env = {
      DATABASE_URL: services.databaseUrl,
      REDIS_URL: services.redisUrl,
      UCANPAY_BASE_URL: sandbox.url,
      TEST_REDIS_CHANNEL_PREFIX: services.channelPrefix,
      // Both instances look every 100 ms; a payment is due once it is 4 s without news.
      RECONCILE_INTERVAL_MS: '100',
      RECONCILE_STALE_AFTER_SECONDS: '4',
    };
    // One after the other: the first one runs the migrations and seeds the demo merchant.
    for (const name of ['R1', 'R2']) {
      const instance = await spawnGateway(name, env);
      instances.push(instance);
      cleanups.push(() => instance.stop());
    }
  }, SPAWN_HOOK_TIMEOUT_MS);

  it('checks each due payment once (GET /payment/status counted at UCanPay)', async () => {
    if (!services) return;
    const count = 8;
    const created = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        instances[i % 2].gql(CreatePaymentDocument, {
          input: { amount: 1500 + i, currency: 'USD', description: `Due ${i}`, returnUrl: 'https://shop.example/r' },
        }),
      ),
    );
    expect(created.every((r) => r.data?.createPayment.__typename === 'CreatePaymentPayload')).toBe(true);
    const statusChecks = async () =>
      (await sandboxCall<{ requests: unknown[] }>(sandbox.url, 'GET', `/sandbox/requests?endpoint=${encodeURIComponent('GET /payment/status')}`)).requests
        .length;
    expect(await statusChecks()).toBe(0);
    // ~4 s later every payment is due, and both instances are looking 10 times a second…
    await eventually(async () => (await statusChecks()) >= count, 15_000);
    // …yet each is checked by one of them, once (the next check is due 4 s after this one).
    await new Promise((r) => setTimeout(r, 1000));
    expect(await statusChecks()).toBe(count);
  }, 60_000);
});
