import { DateTimeISOResolver } from 'graphql-scalars';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { BillingSubscriptionEntity, PaymentEntity, RefundEntity } from '../../entities';
import type { EventType as EventTypeName } from '../../domain/event-types';
import { requireMerchant } from '../../services/access';
import type { ReadEvent } from '../../services/event-log';
import type { Page } from '../../services/pagination';
import type { GatewayContext } from '../context';
import { BillingSubscription } from '../types/billing-subscription.type';
import { Event } from '../types/event.type';
import { EventConnection } from '../types/event-connection.type';
import { EventType } from '../types/event-type.enum';
import { Payment } from '../types/payment.type';
import { Refund } from '../types/refund.type';
import { PageArgs, pageSize } from './pagination';

@ArgsType()
class EventsArgs extends PageArgs {
  @Field(() => [EventType], { nullable: true, description: 'Only events of these types; null or [] = all.' })
  types?: EventTypeName[] | null;

  @Field(() => ID, { nullable: true, description: 'Only the events of this object (pay_…, ref_…, sub_…).' })
  objectId?: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Only events recorded after this time.' })
  createdAfter?: Date | null;
}

@Resolver(() => Event)
export class EventResolver {
  @Query(() => EventConnection, {
    description:
      'Your event log, oldest first, in cursor order: page with after = endCursor and you see every event exactly once, even when changes commit out of order. Merchant API key only.',
  })
  events(@Args() args: EventsArgs, @Ctx() ctx: GatewayContext): Promise<Page<ReadEvent>> {
    return ctx.services.events.list(ctx.principal, { ...args, first: pageSize(args.first) });
  }

  @Query(() => Event, { nullable: true, description: 'One event by id. Merchant API key only.' })
  event(@Arg('id', () => ID, { description: 'The event id (evt_…).' }) id: string, @Ctx() ctx: GatewayContext): Promise<ReadEvent> {
    return ctx.services.events.get(ctx.principal, id);
  }

  @Subscription(() => Event, {
    description:
      'Every event after the cursor from the log, then each new one as it is recorded: cursor order, no gap, no duplicate. Reconnect with the cursor of the last event you received to lose nothing. Merchant API key only.',
    subscribe: ({ args, context }) => {
      const ctx = context as GatewayContext;
      return ctx.services.events.follow(ctx.principal, args.after as string | null, args.types as EventTypeName[] | null);
    },
  })
  eventCreated(
    @Root() event: ReadEvent,
    @Arg('after', () => String, { nullable: true, description: 'The cursor of the last event you have; null = only events recorded from now on.' })
    _after?: string | null,
    @Arg('types', () => [EventType], { nullable: true, description: 'Only events of these types; null or [] = all.' }) _types?: EventTypeName[] | null,
  ): ReadEvent {
    return event;
  }
}

/** An object's timeline: its events, oldest first (one query per page of objects: the eventTimeline loader). */
function timeline(objectId: string, args: PageArgs, ctx: GatewayContext): Promise<Page<ReadEvent>> {
  requireMerchant(ctx.principal, 'events');
  return ctx.loaders.eventTimeline.load({ objectId, first: pageSize(args.first), after: args.after ?? null });
}

const TIMELINE = 'This object’s events, oldest first: an audit trail of every change and what caused it. Merchant API key only.';

@Resolver(() => Payment)
export class PaymentTimelineResolver {
  @FieldResolver(() => EventConnection, { description: TIMELINE })
  events(@Root() payment: PaymentEntity, @Args() args: PageArgs, @Ctx() ctx: GatewayContext): Promise<Page<ReadEvent>> {
    return timeline(payment.id, args, ctx);
  }
}

@Resolver(() => Refund)
export class RefundTimelineResolver {
  @FieldResolver(() => EventConnection, { description: TIMELINE })
  events(@Root() refund: RefundEntity, @Args() args: PageArgs, @Ctx() ctx: GatewayContext): Promise<Page<ReadEvent>> {
    return timeline(refund.id, args, ctx);
  }
}

@Resolver(() => BillingSubscription)
export class SubscriptionTimelineResolver {
  @FieldResolver(() => EventConnection, { description: TIMELINE })
  events(@Root() sub: BillingSubscriptionEntity, @Args() args: PageArgs, @Ctx() ctx: GatewayContext): Promise<Page<ReadEvent>> {
    return timeline(sub.id, args, ctx);
  }
}
