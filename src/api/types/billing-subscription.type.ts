import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

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

registerEnumType(BillingInterval, { name: 'BillingInterval' });

@ObjectType({ simpleResolvers: true })
export class Customer {
  @Field(() => String, { description: 'Your id of the customer.' })
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String)
  name!: string;
}

@ObjectType({ simpleResolvers: true, description: 'One charge of a subscription: the first period or a renewal (or a retry of one).' })
export class SubscriptionCharge {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: 'Integer minor units of currency.' })
  amount!: number;

  @Field(() => String)
  currency!: string;

  @Field(() => String, { description: 'SUCCEEDED or FAILED (PENDING while UCanPay is still charging).' })
  status!: string;

  @Field(() => String, { nullable: true, description: 'Why it failed, e.g. CARD_DECLINED or INSUFFICIENT_FUNDS.' })
  failureCode!: string | null;

  @Field(() => DateTimeISOResolver)
  periodStart!: Date;

  @Field(() => DateTimeISOResolver)
  periodEnd!: Date;

  @Field(() => DateTimeISOResolver)
  createdAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'Terms set by updateSubscription that take effect from the next period.' })
export class PendingSubscriptionUpdate {
  @Field(() => Int, { nullable: true })
  amount?: number;

  @Field(() => BillingInterval, { nullable: true })
  interval?: BillingInterval;

  @Field(() => Int, { nullable: true })
  intervalCount?: number;

  @Field(() => JSONObjectResolver, { nullable: true })
  metadata?: Record<string, string>;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When the new terms apply.' })
  effectiveAt?: Date;
}

@ObjectType({ simpleResolvers: true, description: 'A recurring payment (a UCanPay subscription). Named so because the GraphQL root type is Subscription.' })
export class BillingSubscription {
  @Field(() => ID)
  id!: string;

  @Field(() => BillingSubscriptionStatus)
  status!: BillingSubscriptionStatus;

  @Field(() => Int, { description: 'Price per period in integer minor units (current terms).' })
  amount!: number;

  @Field(() => String)
  currency!: string;

  @Field(() => BillingInterval)
  interval!: BillingInterval;

  @Field(() => Int)
  intervalCount!: number;

  @Field(() => String, { description: 'First billing day, YYYY-MM-DD.' })
  startDate!: string;

  @Field(() => Int)
  trialDays!: number;

  @Field(() => String, { description: 'Your subscription number; sent to UCanPay as out_subscription_no.' })
  merchantReference!: string;

  @Field(() => String, { nullable: true, description: 'The hosted page where the customer authorizes the mandate.' })
  authorizationUrl!: string | null;

  @Field(() => String, { nullable: true, description: "UCanPay's subscription_id." })
  providerSubscriptionId!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  currentPeriodStart!: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  currentPeriodEnd!: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Next planned charge (absent when none is planned).' })
  nextBillingAt!: Date | null;

  @Field(() => Boolean, { description: 'Cancelled with atPeriodEnd: stays active until currentPeriodEnd.' })
  cancelAtPeriodEnd!: boolean;

  @Field(() => DateTimeISOResolver, { nullable: true })
  cancelledAt!: Date | null;

  @Field(() => Int, { description: 'Consecutive failed charges of the current period.' })
  failedRenewalCount!: number;

  @Field(() => String, { nullable: true, description: 'Why UCanPay refused to create it.' })
  failureCode!: string | null;

  @Field(() => JSONObjectResolver)
  metadata!: Record<string, string>;

  @Field(() => Int, { description: 'Increases by one with every applied change.' })
  version!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: Date;

  @Field(() => DateTimeISOResolver)
  updatedAt!: Date;
}
