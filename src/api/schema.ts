import 'reflect-metadata';
import path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, emitSchemaDefinitionFile } from 'type-graphql';
import { NodeResolver } from './resolvers/node.resolver';
import { PaymentResolver } from './resolvers/payment.resolver';
import { RefundResolver } from './resolvers/refund.resolver';
// After payments and refunds: import order is the root fields' order in introspection.
import { BillingSubscriptionResolver } from './resolvers/billing-subscription.resolver';
import { WebhookEndpointResolver } from './resolvers/webhook-endpoint.resolver';
import { EventResolver, PaymentTimelineResolver, RefundTimelineResolver, SubscriptionTimelineResolver } from './resolvers/event.resolver';

export const SCHEMA_FILE = path.resolve(__dirname, '../../schema/schema.graphql');

/**
 * Builds the code-first schema. `emit: true` (npm run schema) rewrites schema/schema.graphql.
 *
 * Object types are declared with `simpleResolvers: true`: their `@Field`s are
 * plain properties of the entity, with no middleware or per-field auth, so
 * graphql-js reads them directly instead of through type-graphql's per-field
 * wrapper. Computed fields are `@FieldResolver`s and keep theirs.
 */
export async function buildGatewaySchema(options: { emit?: boolean; emitTo?: string } = {}): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [
      PaymentResolver,
      RefundResolver,
      BillingSubscriptionResolver,
      NodeResolver,
      EventResolver,
      PaymentTimelineResolver,
      RefundTimelineResolver,
      SubscriptionTimelineResolver,
      WebhookEndpointResolver,
    ],
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
  // type-graphql has no option for the root types' descriptions.
  schema.getQueryType()!.description =
    'Reads. Every query needs credentials: the merchant API key, or a payment’s clientSecret for that one payment and its refunds.';
  schema.getMutationType()!.description =
    'Writes. Money-moving mutations are idempotent (idempotencyKey or the Idempotency-Key header) and return typed results.';
  schema.getSubscriptionType()!.description = 'Live updates over graphql-ws on the same URL: the object now, then every change once, in version order.';
  if (options.emit) await emitSchemaDefinitionFile(options.emitTo ?? SCHEMA_FILE, schema, { sortedSchema: true });
  return schema;
}
