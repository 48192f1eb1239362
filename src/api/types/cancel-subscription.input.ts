import { Field, ID, InputType } from 'type-graphql';

@InputType({ description: 'Which subscription to cancel, and when.' })
export class CancelSubscriptionInput {
  @Field(() => ID, { description: 'The subscription (sub_…).' })
  id!: string;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'true: keep it ACTIVE until currentPeriodEnd, then cancel; false (default): cancel now.',
  })
  atPeriodEnd?: boolean | null;
}
