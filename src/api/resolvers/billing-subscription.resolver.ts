import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { BillingSubscriptionEntity, SubscriptionChargeEntity } from '../../entities';
import { resumeAfter } from '../../services/versioned';
import type { GatewayContext } from '../context';
import { toCancelSubscriptionResult, toCreateSubscriptionResult, toUpdateSubscriptionResult } from '../results';
import { BillingSubscriptionConnection } from '../types/billing-subscription-connection.type';
import { BillingSubscriptionStatus } from '../types/billing-subscription-status.enum';
import { BillingSubscription } from '../types/billing-subscription.type';
import { CancelSubscriptionInput } from '../types/cancel-subscription.input';
import { CancelSubscriptionResult } from '../types/cancel-subscription.union';
import { CreateSubscriptionInput } from '../types/create-subscription.input';
import { CreateSubscriptionResult } from '../types/create-subscription.union';
import { Customer } from '../types/customer.type';
import { PendingSubscriptionUpdate } from '../types/pending-subscription-update.type';
import { SubscriptionCharge } from '../types/subscription-charge.type';
import { UpdateSubscriptionInput } from '../types/update-subscription.input';
import { UpdateSubscriptionResult } from '../types/update-subscription.union';
import { PageArgs, pageSize } from './pagination';

@ArgsType()
class BillingSubscriptionsArgs extends PageArgs {
  @Field(() => BillingSubscriptionStatus, { nullable: true, description: 'Only subscriptions in this status; null = all.' })
  status?: BillingSubscriptionStatus | null;

  @Field(() => String, { nullable: true, description: 'Only this customer’s subscriptions (your customer id).' })
  customerId?: string | null;
}

@Resolver(() => BillingSubscription)
export class BillingSubscriptionResolver {
  @Mutation(() => CreateSubscriptionResult, {
    description: 'Creates a recurring payment; send the customer to authorizationUrl to authorize the mandate. Safe to retry with the same idempotencyKey.',
  })
  async createSubscription(
    @Arg('input', () => CreateSubscriptionInput, { description: 'The subscription to create.' }) input: CreateSubscriptionInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<typeof CreateSubscriptionResult> {
    return toCreateSubscriptionResult(await ctx.services.subscriptions.create(ctx.principal, input, ctx.idempotencyKey));
  }

  @Mutation(() => UpdateSubscriptionResult, { description: 'Changes the terms from the next period on; safe to retry.' })
  async updateSubscription(
    @Arg('input', () => UpdateSubscriptionInput, { description: 'The subscription and its new terms.' }) input: UpdateSubscriptionInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<typeof UpdateSubscriptionResult> {
    return toUpdateSubscriptionResult(await ctx.services.subscriptions.update(ctx.principal, input));
  }

  @Mutation(() => CancelSubscriptionResult, { description: 'Cancels now, or at the end of the current period. Cancelling twice is not an error.' })
  async cancelSubscription(
    @Arg('input', () => CancelSubscriptionInput, { description: 'The subscription and when to cancel it.' }) input: CancelSubscriptionInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<typeof CancelSubscriptionResult> {
    return toCancelSubscriptionResult(await ctx.services.subscriptions.cancel(ctx.principal, input));
  }

  @Query(() => BillingSubscription, { nullable: true, description: 'A subscription; refresh: true first checks it with UCanPay.' })
  subscription(
    @Arg('id', () => ID, { description: 'The subscription id (sub_…).' }) id: string,
    @Arg('refresh', () => Boolean, { defaultValue: false, description: 'true: ask UCanPay first and apply any change (one provider call).' }) refresh: boolean,
    @Ctx() ctx: GatewayContext,
  ): Promise<BillingSubscriptionEntity> {
    return ctx.services.subscriptions.get(ctx.principal, id, refresh);
  }

  @Query(() => BillingSubscriptionConnection, { description: 'Your subscriptions, newest first.' })
  subscriptions(@Args(() => BillingSubscriptionsArgs) args: BillingSubscriptionsArgs, @Ctx() ctx: GatewayContext) {
    return ctx.services.subscriptions.list(ctx.principal, { ...args, first: pageSize(args.first) });
  }

  @Subscription(() => BillingSubscription, {
    description:
      'The subscription now, then every change once (activation, renewals, failed renewals, past due, unpaid, updates, cancellation), in version order (with sinceVersion: only newer versions).',
    subscribe: ({ args, context }) =>
      resumeAfter(args.sinceVersion, () => (context as GatewayContext).services.subscriptions.follow((context as GatewayContext).principal, args.id)),
  })
  subscriptionUpdated(
    @Root() subscription: BillingSubscriptionEntity,
    @Arg('id', () => ID, { description: 'The subscription id (sub_…).' }) _id: string,
    @Arg('sinceVersion', () => Int, {
      nullable: true,
      description: 'Resume: the last version you received. Only newer versions are sent (the current state too, when it is newer).',
    })
    _sinceVersion?: number | null,
  ): BillingSubscriptionEntity {
    return subscription;
  }

  @FieldResolver(() => Customer, { description: 'Who pays, as given to createSubscription.' })
  customer(@Root() sub: BillingSubscriptionEntity): Customer {
    return { id: sub.customerId, email: sub.customerEmail, name: sub.customerName };
  }

  @FieldResolver(() => PendingSubscriptionUpdate, { nullable: true, description: 'New terms waiting for the next period.' })
  pendingUpdate(@Root() sub: BillingSubscriptionEntity): PendingSubscriptionUpdate | null {
    if (!sub.pendingUpdate) return null;
    const { effectiveAt, ...terms } = sub.pendingUpdate;
    return { ...terms, effectiveAt: effectiveAt ? new Date(effectiveAt) : undefined } as PendingSubscriptionUpdate;
  }

  @FieldResolver(() => [SubscriptionCharge], { description: 'Every charge so far, oldest first.' })
  charges(@Root() sub: BillingSubscriptionEntity, @Ctx() ctx: GatewayContext): Promise<SubscriptionChargeEntity[]> {
    return ctx.loaders.chargesBySubscriptionId.load(sub.id);
  }
}
