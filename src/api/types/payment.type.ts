import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Node } from './node.interface';
import { PaymentStatus } from './payment-status.enum';

@ObjectType({
  simpleResolvers: true,
  implements: Node,
  description: "The gateway's record of one payment, converging with UCanPay through webhooks and status checks.",
})
export class Payment implements Node {
  @Field(() => ID, { description: 'The payment id, pay_ then 26 characters; sorts by creation time.' })
  id!: string;

  @Field(() => PaymentStatus, { description: 'Where the payment is now; changes arrive through paymentUpdated.' })
  status!: PaymentStatus;

  @Field(() => Int, { description: 'Integer minor units of currency (cents for USD, yen for JPY). Greater than zero.' })
  amount!: number;

  @Field(() => String, { description: 'ISO 4217 code, e.g. USD.' })
  currency!: string;

  @Field(() => String, { description: 'Shown to the customer at checkout, as given to createPayment.' })
  description!: string;

  @Field(() => String, { description: 'Your order number; sent to UCanPay as out_trade_no. Unique per merchant.' })
  merchantReference!: string;

  @Field(() => String, {
    nullable: true,
    description: 'UCanPay hosted checkout page; send the customer here. Null until UCanPay has created the order (or when it refused to).',
  })
  checkoutUrl!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Lets a browser or app read and subscribe to this one payment. Only shown to the merchant API key (null for a client secret).',
  })
  clientSecret!: string | null;

  @Field(() => String, { nullable: true, description: "UCanPay's order_id; null until UCanPay has created the order." })
  providerOrderId!: string | null;

  @Field(() => String, { nullable: true, description: "UCanPay's transaction_id, once paid (null before)." })
  transactionId!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the payment failed, e.g. CARD_DECLINED; null unless FAILED.' })
  failureCode!: string | null;

  @Field(() => String, { nullable: true, description: "UCanPay's explanation of failureCode, for the developer; null unless FAILED." })
  failureMessage!: string | null;

  @Field(() => Int, { description: 'Starts at 1 and increases by one with every applied change; use it to drop stale snapshots.' })
  version!: number;

  @Field(() => DateTimeISOResolver, { description: 'When the gateway created the payment (UTC).' })
  createdAt!: Date;

  @Field(() => DateTimeISOResolver, { description: 'When the payment last changed (UTC).' })
  updatedAt!: Date;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When the customer paid (UTC); null until PAID.' })
  paidAt!: Date | null;

  @Field(() => DateTimeISOResolver, {
    nullable: true,
    description: 'When the checkout closes unpaid (UTC); null until UCanPay has created the order.',
  })
  expiresAt!: Date | null;

  @Field(() => JSONObjectResolver, { description: 'Your string key/value pairs, as given to createPayment ({} when none).' })
  metadata!: Record<string, string>;
}
