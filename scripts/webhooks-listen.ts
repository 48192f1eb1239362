import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * `npm run webhooks:listen`: a local webhook receiver for trying outbound
 * webhooks. It listens on WEBHOOKS_LISTEN_PORT (default 4500), registers
 * itself with the gateway (createWebhookEndpoint on GATEWAY_URL, default
 * http://127.0.0.1:4000/graphql, as GATEWAY_API_KEY or the generated demo
 * key in ./data/demo-merchant-api-key) for WEBHOOK_EVENT_TYPES (default
 * payment.paid,payment.failed,refund.succeeded), and prints every event it
 * receives, verified with the stock Standard Webhooks verifier. With
 * WEBHOOK_SECRET set it registers nothing and verifies with that secret
 * (an endpoint you created yourself). Ctrl-C stops it; the endpoint it
 * registered is deleted on the way out.
 */
const gatewayUrl = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
const port = Number(process.env.WEBHOOKS_LISTEN_PORT ?? 4500);
/** payment.paid or PAYMENT_PAID: the GraphQL enum names. */
const eventTypes = (process.env.WEBHOOK_EVENT_TYPES ?? 'payment.paid,payment.failed,refund.succeeded')
  .split(',')
  .map((t) => t.trim().toUpperCase().replace(/\./g, '_'))
  .filter(Boolean);

function apiKey(): string | undefined {
  if (process.env.GATEWAY_API_KEY) return process.env.GATEWAY_API_KEY;
  const file = path.resolve('data/demo-merchant-api-key');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
}

async function graphql<T>(query: string, variables: Record<string, unknown>, key: string): Promise<T> {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string }> };
  if (body.errors?.length || !body.data) throw new Error(body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${res.status}`);
  return body.data;
}

async function main(): Promise<void> {
  let verifier: Webhook | undefined = process.env.WEBHOOK_SECRET ? new Webhook(process.env.WEBHOOK_SECRET) : undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      try {
        const event = (verifier ? verifier.verify(body, headers) : JSON.parse(body)) as { id: string; type: string; objectId?: string; objectVersion?: number };
        console.log(
          `${new Date().toISOString()}  ${verifier ? 'verified' : 'NOT VERIFIED (no secret)'}  ${event.type}  ${event.objectId ?? ''} v${event.objectVersion ?? '?'}  webhook-id ${headers['webhook-id']}`,
        );
        console.log(JSON.stringify(event, null, 2));
        res.writeHead(204).end();
      } catch (error) {
        console.log(`${new Date().toISOString()}  REJECTED: ${error instanceof WebhookVerificationError ? error.message : String(error)}`);
        res.writeHead(400).end('signature did not verify');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
  console.log(`listening on ${url}`);

  let endpointId: string | undefined;
  const key = apiKey();
  if (!verifier && key) {
    const created = await graphql<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(
      'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }',
      { input: { url, eventTypes, description: 'npm run webhooks:listen' } },
      key,
    );
    endpointId = created.createWebhookEndpoint.endpoint.id;
    verifier = new Webhook(created.createWebhookEndpoint.secret);
    console.log(`registered endpoint ${endpointId} for ${eventTypes.join(', ')} at ${gatewayUrl}; its secret stays in this process`);
    const ping = await graphql<{ testWebhookEndpoint: { status: string } }>(
      'mutation($id: ID!) { testWebhookEndpoint(id: $id) { status } }',
      { id: endpointId },
      key,
    );
    console.log(`ping: ${ping.testWebhookEndpoint.status}`);
  } else if (!verifier) {
    console.log('no API key (GATEWAY_API_KEY or ./data/demo-merchant-api-key) and no WEBHOOK_SECRET: register this URL yourself:');
    console.log(`  mutation { createWebhookEndpoint(input: { url: "${url}", eventTypes: [PAYMENT_PAID] }) { secret endpoint { id } } }`);
    console.log('then restart with WEBHOOK_SECRET=<the secret> to verify signatures');
  }

  const stop = async () => {
    if (endpointId && key) await graphql('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id: endpointId }, key).catch(() => undefined);
    server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error) => {
  console.error(`webhooks:listen failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
