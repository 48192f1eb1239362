import { JSONObjectResolver } from 'graphql-scalars';
import { Field, InputType, Int } from 'type-graphql';

@InputType({ description: 'A new one-off payment.' })
export class CreatePaymentInput {
  @Field(() => Int, { description: 'Integer minor units (1999 = 19.99 USD; 500 = 500 JPY). Greater than zero.' })
  amount!: number;

  @Field(() => String, { description: 'ISO 4217 code, upper case, e.g. USD, JPY, KWD.' })
  currency!: string;

  @Field(() => String, { description: 'Shown to the customer at checkout. 1 to 500 characters.' })
  description!: string;

  @Field(() => String, { description: 'Where the checkout page sends the customer afterwards (http or https).' })
  returnUrl!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Your order number (1 to 64 of A-Z a-z 0-9 _ - . :), unique per merchant. Generated when absent.',
  })
  merchantReference?: string | null;

  @Field(() => JSONObjectResolver, { nullable: true, description: 'Up to 20 string values, keys up to 40 characters, values up to 500. Default {}.' })
  metadata?: Record<string, unknown> | null;

  @Field(() => Int, { nullable: true, description: 'Seconds the checkout stays open: 60 to 86400, default 1800.' })
  expiresInSeconds?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Makes the call safe to retry: the same key and input return the first result. The Idempotency-Key header works too.',
  })
  idempotencyKey?: string | null;
}
