import { Field, ObjectType } from 'type-graphql';
import { PageInfo } from './payment-connection.type';
import { Refund } from './refund.type';

@ObjectType()
export class RefundEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Refund)
  node!: Refund;
}

@ObjectType()
export class RefundConnection {
  @Field(() => [RefundEdge])
  edges!: RefundEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
