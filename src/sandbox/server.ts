/**
 * HTTP routing on plain node:http: the contract endpoints (auth, faults,
 * idempotency), the hosted checkout and the test-only /sandbox/* endpoints.
 * Never answers with a stack trace; an unexpected error is logged and
 * answered 500 PROVIDER_ERROR.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fingerprint } from './canonical';
import { renderMessagePage, renderOrderPage, renderSubscriptionPage } from './checkout-page';
import { iso } from './clock';
import type { SandboxContext } from './context';
import { advanceClock } from './due-work';
import { ApiError, apiError, invalid } from './errors';
import type { HttpFault } from './faults';
import { json, readBody, sendHtml, sendJson, type Reply } from './http-util';
import { randomSecret } from './ids';
import { checkoutOrder, createOrder, expireIfDue, getOrderStatus, type CheckoutAction } from './payments';
import { orderToApi, refundToApi, subscriptionToApi } from './present';
import { createRefund, getRefundStatus } from './refunds';
import type { RequestLog, RequestLogEntry } from './request-log';
import { cancelSubscription, checkoutSubscription, createSubscription, getSubscriptionStatus, updateSubscription } from './subscriptions';
import type { Merchant, OrderRecord, SubscriptionRecord } from './types';
import { asBody, isRecord, type Body } from './validation';
import { errorText, webhookView } from './webhooks';

export interface ServerDeps {
  ctx: SandboxContext;
  requests: RequestLog;
  bodyLimit: number;
  /** A sleep that ends early when the sandbox stops. */
  sleep(ms: number): Promise<void>;
  isStopping(): boolean;
}

type ContractHandler = (ctx: SandboxContext, merchant: Merchant, body: Body, query: URLSearchParams) => Promise<unknown>;

const CONTRACT: Readonly<Record<string, ContractHandler>> = {
  'POST /payment/unifiedorder': (ctx, m, body) => createOrder(ctx, m, body),
  'GET /payment/status': (ctx, m, _b, q) => getOrderStatus(ctx, m, q),
  'POST /payment/refund': (ctx, m, body) => createRefund(ctx, m, body),
  'GET /payment/refund/status': (ctx, m, _b, q) => getRefundStatus(ctx, m, q),
  'POST /subscriptions/create': (ctx, m, body) => createSubscription(ctx, m, body),
  'POST /subscriptions/update': (ctx, m, body) => updateSubscription(ctx, m, body),
  'POST /subscriptions/cancel': (ctx, m, body) => cancelSubscription(ctx, m, body),
  'GET /subscriptions/status': (ctx, m, _b, q) => getSubscriptionStatus(ctx, m, q),
};

const CONTRACT_PATHS = new Set(Object.keys(CONTRACT).map((k) => k.split(' ')[1]));

const MAX_IDEMPOTENCY_KEY = 255;
const MAX_ADVANCE_SECONDS = 20 * 366 * 86_400;

function errorReply(err: ApiError): Reply {
  return json(err.status, err.toBody(), err.headers);
}

function faultReply(fault: HttpFault): Reply {
  const status = fault.status ?? 500;
  const code = fault.code ?? 'PROVIDER_ERROR';
  const headers: Record<string, string> = {};
  if (fault.retry_after !== null) headers['Retry-After'] = String(fault.retry_after);
  return json(status, { error: { code, message: fault.message ?? `Injected fault (${code})` } }, headers);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function parseJson(buf: Buffer): Body {
  const text = buf.toString('utf8');
  if (text.trim() === '') throw invalid('body', 'must be a JSON object (the body is empty)');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('body', 'is not valid JSON');
  }
  return asBody(value);
}

function withParams(base: string, params: Record<string, string>): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

