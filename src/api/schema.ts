import 'reflect-metadata';
import path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { PaymentResolver } from './resolvers/payment.resolver';
import { RefundResolver } from './resolvers/refund.resolver';
import { SubscriptionResolver } from './resolvers/subscription.resolver';

export const SCHEMA_FILE = path.resolve(__dirname, '../../schema/schema.graphql');

/**
 * Builds the code-first schema. `emit: true` (npm run schema) rewrites schema/schema.graphql.
 *
 * Object types are declared with `simpleResolvers: true`: their `@Field`s are
 * plain properties of the entity, with no middleware or per-field auth, so
 * graphql-js reads them directly instead of through type-graphql's per-field
 * wrapper. Computed fields are `@FieldResolver`s and keep theirs.
 */
export function buildGatewaySchema(options: { emit?: boolean; emitTo?: string } = {}): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [PaymentResolver, RefundResolver, SubscriptionResolver],
    emitSchemaFile: options.emit ? { path: options.emitTo ?? SCHEMA_FILE, sortedSchema: true } : false,
    validate: false,
    // Every subscription brings its own `subscribe` (access check, current state
    // first, version order); type-graphql's topic-based pubsub is never used.
    pubSub: {
      publish: () => {
        throw new Error('topic pubsub is not used; publish through the EventBus');
      },
      subscribe: () => {
        throw new Error('topic pubsub is not used; subscriptions define subscribe');
      },
    },
  });
}
