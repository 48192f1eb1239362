/**
 * Provider errors: `{ "error": { "code", "message" } }` with the contract's
 * HTTP status. `INVALID_REQUEST` also carries `field` (an addition).
 */

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'AUTHENTICATION_FAILED'
  | 'PERMISSION_DENIED'
  | 'ORDER_NOT_FOUND'
  | 'REFUND_NOT_FOUND'
  | 'SUBSCRIPTION_NOT_FOUND'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
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

/** The contract's HTTP status of each code (502 and 503 both use SERVICE_UNAVAILABLE). */
export const STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  INVALID_REQUEST: 400,
  AUTHENTICATION_FAILED: 401,
  PERMISSION_DENIED: 403,
  ORDER_NOT_FOUND: 404,
  REFUND_NOT_FOUND: 404,
  SUBSCRIPTION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  ORDER_CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  ORDER_CLOSED: 409,
  ORDER_ALREADY_PAID: 409,
  PAYMENT_NOT_PAID: 422,
  REFUND_EXCEEDS_PAYMENT: 422,
  CARD_DECLINED: 422,
  INSUFFICIENT_FUNDS: 422,
  RATE_LIMITED: 429,
  PROVIDER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
};

/** The code a bare HTTP status maps to (used by fault rules that give only `status`). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'INVALID_REQUEST';
    case 401:
      return 'AUTHENTICATION_FAILED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'ORDER_NOT_FOUND';
    case 409:
      return 'ORDER_CONFLICT';
    case 422:
      return 'CARD_DECLINED';
    case 429:
      return 'RATE_LIMITED';
    case 502:
    case 503:
      return 'SERVICE_UNAVAILABLE';
    case 504:
      return 'GATEWAY_TIMEOUT';
    default:
      return 'PROVIDER_ERROR';
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): { error: { code: string; message: string; field?: string } } {
    const error: { code: string; message: string; field?: string } = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    return { error };
  }
}

export function apiError(code: ErrorCode, message: string): ApiError {
  return new ApiError(STATUS_OF_CODE[code], code, message);
}

/** 400 INVALID_REQUEST naming the field: message is "<field> <problem>". */
export function invalid(field: string, problem: string): ApiError {
  return new ApiError(400, 'INVALID_REQUEST', `${field} ${problem}`, field);
}

/** A bug or broken invariant inside the sandbox: answered as 500 PROVIDER_ERROR. */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}
