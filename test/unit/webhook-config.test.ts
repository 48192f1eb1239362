import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

const production = { NODE_ENV: 'production', API_KEY_PEPPER: 'a-long-production-pepper-0123456789' };

describe('outbound webhook settings', () => {
  it('defaults: 10 s attempts, 3 days of retries from 10 s, disabled after 50 failures over a day; loopback only outside production', () => {
    expect(loadConfig({}).webhooks).toEqual({
      timeoutMs: 10_000,
      retryForMs: 3 * 86_400_000,
      retryBaseMs: 10_000,
      retryMaxDelayMs: 6 * 3_600_000,
      disableAfterFailures: 50,
      disableAfterFailingMs: 86_400_000,
      secretGraceMs: 86_400_000,
      allowLoopback: true,
      httpsOnly: false,
      pollIntervalMs: 2_000,
      concurrency: 16,
    });
    expect(loadConfig(production).webhooks).toMatchObject({ allowLoopback: false, httpsOnly: true });
    expect(loadConfig({ ...production, WEBHOOK_ALLOW_LOOPBACK: 'true' }).webhooks).toMatchObject({ allowLoopback: true, httpsOnly: true });
  });

  it('bad values stop the start, one line each', () => {
    let problems: string[] = [];
    try {
      loadConfig({
        WEBHOOK_DELIVERY_TIMEOUT_MS: '5',
        WEBHOOK_ALLOW_LOOPBACK: 'yes',
        WEBHOOK_RETRY_BASE_MS: '60000',
        WEBHOOK_RETRY_MAX_DELAY_MS: '1000',
        WEBHOOK_CONCURRENCY: 'many',
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      'WEBHOOK_ALLOW_LOOPBACK must be true or false, got "yes"',
      'WEBHOOK_DELIVERY_TIMEOUT_MS must be between 100 and 120000, got 5',
      'WEBHOOK_CONCURRENCY must be a whole number, got "many"',
      'WEBHOOK_RETRY_MAX_DELAY_MS (1000) must not be shorter than WEBHOOK_RETRY_BASE_MS (60000)',
    ]);
  });
});
