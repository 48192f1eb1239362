import { JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int } from 'type-graphql';
import { BillingInterval } from './billing-subscription.type';

@InputType()
export class CustomerInput {
  @Field(() => String, { description: 'Your id of the customer (1 to 100 characters).' })
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { description: '1 to 200 characters.' })
  name!: string;
}

@InputType()
export class CreateSubscriptionInput {
  @Field(() => CustomerInput)
  customer!: CustomerInput;

  @Field(() => Int, { description: 'Price per period in integer minor units.' })
  amount!: number;

  @Field(() => String, { description: 'ISO 4217 code.' })
  currency!: string;

  @Field(() => BillingInterval)
  interval!: BillingInterval;

  @Field(() => Int, { nullable: true, description: 'Intervals per period, 1 to 1000 (default 1).' })
  intervalCount?: number | null;

  @Field(() => String, { nullable: true, description: 'First billing day YYYY-MM-DD, today or later (default today, UTC).' })
  startDate?: string | null;

  @Field(() => Int, { nullable: true, description: 'Free days before the first charge, 0 to 730.' })
  trialDays?: number | null;

  @Field(() => String, { nullable: true, description: 'Where the mandate page sends the customer afterwards.' })
  returnUrl?: string | null;

  @Field(() => String, { nullable: true, description: 'Your subscription number, unique per merchant. Generated when absent.' })
  merchantReference?: string | null;

  @Field(() => JSONObjectResolver, { nullable: true })
  metadata?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Makes the call safe to retry. The Idempotency-Key header works too.' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'New terms, effective from the next period. At least one field.' })
export class UpdateSubscriptionInput {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { nullable: true })
  amount?: number | null;

  @Field(() => BillingInterval, { nullable: true })
  interval?: BillingInterval | null;

  @Field(() => Int, { nullable: true })
  intervalCount?: number | null;

  @Field(() => JSONObjectResolver, { nullable: true })
  metadata?: Record<string, unknown> | null;
}

@InputType()
export class CancelSubscriptionInput {
  @Field(() => ID)
  id!: string;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'true: keep it until the current period ends.' })
  atPeriodEnd?: boolean | null;
}