export function createRequestListener(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { ctx, requests } = deps;
  const { store, log } = ctx;

  async function authenticate(req: IncomingMessage): Promise<Merchant> {
    const auth = header(req, 'authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) throw apiError('AUTHENTICATION_FAILED', 'missing or malformed Authorization header (expected "Bearer <secret key>")');
    const merchant = await store.getMerchantByKey(m[1]);
    if (!merchant) throw apiError('AUTHENTICATION_FAILED', 'invalid secret key');
    return merchant;
  }

  /** Auth, JSON, idempotency and the handler, all under the mutex. */
  async function processContract(endpoint: string, req: IncomingMessage, query: URLSearchParams, raw: Buffer, entry: RequestLogEntry): Promise<Reply> {
    const isPost = req.method === 'POST';
    const idemKey = isPost ? header(req, 'idempotency-key') : undefined;
    const handler = CONTRACT[endpoint];
    return store.exclusive(async () => {
      try {
        const merchant = await authenticate(req);
        entry.merchant_id = merchant.merchant_id;
        const body = isPost ? parseJson(raw) : {};
        if (idemKey !== undefined && (idemKey.length === 0 || idemKey.length > MAX_IDEMPOTENCY_KEY)) {
          throw invalid('Idempotency-Key', `must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`);
        }
        const fp = idemKey !== undefined ? fingerprint(endpoint, body) : '';
        if (idemKey !== undefined) {
          const prior = await store.getIdempotency(merchant.merchant_id, idemKey);
          if (prior) {
            if (prior.fingerprint !== fp) {
              throw apiError('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was already used with a different request');
            }
            entry.replayed = true;
            return { status: prior.status, body: prior.body, headers: { 'Idempotent-Replayed': 'true' } };
          }
        }
        const remember = async (reply: Reply): Promise<void> => {
          if (idemKey !== undefined && reply.status < 500) {
            await store.putIdempotency(merchant.merchant_id, idemKey, { fingerprint: fp, status: reply.status, body: reply.body }, Date.now());
          }
        };
        try {
          return await store.tx(async () => {
            const reply = json(200, await handler(ctx, merchant, body, query));
            await remember(reply);
            return reply;
          });
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          const reply = errorReply(err);
          await remember(reply);
          return reply;
        }
      } catch (err) {
        if (err instanceof ApiError) return errorReply(err);
        log.error({ err: errorText(err), endpoint }, 'sandbox internal error');
        return json(500, { error: { code: 'PROVIDER_ERROR', message: 'internal sandbox error' } });
      }
    });
  }

  async function handleContract(req: IncomingMessage, res: ServerResponse, endpoint: string, query: URLSearchParams): Promise<void> {
    const idem = header(req, 'idempotency-key');
    const entry = requests.add(endpoint, idem ?? null, req.headers.traceparent);
    const finish = (reply: Reply): void => {
      entry.status = reply.status;
      sendJson(res, reply);
    };
    const drop = (): void => {
      entry.status = 0;
      req.socket.destroy();
    };
    const { body, tooLarge, aborted } = await readBody(req, deps.bodyLimit);
    if (aborted) return;
    if (tooLarge) {
      finish({ ...json(413, invalid('body', `must be at most ${deps.bodyLimit} bytes`).toBody()), headers: { Connection: 'close' } });
      return;
    }
    const fault = ctx.faults.takeHttp(endpoint);
    if (fault) entry.fault = fault.id;
    if (fault && fault.when === 'before') {
      if (fault.latency_ms > 0) await deps.sleep(fault.latency_ms);
      if (deps.isStopping()) return drop();
      if (fault.drop) return drop();
      if (fault.status !== null) return finish(faultReply(fault));
    }
    const reply = await processContract(endpoint, req, query, body, entry);
    if (fault && fault.when === 'after') {
      if (fault.latency_ms > 0) await deps.sleep(fault.latency_ms);
      if (deps.isStopping()) return drop();
      if (fault.drop) return drop();
      if (fault.status !== null) return finish(faultReply(fault));
    }
    finish(reply);
  }

  // ------------------------------------------------------------ checkout
  async function loadCheckout(id: string): Promise<{ order?: OrderRecord; sub?: SubscriptionRecord; merchantName: string } | undefined> {
    const order = await store.getOrder(id);
    if (order) {
      await expireIfDue(ctx, order);
      const m = await store.getMerchant(order.merchant_id);
      return { order, merchantName: m?.name ?? order.merchant_id };
    }
    const sub = await store.getSubscription(id);
    if (sub) {
      const m = await store.getMerchant(sub.merchant_id);
      return { sub, merchantName: m?.name ?? sub.merchant_id };
    }
    return undefined;
  }

  const NOT_FOUND_PAGE = (): Reply => ({
    status: 404,
    body: renderMessagePage('Payment not found', 'There is no payment or subscription at this address.', { code: 'ORDER_NOT_FOUND' }),
  });

  async function handleCheckout(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const { body, tooLarge, aborted } = await readBody(req, deps.bodyLimit);
    if (aborted) return;
    if (tooLarge) {
      sendHtml(res, {
        status: 413,
        body: renderMessagePage('Request too large', 'The form was too large.', { code: 'INVALID_REQUEST' }),
        headers: { Connection: 'close' },
      });
      return;
    }
    if (req.method === 'GET') {
      const reply = await store.exclusive(() =>
        store.tx(async (): Promise<Reply> => {
          const found = await loadCheckout(id);
          if (!found) return NOT_FOUND_PAGE();
          return {
            status: 200,
            body: found.order ? renderOrderPage(found.order, found.merchantName) : renderSubscriptionPage(found.sub as SubscriptionRecord, found.merchantName),
          };
        }),
      );
      sendHtml(res, reply);
      return;
    }
    if (req.method !== 'POST') {
      sendHtml(res, {
        status: 405,
        body: renderMessagePage('Method not allowed', 'Use GET or POST.', { code: 'METHOD_NOT_ALLOWED' }),
        headers: { Allow: 'GET, POST' },
      });
      return;
    }
    let action: string | null = null;
    const type = header(req, 'content-type') ?? '';
    if (type.includes('application/json')) {
      try {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (isRecord(parsed) && typeof parsed.action === 'string') action = parsed.action;
      } catch {
        action = null;
      }
    } else {
      action = new URLSearchParams(body.toString('utf8')).get('action');
    }
    if (action !== 'authorize' && action !== 'decline' && action !== 'cancel') {
      sendHtml(res, { status: 400, body: renderMessagePage('Invalid request', 'action must be authorize, decline or cancel.', { code: 'INVALID_REQUEST' }) });
      return;
    }
    const act: CheckoutAction = action;
    const reply = await store.exclusive(() =>
      store.tx(async (): Promise<Reply> => {
        const found = await loadCheckout(id);
        if (!found) return NOT_FOUND_PAGE();
        try {
          if (found.order) {
            const o = await checkoutOrder(ctx, found.order, act);
            const location = withParams(o.return_url, { order_id: o.order_id, out_trade_no: o.out_trade_no, status: o.status });
            return {
              status: 303,
              body: renderMessagePage('Redirecting…', `Payment ${o.status}. Returning to the merchant.`, {
                tone: 'ok',
                link: { href: location, text: 'Continue' },
              }),
              headers: { Location: location },
            };
          }
          const s = await checkoutSubscription(ctx, found.sub as SubscriptionRecord, act);
          if (s.return_url) {
            const location = withParams(s.return_url, { subscription_id: s.subscription_id, out_subscription_no: s.out_subscription_no, status: s.status });
            return {
              status: 303,
              body: renderMessagePage('Redirecting…', `Subscription ${s.status}. Returning to the merchant.`, {
                tone: 'ok',
                link: { href: location, text: 'Continue' },
              }),
              headers: { Location: location },
            };
          }
          return { status: 200, body: renderMessagePage('Thank you', `Subscription ${s.status}.`, { tone: s.status === 'CANCELLED' ? 'bad' : 'ok' }) };
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          const title = err.code === 'ORDER_ALREADY_PAID' ? 'Already paid' : 'No longer payable';
          const back = found.order?.return_url ?? found.sub?.return_url ?? null;
          return {
            status: err.status,
            body: renderMessagePage(title, err.message, { code: err.code, link: back ? { href: back, text: `Return to ${found.merchantName}` } : undefined }),
          };
        }
      }),
    );
    sendHtml(res, reply);
  }

  // ------------------------------------------------------------- sandbox
  async function handleSandbox(req: IncomingMessage, res: ServerResponse, key: string, query: URLSearchParams): Promise<void> {
    const { body, tooLarge, aborted } = await readBody(req, deps.bodyLimit);
    if (aborted) return;
    if (tooLarge) {
      sendJson(res, { ...json(413, invalid('body', `must be at most ${deps.bodyLimit} bytes`).toBody()), headers: { Connection: 'close' } });
      return;
    }
    const merchantFilter = query.get('merchant_id') ?? undefined;
    const base = ctx.baseUrl();
    const clockView = (): { now: string; offset_seconds: number } => ({ now: iso(ctx.clock.now()), offset_seconds: ctx.clock.offset / 1000 });
    let reply: Reply;
    try {
      switch (key) {
        case 'GET /sandbox/health':
          reply = json(200, { ok: true });
          break;
        case 'GET /sandbox/clock':
          reply = json(200, clockView());
          break;
        case 'POST /sandbox/clock/advance': {
          const b = parseJson(body);
          const seconds = b.seconds;
          if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_ADVANCE_SECONDS) {
            throw invalid('seconds', `must be a number between 0 and ${MAX_ADVANCE_SECONDS}`);
          }
          const processed = await advanceClock(ctx, seconds);
          reply = json(200, { ...clockView(), processed });
          break;
        }
        case 'GET /sandbox/faults':
          reply = json(200, { faults: ctx.faults.list() });
          break;
        case 'POST /sandbox/faults':
          reply = json(201, ctx.faults.add(parseJson(body)));
          break;
        case 'DELETE /sandbox/faults':
          ctx.faults.clear();
          reply = json(200, { faults: [] });
          break;
        case 'GET /sandbox/orders': {
          const outTradeNo = query.get('out_trade_no') ?? undefined;
          const orders = await store.exclusive(() => store.listOrders(merchantFilter, outTradeNo));
          reply = json(200, { orders: orders.map((o) => orderToApi(o, base)) });
          break;
        }
        case 'GET /sandbox/refunds': {
          const refunds = await store.exclusive(() => store.listRefunds(merchantFilter));
          reply = json(200, { refunds: refunds.map(refundToApi) });
          break;
        }
        case 'GET /sandbox/subscriptions': {
          const subs = await store.exclusive(() => store.listSubscriptions(merchantFilter));
          reply = json(200, { subscriptions: subs.map((s) => subscriptionToApi(s, base)) });
          break;
        }
        case 'GET /sandbox/requests':
          reply = json(200, { requests: requests.list(query.get('endpoint') ?? undefined) });
          break;
        case 'DELETE /sandbox/requests':
          requests.clear();
          reply = json(200, { requests: [] });
          break;
        case 'GET /sandbox/webhooks': {
          const rows = await store.exclusive(() => store.listOutbox(merchantFilter));
          reply = json(200, { events: rows.map(webhookView) });
          break;
        }
        case 'POST /sandbox/merchants': {
          const b = body.length === 0 ? {} : parseJson(body);
          const pick = (field: string, fallback: () => string): string => {
            const v = b[field];
            if (v === undefined || v === null) return fallback();
            if (typeof v !== 'string' || v.trim() === '' || v.length > 255) throw invalid(field, 'must be a non-empty string of at most 255 characters');
            return v;
          };
          const merchantId = pick('merchant_id', () => randomSecret('mch').slice(0, 20));
          const merchant: Merchant = {
            merchant_id: merchantId,
            secret_key: pick('secret_key', () => randomSecret('sk_test')),
            webhook_secret: pick('webhook_secret', () => randomSecret('whsec')),
            name: pick('name', () => merchantId),
          };
          await store.exclusive(async () => {
            const clash = await store.getMerchantByKey(merchant.secret_key);
            if (clash && clash.merchant_id !== merchant.merchant_id) throw invalid('secret_key', 'is already used by another merchant');
            await store.upsertMerchant(merchant, ctx.clock.now());
          });
          reply = json(201, merchant);
          break;
        }
        default: {
          const path = key.split(' ')[1];
          const known = [
            '/sandbox/health',
            '/sandbox/clock',
            '/sandbox/clock/advance',
            '/sandbox/faults',
            '/sandbox/orders',
            '/sandbox/refunds',
            '/sandbox/subscriptions',
            '/sandbox/requests',
            '/sandbox/webhooks',
            '/sandbox/merchants',
          ];
          reply = known.includes(path)
            ? json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${key} is not supported` } })
            : json(404, { error: { code: 'NOT_FOUND', message: `no route ${key}` } });
        }
      }
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      reply = errorReply(err);
    }
    sendJson(res, reply);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    } catch {
      sendJson(res, json(400, invalid('url', 'is malformed').toBody()));
      return;
    }
    const path = url.pathname;
    const key = `${method} ${path}`;
    if (CONTRACT[key]) return handleContract(req, res, key, url.searchParams);
    if (path.startsWith('/checkout/')) {
      let id: string;
      try {
        id = decodeURIComponent(path.slice('/checkout/'.length));
      } catch {
        id = '';
      }
      if (!id || id.includes('/')) {
        req.resume();
        sendHtml(res, NOT_FOUND_PAGE());
        return;
      }
      return handleCheckout(req, res, id);
    }
    if (path.startsWith('/sandbox/')) return handleSandbox(req, res, key, url.searchParams);
    req.resume();
    if (CONTRACT_PATHS.has(path)) {
      const allowed = Object.keys(CONTRACT)
        .filter((k) => k.endsWith(` ${path}`))
        .map((k) => k.split(' ')[0]);
      sendJson(res, json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}` } }, { Allow: allowed.join(', ') }));
      return;
    }
    if (key === 'GET /') {
      sendJson(res, json(200, { name: 'UCanPay sandbox', endpoints: Object.keys(CONTRACT) }));
      return;
    }
    sendJson(res, json(404, { error: { code: 'NOT_FOUND', message: `no route ${method} ${path}` } }));
  }

  return (req, res) => {
    if (deps.isStopping()) {
      req.socket.destroy();
      return Promise.resolve();
    }
    return handle(req, res).catch((err: unknown) => {
      log.error({ err: errorText(err), method: req.method, path: req.url?.split('?')[0] }, 'sandbox request failed');
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, json(500, { error: { code: 'PROVIDER_ERROR', message: 'internal sandbox error' } }));
      } else {
        res.destroy();
      }
    });
  };
}
