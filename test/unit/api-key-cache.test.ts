import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { ApiKeyEntity } from '../../src/entities';
import { API_KEY_CACHE_TTL_MS, MerchantService } from '../../src/services/merchant.service';
import { tempSqlitePath } from '../helpers/databases';

const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

const KEY = 'gw_cache_test_key_0123456789';

async function setUp() {
  const db = await openDatabase({ type: 'sqlite', path: tempSqlitePath('keys'), synchronous: 'FULL' });
  opened.push(db);
  let now = 1_000_000;
  const clock = { advance: (ms: number) => void (now += ms) };
  const merchants = new MerchantService(db, 'pepper-for-the-cache-test', { now: () => now });
  await merchants.createMerchant({ id: 'mer_a', name: 'A', ucanpayMerchantId: 'mch_a', ucanpaySecretKey: 'sk', ucanpayWebhookSecret: 'wh' });
  await merchants.issueApiKey('mer_a', KEY);
  let lookups = 0;
  const findOneBy = db.findOneBy.bind(db);
  db.findOneBy = ((target: unknown, where: unknown) => {
    if (target === ApiKeyEntity) lookups++;
    return findOneBy(target as never, where as never);
  }) as typeof db.findOneBy;
  return { db, merchants, clock, lookups: () => lookups };
}

describe('API key cache', () => {
  it('checks a valid key with the database once per TTL, by its hash only', async () => {
    const { merchants, clock, lookups } = await setUp();
    const principal = { kind: 'merchant', merchantId: 'mer_a', keyId: expect.stringMatching(/^key_/) };
    for (let i = 0; i < 5; i++) expect(await merchants.authenticate(KEY)).toEqual(principal);
    expect(lookups()).toBe(1);
    clock.advance(API_KEY_CACHE_TTL_MS + 1);
    expect(await merchants.authenticate(KEY)).toEqual(principal);
    expect(lookups()).toBe(2);
    // The cache holds the keyed hash, never the key.
    const cache = (merchants as unknown as { keyCache: Map<string, unknown> }).keyCache;
    expect([...cache.keys()]).toEqual([merchants.hashApiKey(KEY)]);
    expect(JSON.stringify([...cache.entries()])).not.toContain(KEY);
    // What it hands out cannot be changed by a caller.
    expect(Object.isFrozen(await merchants.authenticate(KEY))).toBe(true);
  });

  it('never remembers an unknown key: a key issued after a failed attempt works at once', async () => {
    const { merchants } = await setUp();
    const later = 'gw_issued_a_moment_later_0001';
    expect(await merchants.authenticate(later)).toBeNull();
    await merchants.issueApiKey('mer_a', later);
    expect(await merchants.authenticate(later)).toEqual({ kind: 'merchant', merchantId: 'mer_a', keyId: expect.any(String) });
  });

  it('revocation: at once on this instance, within the TTL on another', async () => {
    const { db, merchants, clock } = await setUp();
    const other = new MerchantService(db, 'pepper-for-the-cache-test', { now: () => 0 });
    let otherNow = 5_000_000;
    (other as unknown as { now: () => number }).now = () => otherNow;
    expect(await merchants.authenticate(KEY)).not.toBeNull();
    expect(await other.authenticate(KEY)).not.toBeNull();
    expect(await merchants.revokeApiKey('mer_a', KEY)).toBe(true);
    expect(await merchants.revokeApiKey('mer_a', KEY)).toBe(false);
    expect(await merchants.authenticate(KEY)).toBeNull();
    // The other instance still trusts its remembered answer, but not past the TTL.
    expect(await other.authenticate(KEY)).not.toBeNull();
    otherNow += API_KEY_CACHE_TTL_MS;
    expect(await other.authenticate(KEY)).toBeNull();
    clock.advance(1);
    expect(await merchants.authenticate(KEY)).toBeNull();
  });

  it('does not remember a lookup that raced with a revocation', async () => {
    const { merchants } = await setUp();
    const racing = merchants.authenticate(KEY);
    await merchants.revokeApiKey('mer_a', KEY);
    await racing;
    expect(await merchants.authenticate(KEY)).toBeNull();
  });
});
