import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { PaymentEntity, RefundEntity } from '../../entities';
import { notFound } from '../../domain/errors';
import type { GatewayContext } from '../context';
import { toRefundPaymentResult } from '../results';
import { Payment } from '../types/payment.type';
import { RefundConnection } from '../types/refund-connection.type';
import { RefundPaymentInput } from '../types/refund-payment.input';
import { RefundPaymentResult } from '../types/refund-payment.union';
import { RefundStatus } from '../types/refund-status.enum';
import { Refund } from '../types/refund.type';
import { PageArgs, pageSize } from './pagination';
import { resumeAfter } from '../../services/versioned';

@ArgsType()
class RefundsArgs extends PageArgs {
  @Field(() => ID, { nullable: true, description: 'Only the refunds of this payment (pay_…); null = of every payment.' })
  paymentId?: string | null;

  @Field(() => RefundStatus, { nullable: true, description: 'Only refunds in this status; null = all.' })
  status?: RefundStatus | null;
}

@Resolver(() => Refund)
export class RefundResolver {
  @Mutation(() => RefundPaymentResult, {
    description: 'Refunds all or part of a paid payment. Never more than was paid; safe to retry with the same idempotencyKey.',
  })
  async refundPayment(
    @Arg('input', () => RefundPaymentInput, { description: 'What to refund.' }) input: RefundPaymentInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<typeof RefundPaymentResult> {
    return toRefundPaymentResult(await ctx.services.refunds.refund(ctx.principal, input, ctx.idempotencyKey));
  }

  @Query(() => Refund, { nullable: true, description: 'A refund; refresh: true first checks its status with UCanPay.' })
  refund(
    @Arg('id', () => ID, { description: 'The refund id (ref_…).' }) id: string,
    @Arg('refresh', () => Boolean, { defaultValue: false, description: 'true: ask UCanPay for the status first and apply any change (one provider call).' })
    refresh: boolean,
    @Ctx() ctx: GatewayContext,
  ): Promise<RefundEntity> {
    return ctx.services.refunds.get(ctx.principal, id, refresh);
  }

  @Query(() => RefundConnection, { description: 'Your refunds, newest first.' })
  refunds(@Args(() => RefundsArgs) args: RefundsArgs, @Ctx() ctx: GatewayContext) {
    return ctx.services.refunds.list(ctx.principal, { ...args, first: pageSize(args.first) });
  }

  @Subscription(() => Refund, {
    description: 'The refund now, then every change once, in version order (with sinceVersion: only newer versions).',
    subscribe: ({ args, context }) =>
      resumeAfter(args.sinceVersion, () => (context as GatewayContext).services.refunds.follow((context as GatewayContext).principal, args.id)),
  })
  refundUpdated(
    @Root() refund: RefundEntity,
    @Arg('id', () => ID, { description: 'The refund id (ref_…).' }) _id: string,
    @Arg('sinceVersion', () => Int, {
      nullable: true,
      description: 'Resume: the last version you received. Only newer versions are sent (the current state too, when it is newer).',
    })
    _sinceVersion?: number | null,
  ): RefundEntity {
    return refund;
  }

  @FieldResolver(() => Payment, { description: 'The refunded payment.' })
  async payment(@Root() refund: RefundEntity, @Ctx() ctx: GatewayContext): Promise<PaymentEntity> {
    const payment = await ctx.loaders.paymentById.load(refund.paymentId);
    if (!payment) throw notFound('payment', refund.paymentId);
    return payment;
  }
}
