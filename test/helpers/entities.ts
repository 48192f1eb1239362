import { MerchantEntity, PaymentEntity } from '../../src/entities';

/** A merchant row for the database tests: `id` makes every unique column unique. */
export function testMerchant(id: string, overrides: Partial<MerchantEntity> = {}): MerchantEntity {
  return Object.assign(new MerchantEntity(), {
    id,
    name: `Merchant ${id}`,
    ucanpayMerchantId: `mch_${id}`,
    ucanpaySecretKey: 'sk',
    ucanpayWebhookSecret: 'whsec',
    createdAt: new Date(1_700_000_000_123),
    ...overrides,
  });
}

/**
 * A PENDING payment row for the database tests, complete as the service's
 * first row is (no column left to a default); `overrides` sets what a test
 * is about.
 */
export function testPayment(id: string, merchantId: string, overrides: Partial<PaymentEntity> = {}): PaymentEntity {
  const now = new Date();
  return Object.assign(new PaymentEntity(), {
    id,
    merchantId,
    merchantReference: id,
    status: 'PENDING',
    amount: 1000,
    currency: 'EUR',
    description: 'test',
    returnUrl: 'https://shop.example/return',
    metadata: {},
    expiresInSeconds: 1800,
    clientSecret: `${id}_secret_x`,
    providerOrderId: null,
    checkoutUrl: null,
    transactionId: null,
    refundedAmount: 0,
    failureCode: null,
    failureMessage: null,
    version: 1,
    expiresAt: null,
    paidAt: null,
    createdAt: now,
    updatedAt: now,
    syncedAt: null,
    ...overrides,
  } satisfies PaymentEntity);
}
