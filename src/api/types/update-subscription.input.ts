import { JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int } from 'type-graphql';
import { BillingInterval } from './billing-interval.enum';

@InputType({ description: 'New terms, effective from the next period. At least one field.' })
export class UpdateSubscriptionInput {
  @Field(() => ID, { description: 'The subscription (sub_…).' })
  id!: string;

  @Field(() => Int, { nullable: true, description: 'New price per period in integer minor units, greater than zero; null = unchanged.' })
  amount?: number | null;

  @Field(() => BillingInterval, { nullable: true, description: 'New interval; null = unchanged.' })
  interval?: BillingInterval | null;

  @Field(() => Int, { nullable: true, description: 'New intervals per period, 1 to 1000; null = unchanged.' })
  intervalCount?: number | null;

  @Field(() => JSONObjectResolver, { nullable: true, description: 'New metadata, replacing the old (limits as in createSubscription); null = unchanged.' })
  metadata?: Record<string, unknown> | null;
}
