import type { App } from './app';
import type { Config } from './config';

/**
 * What `npm start` prints. The demo API key and its `Authorization` line are
 * printed only outside production and only when the key is the generated one
 * (an operator who set DEMO_MERCHANT_API_KEY knows it; a log collector should not).
 */
export function startBanner(
  app: Pick<App, 'url' | 'graphqlUrl' | 'wsUrl' | 'ideUrl' | 'sandboxIdeUrl' | 'production' | 'ucanpayUrl' | 'sandbox' | 'demo'>,
  config: Config,
): string {
  const db = config.database.type === 'sqlite' ? `SQLite ${config.database.path} (synchronous=${config.database.synchronous})` : 'PostgreSQL';
  const row = (label: string, value: string) => `  ${`${label}:`.padEnd(39)}${value}`;
  const lines = ['', 'UCanPay GraphQL Gateway is running'];
  if (app.ideUrl) lines.push(row('GraphiQL (offline, in a browser)', app.ideUrl));
  if (app.sandboxIdeUrl) lines.push(row('Apollo Sandbox (online, in a browser)', app.sandboxIdeUrl));
  lines.push(
    row('GraphQL over HTTP (POST)', app.graphqlUrl),
    row('Subscriptions (graphql-ws)', app.wsUrl),
    row('Webhooks from UCanPay', `${app.url}/webhooks/ucanpay/<merchantId>`),
    row('Health', `${app.url}/health`),
    row('UCanPay', app.sandbox ? `embedded sandbox at ${app.ucanpayUrl} (docs/sandbox.md)` : app.ucanpayUrl),
    row('Database', db),
    row('Demo merchant', `${app.demo.merchantId} (its UCanPay merchant id: ${app.demo.ucanpayMerchantId})`),
  );
  if (app.sandbox) {
    lines.push(row('UCanPay orders of the demo merchant', `${app.ucanpayUrl}/sandbox/orders?merchant_id=${encodeURIComponent(app.demo.ucanpayMerchantId)}`));
  }
  if (!app.production && app.demo.apiKeyGenerated && app.demo.apiKey) {
    lines.push(
      row('Demo API key', app.demo.apiKey),
      `    Send the header  Authorization: Bearer ${app.demo.apiKey}${app.ideUrl ? '  (GraphiQL has it filled in)' : ''}`,
    );
  } else if (!app.production && app.demo.apiKey) {
    lines.push(row('Demo API key', 'the one in DEMO_MERCHANT_API_KEY'));
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}
