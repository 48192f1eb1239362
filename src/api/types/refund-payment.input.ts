import { Field, ID, InputType, Int } from 'type-graphql';

@InputType({ description: 'What to refund.' })
export class RefundPaymentInput {
  @Field(() => ID, { description: 'The paid payment to refund (pay_…).' })
  paymentId!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Integer minor units, greater than zero and at most refundableAmount; null or absent = the whole refundable remainder.',
  })
  amount?: number | null;

  @Field(() => String, { nullable: true, description: 'Why (1 to 500 characters); default "requested_by_customer".' })
  reason?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Your refund number (1 to 64 of A-Z a-z 0-9 _ - . :), unique per merchant. Generated when absent.',
  })
  merchantReference?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Makes the call safe to retry: the same key and input return the first result. The Idempotency-Key header works too.',
  })
  idempotencyKey?: string | null;
}
