import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { BillingInterval } from './billing-interval.enum';
import { BillingSubscriptionStatus } from './billing-subscription-status.enum';
import { Node } from './node.interface';

@ObjectType({
  simpleResolvers: true,
  implements: Node,
  description: 'A recurring payment (a UCanPay subscription). Named so because the GraphQL root type is Subscription.',
})
export class BillingSubscription implements Node {
  @Field(() => ID, { description: 'The subscription id, sub_ then 26 characters; sorts by creation time.' })
  id!: string;

  @Field(() => BillingSubscriptionStatus, { description: 'Where the subscription is now; changes arrive through subscriptionUpdated.' })
  status!: BillingSubscriptionStatus;

  @Field(() => Int, { description: 'Price per period in integer minor units (current terms).' })
  amount!: number;

  @Field(() => String, { description: 'ISO 4217 code, e.g. USD.' })
  currency!: string;

  @Field(() => BillingInterval, { description: 'The unit of a period (current terms).' })
  interval!: BillingInterval;

  @Field(() => Int, { description: 'Intervals per period, 1 to 1000 (current terms).' })
  intervalCount!: number;

  @Field(() => String, { description: 'First billing day, YYYY-MM-DD.' })
  startDate!: string;

  @Field(() => Int, { description: 'Free days before the first charge, 0 to 730 (0 = none).' })
  trialDays!: number;

  @Field(() => String, { description: 'Your subscription number; sent to UCanPay as out_subscription_no.' })
  merchantReference!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The hosted page where the customer authorizes the mandate; null until UCanPay has created the subscription.',
  })
  authorizationUrl!: string | null;

  @Field(() => String, { nullable: true, description: "UCanPay's subscription_id; null until UCanPay has created it." })
  providerSubscriptionId!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Start of the current period (UTC); null before the mandate is authorized.' })
  currentPeriodStart!: Date | null;

  @Field(() => DateTimeISOResolver, {
    nullable: true,
    description: 'End of the current period (UTC, exclusive); null before the mandate is authorized. Never moves back.',
  })
  currentPeriodEnd!: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Next planned charge (UTC); null when none is planned.' })
  nextBillingAt!: Date | null;

  @Field(() => Boolean, { description: 'Cancelled with atPeriodEnd: stays active until currentPeriodEnd.' })
  cancelAtPeriodEnd!: boolean;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When it was cancelled (UTC); null unless CANCELLED.' })
  cancelledAt!: Date | null;

  @Field(() => Int, { description: 'Consecutive failed charges of the current period (0 when the last one succeeded).' })
  failedRenewalCount!: number;

  @Field(() => String, { nullable: true, description: 'Why UCanPay refused to create it; null otherwise.' })
  failureCode!: string | null;

  @Field(() => JSONObjectResolver, { description: 'Your string key/value pairs (current terms; {} when none).' })
  metadata!: Record<string, string>;

  @Field(() => Int, { description: 'Starts at 1 and increases by one with every applied change.' })
  version!: number;

  @Field(() => DateTimeISOResolver, { description: 'When the gateway created the subscription (UTC).' })
  createdAt!: Date;

  @Field(() => DateTimeISOResolver, { description: 'When the subscription last changed (UTC).' })
  updatedAt!: Date;
}
