import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { invalidInput, notFound } from '../../domain/errors';
import { unauthenticated } from '../../services/access';
import type { GatewayContext } from '../context';
import { Node, nodeTypeOf } from '../types/node.interface';
import { MAX_PAGE_SIZE } from './pagination';

/** At most this many ids per nodes(ids) call: the page size limit of the lists. */
export const MAX_NODE_IDS = MAX_PAGE_SIZE;

type NodeValue = { id: string };

/** Each type's typed query: node(id) answers exactly as it does (same services, same access rules, same errors). */
const FETCH_BY_TYPE: Record<string, (ctx: GatewayContext, id: string) => Promise<NodeValue>> = {
  Payment: (ctx, id) => ctx.services.payments.get(ctx.principal, id),
  Refund: (ctx, id) => ctx.services.refunds.get(ctx.principal, id),
  BillingSubscription: (ctx, id) => ctx.services.subscriptions.get(ctx.principal, id),
  Event: (ctx, id) => ctx.services.events.get(ctx.principal, id),
};

function fetchNode(ctx: GatewayContext, id: string): Promise<NodeValue> {
  const fetch = FETCH_BY_TYPE[nodeTypeOf(id) ?? ''];
  if (fetch) return fetch(ctx, id);
  // An id of no known type answers like an id that does not exist (after the same credentials check).
  return Promise.reject(ctx.principal ? notFound('node', id) : unauthenticated());
}

@Resolver(() => Node)
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description:
      'Any object by its id (Relay): the same answer as the typed query (payment, refund, subscription), including NOT_FOUND for another merchant’s id or an id a client secret may not read.',
  })
  node(@Arg('id', () => ID, { description: 'An id from any object, e.g. pay_…, ref_… or sub_….' }) id: string, @Ctx() ctx: GatewayContext): Promise<NodeValue> {
    return fetchNode(ctx, id);
  }

  @Query(() => [Node], {
    nullable: 'items',
    description: `Several objects by id, in the order asked (Relay). An id that node(id) would refuse is null here, with its error at its index in errors[].path. 1 to ${MAX_NODE_IDS} ids.`,
  })
  nodes(
    @Arg('ids', () => [ID], { description: `1 to ${MAX_NODE_IDS} ids; duplicates are answered each time.` }) ids: string[],
    @Ctx() ctx: GatewayContext,
  ): Promise<NodeValue>[] {
    if (ids.length < 1 || ids.length > MAX_NODE_IDS) throw invalidInput('ids', `must hold 1 to ${MAX_NODE_IDS} ids`);
    return ids.map((id) => fetchNode(ctx, id));
  }
}
