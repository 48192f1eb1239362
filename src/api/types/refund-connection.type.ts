import { Field, ObjectType } from 'type-graphql';
import { PageInfo } from './payment-connection.type';
import { Refund } from './refund.type';

@ObjectType({ simpleResolvers: true, description: 'One refund of a page, with its cursor.' })
export class RefundEdge {
  @Field(() => String, { description: 'Opaque position of this refund in the list; pass it as after.' })
  cursor!: string;

  @Field(() => Refund, { description: 'The refund.' })
  node!: Refund;
}

@ObjectType({ simpleResolvers: true, description: 'A page of refunds, newest first.' })
export class RefundConnection {
  @Field(() => [RefundEdge], { description: 'The refunds of this page (at most first of them).' })
  edges!: RefundEdge[];

  @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursor to get the next.' })
  pageInfo!: PageInfo;
}
