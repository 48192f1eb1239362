/**
 * UCanPay REST client: one typed method per contract endpoint, per-attempt
 * timeouts, bounded retries with exponential backoff + full jitter for
 * recoverable failures only, and the same `Idempotency-Key` on every attempt.
 */
import { codeForHttpStatus, isContractErrorCode, isRetryableHttpStatus, UCANPAY_ERROR_TABLE, UCanPayError, type UCanPayErrorCode } from './errors';
import type {
  CancelSubscriptionInput,
  CreateOrderInput,
  CreateRefundInput,
  CreateSubscriptionInput,
  GetOrderQuery,
  GetRefundQuery,
  GetSubscriptionQuery,
  MutationOptions,
  QueryOptions,
  UCanPayOrder,
  UCanPayRefund,
  UCanPaySubscription,
  UpdateSubscriptionInput,
} from './types';
import {
  parseErrorBody,
  toCancelSubscriptionRequest,
  toCreateOrderRequest,
  toCreateRefundRequest,
  toCreateSubscriptionRequest,
  toOrder,
  toRefund,
  toSubscription,
  toUpdateSubscriptionRequest,
} from './wire';

/** The contract endpoints, as `"<METHOD> <path>"`. */
export type UCanPayEndpoint =
  | 'POST /payment/unifiedorder'
  | 'GET /payment/status'
  | 'POST /payment/refund'
  | 'GET /payment/refund/status'
  | 'POST /subscriptions/create'
  | 'POST /subscriptions/update'
  | 'POST /subscriptions/cancel'
  | 'GET /subscriptions/status';

/** A pino-compatible logger (only `warn` is required; `debug` is used when present). */
export interface UCanPayLogger {
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** What `onAttempt` receives after every HTTP attempt. */
export interface UCanPayAttemptInfo {
  endpoint: UCanPayEndpoint;
  /** 1-based attempt number within the call. */
  attempt: number;
  maxAttempts: number;
  idempotencyKey?: string;
  ok: boolean;
  durationMs: number;
  httpStatus?: number;
  /** Error code when `ok` is false. */
  code?: UCanPayErrorCode;
  retryable?: boolean;
  /** Whether the client will make another attempt. */
  willRetry: boolean;
  /** Wait before the next attempt, when `willRetry`. */
  delayMs?: number;
}

/** Options of {@link UCanPayClient}. */
export interface UCanPayClientOptions {
  /** e.g. `https://api.ucanpay.example` or the sandbox URL (no trailing path needed). */
  baseUrl: string;
  /** Sent as `merchant_id` in every POST body. */
  merchantId: string;
  /** Sent as `Authorization: Bearer <secretKey>`; never logged or put in errors. */
  secretKey: string;
  /** Timeout of each attempt (connect + headers + body), ms. Default 10000. */
  timeoutMs?: number;
  /** Maximum attempts per call, including the first. Default 4. */
  maxAttempts?: number;
  /** Backoff base: attempt n waits random(0, min(maxDelayMs, baseDelayMs·2^(n−1))). Default 200. */
  baseDelayMs?: number;
  /** Backoff cap, ms. Default 5000. */
  maxDelayMs?: number;
  /**
   * Longest `Retry-After` the client waits for inside a call, ms. A longer one
   * ends the call at once with a retryable `RATE_LIMITED`/… error carrying
   * `retryAfterMs`. Default 30000.
   */
  maxRetryAfterMs?: number;
  /** pino-compatible logger; every retry is logged at warn (no secrets). */
  logger?: UCanPayLogger;
  /** Sleep used between attempts (injectable for tests). Must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Random source in [0, 1) for jitter (injectable for tests). Default `Math.random`. */
  random?: () => number;
  /** Called after every attempt (metrics, tests). Exceptions it throws are ignored. */
  onAttempt?: (info: UCanPayAttemptInfo) => void;
  /** fetch implementation. Default: the global `fetch` (undici). */
  fetch?: typeof fetch;
}

/** Client defaults (ms) that bound how long one call can take. */
export const CLIENT_DEFAULTS = { timeoutMs: 10_000, maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 30_000 } as const;

/**
 * The longest one client call can run: every attempt times out, and before
 * each retry the client waits the longest it ever waits (a `Retry-After` up
 * to `maxRetryAfterMs`, or the backoff cap). An idempotency claim held across
 * the call must last at least this long (see src/config.ts).
 */
export function longestCallMs(options: Pick<UCanPayClientOptions, 'timeoutMs' | 'maxAttempts' | 'maxDelayMs' | 'maxRetryAfterMs'>): number {
  const timeoutMs = options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs;
  const maxAttempts = options.maxAttempts ?? CLIENT_DEFAULTS.maxAttempts;
  const wait = Math.max(options.maxRetryAfterMs ?? CLIENT_DEFAULTS.maxRetryAfterMs, options.maxDelayMs ?? CLIENT_DEFAULTS.maxDelayMs);
  return maxAttempts * timeoutMs + (maxAttempts - 1) * wait;
}

/** Network error codes (Node/undici) after which a retry may succeed. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `Retry-After` as ms: delta-seconds or an HTTP date; undefined when absent or unusable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Finds a Node/undici error code in an error or its `cause` chain. */
function networkErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function checkPositiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`UCanPayClient: ${name} must be an integer ≥ ${min}`);
  return value;
}

