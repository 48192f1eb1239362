import { ApolloArmor } from '@escape.tech/graphql-armor';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';

/**
 * Limits on what one GraphQL request may ask for. Every operation in
 * src/client/operations stays far below them (a test checks); they stop
 * hostile documents before any resolver runs.
 */
export const GRAPHQL_LIMITS = {
  /**
   * Lexer tokens per document (graphql-js `maxTokens`, checked while parsing).
   * It also bounds graphql-js's own validation, which is quadratic in the
   * fields of one selection set (OverlappingFieldsCanBeMerged) and runs in
   * full even when an armor rule rejects: measured here, a 2000-token
   * document of repeated fields cost 50-130 ms of CPU, a 1000-token one
   * 10-35 ms. The largest shipped operation has about 110 tokens, Apollo
   * Sandbox's introspection query 184.
   */
  maxTokens: 1000,
  /** Field nesting (fragments flattened). The deepest shipped operation has 5. */
  maxDepth: 10,
  /** Aliased fields per operation: stops `a1: createPayment … a999: createPayment`. */
  maxAliases: 15,
  /** Directives per operation. */
  maxDirectives: 20,
  /** graphql-armor cost: objects 2, scalars 1, ×1.5 per level, × literal `first`. */
  maxCost: 5000,
  /** HTTP body of one GraphQL request. */
  bodyBytes: 256 * 1024,
  /**
   * Automatic persisted query texts kept per instance (LRU, ~characters).
   * Safe to lose: a client whose hash is gone sends the text once more.
   */
  apqCacheBytes: 4 * 1024 * 1024,
  /** One graphql-ws message. */
  wsMessageBytes: 64 * 1024,
} as const;

const ruleOptions = { exposeLimits: true, propagateOnRejection: false } as const;

/**
 * graphql-armor's validation rules (depth, aliases, directives, cost). Used
 * for HTTP through ApolloArmor and for graphql-ws directly. With
 * `propagateOnRejection: false` plus ApolloArmor's reporter, a rejection is
 * a normal GRAPHQL_VALIDATION_FAILED (HTTP 400), never a 500.
 */
export function armorValidationRules(): ValidationRule[] {
  const report = [(ctx: { reportError(e: Error): void } | null, error: Error) => ctx?.reportError(error)];
  return [
    costLimitRule({ maxCost: GRAPHQL_LIMITS.maxCost, flattenFragments: true, ...ruleOptions, onReject: report }),
    maxAliasesRule({ n: GRAPHQL_LIMITS.maxAliases, allowList: [], ...ruleOptions, onReject: report }),
    maxDirectivesRule({ n: GRAPHQL_LIMITS.maxDirectives, ...ruleOptions, onReject: report }),
    maxDepthRule({ n: GRAPHQL_LIMITS.maxDepth, flattenFragments: true, ...ruleOptions, onReject: report }),
  ] as ValidationRule[];
}

/**
 * Apollo Server 5 options from graphql-armor. Its max-tokens protection is
 * NOT used: it throws from `parsingDidStart`, which Apollo 5 answers with
 * HTTP 500; graphql-js's own `parseOptions.maxTokens` gives a clean 400
 * GRAPHQL_PARSE_FAILED instead.
 */
export function apolloArmor(): { plugins: ApolloServerPlugin[]; validationRules: ValidationRule[] } {
  const { plugins, validationRules } = new ApolloArmor({
    maxTokens: { enabled: false },
    // Its mask leaves "Did you mean [Suggestion hidden]?" and misses enum
    // values; createFormatError removes every suggestion instead, for HTTP
    // and graphql-ws alike.
    blockFieldSuggestion: { enabled: false },
    costLimit: { maxCost: GRAPHQL_LIMITS.maxCost, flattenFragments: true, exposeLimits: true },
    // allowList []: armor's default lets `__typename` be aliased without limit.
    maxAliases: { n: GRAPHQL_LIMITS.maxAliases, allowList: [], exposeLimits: true },
    maxDirectives: { n: GRAPHQL_LIMITS.maxDirectives, exposeLimits: true },
    maxDepth: { n: GRAPHQL_LIMITS.maxDepth, flattenFragments: true, exposeLimits: true },
  }).protect();
  return { plugins: plugins as ApolloServerPlugin[], validationRules };
}

/** The message of a refused introspection document, over HTTP and graphql-ws alike. */
export const INTROSPECTION_OFF_MESSAGE =
  'Introspection is off on this gateway (GRAPHQL_INTROSPECTION=false, the default in production): the document asks for __schema or __type';

/**
 * Refuses `__schema` and `__type` anywhere in a document (`__typename` stays
 * allowed: clients add it everywhere). One rule for HTTP and graphql-ws, so
 * the GRAPHQL_INTROSPECTION switch means the same on both.
 */
export function noIntrospectionRule(): ValidationRule {
  return (context: ValidationContext) => ({
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        context.reportError(new GraphQLError(INTROSPECTION_OFF_MESSAGE, { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
      }
    },
  });
}
