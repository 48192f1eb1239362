import { Field, ID, InterfaceType } from 'type-graphql';

/** GraphQL type of each id prefix: the ids are the gateway's own, and their prefix tells the type. */
export const NODE_TYPE_BY_PREFIX: Readonly<Record<string, string>> = {
  pay: 'Payment',
  ref: 'Refund',
  sub: 'BillingSubscription',
  evt: 'Event',
};

export function nodeTypeOf(id: string): string | undefined {
  const underscore = id.indexOf('_');
  return underscore > 0 ? NODE_TYPE_BY_PREFIX[id.slice(0, underscore)] : undefined;
}

/**
 * Relay global object identification: every object a client may refetch by id.
 * Values are entities (not class instances), so the type comes from the id prefix.
 */
@InterfaceType({
  description:
    'An object with a globally unique id that can be fetched again with node(id) or nodes(ids) (Relay global object identification). The id prefix tells the type: pay_ Payment, ref_ Refund, sub_ BillingSubscription, evt_ Event.',
  resolveType: (value: { id: string }) => nodeTypeOf(value.id),
})
export abstract class Node {
  @Field(() => ID, { description: 'Globally unique and stable; pass it to node(id) to fetch this object again.' })
  id!: string;
}