function localInvalid(endpoint: UCanPayEndpoint, message: string): UCanPayError {
  return new UCanPayError({ code: 'INVALID_REQUEST', message: `UCanPay ${endpoint}: ${message}`, retryable: false, attempts: 0, endpoint });
}

interface CallSpec {
  endpoint: UCanPayEndpoint;
  query?: Record<string, string>;
  body?: object;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/**
 * Client of the UCanPay REST API (docs/ucanpay-api.md).
 *
 * Every method returns the domain object or throws a {@link UCanPayError}
 * (`attempts` tells how many HTTP attempts were made). A call aborted through
 * its `signal` rejects with the signal's reason instead.
 *
 * Retries: `RATE_LIMITED` (429, waiting `Retry-After`), `PROVIDER_ERROR`,
 * `SERVICE_UNAVAILABLE`, `GATEWAY_TIMEOUT`, unknown 5xx, timeouts and
 * connection failures, up to `maxAttempts` attempts, with exponential backoff
 * and full jitter, resending the same `Idempotency-Key`. Other 4xx answers
 * and malformed success answers are never retried.
 */
export class UCanPayClient {
  private readonly baseUrl: string;
  private readonly merchantId: string;
  private readonly secretKey: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly logger?: UCanPayLogger;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly onAttempt?: (info: UCanPayAttemptInfo) => void;
  private readonly fetchImpl: typeof fetch;

