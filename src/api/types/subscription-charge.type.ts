import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({
  simpleResolvers: true,
  description:
    'One charge of a subscription: the first period or a renewal (or a retry of one). Recorded once per UCanPay charge; read it through BillingSubscription.charges.',
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
