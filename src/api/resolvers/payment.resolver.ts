import { DateTimeISOResolver } from 'graphql-scalars';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { PaymentEntity, RefundEntity } from '../../entities';
import { refundTotals } from '../../domain/refund-state';
import { Refund } from '../types/refund.type';
import type { GatewayContext } from '../context';
import { CreatePaymentInput } from '../types/create-payment.input';
import { CreatePaymentResult } from '../types/create-payment.union';
import { PaymentConnection } from '../types/payment-connection.type';
import { PaymentStatus } from '../types/payment-status.enum';
import { Payment } from '../types/payment.type';
import { toCreatePaymentResult } from '../results';
import { PageArgs, pageSize } from './pagination';
import { resumeAfter } from '../../services/versioned';

@ArgsType()
class PaymentsArgs extends PageArgs {
  @Field(() => PaymentStatus, { nullable: true, description: 'Only payments in this status; null = all.' })
  status?: PaymentStatus | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Only payments created at or after this time; null = no lower bound.' })
  createdAfter?: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Only payments created before this time; null = no upper bound.' })
  createdBefore?: Date | null;
}

@Resolver(() => Payment)
export class PaymentResolver {
  @Mutation(() => CreatePaymentResult, { description: 'Creates a payment and its UCanPay checkout. Safe to retry with the same idempotencyKey.' })
  async createPayment(
    @Arg('input', () => CreatePaymentInput, { description: 'The payment to create.' }) input: CreatePaymentInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<typeof CreatePaymentResult> {
    return toCreatePaymentResult(await ctx.services.payments.create(ctx.principal, input, ctx.idempotencyKey));
  }

  @Query(() => Payment, { nullable: true, description: 'A payment; refresh: true first checks its status with UCanPay.' })
  payment(
    @Arg('id', () => ID, { description: 'The payment id (pay_…).' }) id: string,
    @Arg('refresh', () => Boolean, { defaultValue: false, description: 'true: ask UCanPay for the status first and apply any change (one provider call).' })
    refresh: boolean,
    @Ctx() ctx: GatewayContext,
  ): Promise<PaymentEntity> {
    return ctx.services.payments.get(ctx.principal, id, refresh);
  }

  @Query(() => PaymentConnection, { description: 'Your payments, newest first.' })
  payments(@Args(() => PaymentsArgs) args: PaymentsArgs, @Ctx() ctx: GatewayContext) {
    return ctx.services.payments.list(ctx.principal, { ...args, first: pageSize(args.first) });
  }

  @Subscription(() => Payment, {
    description: 'The payment now, then every change once, in version order (with sinceVersion: only newer versions). Accepts the client secret.',
    subscribe: ({ args, context }) =>
      resumeAfter(args.sinceVersion, () => (context as GatewayContext).services.payments.follow((context as GatewayContext).principal, args.id)),
  })
  paymentUpdated(
    @Root() payment: PaymentEntity,
    @Arg('id', () => ID, { description: 'The payment id (pay_…); a client secret may follow only its own payment.' }) _id: string,
    @Arg('sinceVersion', () => Int, {
      nullable: true,
      description: 'Resume: the last version you received. Only newer versions are sent (the current state too, when it is newer).',
    })
    _sinceVersion?: number | null,
  ): PaymentEntity {
    return payment;
  }

  @FieldResolver(() => [Refund], { description: 'Refunds of this payment, oldest first.' })
  refunds(@Root() payment: PaymentEntity, @Ctx() ctx: GatewayContext): Promise<RefundEntity[]> {
    return ctx.loaders.refundsByPaymentId.load(payment.id);
  }

  @FieldResolver(() => Int, { description: 'Sum of succeeded refunds, in minor units.' })
  refundedAmount(@Root() payment: PaymentEntity): number {
    return payment.refundedAmount;
  }

  @FieldResolver(() => Int, { description: 'What can still be refunded now: paid minus succeeded and processing refunds (0 unless paid).' })
  async refundableAmount(@Root() payment: PaymentEntity, @Ctx() ctx: GatewayContext): Promise<number> {
    if (payment.status !== 'PAID' && payment.status !== 'PARTIALLY_REFUNDED') return 0;
    return refundTotals(payment.amount, await ctx.loaders.refundsByPaymentId.load(payment.id)).refundableAmount;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'Lets a browser or app read and subscribe to this one payment. Only shown to the merchant API key (null for a client secret).',
  })
  clientSecret(@Root() payment: PaymentEntity, @Ctx() ctx: GatewayContext): string | null {
    return ctx.principal?.kind === 'merchant' ? payment.clientSecret : null;
  }
}
