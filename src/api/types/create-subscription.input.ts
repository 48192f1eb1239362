import { JSONObjectResolver } from 'graphql-scalars';
import { Field, InputType, Int } from 'type-graphql';
import { BillingInterval } from './billing-interval.enum';

@InputType({ description: 'Who pays the subscription.' })
export class CustomerInput {
  @Field(() => String, { description: 'Your id of the customer (1 to 100 characters).' })
  id!: string;

  @Field(() => String, { description: "The customer's email address, at most 254 characters." })
  email!: string;

  @Field(() => String, { description: "The customer's name, 1 to 200 characters." })
  name!: string;
}

@InputType({ description: 'A new recurring payment.' })
export class CreateSubscriptionInput {
  @Field(() => CustomerInput, { description: 'Who pays.' })
  customer!: CustomerInput;

  @Field(() => Int, { description: 'Price per period in integer minor units (1999 = 19.99 USD). Greater than zero.' })
  amount!: number;

  @Field(() => String, { description: 'ISO 4217 code, upper case, e.g. USD.' })
  currency!: string;

  @Field(() => BillingInterval, { description: 'The unit of a billing period.' })
  interval!: BillingInterval;

  @Field(() => Int, { nullable: true, description: 'Intervals per period, 1 to 1000 (default 1).' })
  intervalCount?: number | null;

  @Field(() => String, { nullable: true, description: 'First billing day YYYY-MM-DD, today or later (default today, UTC).' })
  startDate?: string | null;

  @Field(() => Int, { nullable: true, description: 'Free days before the first charge, 0 to 730 (default 0).' })
  trialDays?: number | null;

  @Field(() => String, { nullable: true, description: 'Where the mandate page sends the customer afterwards (http or https); optional.' })
  returnUrl?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Your subscription number (1 to 64 of A-Z a-z 0-9 _ - . :), unique per merchant. Generated when absent.',
  })
  merchantReference?: string | null;

  @Field(() => JSONObjectResolver, { nullable: true, description: 'Up to 20 string values, keys up to 40 characters, values up to 500. Default {}.' })
  metadata?: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description: 'Makes the call safe to retry: the same key and input return the first result. The Idempotency-Key header works too.',
  })
  idempotencyKey?: string | null;
}
