/**
 * Errors the services throw for outcomes that are not business results:
 * bad input, auth, missing objects, provider outages, internal faults.
 * The GraphQL layer turns each into a GraphQLError with `extensions.code`
 * and `extensions.retryable` (see src/api/errors/format-error.ts).
 */
export const THROWN_ERROR_CODES = {
  BAD_USER_INPUT: { retryable: false, http: 200 },
  UNAUTHENTICATED: { retryable: false, http: 200 },
  FORBIDDEN: { retryable: false, http: 200 },
  NOT_FOUND: { retryable: false, http: 200 },
  IDEMPOTENCY_KEY_IN_USE: { retryable: true, http: 200 },
  RATE_LIMITED: { retryable: true, http: 200 },
  PROVIDER_UNAVAILABLE: { retryable: true, http: 200 },
  INTERNAL_SERVER_ERROR: { retryable: true, http: 200 },
} as const;

export type ThrownErrorCode = keyof typeof THROWN_ERROR_CODES;

export class GatewayError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly code: ThrownErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.retryable = THROWN_ERROR_CODES[code].retryable;
  }
}

/** Bad input, naming the field: `invalid(\`input.amount\`, 'must be greater than zero')`. */
export function invalidInput(field: string, problem: string): GatewayError {
  return new GatewayError('BAD_USER_INPUT', `${field} ${problem}`, { field });
}

export function notFound(what: string, id: string): GatewayError {
  return new GatewayError('NOT_FOUND', `No ${what} with id "${id}" exists for these credentials`);
}
