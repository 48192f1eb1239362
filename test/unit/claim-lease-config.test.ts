import { describe, expect, it } from 'vitest';
import { CLAIM_SAVE_MARGIN_MS, ConfigError, loadConfig } from '../../src/config';
import { longestCallMs } from '../../src/ucanpay';

describe('the idempotency claim lease covers the longest UCanPay call', () => {
  it('longest call: every attempt times out and every wait before a retry is the longest the client waits (Retry-After cap 30 s)', () => {
    expect(longestCallMs({ timeoutMs: 10_000, maxAttempts: 4 })).toBe(4 * 10_000 + 3 * 30_000);
    expect(longestCallMs({ timeoutMs: 70_000, maxAttempts: 1 })).toBe(70_000);
    expect(longestCallMs({ timeoutMs: 1000, maxAttempts: 3, maxRetryAfterMs: 0, maxDelayMs: 5000 })).toBe(3 * 1000 + 2 * 5000);
  });

  it('unset, the lease is derived from UCANPAY_TIMEOUT_MS and UCANPAY_MAX_ATTEMPTS (the defaults already need more than 60 s)', () => {
    expect(loadConfig({}).idempotency.claimLeaseMs).toBe(130_000 + CLAIM_SAVE_MARGIN_MS);
    expect(loadConfig({ UCANPAY_TIMEOUT_MS: '70000', UCANPAY_MAX_ATTEMPTS: '1' }).idempotency.claimLeaseMs).toBe(75_000);
    expect(loadConfig({ IDEMPOTENCY_CLAIM_LEASE_MS: '600000' }).idempotency.claimLeaseMs).toBe(600_000);
  });

  it('refuses at start, in one line, a lease the longest call can outlive', () => {
    try {
      loadConfig({ UCANPAY_TIMEOUT_MS: '70000', UCANPAY_MAX_ATTEMPTS: '1', IDEMPOTENCY_CLAIM_LEASE_MS: '60000' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^IDEMPOTENCY_CLAIM_LEASE_MS=60000 cannot cover one UCanPay call: .*UCANPAY_TIMEOUT_MS=70000.*at least 75000/);
    }
  });

  it('reads INSTANCE_ID (the name a restarted instance knows its dead claims by) and refuses a malformed one', () => {
    expect(loadConfig({ INSTANCE_ID: 'gw-1.eu:4000' }).idempotency.instanceId).toBe('gw-1.eu:4000');
    expect(loadConfig({}).idempotency.instanceId).toBeUndefined();
    expect(() => loadConfig({ INSTANCE_ID: 'has space' })).toThrow(/INSTANCE_ID must be/);
  });
});
