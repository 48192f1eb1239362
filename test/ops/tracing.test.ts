import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreatePaymentDocument } from '../../src/client/generated/graphql';
import { createLogger } from '../../src/logger';
import { checkout, eventually, sandboxCall, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * OpenTelemetry with an in-memory exporter: a createPayment is one trace with
 * the UCanPay call (and its transactions) as child spans and `traceparent`
 * sent to UCanPay; the webhook that reports the payment is its own trace,
 * linked to the one that created the order; log lines carry the trace id.
 */
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const lines: Array<Record<string, unknown>> = [];
let gw: TestGateway;

beforeAll(async () => {
  provider.register();
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  gw = await startGateway({}, { tracing: true, logger: createLogger('info', sink, { traceIds: true }) });
});
afterAll(async () => {
  await gw?.stop();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('OpenTelemetry traces', () => {
  it('a createPayment is one trace: the request span, the UCanPay call as its child with traceparent sent, its transactions', async () => {
    exporter.reset();
    const res = await gw.gql(CreatePaymentDocument, {
      input: { amount: 4200, currency: 'EUR', description: 'Traced', returnUrl: 'https://shop.example/r', idempotencyKey: 'trace-1' } as never,
    });
    const result = res.data!.createPayment;
    if (result.__typename !== 'CreatePaymentPayload') throw new Error(JSON.stringify(result));

    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'mutation CreatePayment');
    expect(request, spans.map((s) => s.name).join(', ')).toBeDefined();
    expect(request!.attributes).toMatchObject({ 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'CreatePayment', 'gateway.outcome': 'ok' });
    // No document text or literal values on the span.
    expect(JSON.stringify(request!.attributes)).not.toContain('Traced');
    const traceId = request!.spanContext().traceId;
    const call = spans.find((s) => s.name === 'POST /payment/unifiedorder');
    expect(call).toBeDefined();
    expect(call!.spanContext().traceId).toBe(traceId);
    expect(parentOf(call!)).toBe(request!.spanContext().spanId);
    expect(call!.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200 });
    expect(spans.filter((s) => s.name === 'db.transaction' && s.spanContext().traceId === traceId).length).toBeGreaterThanOrEqual(2);

    const { requests } = await sandboxCall<{ requests: Array<{ endpoint: string; idempotency_key: string; traceparent: string | null }> }>(
      gw.sandboxUrl,
      'GET',
      '/sandbox/requests?endpoint=POST%20/payment/unifiedorder',
    );
    const sent = requests.find((r) => r.idempotency_key === result.payment.id);
    expect(sent?.traceparent).toBe(`00-${traceId}-${call!.spanContext().spanId}-01`);

    // The request's log line carries the trace id.
    expect(lines.some((l) => l.msg === 'graphql request' && l.traceId === traceId)).toBe(true);

    exporter.reset();
    await checkout(result.payment.checkoutUrl!, 'authorize');
    const webhook = await eventually(async () => exporter.getFinishedSpans().find((s) => s.name === 'ucanpay.webhook payment.succeeded'));
    expect(webhook.spanContext().traceId).not.toBe(traceId);
    expect(webhook.links.map((l) => l.context.traceId)).toEqual([traceId]);
    expect(webhook.attributes).toMatchObject({ 'gateway.webhook.outcome': 'applied', 'ucanpay.event.type': 'payment.succeeded' });
    const applied = exporter.getFinishedSpans().filter((s) => s.name === 'db.transaction' && parentOf(s) === webhook.spanContext().spanId);
    expect(applied.length).toBeGreaterThanOrEqual(1);
  });

  it("continues a caller's trace from its traceparent header", async () => {
    exporter.reset();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await gw.gql(
      CreatePaymentDocument,
      { input: { amount: 100, currency: 'EUR', description: 'x', returnUrl: 'https://shop.example/r' } as never },
      {
        headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
      },
    );
    expect(res.errors).toBeUndefined();
    const request = exporter.getFinishedSpans().find((s) => s.name === 'mutation CreatePayment');
    expect(request!.spanContext().traceId).toBe(callerTrace);
    expect(parentOf(request!)).toBe('00f067aa0ba902b7');
  });
});
