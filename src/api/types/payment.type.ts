import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { PaymentStatus } from './payment-status.enum';

@ObjectType({ simpleResolvers: true, description: "The gateway's record of one payment, converging with UCanPay through webhooks and status checks." })
export class Payment {
  @Field(() => ID)
  id!: string;

  @Field(() => PaymentStatus)
  status!: PaymentStatus;

  @Field(() => Int, { description: 'Integer minor units of currency (cents for USD, yen for JPY).' })
  amount!: number;

  @Field(() => String, { description: 'ISO 4217 code, e.g. USD.' })
  currency!: string;

  @Field(() => String)
  description!: string;

  @Field(() => String, { description: 'Your order number; sent to UCanPay as out_trade_no. Unique per merchant.' })
  merchantReference!: string;

  @Field(() => String, { nullable: true, description: 'UCanPay hosted checkout page; send the customer here.' })
  checkoutUrl!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Lets a browser or app read and subscribe to this one payment. Only shown to the merchant API key.',
  })
  clientSecret!: string | null;

  @Field(() => String, { nullable: true, description: "UCanPay's order_id." })
  providerOrderId!: string | null;

  @Field(() => String, { nullable: true, description: "UCanPay's transaction_id, once paid." })
  transactionId!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the payment failed, e.g. CARD_DECLINED.' })
  failureCode!: string | null;

  @Field(() => String, { nullable: true })
  failureMessage!: string | null;

  @Field(() => Int, { description: 'Increases by one with every applied change; use it to drop stale snapshots.' })
  version!: number;

  @Field(() => DateTimeISOResolver)
  createdAt!: Date;

  @Field(() => DateTimeISOResolver)
  updatedAt!: Date;

  @Field(() => DateTimeISOResolver, { nullable: true })
  paidAt!: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => JSONObjectResolver, { description: 'Your string key/value pairs.' })
  metadata!: Record<string, string>;
}
