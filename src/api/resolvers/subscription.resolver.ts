import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { BillingSubscriptionEntity, SubscriptionChargeEntity } from '../../entities';
import { resumeAfter } from '../../services/versioned';
import type { GatewayContext } from '../context';
import { toCancelSubscriptionResult, toCreateSubscriptionResult, toUpdateSubscriptionResult } from '../results';
import {
  BillingSubscription,
  BillingSubscriptionStatus,
  Customer,
  PendingSubscriptionUpdate,
  SubscriptionCharge,
} from '../types/billing-subscription.type';
import { BillingSubscriptionConnection } from '../types/subscription-connection.type';
import { CancelSubscriptionInput, CreateSubscriptionInput, UpdateSubscriptionInput } from '../types/subscription-inputs.input';
import { CancelSubscriptionResult, CreateSubscriptionResult, UpdateSubscriptionResult } from '../types/subscription-results.union';
import { pageSize } from './pagination';

@ArgsType()
class SubscriptionsArgs {
  @Field(() => BillingSubscriptionStatus, { nullable: true, description: 'Only subscriptions in this status; null = all.' })
  status?: BillingSubscriptionStatus | null;

  @Field(() => String, { nullable: true, description: 'Only this customer’s subscriptions (your customer id).' })
  customerId?: string | null;

  @Field(() => Int, { nullable: true, description: 'Page size, 1 to 100 (default 20).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page; null = the first page.' })
  after?: string | null;
}

@Resolver(() => BillingSubscription)
export class SubscriptionResolver {
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
  subscriptions(@Args(() => SubscriptionsArgs) args: SubscriptionsArgs, @Ctx() ctx: GatewayContext) {
    return ctx.services.subscriptions.list(ctx.principal, { ...args, first: pageSize(args.first) });
  }

  @Subscription(() => BillingSubscription, {
    description:
      'The subscription now, then every change once (activation, renewals, failed renewals, past due, unpaid, updates, cancellation), in version order (with sinceVersion: only newer versions).',
    subscribe: ({ args, context }) =>
      resumeAfter(args.sinceVersion, () =>
        (context as GatewayContext).services.subscriptions.follow((context as GatewayContext).principal, args.id),
      ),
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
