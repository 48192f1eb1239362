import { afterAll, describe, expect, it } from 'vitest';
import { startBanner } from '../../src/banner';
import { startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { recordSecret } from '../helpers/run-logs';

/**
 * The `npm start` banner and the offline IDE: the demo API key (and its
 * Authorization line) appear only outside production and only when the
 * gateway generated the key; production names no IDE.
 */

const PRODUCTION = { NODE_ENV: 'production', API_KEY_PEPPER: 'test-pepper-for-production-mode-0001' };
const started: TestGateway[] = [];
afterAll(async () => {
  await Promise.all(started.map((gw) => gw.stop()));
});

async function start(env: Record<string, string>) {
  const gw = await startGateway(env);
  started.push(gw);
  if (gw.app.demo.apiKey) recordSecret(gw.app.demo.apiKey);
  const banner = startBanner(gw.app, gw.config);
  const ide = await fetch(`${gw.app.url}/graphiql`, { signal: AbortSignal.timeout(10_000) });
  const root = await fetch(`${gw.app.url}/`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  return { gw, banner, ide: { status: ide.status, text: await ide.text() }, rootLocation: root.headers.get('location') };
}

describe('start banner', () => {
  it('development with a generated key: prints the key, its Authorization line and the offline IDE, which has the key filled in', async () => {
    const { gw, banner, ide, rootLocation } = await start({ DEMO_MERCHANT_API_KEY: '' });
    const key = gw.app.demo.apiKey!;
    expect(key).toMatch(/^gw_/);
    expect(banner).toContain(`Demo API key:`);
    expect(banner).toContain(key);
    expect(banner).toContain(`Authorization: Bearer ${key}`);
    expect(banner).toMatch(new RegExp(`GraphiQL \\(offline, in a browser\\): +${gw.app.url}/graphiql\n`));
    expect(banner).toMatch(new RegExp(`Apollo Sandbox \\(online, in a browser\\): +${gw.app.url}/graphql\n`));
    // Both ids of the demo merchant: the gateway's and UCanPay's (the sandbox's inspection takes the latter).
    expect(banner).toMatch(new RegExp(`Demo merchant: +mer_demo \\(its UCanPay merchant id: ${gw.config.ucanpay.merchantId}\\)`));
    expect(banner).toContain(`${gw.sandboxUrl}/sandbox/orders?merchant_id=${gw.config.ucanpay.merchantId}`);
    expect(ide.status).toBe(200);
    expect(ide.text).toContain(`Bearer ${key}`);
    expect(rootLocation).toBe('/graphiql');
  });

  it('development with DEMO_MERCHANT_API_KEY: the operator’s key is neither printed nor put in the IDE', async () => {
    const { banner, ide } = await start({ DEMO_MERCHANT_API_KEY: TEST_API_KEY });
    expect(banner).not.toContain(TEST_API_KEY);
    expect(banner).not.toContain('Authorization: Bearer');
    expect(banner).toMatch(/Demo API key: +the one in DEMO_MERCHANT_API_KEY/);
    expect(ide.status).toBe(200);
    expect(ide.text).not.toContain(TEST_API_KEY);
    expect(ide.text).toContain('Bearer \\u003cyour API key>');
  });

  it.each([
    ['a configured key', { DEMO_MERCHANT_API_KEY: TEST_API_KEY }],
    ['no configured key', { DEMO_MERCHANT_API_KEY: '' }],
  ])('production with %s: no key, no Authorization line, no IDE and no Apollo Sandbox', async (_name, env) => {
    const { banner, ide, rootLocation } = await start({ ...PRODUCTION, ...env });
    expect(banner).not.toContain(TEST_API_KEY);
    expect(banner).not.toMatch(/gw_[A-Za-z0-9_-]{10,}/);
    expect(banner).not.toContain('Authorization');
    expect(banner).not.toContain('Demo API key');
    expect(banner).not.toContain('Sandbox (');
    expect(banner).not.toContain('in a browser');
    expect(banner).not.toContain('GraphiQL');
    expect(banner).toContain('GraphQL over HTTP (POST)');
    expect(ide.status).toBe(404);
    expect(rootLocation).toBe('/graphql');
  });
});
