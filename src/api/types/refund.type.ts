import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Node } from './node.interface';
import { RefundStatus } from './refund-status.enum';

@ObjectType({ simpleResolvers: true, implements: Node, description: 'A refund of (part of) a paid payment.' })
export class Refund implements Node {
  @Field(() => ID, { description: 'The refund id, ref_ then 26 characters; sorts by creation time.' })
  id!: string;

  @Field(() => RefundStatus, { description: 'Where the refund is now; changes arrive through refundUpdated.' })
  status!: RefundStatus;

  @Field(() => Int, { description: 'Integer minor units of currency. Greater than zero.' })
  amount!: number;

  @Field(() => String, { description: "ISO 4217 code: always the payment's currency." })
  currency!: string;

  @Field(() => String, { description: 'Why it was refunded, as given to refundPayment (default "requested_by_customer").' })
  reason!: string;

  @Field(() => String, { description: 'Your refund number; sent to UCanPay as out_refund_no. Unique per merchant.' })
  merchantReference!: string;

  @Field(() => String, { nullable: true, description: "UCanPay's refund_id; null until UCanPay has accepted the refund." })
  providerRefundId!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the refund failed, e.g. a UCanPay error code; null unless FAILED.' })
  failureCode!: string | null;

  @Field(() => String, { nullable: true, description: 'The explanation of failureCode, for the developer; null unless FAILED.' })
  failureMessage!: string | null;

  @Field(() => Int, { description: 'Starts at 1 and increases by one with every applied change.' })
  version!: number;

  @Field(() => DateTimeISOResolver, { description: 'When the gateway created the refund (UTC).' })
  createdAt!: Date;

  @Field(() => DateTimeISOResolver, { description: 'When the refund last changed (UTC).' })
  updatedAt!: Date;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When UCanPay reported it SUCCEEDED (UTC); null before.' })
  succeededAt!: Date | null;
}
