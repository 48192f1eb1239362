import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookReply } from '../services/webhook.service';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Link, type Span, type SpanContext } from '@opentelemetry/api';

/**
 * OpenTelemetry tracing. The code only uses `@opentelemetry/api`: with no
 * SDK registered every call is a no-op (no measurable cost; bench/README.md).
 * `startTracingFromEnv` registers the Node SDK with an OTLP/HTTP exporter
 * when the SDK's standard variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT
 * or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER… are read by the SDK
 * itself), unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 *
 * Spans never carry a document's literal values, a key, a secret or a body.
 */
export const tracer = trace.getTracer('ucanpay-gateway');

/** Runs `fn` as the span's work: an exception is recorded (status ERROR, rethrown), and the span always ends. */
async function within<T>(span: Span, fn: () => Promise<T>, errorMessage?: (error: unknown) => string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, ...(errorMessage ? { message: errorMessage(error) } : {}) });
    throw error;
  } finally {
    span.end();
  }
}

/** Registers the SDK when the environment asks for OTLP export; returns its shutdown, or undefined when tracing stays off. */
export async function startTracingFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<(() => Promise<void>) | undefined> {
  const wanted = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (!wanted || env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'ucanpay-gateway' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return () => provider.shutdown();
}

/** Runs one HTTP GraphQL request inside a SERVER span (continuing the caller's `traceparent`); the Apollo plugin names it. */
export function tracedGraphqlHandler(
  handler: (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse, search: string) => Promise<void> {
  return (req, res, search) => {
    const parent = propagation.extract(context.active(), req.headers);
    return tracer.startActiveSpan(
      'graphql',
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': '/graphql' } },
      parent,
      (span) =>
        within(span, async () => {
          await handler(req, res, search);
          span.setAttribute('http.response.status_code', res.statusCode);
        }),
    );
  };
}

/** Names the active GraphQL span after the GraphQL semantic conventions (`mutation CreatePayment`); no document text. */
export function describeGraphqlSpan(type: string | undefined, name: string | undefined, outcome: string): void {
  const span = trace.getActiveSpan();
  if (!span || !span.isRecording()) return;
  if (type) span.setAttribute('graphql.operation.type', type);
  if (name) span.setAttribute('graphql.operation.name', name);
  span.setAttribute('gateway.outcome', outcome);
  span.updateName(type ? `${type}${name ? ` ${name}` : ''}` : 'graphql');
  if (outcome !== 'ok' && /^[A-Z_]+$/.test(outcome) && !/^(BAD_|GRAPHQL_|UNAUTH|FORBIDDEN|NOT_FOUND)/.test(outcome)) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  }
}

/**
 * Which trace created each UCanPay order, so that the webhook that later
 * reports on it can link to that trace. Per instance and in memory (bounded):
 * after a restart, or on another instance, the webhook span still carries
 * the order id as an attribute, without the link.
 */
export class OrderTraceLinks {
  private readonly byOrder = new Map<string, SpanContext>();

  constructor(private readonly max = 10_000) {}

  remember(orderId: string, spanContext: SpanContext): void {
    this.byOrder.delete(orderId);
    this.byOrder.set(orderId, spanContext);
    if (this.byOrder.size > this.max) this.byOrder.delete(this.byOrder.keys().next().value as string);
  }

  linkFor(orderId: string | undefined): Link[] {
    const found = orderId ? this.byOrder.get(orderId) : undefined;
    return found ? [{ context: found, attributes: { 'gateway.link': 'order created' } }] : [];
  }
}

/** UCanPay endpoints as URL templates (bounded span names). */
function endpointOf(method: string, url: URL): string {
  return `${method} ${url.pathname}`;
}

/**
 * The UCanPay client's `fetch`: a CLIENT span per HTTP attempt (HTTP client
 * semantic conventions), the W3C `traceparent` sent to UCanPay, and the
 * order a unifiedorder created remembered for the webhook's link. The query
 * string is left out of `url.full` (it names orders, never secrets, but
 * stays out anyway).
 */
export function tracedFetch(links: OrderTraceLinks, inner: typeof fetch = (input, init) => globalThis.fetch(input, init)): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? 'GET').toUpperCase();
    return tracer.startActiveSpan(
      endpointOf(method, url),
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.full': `${url.origin}${url.pathname}`,
          'server.address': url.hostname,
          'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        },
      },
      (span) => {
        const headers = new Headers(init?.headers);
        propagation.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
        return within(span, async () => {
          const res = await inner(input, { ...init, headers });
          span.setAttribute('http.response.status_code', res.status);
          if (res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          if (res.ok && url.pathname.endsWith('/payment/unifiedorder') && span.isRecording()) {
            const body = (await res
              .clone()
              .json()
              .catch(() => undefined)) as { order_id?: unknown } | undefined;
            if (typeof body?.order_id === 'string') links.remember(body.order_id, span.spanContext());
          }
          return res;
        });
      },
    );
  };
}

type WebhookReceiver = { receive(merchantId: string, rawBody: Buffer, signature: string | string[] | undefined): Promise<WebhookReply> };

/**
 * Webhook ingestion in a SERVER span: event type and outcome, the order's id,
 * a link to the trace that created the order. All of them come from what the
 * service read from the verified delivery (the body is parsed once), so the
 * span is named and linked when the reply is known; a delivery the service
 * could not read stays `ucanpay.webhook unknown`.
 */
export function tracedWebhooks(webhooks: WebhookReceiver, links: OrderTraceLinks): WebhookReceiver {
  return {
    receive(merchantId, rawBody, signature) {
      return tracer.startActiveSpan('ucanpay.webhook unknown', { kind: SpanKind.SERVER }, (span) =>
        within(span, async () => {
          const reply = await webhooks.receive(merchantId, rawBody, signature);
          span.setAttribute('http.response.status_code', reply.status);
          if (reply.body.outcome) span.setAttribute('gateway.webhook.outcome', reply.body.outcome);
          const event = reply.event;
          const type = event && /^[a-z_.]{1,60}$/.test(event.type) ? event.type : 'unknown';
          span.updateName(`ucanpay.webhook ${type}`);
          span.setAttribute('ucanpay.event.type', type);
          if (event?.providerOrderId) {
            span.setAttribute('ucanpay.order_id', event.providerOrderId);
            span.addLinks(links.linkFor(event.providerOrderId));
          }
          return reply;
        }),
      );
    },
  };
}

/** The active trace id (for log lines), or undefined. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, traceFlags } = span.spanContext();
  return traceFlags & 1 ? traceId : undefined;
}

/** Apollo plugin: names the request's span `mutation CreatePayment` and records the outcome (first error code, or ok). */
export function tracingPlugin(): import('@apollo/server').ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, operationName }) {
          const body = response.body;
          const code = body.kind === 'single' ? body.singleResult.errors?.[0]?.extensions?.code : undefined;
          describeGraphqlSpan(operation?.operation, operationName ?? undefined, typeof code === 'string' ? code : 'ok');
        },
      };
    },
  };
}

/** Database transactions in INTERNAL spans (`db.transaction`), children of the request or webhook that ran them. */
export function tracedTransaction<T>(run: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan('db.transaction', { kind: SpanKind.INTERNAL }, (span) =>
    within(span, run, (error) => (error as { code?: string }).code ?? 'error'),
  );
}
