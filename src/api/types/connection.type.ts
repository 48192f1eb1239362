import { type ClassType, Field, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.type';

/**
 * The Relay connection of one node type (type-graphql generic type): returns the
 * abstract base of `<Node>Connection` and declares its `<Node>Edge`. Call it once
 * per node type, in that type's `…-connection.type.ts`, as
 * `@ObjectType(…) class PaymentConnection extends Connection(Payment, 'payment') {}`.
 * `noun` is the node's singular in the descriptions ("One payment of a page").
 */
export function Connection<TNode extends object>(nodeClass: ClassType<TNode>, noun: string) {
  @ObjectType(`${nodeClass.name}Edge`, { simpleResolvers: true, description: `One ${noun} of a page, with its cursor.` })
  class Edge {
    @Field(() => String, { description: `Opaque position of this ${noun} in the list; pass it as after.` })
    cursor!: string;

    @Field(() => nodeClass, { description: `The ${noun}.` })
    node!: TNode;
  }

  // Never emitted itself (no field returns it); simpleResolvers here, because a
  // subclass takes these fields as this type built them.
  @ObjectType({ simpleResolvers: true })
  abstract class ConnectionBase {
    @Field(() => [Edge], { description: `The ${noun}s of this page (at most first of them).` })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursor to get the next.' })
    pageInfo!: PageInfo;
  }
  return ConnectionBase;
}
