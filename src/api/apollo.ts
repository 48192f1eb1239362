import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, Kind, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import { bearerToken, type GatewayContext } from './context';
import { classifyError, createFormatError } from './errors/format-error';
import { GatewayError } from '../domain/errors';
import { apolloArmor, GRAPHQL_LIMITS, noIntrospectionRule } from './graphql-limits';
import { MutationRateLimiter } from '../services/rate-limit';

export interface ApolloOptions {
  production: boolean;
  /** Introspection and the Apollo Sandbox landing page. */
  introspection: boolean;
  /** Mutations per API key per minute (token bucket, per instance); 0 = unlimited. */
  mutationsPerMinute?: number;
  /** Instead of `mutationsPerMinute`: a limiter shared by the instances (Redis). */
  mutationLimiter?: MutationRateLimiter;
  /** More plugins (metrics). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
}

/** Root fields an operation runs (through fragments), `__typename` excluded: one mutation each. */
export function countRootFields(selectionSet: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, seen = new Set<string>()): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (!selection.name.value.startsWith('__')) count++;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countRootFields(selection.selectionSet, fragments, seen);
    } else if (!seen.has(selection.name.value) && fragments[selection.name.value]) {
      seen.add(selection.name.value);
      count += countRootFields(fragments[selection.name.value].selectionSet, fragments, seen);
    }
  }
  return count;
}

/**
 * Request id on every error and as the `x-request-id` header; internal
 * errors logged in full with it; one structured access-log line per request;
 * mutations rate limited per API key before anything runs.
 */
function gatewayPlugin(limiter: MutationRateLimiter): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async didResolveOperation({ operation, document, request, contextValue: ctx }) {
          if (operation?.operation === 'subscription') {
            // Apollo would execute it once as a query, with no event: a null for a non-null field.
            throw new GraphQLError('Subscriptions run over graphql-ws: open a WebSocket to this same URL', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          if (operation?.operation !== 'mutation' || ctx.principal?.kind !== 'merchant') return;
          const token = bearerToken(request.http?.headers.get('authorization'));
          if (!token) return;
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const definition of document.definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
          }
          try {
            await limiter.check(token, countRootFields(operation.selectionSet, fragments));
          } catch (error) {
            if (!(error instanceof GatewayError)) throw error;
            throw new GraphQLError(error.message, {
              originalError: error,
              extensions: { http: { status: 429, headers: new HeaderMap([['retry-after', String(error.details.retryAfterSeconds)]]) } },
            });
          }
        },
        async didEncounterErrors({ errors, contextValue: ctx }) {
          for (const error of errors) {
            const verdict = classifyError(error);
            const internal = verdict.kind === 'internal' || (verdict.kind === 'gateway' && verdict.error.code === 'INTERNAL_SERVER_ERROR');
            if (internal) ctx.log.error({ err: verdict.error, path: error.path }, 'internal error');
          }
        },
        async willSendResponse({ response, contextValue: ctx, operation, operationName, errors }) {
          response.http.headers.set('x-request-id', ctx.requestId);
          const body = response.body;
          if (body.kind === 'single' && body.singleResult.errors) {
            for (const error of body.singleResult.errors) {
              (error as { extensions?: Record<string, unknown> }).extensions = { ...error.extensions, requestId: ctx.requestId };
            }
          }
          const codes = body.kind === 'single' ? body.singleResult.errors?.map((e) => e.extensions?.code) : undefined;
          ctx.log.info(
            {
              operation: operation?.operation,
              operationName: operationName ?? undefined,
              principal: ctx.principal ? { kind: ctx.principal.kind, merchantId: ctx.principal.merchantId } : undefined,
              status: response.http.status ?? 200,
              errors: codes?.length ? codes : errors?.length ? errors.length : undefined,
              ms: Number(process.hrtime.bigint() - started) / 1e6,
            },
            'graphql request',
          );
        },
      };
    },
  };
}

export function createApollo(schema: GraphQLSchema, options: ApolloOptions): ApolloServer<GatewayContext> {
  const armor = apolloArmor();
  const showLandingPage = options.introspection;
  return new ApolloServer<GatewayContext>({
    schema,
    // Apollo's own switch is replaced by noIntrospectionRule, the rule graphql-ws applies too.
    introspection: true,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    persistedQueries: {
      // Automatic persisted queries (docs/clients.md): a document is stored only
      // after it parsed and validated within the limits; per instance and
      // bounded, so an unknown hash (evicted, another instance, a restart) only
      // costs the client one resend with the full text.
      cache: new InMemoryLRUCache<string>({ maxSize: GRAPHQL_LIMITS.apqCacheBytes }),
    },
    includeStacktraceInErrorResponses: false,
    // Suggestions are removed by formatError in production; graphql-js's token cap gives a clean 400.
    parseOptions: { maxTokens: GRAPHQL_LIMITS.maxTokens },
    validationRules: options.introspection ? armor.validationRules : [...armor.validationRules, noIntrospectionRule()],
    formatError: createFormatError({ production: options.production }),
    plugins: [
      // No cache hints are used: skip the per-field cache-control wrapper (bench/README.md).
      ApolloServerPluginCacheControlDisabled(),
      gatewayPlugin(options.mutationLimiter ?? new MutationRateLimiter(options.mutationsPerMinute ?? 0)),
      ...(armor.plugins as ApolloServerPlugin<GatewayContext>[]),
      ...(options.plugins ?? []),
      showLandingPage ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }) : ApolloServerPluginLandingPageDisabled(),
    ],
  });
}
