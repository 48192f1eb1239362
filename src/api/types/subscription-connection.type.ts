import { Field, ObjectType } from 'type-graphql';
import { BillingSubscription } from './billing-subscription.type';
import { PageInfo } from './payment-connection.type';

@ObjectType({ simpleResolvers: true })
export class BillingSubscriptionEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => BillingSubscription)
  node!: BillingSubscription;
}

@ObjectType({ simpleResolvers: true })
export class BillingSubscriptionConnection {
  @Field(() => [BillingSubscriptionEdge])
  edges!: BillingSubscriptionEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
