/**
 * Typed errors of the UCanPay client.
 *
 * Every failure the client can surface — a provider error answer, a network
 * failure, a timeout, or a response the client could not understand — is a
 * {@link UCanPayError}. Raw HTTP details (bodies, headers) never escape: the
 * error carries only the classified code, whether a retry may help, the HTTP
 * status (when there was one) and a short human message.
 */

/** Error codes defined by the UCanPay contract (docs/ucanpay-api.md, Workflow 4). */
export type UCanPayContractErrorCode =
  | 'INVALID_REQUEST'
  | 'AUTHENTICATION_FAILED'
  | 'PERMISSION_DENIED'
  | 'ORDER_NOT_FOUND'
  | 'REFUND_NOT_FOUND'
  | 'SUBSCRIPTION_NOT_FOUND'
  | 'ORDER_CONFLICT'
  | 'IDEMPOTENCY_CONFLICT'
  | 'ORDER_CLOSED'
  | 'ORDER_ALREADY_PAID'
  | 'PAYMENT_NOT_PAID'
  | 'REFUND_EXCEEDS_PAYMENT'
  | 'CARD_DECLINED'
  | 'INSUFFICIENT_FUNDS'
  | 'RATE_LIMITED'
  | 'PROVIDER_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | 'GATEWAY_TIMEOUT';

/**
 * Every code a {@link UCanPayError} can carry: the contract codes plus the
 * client-side ones.
 * - `NETWORK_ERROR`: no HTTP answer (connection refused/reset, socket closed, DNS…).
 * - `TIMEOUT`: an attempt took longer than `timeoutMs`.
 * - `INVALID_RESPONSE`: a success answer (or webhook payload) that is not the
 *   shape the contract promises.
 * - `UNKNOWN_ERROR`: an error answer with a code the contract does not define;
 *   retryable when the HTTP status is 5xx (or 429), not otherwise.
 */
export type UCanPayErrorCode = UCanPayContractErrorCode | 'NETWORK_ERROR' | 'TIMEOUT' | 'INVALID_RESPONSE' | 'UNKNOWN_ERROR';

/**
 * THE table: each contract code → its HTTP status and whether a retry (with
 * the same Idempotency-Key) may succeed. `SERVICE_UNAVAILABLE` and
 * `GATEWAY_TIMEOUT` may arrive with 502, 503 or 504; the status given here is
 * the canonical one.
 */
export const UCANPAY_ERROR_TABLE: Readonly<Record<UCanPayContractErrorCode, { readonly httpStatus: number; readonly retryable: boolean }>> = {
  INVALID_REQUEST: { httpStatus: 400, retryable: false },
  AUTHENTICATION_FAILED: { httpStatus: 401, retryable: false },
  PERMISSION_DENIED: { httpStatus: 403, retryable: false },
  ORDER_NOT_FOUND: { httpStatus: 404, retryable: false },
  REFUND_NOT_FOUND: { httpStatus: 404, retryable: false },
  SUBSCRIPTION_NOT_FOUND: { httpStatus: 404, retryable: false },
  ORDER_CONFLICT: { httpStatus: 409, retryable: false },
  IDEMPOTENCY_CONFLICT: { httpStatus: 409, retryable: false },
  ORDER_CLOSED: { httpStatus: 409, retryable: false },
  ORDER_ALREADY_PAID: { httpStatus: 409, retryable: false },
  PAYMENT_NOT_PAID: { httpStatus: 422, retryable: false },
  REFUND_EXCEEDS_PAYMENT: { httpStatus: 422, retryable: false },
  CARD_DECLINED: { httpStatus: 422, retryable: false },
  INSUFFICIENT_FUNDS: { httpStatus: 422, retryable: false },
  RATE_LIMITED: { httpStatus: 429, retryable: true },
  PROVIDER_ERROR: { httpStatus: 500, retryable: true },
  SERVICE_UNAVAILABLE: { httpStatus: 503, retryable: true },
  GATEWAY_TIMEOUT: { httpStatus: 504, retryable: true },
};

