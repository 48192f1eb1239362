import { Field, ObjectType } from 'type-graphql';
import { PageInfo } from './payment-connection.type';
import { Refund } from './refund.type';

@ObjectType({ simpleResolvers: true })
export class RefundEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Refund)
  node!: Refund;
}

@ObjectType({ simpleResolvers: true })
export class RefundConnection {
  @Field(() => [RefundEdge])
  edges!: RefundEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
