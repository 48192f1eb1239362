import fs from 'node:fs';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * `npm run subscribe -- <paymentUpdated|refundUpdated|subscriptionUpdated> <id>`:
 * follows one object over graphql-ws without a browser and prints each update
 * as one JSON line (Ctrl-C to stop). GATEWAY_WS_URL (default
 * ws://127.0.0.1:4000/graphql) and GATEWAY_API_KEY (default: the generated
 * demo key in ./data/demo-merchant-api-key) choose where and as whom.
 */
const SELECTIONS: Record<string, string> = {
  paymentUpdated: 'id status amount currency version transactionId failureCode',
  refundUpdated: 'id status amount currency version failureCode',
  subscriptionUpdated: 'id status amount currency version currentPeriodEnd failedRenewalCount charges { id status amount periodEnd }',
};

function usage(message: string): never {
  console.error(`${message}\nusage: npm run subscribe -- <${Object.keys(SELECTIONS).join('|')}> <id>`);
  process.exit(2);
}

function apiKey(): string {
  if (process.env.GATEWAY_API_KEY) return process.env.GATEWAY_API_KEY;
  const file = path.resolve('data/demo-merchant-api-key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  return usage('set GATEWAY_API_KEY (no generated demo key in ./data/demo-merchant-api-key)');
}

const [field, id] = process.argv.slice(2);
if (!field || !SELECTIONS[field]) usage(`unknown subscription "${field ?? ''}"`);
if (!id) usage('missing id');

const client = createClient({
  url: process.env.GATEWAY_WS_URL ?? 'ws://127.0.0.1:4000/graphql',
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${apiKey()}` },
  retryAttempts: 0,
});
const stop = client.subscribe(
  { query: `subscription($id: ID!) { ${field}(id: $id) { ${SELECTIONS[field]} } }`, variables: { id } },
  {
    next: (value) => console.log(JSON.stringify(value.errors ? value : value.data?.[field])),
    error: (error) => {
      const closed = error as { code?: number; reason?: string };
      console.error(error instanceof Error ? error.message : closed.code ? `closed ${closed.code} ${closed.reason ?? ''}` : JSON.stringify(error));
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
process.on('SIGINT', () => {
  stop();
  void client.dispose();
  process.exit(0);
});
