import { execute, Kind, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Logger } from '../logger';
import type { Services } from '../services';
import type { PayloadShaper, PayloadVariables } from '../services/webhook-delivery';
import { gatewayContext } from './context';
import { armorValidationRules, GRAPHQL_LIMITS, noIntrospectionRule } from './graphql-limits';

/** The variables a payload query may declare; each is given its event's value. */
export const PAYLOAD_VARIABLES: ReadonlyArray<keyof PayloadVariables> = ['eventId', 'eventType', 'objectId', 'objectType', 'objectVersion'];

/** Parsed documents by text: an endpoint's document is parsed once, not per delivery. */
const MAX_CACHED_DOCUMENTS = 200;

/**
 * Payload shaping (as Saleor's subscription payloads): an endpoint's GraphQL
 * query, checked against the schema with the API's own limits when saved,
 * and run for each delivery with the endpoint's merchant as the only
 * principal — a context built like a request's with that merchant's API key,
 * so the query sees exactly what the merchant's key may read.
 */
export function createPayloadShaper(schema: GraphQLSchema, services: Services, log: Logger): PayloadShaper {
  const parsed = new Map<string, DocumentNode>();
  const rules = [...specifiedRules, ...armorValidationRules(), noIntrospectionRule()];

  const operationOf = (document: DocumentNode): OperationDefinitionNode | string => {
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (operations.length !== 1) return 'must hold exactly one operation';
    if (operations[0].operation !== 'query') return `must be a query, not a ${operations[0].operation}`;
    for (const definition of operations[0].variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      if (!(PAYLOAD_VARIABLES as readonly string[]).includes(name)) {
        return `declares $${name}; a payload query may declare only ${PAYLOAD_VARIABLES.map((v) => `$${v}`).join(', ')}`;
      }
    }
    return operations[0];
  };

  return {
    check(text) {
      let document: DocumentNode;
      try {
        document = parse(text, { maxTokens: GRAPHQL_LIMITS.maxTokens });
      } catch (error) {
        return (error as Error).message;
      }
      const operation = operationOf(document);
      if (typeof operation === 'string') return operation;
      const errors = validate(schema, document, rules);
      return errors.length ? errors.map((e) => e.message).join('; ') : null;
    },

    async run(merchantId, text, variables) {
      let document = parsed.get(text);
      if (!document) {
        document = parse(text, { maxTokens: GRAPHQL_LIMITS.maxTokens });
        if (parsed.size >= MAX_CACHED_DOCUMENTS) parsed.delete(parsed.keys().next().value as string);
        parsed.set(text, document);
      }
      const operation = operationOf(document);
      const declared = typeof operation === 'string' ? [] : (operation.variableDefinitions ?? []).map((d) => d.variable.name.value);
      const contextValue = gatewayContext(
        { principal: { kind: 'merchant', merchantId }, requestId: `webhook:${variables.eventId}`, services, log },
        { logFields: { eventId: variables.eventId } },
      );
      const variableValues = Object.fromEntries(declared.map((name) => [name, variables[name as keyof PayloadVariables]]));
      const result = await execute({ schema, document, contextValue, variableValues });
      return {
        data: result.data ?? null,
        ...(result.errors?.length ? { errors: result.errors.map((e) => ({ message: e.message, path: e.path })) } : {}),
      };
    },
  };
}
