import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, Int, ObjectType } from 'type-graphql';
import { BillingInterval } from './billing-interval.enum';

@ObjectType({ simpleResolvers: true, description: 'Terms set by updateSubscription that take effect from the next period.' })
export class PendingSubscriptionUpdate {
  @Field(() => Int, { nullable: true, description: 'New price per period in integer minor units; null = unchanged.' })
  amount?: number;

  @Field(() => BillingInterval, { nullable: true, description: 'New interval; null = unchanged.' })
  interval?: BillingInterval;

  @Field(() => Int, { nullable: true, description: 'New intervals per period (1 to 1000); null = unchanged.' })
  intervalCount?: number;

  @Field(() => JSONObjectResolver, { nullable: true, description: 'New metadata (replaces the old); null = unchanged.' })
  metadata?: Record<string, string>;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When the new terms apply (UTC): the next period start; null when not yet known.' })
  effectiveAt?: Date;
}
