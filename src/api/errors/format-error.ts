import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { GatewayError } from '../../domain/errors';

/** Apollo's own codes for requests that never reached a resolver; none is worth retrying unchanged. */
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/**
 * Every error leaving the gateway has a stable `extensions.code`, a
 * `retryable` flag and the request id. Anything unexpected becomes
 * INTERNAL_SERVER_ERROR with no stack, SQL or path; it is logged in full.
 */
export function createFormatError(options: {
  production: boolean;
  onInternal: (error: unknown, formatted: GraphQLFormattedError) => void;
}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: {
          code: original.code,
          retryable: original.retryable,
          ...(original.details.field ? { field: original.details.field } : {}),
          ...(original.details.retryAfterSeconds ? { retryAfterSeconds: original.details.retryAfterSeconds } : {}),
        },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, code, retryable: false } };
    }
    if (original instanceof GraphQLError && !(original.originalError) && formatted.extensions?.code === undefined) {
      // A graphql-js error about the request itself (e.g. a bad variable).
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code: 'BAD_USER_INPUT', retryable: false } };
    }
    options.onInternal(original, formatted);
    return {
      message: options.production ? 'Internal server error' : `Internal server error: ${(original as Error)?.message ?? 'unknown'}`,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', retryable: true },
    };
  };
}
