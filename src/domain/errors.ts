/**
 * THE table of thrown `extensions.code` values: everything that is not a
 * typed business result (those are the `ErrorCode` enum of
 * src/api/errors/error-code.enum.ts). `retryable` tells a client whether
 * sending the same request again (same idempotency key) may succeed.
 * docs/errors.md explains each one; a test keeps the two in step.
 *
 * The first seven are produced by Apollo / the HTTP layer before any resolver
 * runs; the rest are thrown as {@link GatewayError}s by the services.
 */
export const THROWN_ERROR_CODES = {
  /** The query is not GraphQL, or has more tokens than allowed. */
  GRAPHQL_PARSE_FAILED: { retryable: false },
  /** The query does not fit the schema or exceeds a depth/alias/cost/directive limit. */
  GRAPHQL_VALIDATION_FAILED: { retryable: false },
  /** The HTTP request itself is malformed: not JSON, too large, batched, or blocked by CSRF prevention. */
  BAD_REQUEST: { retryable: false },
  /** `operationName` names no operation of the document. */
  OPERATION_RESOLUTION_FAILURE: { retryable: false },
  /** An automatic persisted query hash this instance does not hold (any more): send it again with the full query. */
  PERSISTED_QUERY_NOT_FOUND: { retryable: false },
  /** A `documentId` that is not in the gateway's trusted-documents manifests (docs/operations.md#trusted-documents). */
  TRUSTED_DOCUMENT_NOT_FOUND: { retryable: false },
  /** A raw document where the TRUSTED_DOCUMENTS policy allows only trusted ones (by `documentId`). Nothing ran. */
  TRUSTED_DOCUMENT_REQUIRED: { retryable: false },
  BAD_USER_INPUT: { retryable: false },
  UNAUTHENTICATED: { retryable: false },
  FORBIDDEN: { retryable: false },
  NOT_FOUND: { retryable: false },
  IDEMPOTENCY_KEY_IN_USE: { retryable: true },
  RATE_LIMITED: { retryable: true },
  PROVIDER_UNAVAILABLE: { retryable: true },
  /** UCanPay refused a read (e.g. `refresh: true`) that has no typed result to carry it. */
  PROVIDER_ERROR: { retryable: false },
  /** SQLite: another connection held the database's write lock for longer than SQLITE_BUSY_TIMEOUT_MS. Nothing of the request was written. */
  DATABASE_BUSY: { retryable: true },
  /** This instance is draining (SIGTERM): a request that reached it on an open connection is answered 503; retry, another instance answers. */
  SHUTTING_DOWN: { retryable: true },
  INTERNAL_SERVER_ERROR: { retryable: true },
  /** graphql-ws: a connection or principal already holds its limit of active subscriptions (docs/errors.md#limits). */
  SUBSCRIPTION_LIMIT_REACHED: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type ThrownErrorCode = keyof typeof THROWN_ERROR_CODES;

export function isThrownErrorCode(code: unknown): code is ThrownErrorCode {
  return typeof code === 'string' && Object.hasOwn(THROWN_ERROR_CODES, code);
}

export interface GatewayErrorDetails {
  field?: string;
  /** Seconds to wait before retrying (RATE_LIMITED, IDEMPOTENCY_KEY_IN_USE, PROVIDER_UNAVAILABLE). */
  retryAfterSeconds?: number;
  /** The UCanPay error code behind a PROVIDER_* error. */
  providerCode?: string;
}

export class GatewayError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly code: ThrownErrorCode,
    message: string,
    readonly details: GatewayErrorDetails = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.retryable = THROWN_ERROR_CODES[code].retryable;
  }
}

/** Bad input, naming the field: `invalidInput('input.amount', 'must be greater than zero')` → "input.amount must be greater than zero". */
export function invalidInput(field: string, problem: string): GatewayError {
  return new GatewayError('BAD_USER_INPUT', `${field} ${problem}`, { field });
}

export function notFound(what: string, id: string): GatewayError {
  return new GatewayError('NOT_FOUND', `No ${what} with id "${id}" exists for these credentials`);
}

/**
 * The gateway codes a failed UCanPay call can become (which UCanPay code
 * becomes which: `UCANPAY_ERROR_MAP` in src/services/provider-facts.ts):
 * - `PROVIDER_UNAVAILABLE` (thrown, retryable): UCanPay did not answer
 *   usefully after the client's retries. Nothing is recorded as failed and
 *   the idempotency key is released, so the caller's retry resumes.
 * - `PROVIDER_ERROR`: UCanPay refused for a reason retrying will not fix.
 *   A mutation returns the typed `ProviderError` result (stored as that
 *   request's final outcome); a read throws `PROVIDER_ERROR`.
 * - `INTERNAL_SERVER_ERROR` (thrown, retryable, logged): the gateway's own
 *   setup or a bug (its UCanPay credentials rejected, its own idempotency key
 *   conflicting, an answer it cannot read). Nothing is recorded as failed:
 *   UCanPay may have acted, so reconciliation settles the outcome.
 */
export type ProviderErrorTarget = 'PROVIDER_UNAVAILABLE' | 'PROVIDER_ERROR' | 'INTERNAL_SERVER_ERROR';

/** How a failed UCanPay call ends the operation that made it. */
export type ProviderFailure =
  /** UCanPay refused: mutations answer with the typed ProviderError and record it. */
  | { kind: 'refused'; providerCode: string; message: string; error: GatewayError }
  /** Throw `error`; nothing is recorded as failed and the idempotency key is released. */
  | { kind: 'thrown'; error: GatewayError };