  constructor(options: UCanPayClientOptions) {
    if (!options.baseUrl) throw new TypeError('UCanPayClient: baseUrl is required');
    if (!options.merchantId) throw new TypeError('UCanPayClient: merchantId is required');
    if (!options.secretKey) throw new TypeError('UCanPayClient: secretKey is required');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.merchantId = options.merchantId;
    this.secretKey = options.secretKey;
    this.timeoutMs = checkPositiveInt('timeoutMs', options.timeoutMs ?? 10_000, 1);
    this.maxAttempts = checkPositiveInt('maxAttempts', options.maxAttempts ?? 4, 1);
    this.baseDelayMs = checkPositiveInt('baseDelayMs', options.baseDelayMs ?? 200, 0);
    this.maxDelayMs = checkPositiveInt('maxDelayMs', options.maxDelayMs ?? 5_000, 0);
    this.maxRetryAfterMs = checkPositiveInt('maxRetryAfterMs', options.maxRetryAfterMs ?? 30_000, 0);
    this.logger = options.logger;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.onAttempt = options.onAttempt;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  // -------------------------------------------------------------------------
  // Payments
  // -------------------------------------------------------------------------

  /** `POST /payment/unifiedorder`: creates a PENDING order; redirect the customer to `payUrl`. */
  async createOrder(input: CreateOrderInput, options: MutationOptions): Promise<UCanPayOrder> {
    const endpoint = 'POST /payment/unifiedorder';
    const body = toCreateOrderRequest(this.merchantId, input);
    return this.call({ endpoint, body, ...this.mutation(endpoint, options) }, (json) =>
      // The create answer may omit the terms; fill them from the request (the answer wins).
      toOrder(isObject(json) ? { amount: body.amount, currency: body.currency, description: body.description, metadata: body.metadata, ...json } : json),
    );
  }

  /** `GET /payment/status`: an order by UCanPay id or by the merchant's order number. */
  async getOrder(query: GetOrderQuery, options: QueryOptions = {}): Promise<UCanPayOrder> {
    const endpoint = 'GET /payment/status';
    const params = pickOne(endpoint, query, [
      ['orderId', 'order_id'],
      ['outTradeNo', 'out_trade_no'],
    ]);
    return this.call({ endpoint, query: params, signal: options.signal }, toOrder);
  }

  // -------------------------------------------------------------------------
  // Refunds
  // -------------------------------------------------------------------------

  /** `POST /payment/refund`: starts a refund (status PROCESSING). */
  async createRefund(input: CreateRefundInput, options: MutationOptions): Promise<UCanPayRefund> {
    const endpoint = 'POST /payment/refund';
    const body = toCreateRefundRequest(this.merchantId, input);
    return this.call({ endpoint, body, ...this.mutation(endpoint, options) }, (json) => toRefund(isObject(json) ? { reason: body.reason, ...json } : json));
  }

  /** `GET /payment/refund/status`: a refund by UCanPay id or by the merchant's refund number. */
  async getRefund(query: GetRefundQuery, options: QueryOptions = {}): Promise<UCanPayRefund> {
    const endpoint = 'GET /payment/refund/status';
    const params = pickOne(endpoint, query, [
      ['refundId', 'refund_id'],
      ['outRefundNo', 'out_refund_no'],
    ]);
    return this.call({ endpoint, query: params, signal: options.signal }, toRefund);
  }

  // -------------------------------------------------------------------------
  // Subscriptions
  // -------------------------------------------------------------------------

  /** `POST /subscriptions/create`: status PENDING_AUTHORIZATION; the customer authorizes at `payUrl`. */
  async createSubscription(input: CreateSubscriptionInput, options: MutationOptions): Promise<UCanPaySubscription> {
    const endpoint = 'POST /subscriptions/create';
    const body = toCreateSubscriptionRequest(this.merchantId, input);
    const { merchant_id: _merchant, notify_url: _notify, return_url: _return, ...terms } = body;
    return this.call({ endpoint, body, ...this.mutation(endpoint, options) }, (json) => toSubscription(isObject(json) ? { ...terms, ...json } : json));
  }

  /** `POST /subscriptions/update`: new terms, effective from the next period. */
  async updateSubscription(input: UpdateSubscriptionInput, options: MutationOptions): Promise<UCanPaySubscription> {
    const endpoint = 'POST /subscriptions/update';
    if (!input.subscriptionId) throw localInvalid(endpoint, 'subscriptionId is required');
    const body = toUpdateSubscriptionRequest(this.merchantId, input);
    return this.call({ endpoint, body, ...this.mutation(endpoint, options) }, toSubscription);
  }

  /** `POST /subscriptions/cancel`: now, or at the end of the current period. */
  async cancelSubscription(input: CancelSubscriptionInput, options: MutationOptions): Promise<UCanPaySubscription> {
    const endpoint = 'POST /subscriptions/cancel';
    if (!input.subscriptionId) throw localInvalid(endpoint, 'subscriptionId is required');
    const body = toCancelSubscriptionRequest(this.merchantId, input);
    return this.call({ endpoint, body, ...this.mutation(endpoint, options) }, toSubscription);
  }

  /** `GET /subscriptions/status`: the subscription with its renewal charges. */
  async getSubscription(query: GetSubscriptionQuery, options: QueryOptions = {}): Promise<UCanPaySubscription> {
    const endpoint = 'GET /subscriptions/status';
    const params = pickOne(endpoint, query, [['subscriptionId', 'subscription_id']]);
    return this.call({ endpoint, query: params, signal: options.signal }, toSubscription);
  }

  // -------------------------------------------------------------------------
  // Transport
  // -------------------------------------------------------------------------

  private mutation(endpoint: UCanPayEndpoint, options: MutationOptions | undefined): { idempotencyKey: string; signal?: AbortSignal } {
    const key = options?.idempotencyKey;
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
      throw localInvalid(endpoint, 'an idempotencyKey of 1 to 255 characters is required');
    }
    // An HTTP header value: printable ASCII only (no control characters, no non-ASCII).
    if (!/^[\x20-\x7e]+$/.test(key)) throw localInvalid(endpoint, 'idempotencyKey must be printable ASCII');
    return { idempotencyKey: key, signal: options?.signal };
  }

