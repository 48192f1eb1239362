import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';
import { capturingLogger } from '../helpers/logs';
import { firstError, rawGql, rawRequest } from './helpers';

/**
 * Production mode: an internal error reaches the client as a code, a
 * retryable flag and a request id — no stack, SQL, file path or provider
 * payload — and the log has the full error under the same request id.
 */

const PRODUCTION = { NODE_ENV: 'production', API_KEY_PEPPER: 'test-pepper-for-production-mode-0001' };
const LEAKS =
  /SQLITE|SELECT|no such table|refunds_gone|node_modules|\/work\/|\/src\/|\.ts:\d+|\bat \S+ \(|stacktrace|"exception"|QueryFailedError|secret provider payload/i;

let gw: TestGateway;
let logs: Array<Record<string, any>>;

beforeAll(async () => {
  const { logger, lines } = capturingLogger();
  logs = lines;
  gw = await startGateway({ ...PRODUCTION, UCANPAY_MAX_ATTEMPTS: '1' }, { logger });
});
afterAll(async () => {
  await gw?.stop();
});

describe('internal errors in production', () => {
  it('a database fault: generic message, code, retryable and request id; the log has the SQL error under that id', async () => {
    await gw.app.db.dataSource.query('ALTER TABLE refunds RENAME TO refunds_gone');
    let res: Awaited<ReturnType<typeof rawGql>>;
    try {
      res = await rawGql(gw, 'query { refunds(first: 5) { edges { node { id } } } }', undefined, {
        headers: { 'x-request-id': '6f1c2a0e-5b7d-4c39-9e21-3d4b8a7f0c11' },
      });
    } finally {
      await gw.app.db.dataSource.query('ALTER TABLE refunds_gone RENAME TO refunds');
    }
    expect(res.status).toBe(200);
    const error = firstError(res);
    expect(error).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', retryable: true, requestId: '6f1c2a0e-5b7d-4c39-9e21-3d4b8a7f0c11' });
    expect(Object.keys(res.json!.errors![0].extensions!).sort()).toEqual(['code', 'requestId', 'retryable']);
    expect(res.text).not.toMatch(LEAKS);
    expect(res.headers.get('x-request-id')).toBe('6f1c2a0e-5b7d-4c39-9e21-3d4b8a7f0c11');

    const logged = logs.find((l) => l.requestId === '6f1c2a0e-5b7d-4c39-9e21-3d4b8a7f0c11' && l.msg === 'internal error');
    expect(logged).toBeDefined();
    expect(logged!.level).toBe(50);
    expect(logged!.err.message).toMatch(/no such table: refunds/);
    expect(logged!.err.stack).toMatch(/at /);
  });

  it('without X-Request-Id the gateway makes one, and the response header, the error and the log agree', async () => {
    await gw.app.db.dataSource.query('ALTER TABLE refunds RENAME TO refunds_gone');
    let res: Awaited<ReturnType<typeof rawGql>>;
    try {
      res = await rawGql(gw, 'query { refunds(first: 1) { edges { node { id } } } }');
    } finally {
      await gw.app.db.dataSource.query('ALTER TABLE refunds_gone RENAME TO refunds');
    }
    const requestId = firstError(res).requestId;
    expect(requestId).toMatch(/^req_[0-9a-z]{26}$/);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    expect(logs.some((l) => l.requestId === requestId && l.level === 50)).toBe(true);
  });

  it("UCanPay rejecting the gateway's credentials: an actionable message, no provider payload, logged", async () => {
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', {
      endpoint: 'POST /payment/unifiedorder',
      code: 'AUTHENTICATION_FAILED',
      message: 'secret provider payload sk_live_should_not_leak',
    });
    const res = await rawGql(gw, 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { __typename } }', {
      input: { amount: 1000, currency: 'USD', description: 'x', returnUrl: 'https://shop.example/r', idempotencyKey: 'auth-fault-1' },
    });
    const error = firstError(res);
    expect(error).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', retryable: true, providerCode: 'AUTHENTICATION_FAILED' });
    expect(error.message).toMatch(/credentials/);
    expect(res.text).not.toMatch(LEAKS);
    expect(res.text).not.toContain('sk_live');
    expect(logs.some((l) => l.requestId === error.requestId && l.level === 50)).toBe(true);
  });

  it('no introspection, no landing page and no field suggestions', async () => {
    const introspection = await rawGql(gw, '{ __schema { types { name } } }');
    expect(introspection.status).toBe(400);
    expect(firstError(introspection).code).toBe('GRAPHQL_VALIDATION_FAILED');

    const page = await rawRequest(gw.app.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toMatch(/html/);
    expect(page.text).not.toMatch(/<html/i);
    expect(firstError(page).requestId).toBe(page.headers.get('x-request-id'));

    const typo = await rawGql(gw, '{ paymnt(id: "pay_x") { id } }');
    expect(firstError(typo).code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(typo.text).not.toMatch(/Did you mean/);
  });

  it('GRAPHQL_INTROSPECTION=true turns introspection and the landing page back on in production', async () => {
    const open = await startGateway({ ...PRODUCTION, GRAPHQL_INTROSPECTION: 'true' });
    try {
      const res = await rawGql(open, '{ __schema { queryType { name } } }');
      expect(res.json?.data?.__schema.queryType.name).toBe('Query');
      const page = await rawRequest(open.app.graphqlUrl, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type')).toMatch(/html/);
    } finally {
      await open.stop();
    }
  });
});
