import { Field, ObjectType } from 'type-graphql';
import { BillingSubscription } from './billing-subscription.type';
import { PageInfo } from './payment-connection.type';

@ObjectType({ simpleResolvers: true, description: 'One subscription of a page, with its cursor.' })
export class BillingSubscriptionEdge {
  @Field(() => String, { description: 'Opaque position of this subscription in the list; pass it as after.' })
  cursor!: string;

  @Field(() => BillingSubscription, { description: 'The subscription.' })
  node!: BillingSubscription;
}

@ObjectType({ simpleResolvers: true, description: 'A page of subscriptions, newest first.' })
export class BillingSubscriptionConnection {
  @Field(() => [BillingSubscriptionEdge], { description: 'The subscriptions of this page (at most first of them).' })
  edges!: BillingSubscriptionEdge[];

  @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursor to get the next.' })
  pageInfo!: PageInfo;
}