  /** Runs the attempts of one call and maps the success body. */
  private async call<T>(spec: CallSpec, map: (json: unknown) => T): Promise<T> {
    const { endpoint, signal } = spec;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw signal.reason;
      const started = Date.now();
      let error: UCanPayError;
      try {
        const { status, json } = await this.attemptOnce(spec);
        let value: T;
        try {
          value = map(json);
        } catch (err) {
          throw err instanceof UCanPayError
            ? new UCanPayError({ code: err.code, message: err.message, retryable: false, httpStatus: status, attempts: attempt, endpoint })
            : err;
        }
        this.report({
          endpoint,
          attempt,
          maxAttempts: this.maxAttempts,
          idempotencyKey: spec.idempotencyKey,
          ok: true,
          durationMs: Date.now() - started,
          httpStatus: status,
          willRetry: false,
        });
        return value;
      } catch (err) {
        if (!(err instanceof UCanPayError)) throw err; // caller abort or a bug: not ours to retry
        error = err;
      }

      let delayMs: number | undefined;
      let willRetry = error.retryable && attempt < this.maxAttempts;
      if (willRetry) {
        const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        const backoff = Math.floor(this.random() * cap);
        if (error.retryAfterMs !== undefined && error.retryAfterMs > this.maxRetryAfterMs) {
          willRetry = false; // the provider asks for more patience than a call may have
        } else {
          delayMs = Math.max(error.retryAfterMs ?? 0, backoff);
        }
      }
      this.report({
        endpoint,
        attempt,
        maxAttempts: this.maxAttempts,
        idempotencyKey: spec.idempotencyKey,
        ok: false,
        durationMs: Date.now() - started,
        httpStatus: error.httpStatus,
        code: error.code,
        retryable: error.retryable,
        willRetry,
        delayMs,
      });
      if (!willRetry || delayMs === undefined) {
        const suffix = error.retryable && attempt > 1 ? ` (gave up after ${attempt} attempts)` : '';
        throw new UCanPayError({
          code: error.code,
          message: `${error.message}${suffix}`,
          retryable: error.retryable,
          httpStatus: error.httpStatus,
          retryAfterMs: error.retryAfterMs,
          attempts: attempt,
          providerCode: error.providerCode,
          endpoint,
          cause: error.cause,
        });
      }
      this.logger?.warn(
        {
          ucanpay: {
            endpoint,
            attempt,
            maxAttempts: this.maxAttempts,
            code: error.code,
            httpStatus: error.httpStatus,
            retryAfterMs: error.retryAfterMs,
            delayMs,
            idempotencyKey: spec.idempotencyKey,
          },
        },
        `UCanPay ${endpoint} attempt ${attempt}/${this.maxAttempts} failed with ${error.code}; retrying in ${delayMs} ms`,
      );
      await this.sleep(delayMs, signal);
    }
  }

  private report(info: UCanPayAttemptInfo): void {
    if (!this.onAttempt) return;
    try {
      this.onAttempt(info);
    } catch {
      // metrics must never break a payment call
    }
  }

