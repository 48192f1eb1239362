import { describe, expect, it } from 'vitest';
import { type ConfigError, DEFAULT_LIMITS, loadConfig } from '../../src/config';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
};

describe('limit settings', () => {
  it('default to DEFAULT_LIMITS, the numbers docs/errors.md and the README give', () => {
    expect(loadConfig({}).limits).toEqual(DEFAULT_LIMITS);
    expect(DEFAULT_LIMITS).toMatchObject({
      maxConnections: 4096,
      maxConnectionsPerClient: 256,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      idleTimeoutMs: 30_000,
      graphqlBodyBytes: 262_144,
      webhookBodyBytes: 262_144,
      variablesDepth: 10,
      variablesBytes: 65_536,
      wsConnectionInitTimeoutMs: 3000,
      subscriptionsPerConnection: 100,
      subscriptionsPerClientSecret: 5,
      subscriptionsPerMerchant: 1000,
      fanoutBatch: 100,
    });
    expect(DEFAULT_LIMITS.clientAddressHeader).toBeUndefined();
  });

  it('each is read from its variable', () => {
    const limits = loadConfig({
      MAX_CONNECTIONS: '10',
      MAX_CONNECTIONS_PER_CLIENT: '2',
      CLIENT_ADDRESS_HEADER: 'X-Forwarded-For',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_REQUEST_TIMEOUT_MS: '4000',
      HTTP_IDLE_TIMEOUT_MS: '5000',
      GRAPHQL_MAX_BODY_BYTES: '2048',
      WEBHOOK_MAX_BODY_BYTES: '4096',
      GRAPHQL_MAX_VARIABLES_DEPTH: '4',
      GRAPHQL_MAX_VARIABLES_BYTES: '1024',
      WS_CONNECTION_INIT_TIMEOUT_MS: '500',
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '7',
      WS_MAX_SUBSCRIPTIONS_PER_CLIENT_SECRET: '2',
      WS_MAX_SUBSCRIPTIONS_PER_MERCHANT: '50',
      EVENTS_FANOUT_BATCH: '20',
    }).limits;
    expect(limits).toEqual({
      maxConnections: 10,
      maxConnectionsPerClient: 2,
      clientAddressHeader: 'x-forwarded-for',
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      idleTimeoutMs: 5000,
      graphqlBodyBytes: 2048,
      webhookBodyBytes: 4096,
      variablesDepth: 4,
      variablesBytes: 1024,
      wsConnectionInitTimeoutMs: 500,
      subscriptionsPerConnection: 7,
      subscriptionsPerClientSecret: 2,
      subscriptionsPerMerchant: 50,
      fanoutBatch: 20,
    });
  });

  it('a bad value stops the start with one line naming it', () => {
    expect(problems({ MAX_CONNECTIONS: '0' })).toEqual(['MAX_CONNECTIONS must be between 1 and 1000000, got 0']);
    expect(problems({ WS_MAX_SUBSCRIPTIONS_PER_CLIENT_SECRET: 'five' })).toEqual(['WS_MAX_SUBSCRIPTIONS_PER_CLIENT_SECRET must be a whole number, got "five"']);
    expect(problems({ CLIENT_ADDRESS_HEADER: 'x forwarded' })[0]).toMatch(/^CLIENT_ADDRESS_HEADER must be a header name/);
    expect(problems({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })[0]).toMatch(
      /HTTP_REQUEST_TIMEOUT_MS \(10000\) must not be shorter than HTTP_HEADERS_TIMEOUT_MS/,
    );
  });
});
