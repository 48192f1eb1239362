import { Field, ObjectType } from 'type-graphql';
import { BillingSubscription } from './billing-subscription.type';
import { PageInfo } from './payment-connection.type';

@ObjectType()
export class BillingSubscriptionEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => BillingSubscription)
  node!: BillingSubscription;
}

@ObjectType()
export class BillingSubscriptionConnection {
  @Field(() => [BillingSubscriptionEdge])
  edges!: BillingSubscriptionEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
