import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument, PaymentUpdatedDocument, RefundPaymentDocument } from '../../src/client/generated/graphql';
import { checkout, collect, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * /metrics after real work: each counter moves by exactly what happened (a
 * payment, its duplicate webhook, a refund, a UCanPay 503), and the
 * endpoint is on its own port, never on the public one.
 */
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ METRICS_PORT: '0', METRICS_TOKEN: 'metrics-token-for-tests-0001' });
});
afterAll(async () => {
  await gw?.stop();
});

type Samples = Map<string, number>;

async function scrape(): Promise<Samples> {
  const res = await fetch(gw.app.metricsUrl!, { headers: { authorization: 'Bearer metrics-token-for-tests-0001' }, signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples: Samples = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const value = (s: Samples, key: string) => s.get(key) ?? 0;
const moved = (before: Samples, after: Samples, key: string) => value(after, key) - value(before, key);

async function paidPayment(amount: number) {
  const res = await gw.gql(CreatePaymentDocument, { input: { amount, currency: 'USD', description: 'Metrics', returnUrl: 'https://shop.example/r' } as never });
  const result = res.data!.createPayment;
  if (result.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(result));
  await checkout(result.payment.checkoutUrl!, 'authorize');
  return result.payment;
}

describe('Prometheus metrics', () => {
  it('are served on METRICS_PORT with the token only, never on the public port', async () => {
    expect((await fetch(`${gw.app.url}/metrics`)).status).toBe(404);
    expect((await fetch(gw.app.metricsUrl!)).status).toBe(401);
    expect((await fetch(gw.app.metricsUrl!, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    const samples = await scrape();
    expect([...samples.keys()].some((k) => k.startsWith('process_cpu_seconds_total'))).toBe(true);
    expect([...samples.keys()].some((k) => k.startsWith('nodejs_eventloop_lag_seconds'))).toBe(true);
  });

  it('a payment, its duplicate webhook, a refund and a UCanPay 503: each counter moves by exactly that', async () => {
    const before = await scrape();
    // The next payment.succeeded is delivered twice; the next unifiedorder answers 503 once (the client retries).
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { webhooks: { mode: 'duplicate', count: 1, types: ['payment.succeeded'] } });
    await sandboxCall(gw.sandboxUrl, 'POST', '/sandbox/faults', { endpoint: 'POST /payment/unifiedorder', status: 503, count: 1 });
    const payment = await paidPayment(5000);
    await eventually(async () => moved(before, await scrape(), 'gateway_ucanpay_webhooks_received_total{outcome="duplicate"}') === 1);

    const refund = await gw.gql(RefundPaymentDocument, { input: { paymentId: payment.id, amount: 1200 } as never });
    expect(refund.data!.refundPayment.__typename).toBe('RefundPaymentPayload');
    await eventually(async () => moved(before, await scrape(), 'gateway_ucanpay_webhooks_received_total{outcome="applied"}') === 2);
    // An operation name the gateway does not ship is `other`, whatever the client calls it.
    await fetch(gw.app.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Whatever123 { __typename }' }),
    });

    const after = await scrape();
    const m = (key: string) => moved(before, after, key);
    expect(m('gateway_graphql_operations_total{type="mutation",name="CreatePayment",outcome="ok"}')).toBe(1);
    expect(m('gateway_graphql_operations_total{type="mutation",name="RefundPayment",outcome="ok"}')).toBe(1);
    expect(m('gateway_graphql_operations_total{type="query",name="other",outcome="ok"}')).toBe(1);
    expect([...after.keys()].some((k) => k.includes('Whatever123'))).toBe(false);
    expect(m('gateway_graphql_operation_duration_seconds_count{type="mutation",name="CreatePayment"}')).toBe(1);
    expect(m('gateway_ucanpay_retries_total{endpoint="POST /payment/unifiedorder",outcome="SERVICE_UNAVAILABLE"}')).toBe(1);
    expect(m('gateway_ucanpay_calls_total{endpoint="POST /payment/unifiedorder",outcome="ok"}')).toBe(1);
    expect(m('gateway_ucanpay_calls_total{endpoint="POST /payment/refund",outcome="ok"}')).toBe(1);
    expect(m('gateway_ucanpay_attempt_duration_seconds_count{endpoint="POST /payment/unifiedorder",outcome="SERVICE_UNAVAILABLE"}')).toBe(1);
    expect(value(after, 'gateway_ucanpay_last_call_ok{endpoint="POST /payment/refund"}')).toBe(1);
    // payment.succeeded once applied and once a duplicate; refund.succeeded applied.
    expect(m('gateway_ucanpay_webhooks_received_total{outcome="applied"}')).toBe(2);
    expect(m('gateway_ucanpay_webhooks_received_total{outcome="duplicate"}')).toBe(1);
    expect(m('gateway_ucanpay_webhook_lag_seconds_count')).toBe(2);
    expect(m('gateway_db_transaction_duration_seconds_count{outcome="commit"}')).toBeGreaterThanOrEqual(4);
    expect(m('gateway_sqlite_group_commit_transactions_count')).toBeGreaterThanOrEqual(1);
  });

  it('live WebSocket connections and subscriptions, and reconciliation passes, are exported', async () => {
    const payment = await gw.gql(CreatePaymentDocument, {
      input: { amount: 300, currency: 'USD', description: 'Live', returnUrl: 'https://shop.example/r' } as never,
    });
    const id = (payment.data!.createPayment as { payment: { id: string } }).payment.id;
    const sub = collect(gw.ws(), PaymentUpdatedDocument, { id });
    await sub.until((v) => v.data?.paymentUpdated.status === 'PENDING');
    const live = await scrape();
    expect(value(live, 'gateway_websocket_connections')).toBeGreaterThanOrEqual(1);
    expect(value(live, 'gateway_websocket_subscriptions')).toBeGreaterThanOrEqual(1);
    sub.unsubscribe();
    await eventually(async () => value(await scrape(), 'gateway_websocket_subscriptions') === value(live, 'gateway_websocket_subscriptions') - 1);

    const before = await scrape();
    await gw.app.services.reconciliation.runOnce();
    const after = await scrape();
    expect(after.has('gateway_reconciliation_due{kind="payment"}')).toBe(true);
    expect(moved(before, after, 'gateway_reconciliation_checked_total{kind="payment"}')).toBe(value(after, 'gateway_reconciliation_due{kind="payment"}'));
  });

  it('a typed error result is counted under its code', async () => {
    const before = await scrape();
    const input = { amount: 100, currency: 'USD', description: 'A', returnUrl: 'https://shop.example/r', idempotencyKey: 'metrics-conflict-1' };
    await gw.gql(CreatePaymentDocument, { input: input as never });
    const conflict = await gw.gql(CreatePaymentDocument, { input: { ...input, amount: 200 } as never });
    expect(conflict.data!.createPayment.__typename).toBe('IdempotencyConflictError');
    const after = await scrape();
    expect(moved(before, after, 'gateway_graphql_operations_total{type="mutation",name="CreatePayment",outcome="IDEMPOTENCY_CONFLICT"}')).toBe(1);
  });
});
