import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { recordSecret } from './run-logs';

/** One request a receiver got: when it started and ended (for overlap checks), its headers and body, what it answered. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  headers: Record<string, string>;
  body: string;
  json: Record<string, unknown>;
  startedAt: number;
  endedAt: number;
  answered: number;
}

/** A status code, or a status code and the body to answer with. */
export type Answer = number | { status: number; body: string };

export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every answered request, in the order answered. */
  received: ReceivedWebhook[];
  /** Every request as it arrived (answered or not yet: a hanging receiver). */
  started: ReceivedWebhook[];
  /** The answer to each request (default 200 "ok"); may wait (a slow receiver). */
  respond: (req: ReceivedWebhook) => Answer | Promise<Answer>;
  /** Stops listening (connections refused) until `up()`; the port stays this receiver's. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Verifies a request with the stock Standard Webhooks verifier and `secret`; throws if it does not verify. */
  verify(req: ReceivedWebhook, secret: string): unknown;
  stop(): Promise<void>;
}

/** A real HTTP receiver on a free port of 127.0.0.1 that records every webhook it is sent. */
export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const started: ReceivedWebhook[] = [];
  let server: http.Server | undefined;
  let boundPort = port;
  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    received,
    started,
    respond: () => 200,
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async up() {
      if (server) return;
      const s = http.createServer((req, res) => {
        const startedAt = Date.now();
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(body) as Record<string, unknown>;
          } catch {
            // recorded as is; the test decides
          }
          const entry: ReceivedWebhook = {
            id: headers['webhook-id'] ?? '',
            timestamp: headers['webhook-timestamp'] ?? '',
            signature: headers['webhook-signature'] ?? '',
            headers,
            body,
            json,
            startedAt,
            endedAt: 0,
            answered: 0,
          };
          started.push(entry);
          let answer: Answer = 500;
          try {
            answer = await receiver.respond(entry);
          } finally {
            const status = typeof answer === 'number' ? answer : answer.status;
            entry.endedAt = Date.now();
            entry.answered = status;
            received.push(entry);
            res.writeHead(status, { 'content-type': 'text/plain' }).end(typeof answer === 'number' ? (status < 300 ? 'ok' : `status ${status}`) : answer.body);
          }
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(boundPort, '127.0.0.1', () => resolve());
      });
      boundPort = (s.address() as AddressInfo).port;
      receiver.port = boundPort;
      receiver.url = `http://127.0.0.1:${boundPort}/hooks`;
      server = s;
    },
    verify(req, secret) {
      recordSecret(secret);
      return new Webhook(secret).verify(req.body, { 'webhook-id': req.id, 'webhook-timestamp': req.timestamp, 'webhook-signature': req.signature });
    },
    async stop() {
      await receiver.down();
    },
  };
  await receiver.up();
  return receiver;
}
