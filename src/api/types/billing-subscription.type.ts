import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from './node.interface';

export enum BillingSubscriptionStatus {
  PENDING_AUTHORIZATION = 'PENDING_AUTHORIZATION',
  TRIALING = 'TRIALING',
  ACTIVE = 'ACTIVE',
  PAST_DUE = 'PAST_DUE',
  UNPAID = 'UNPAID',
  CANCELLED = 'CANCELLED',
}

registerEnumType(BillingSubscriptionStatus, {
  name: 'BillingSubscriptionStatus',
  description:
    'PENDING_AUTHORIZATION → TRIALING | ACTIVE; ACTIVE ⇄ PAST_DUE (a renewal failed; retried up to 3 times, then UNPAID); any → CANCELLED (final).',
  valuesConfig: {
    PENDING_AUTHORIZATION: { description: 'Waiting for the customer to authorize the mandate at authorizationUrl.' },
    TRIALING: { description: 'Authorized; the first charge comes at the end of the trial (or at startDate).' },
    ACTIVE: { description: 'Paid for the current period.' },
    PAST_DUE: { description: 'The last renewal charge failed; UCanPay retries it.' },
    UNPAID: { description: 'Every retry failed; no more charges are attempted.' },
    CANCELLED: { description: 'Ended; final.' },
  },
});

export enum BillingInterval {
  DAY = 'DAY',
  WEEK = 'WEEK',
  MONTH = 'MONTH',
  YEAR = 'YEAR',
}

registerEnumType(BillingInterval, {
  name: 'BillingInterval',
  description: 'The unit of a billing period; a period is intervalCount of these.',
  valuesConfig: {
    DAY: { description: 'A calendar day (UTC).' },
    WEEK: { description: 'Seven days.' },
    MONTH: { description: 'A calendar month.' },
    YEAR: { description: 'A calendar year.' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'The customer of a subscription, as given to createSubscription.' })
export class Customer {
  @Field(() => String, { description: 'Your id of the customer (not a gateway id).' })
  id!: string;

  @Field(() => String, { description: "The customer's email address." })
  email!: string;

  @Field(() => String, { description: "The customer's name." })
  name!: string;
}

@ObjectType({
  simpleResolvers: true,
  description: 'One charge of a subscription: the first period or a renewal (or a retry of one). Recorded once per UCanPay charge; read it through BillingSubscription.charges.',
})
export class SubscriptionCharge {
  @Field(() => ID, { description: 'The charge id, chg_ then 26 characters.' })
  id!: string;

  @Field(() => Int, { description: 'Integer minor units of currency.' })
  amount!: number;

  @Field(() => String, { description: 'ISO 4217 code: the subscription’s currency.' })
  currency!: string;

  @Field(() => String, { description: 'SUCCEEDED or FAILED (PENDING while UCanPay is still charging).' })
  status!: string;

  @Field(() => String, { nullable: true, description: 'Why it failed, e.g. CARD_DECLINED or INSUFFICIENT_FUNDS; null unless FAILED.' })
  failureCode!: string | null;

  @Field(() => DateTimeISOResolver, { description: 'Start of the period this charge pays for (UTC).' })
  periodStart!: Date;

  @Field(() => DateTimeISOResolver, { description: 'End of the period this charge pays for (UTC, exclusive).' })
  periodEnd!: Date;

  @Field(() => DateTimeISOResolver, { description: 'When the gateway recorded the charge (UTC).' })
  createdAt!: Date;
}

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
