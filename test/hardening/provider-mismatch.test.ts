/**
 * UCanPay answering with an order for another amount than asked (a provider
 * fault the sandbox never makes): the real sandbox behind a proxy that
 * changes one field of the create answer.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { createSandbox, type SandboxHandle } from '../../src/sandbox';
import { sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';
import { rawGql } from './helpers';

let sandbox: SandboxHandle;
let sandboxDir: string;
let proxy: http.Server;
let gw: TestGateway;

beforeAll(async () => {
  sandboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-mismatch-'));
  sandbox = await createSandbox({ port: 0, dbPath: path.join(sandboxDir, 'sandbox.sqlite'), merchants: [{ ...SANDBOX_DEFAULTS, name: 'Demo Shop' }] });
  proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
    const upstream = await fetch(`${sandbox.url}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    let text = await upstream.text();
    if (req.url === '/payment/unifiedorder' && upstream.ok) {
      const order = JSON.parse(text) as { amount: number };
      text = JSON.stringify({ ...order, amount: order.amount + 1 });
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
  gw = await startGateway({ UCANPAY_BASE_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
});

afterAll(async () => {
  await gw?.stop();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await sandbox?.stop();
  if (sandboxDir) fs.rmSync(sandboxDir, { recursive: true, force: true });
});

const CREATE = `mutation($input: CreatePaymentInput!) { createPayment(input: $input) {
  __typename ... on CreatePaymentPayload { replayed payment { id status checkoutUrl failureCode failureMessage providerOrderId } } } }`;

describe('an order created for another amount than asked', () => {
  it('fails the payment with AMOUNT_MISMATCH and never hands out its checkout page; a retry replays that', async () => {
    const input = { amount: 1999, currency: 'USD', description: 'Mismatch', returnUrl: 'https://shop.example/r', idempotencyKey: 'mm-create-1' };
    const first = (await rawGql(gw, CREATE, { input })).json?.data?.createPayment;
    expect(first).toMatchObject({
      __typename: 'CreatePaymentPayload',
      replayed: false,
      payment: { status: 'FAILED', checkoutUrl: null, failureCode: 'AMOUNT_MISMATCH' },
    });
    expect(first.payment.failureMessage).toMatch(/for 2000 USD instead of 1999 USD/);
    // UCanPay did create that order; the gateway keeps its id for the operator.
    const orders = await sandboxCall<{ orders: Array<{ order_id: string; amount: number }> }>(
      sandbox.url,
      'GET',
      `/sandbox/orders?merchant_id=${SANDBOX_DEFAULTS.merchantId}`,
    );
    expect(orders.orders.map((o) => o.order_id)).toContain(first.payment.providerOrderId);
    const again = (await rawGql(gw, CREATE, { input })).json?.data?.createPayment;
    expect(again).toMatchObject({ replayed: true, payment: { id: first.payment.id, status: 'FAILED', failureCode: 'AMOUNT_MISMATCH' } });
  });
});