  /** One HTTP attempt: resolves with a 2xx answer's JSON, throws a classified UCanPayError otherwise. */
  private async attemptOnce(spec: CallSpec): Promise<{ status: number; json: unknown }> {
    const { endpoint, query, body, idempotencyKey, signal } = spec;
    const [method, path] = endpoint.split(' ') as [string, string];
    const url = `${this.baseUrl}${path}${query ? `?${new URLSearchParams(query).toString()}` : ''}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.secretKey}`,
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const onCallerAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });

    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await this.fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        redirect: 'error',
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) {
        throw new UCanPayError({
          code: 'TIMEOUT',
          retryable: true,
          endpoint,
          message: `UCanPay ${endpoint}: no complete answer within ${this.timeoutMs} ms`,
        });
      }
      const code = networkErrorCode(err);
      const retryable = code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
      throw new UCanPayError({
        code: 'NETWORK_ERROR',
        retryable,
        endpoint,
        cause: err,
        message: `UCanPay ${endpoint}: network error${code ? ` (${code})` : ''}`,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }

    let json: unknown;
    let parsed = true;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = false;
    }

    if (status >= 200 && status < 300) {
      if (!parsed || json === undefined) {
        throw new UCanPayError({
          code: 'INVALID_RESPONSE',
          retryable: false,
          httpStatus: status,
          endpoint,
          message: `UCanPay ${endpoint}: the success answer is not JSON`,
        });
      }
      return { status, json };
    }
    throw this.httpError(endpoint, status, parsed ? json : undefined, retryAfter);
  }

  /** Classifies an error answer: the contract table for known codes, the HTTP status otherwise. */
  private httpError(endpoint: UCanPayEndpoint, status: number, json: unknown, retryAfterHeader: string | null): UCanPayError {
    const body = parseErrorBody(json);
    const retryAfterMs = parseRetryAfter(retryAfterHeader);
    let code: UCanPayErrorCode;
    let retryable: boolean;
    let providerCode: string | undefined;
    if (body && isContractErrorCode(body.code)) {
      code = body.code;
      retryable = UCANPAY_ERROR_TABLE[body.code].retryable;
    } else {
      code = body ? 'UNKNOWN_ERROR' : codeForHttpStatus(status);
      retryable = isRetryableHttpStatus(status);
      if (body) providerCode = sanitizeCode(body.code);
    }
    const detail = body?.message ? `: ${this.sanitizeMessage(body.message)}` : '';
    const shown = providerCode ?? code;
    return new UCanPayError({
      code,
      retryable,
      httpStatus: status,
      retryAfterMs,
      providerCode,
      endpoint,
      message: `UCanPay ${endpoint} failed with ${shown} (HTTP ${status})${detail}`,
    });
  }

  /** The provider's message, made safe to log: one line, bounded, never containing the secret key. */
  private sanitizeMessage(message: string): string {
    let safe = message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
    if (this.secretKey) safe = safe.split(this.secretKey).join('[redacted]');
    safe = safe.replace(/\b(sk|whsec)_[A-Za-z0-9_]{6,}/g, '[redacted]');
    return safe.length > 300 ? `${safe.slice(0, 300)}…` : safe;
  }
}

function sanitizeCode(code: string): string {
  const cleaned = code.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 64);
  return cleaned || 'UNKNOWN';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Exactly one of the given lookup fields, as query parameters. */
function pickOne(endpoint: UCanPayEndpoint, query: object, fields: [string, string][]): Record<string, string> {
  const given = fields.filter(([name]) => {
    const v = (query as Record<string, unknown>)[name];
    return v !== undefined && v !== null;
  });
  const names = fields.map(([name]) => name).join(' or ');
  if (given.length !== 1) throw localInvalid(endpoint, `exactly one of ${names} is required`);
  const [name, wireName] = given[0]!;
  const value = (query as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.length === 0) throw localInvalid(endpoint, `${name} must be a non-empty string`);
  return { [wireName]: value };
}
