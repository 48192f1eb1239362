import { MerchantEntity } from '../../src/entities';

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
