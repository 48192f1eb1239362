import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { RefundStatus } from './refund-status.enum';

@ObjectType({ simpleResolvers: true, description: 'A refund of (part of) a paid payment.' })
export class Refund {
  @Field(() => ID)
  id!: string;

  @Field(() => RefundStatus)
  status!: RefundStatus;

  @Field(() => Int, { description: 'Integer minor units of currency.' })
  amount!: number;

  @Field(() => String, { description: "ISO 4217 code: always the payment's currency." })
  currency!: string;

  @Field(() => String)
  reason!: string;

  @Field(() => String, { description: 'Your refund number; sent to UCanPay as out_refund_no. Unique per merchant.' })
  merchantReference!: string;

  @Field(() => String, { nullable: true, description: "UCanPay's refund_id." })
  providerRefundId!: string | null;

  @Field(() => String, { nullable: true })
  failureCode!: string | null;

  @Field(() => String, { nullable: true })
  failureMessage!: string | null;

  @Field(() => Int, { description: 'Increases by one with every applied change.' })
  version!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: Date;

  @Field(() => DateTimeISOResolver)
  updatedAt!: Date;

  @Field(() => DateTimeISOResolver, { nullable: true })
  succeededAt!: Date | null;
}
