import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { signWebhookPayload } from '../../src/ucanpay';

export interface PaymentRef {
  id: string;
  orderId: string;
  reference: string;
  amount: number;
  currency: string;
}

let counter = 0;

/** A signed `payment.succeeded` event for `p`, as UCanPay sends it (fresh event id, signed now). */
export function paymentSucceeded(p: PaymentRef, secret: string): { body: string; signature: string } {
  const now = Date.now();
  const t = Math.floor(now / 1000);
  const body = JSON.stringify({
    id: `evt_bench_${process.pid}_${++counter}`,
    type: 'payment.succeeded',
    created: t,
    data: {
      object: {
        order_id: p.orderId,
        out_trade_no: p.reference,
        status: 'PAID',
        amount: p.amount,
        currency: p.currency,
        transaction_id: `txn_${p.orderId.slice(-20)}`,
        paid_at: new Date(now).toISOString(),
        refunded_amount: 0,
      },
    },
  });
  return { body, signature: signWebhookPayload(secret, body, t) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** POSTs one webhook; resolves with the status, the outcome and the time the request was handed to the socket. */
export function postWebhook(
  url: string,
  event: { body: string; signature: string },
): Promise<{ status: number; outcome?: string; sentAt: number; ackAt: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'ucanpay-signature': event.signature, 'content-length': Buffer.byteLength(event.body) },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ackAt = performance.now();
          let outcome: string | undefined;
          try {
            outcome = (JSON.parse(Buffer.concat(chunks).toString()) as { outcome?: string }).outcome;
          } catch {
            outcome = undefined;
          }
          resolve({ status: res.statusCode ?? 0, outcome, sentAt, ackAt });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('webhook timed out')));
    req.on('error', reject);
    const sentAt = performance.now();
    req.end(event.body);
  });
}

export function closeWebhookAgent(): void {
  agent.destroy();
}
