import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../api/errors/error-code.enum';
import { THROWN_ERROR_CODES } from '../domain/errors';
import type { GatewayMetrics } from './metrics';

/** Typed result codes (the schema's ErrorCode enum), the only outcome labels besides `ok` and thrown codes. */
export interface OutcomeCodes {
  typed: ReadonlySet<string>;
  thrown: ReadonlySet<string>;
}

/** The schema's typed result codes and the table of thrown codes. */
export function outcomeCodes(): OutcomeCodes {
  return { typed: new Set<string>(Object.values(ErrorCode)), thrown: new Set<string>(Object.keys(THROWN_ERROR_CODES)) };
}

const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** `IdempotencyConflictError` → IDEMPOTENCY_CONFLICT, `ProviderError` → PROVIDER_ERROR; anything else → undefined. */
export function typedResultCode(typename: unknown, codes: ReadonlySet<string>): string | undefined {
  if (typeof typename !== 'string' || !typename.endsWith('Error')) return undefined;
  const short = snake(typename.slice(0, -'Error'.length));
  if (codes.has(short)) return short;
  const full = snake(typename);
  return codes.has(full) ? full : undefined;
}

/**
 * Counts every GraphQL operation over HTTP with its latency and outcome: the
 * first error's `extensions.code` when the response has errors, else the
 * typed error result's code when a root field returned one (read from its
 * `code`, or from its `__typename`), else `ok`.
 */
export function metricsPlugin(metrics: GatewayMetrics, known: ReadonlySet<string>, codes: OutcomeCodes): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ response, operation, operationName }) {
          const type = operation?.operation ?? 'unknown';
          const name = operationName && known.has(operationName) ? operationName : 'other';
          let outcome = 'ok';
          const body = response.body;
          if (body.kind === 'single') {
            const error = body.singleResult.errors?.[0];
            if (error) {
              const code = error.extensions?.code;
              outcome = typeof code === 'string' && codes.thrown.has(code) ? code : 'INTERNAL_SERVER_ERROR';
            } else if (body.singleResult.data) {
              for (const value of Object.values(body.singleResult.data)) {
                if (!value || typeof value !== 'object') continue;
                const record = value as Record<string, unknown>;
                const code = typeof record.code === 'string' && codes.typed.has(record.code) ? record.code : typedResultCode(record.__typename, codes.typed);
                if (code) {
                  outcome = code;
                  break;
                }
              }
            }
          }
          if (outcome === 'RATE_LIMITED') metrics.rateLimited.inc();
          metrics.graphqlOperations.inc({ type, name, outcome });
          metrics.graphqlDuration.observe({ type, name }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}