/** True when `code` is one of the contract's error codes. */
export function isContractErrorCode(code: unknown): code is UCanPayContractErrorCode {
  return typeof code === 'string' && Object.hasOwn(UCANPAY_ERROR_TABLE, code);
}

/** Whether an HTTP status is worth retrying when the answer carries no known code. */
export function isRetryableHttpStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The code used for an error answer whose body could not be read as a
 * contract error (e.g. an HTML page from a proxy): the status's canonical
 * contract code when it has exactly one, otherwise `UNKNOWN_ERROR`.
 */
export function codeForHttpStatus(status: number): UCanPayErrorCode {
  switch (status) {
    case 400:
      return 'INVALID_REQUEST';
    case 401:
      return 'AUTHENTICATION_FAILED';
    case 403:
      return 'PERMISSION_DENIED';
    case 429:
      return 'RATE_LIMITED';
    case 500:
      return 'PROVIDER_ERROR';
    case 502:
    case 503:
      return 'SERVICE_UNAVAILABLE';
    case 504:
      return 'GATEWAY_TIMEOUT';
    default:
      return 'UNKNOWN_ERROR';
  }
}

/** Fields of a {@link UCanPayError}. */
export interface UCanPayErrorInit {
  code: UCanPayErrorCode;
  message: string;
  retryable: boolean;
  httpStatus?: number;
  retryAfterMs?: number;
  attempts?: number;
  /** The provider's own code when it is not one of the contract's (see `UNKNOWN_ERROR`). */
  providerCode?: string;
  /** The endpoint, e.g. `POST /payment/unifiedorder`. */
  endpoint?: string;
  cause?: unknown;
}

/**
 * An error from the UCanPay client. `retryable` tells whether trying again
 * with the same Idempotency-Key may succeed; the client has already retried
 * up to its `maxAttempts` before throwing a retryable error.
 */
export class UCanPayError extends Error {
  /** Classified error code (contract code or client-side code). */
  readonly code: UCanPayErrorCode;
  /** Whether the same call (same Idempotency-Key) may succeed later. */
  readonly retryable: boolean;
  /** HTTP status of the last answer, absent for network errors and timeouts. */
  readonly httpStatus?: number;
  /** Delay the provider asked for (`Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /** How many HTTP attempts were made (0 when the call was rejected before sending). */
  readonly attempts: number;
  /** The provider's code when it is not a contract code. */
  readonly providerCode?: string;
  /** `"<METHOD> <path>"` of the call, when the error comes from a call. */
  readonly endpoint?: string;

  constructor(init: UCanPayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'UCanPayError';
    this.code = init.code;
    this.retryable = init.retryable;
    this.httpStatus = init.httpStatus;
    this.retryAfterMs = init.retryAfterMs;
    this.attempts = init.attempts ?? 0;
    this.providerCode = init.providerCode;
    this.endpoint = init.endpoint;
  }

  /** A copy of this error with another attempt count (the client stamps the final count). */
  withAttempts(attempts: number): UCanPayError {
    return new UCanPayError({
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      httpStatus: this.httpStatus,
      retryAfterMs: this.retryAfterMs,
      attempts,
      providerCode: this.providerCode,
      endpoint: this.endpoint,
      cause: this.cause,
    });
  }

  /** A plain, log-safe view (no stack, no cause). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      httpStatus: this.httpStatus,
      retryAfterMs: this.retryAfterMs,
      attempts: this.attempts,
      providerCode: this.providerCode,
      endpoint: this.endpoint,
    };
  }
}

/** A malformed provider payload (used by the wire mappers). */
export function invalidResponse(message: string, endpoint?: string): UCanPayError {
  return new UCanPayError({ code: 'INVALID_RESPONSE', message, retryable: false, endpoint });
}
