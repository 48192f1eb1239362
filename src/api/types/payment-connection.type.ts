import { Field, ObjectType } from 'type-graphql';
import { Payment } from './payment.type';

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType()
export class PaymentEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Payment)
  node!: Payment;
}

@ObjectType()
export class PaymentConnection {
  @Field(() => [PaymentEdge])
  edges!: PaymentEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
