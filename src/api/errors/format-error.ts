import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isDatabaseBusy } from '../../domain/driver-errors';
import { GatewayError, THROWN_ERROR_CODES, isThrownErrorCode, type ThrownErrorCode } from '../../domain/errors';

/** What an error leaving the gateway is, decided in one place (format and log alike). */
export type ErrorClass =
  | { kind: 'gateway'; error: GatewayError }
  /** Apollo/graphql-js rejected the request before or while reading it (parse, validation, variables). */
  | { kind: 'request'; code: ThrownErrorCode }
  | { kind: 'internal'; error: unknown };

/** The innermost error: resolver wrappers and GraphQLErrors wrapping an originalError are peeled off. */
function innermost(error: unknown): unknown {
  let current = unwrapResolverError(error);
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}

export function classifyError(error: unknown): ErrorClass {
  const original = innermost(error);
  if (original instanceof GatewayError) return { kind: 'gateway', error: original };
  if (isDatabaseBusy(original)) {
    return {
      kind: 'gateway',
      error: new GatewayError(
        'DATABASE_BUSY',
        'The database was locked by another connection for longer than its busy timeout; nothing was written. Retry with the same idempotency key.',
      ),
    };
  }
  const outer = error instanceof GraphQLError ? error : undefined;
  const code = outer?.extensions?.code ?? (original instanceof GraphQLError ? original.extensions?.code : undefined);
  if (isThrownErrorCode(code) && code !== 'INTERNAL_SERVER_ERROR' && !(original instanceof Error && !(original instanceof GraphQLError))) {
    return { kind: 'request', code };
  }
  if (original instanceof GraphQLError && code === undefined) {
    // graphql-js's own errors carry no code. Without a path they are about the
    // request (e.g. a variable); with one, only argument coercion is the
    // caller's fault — anything else (a non-null field resolving to null…) is ours.
    const path = outer?.path ?? original.path;
    if (!path || /^Argument "/.test(original.message)) return { kind: 'request', code: 'BAD_USER_INPUT' };
  }
  return { kind: 'internal', error: original };
}

/** Apollo prefixes graphql-armor's limit messages with "Syntax Error:", which they are not. */
function cleanRequestMessage(message: string): string {
  return message.replace(/^Syntax Error: (?=.*(limit|exceeded))/i, '');
}

/**
 * graphql-js's suggestions ("Did you mean "amount"?", "Did you mean the enum
 * value "PAID" or "FAILED"?") name fields, arguments, input fields, enum
 * values and types of the schema: in production, where introspection is off,
 * they would map it piece by piece. Names never contain "?", so the
 * suggestion ends at the first one.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^?]*\?/g, '');
}

/**
 * Every error leaving the gateway has a stable `extensions.code` from
 * THROWN_ERROR_CODES and its `retryable` flag (the request id is added by the
 * Apollo plugin). Anything unexpected becomes INTERNAL_SERVER_ERROR: in
 * production with a fixed message and no stack, SQL, path or provider
 * payload, and no suggestion of a name in the schema; the full error is
 * logged by the caller with the request id.
 */
export function createFormatError(options: { production: boolean }) {
  const format = formatterFor(options);
  if (!options.production) return format;
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = format(formatted, error);
    return { ...result, message: withoutSuggestions(result.message) };
  };
}

function formatterFor(options: { production: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const verdict = classifyError(error);
    const at = { ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
    if (verdict.kind === 'gateway') {
      const { code, retryable, details, message } = verdict.error;
      return {
        message,
        ...at,
        extensions: {
          code,
          retryable,
          ...(details.field ? { field: details.field } : {}),
          ...(details.retryAfterSeconds ? { retryAfterSeconds: details.retryAfterSeconds } : {}),
          ...(details.providerCode ? { providerCode: details.providerCode } : {}),
        },
      };
    }
    if (verdict.kind === 'request') {
      return {
        message: cleanRequestMessage(formatted.message),
        ...at,
        extensions: { code: verdict.code, retryable: THROWN_ERROR_CODES[verdict.code].retryable },
      };
    }
    const detail = verdict.error instanceof Error ? verdict.error.message : 'unknown';
    return {
      message: options.production
        ? "Internal server error. It was logged with this response's extensions.requestId; retry, and quote the requestId if it persists."
        : `Internal server error: ${detail}`,
      ...at,
      extensions: { code: 'INTERNAL_SERVER_ERROR', retryable: true },
    };
  };
}
