import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('works with no environment at all: SQLite under ./data, embedded sandbox on 4010, port 4000', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.ucanpay.sandboxPort).toBe(4010);
    expect(config.ucanpay.baseUrl).toBeUndefined();
    expect(config.database).toEqual({ type: 'sqlite', path: path.resolve('data/gateway.sqlite'), synchronous: 'FULL', busyTimeoutMs: 5000 });
    expect(config.redisUrl).toBeUndefined();
    expect(config.introspection).toBe(true);
  });

  it('reads PostgreSQL, Redis and the SQLite NORMAL opt-in', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/gw?schema=gw' }).database).toEqual({
      type: 'postgres',
      url: 'postgres://u@db:5432/gw?schema=gw',
      schema: 'gw',
    });
    expect(loadConfig({ SQLITE_SYNCHRONOUS: 'normal' }).database).toMatchObject({ synchronous: 'NORMAL' });
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('reports every bad value at once, one line each', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x', NODE_ENV: 'staging', DEMO_MERCHANT_API_KEY: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(5);
      expect(problems.join('\n')).toMatch(/PORT[\s\S]*DATABASE_URL[\s\S]*REDIS_URL|NODE_ENV/);
    }
  });

  it('refuses to run production without a pepper, or against real UCanPay with demo credentials', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', UCANPAY_BASE_URL: 'https://api.ucanpay.example' })).toThrow(
      /API_KEY_PEPPER[\s\S]*UCANPAY_SECRET_KEY|UCANPAY_SECRET_KEY[\s\S]*API_KEY_PEPPER/,
    );
    expect(loadConfig({ NODE_ENV: 'production', API_KEY_PEPPER: 'p'.repeat(32) }).introspection).toBe(false);
  });
});
