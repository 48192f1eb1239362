import DataLoader from 'dataloader';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEndpointEntity } from '../../entities';
import type { EndpointWithSecret } from '../../services/webhook-endpoints.service';
import type { GatewayContext } from '../context';
import { CreateWebhookEndpointInput } from '../types/create-webhook-endpoint.input';
import { UpdateWebhookEndpointInput } from '../types/update-webhook-endpoint.input';
import { WebhookDelivery } from '../types/webhook-delivery.type';
import { WebhookDeliveryAttempt } from '../types/webhook-delivery-attempt.type';
import { WebhookDeliveryConnection } from '../types/webhook-delivery-connection.type';
import { WebhookDeliveryStatus } from '../types/webhook-delivery-status.enum';
import { WebhookEndpoint } from '../types/webhook-endpoint.type';
import { WebhookEndpointConnection } from '../types/webhook-endpoint-connection.type';
import { WebhookEndpointWithSecret } from '../types/webhook-endpoint-with-secret.type';
import { PageArgs, pageSize } from './pagination';

@ArgsType()
class WebhookDeliveriesArgs extends PageArgs {
  @Field(() => ID, { nullable: true, description: 'Only deliveries to this endpoint (we_…).' })
  endpointId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only deliveries of this event (evt_…).' })
  eventId?: string | null;

  @Field(() => WebhookDeliveryStatus, { nullable: true, description: 'Only deliveries in this status.' })
  status?: WebhookDeliveryStatus | null;
}

/** Per request: the attempts of a page of deliveries in one query. */
const attemptLoaders = new WeakMap<GatewayContext, DataLoader<string, WebhookDeliveryAttemptEntity[]>>();

function attemptsLoader(ctx: GatewayContext): DataLoader<string, WebhookDeliveryAttemptEntity[]> {
  let loader = attemptLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids) => ctx.services.webhookEndpoints.attemptsByDeliveryIds(ids), { cache: false });
    attemptLoaders.set(ctx, loader);
  }
  return loader;
}

/** Outbound webhooks: endpoints, the delivery log, redelivery (merchant API key only; docs/events-and-webhooks.md). */
@Resolver(() => WebhookDelivery)
export class WebhookEndpointResolver {
  @Mutation(() => WebhookEndpointWithSecret, { description: 'Registers an endpoint; the answer holds its signing secret, shown only this once.' })
  createWebhookEndpoint(
    @Arg('input', () => CreateWebhookEndpointInput, { description: 'The endpoint to create.' }) input: CreateWebhookEndpointInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<EndpointWithSecret> {
    return ctx.services.webhookEndpoints.create(ctx.principal, input);
  }

  @Mutation(() => WebhookEndpoint, { description: 'Changes an endpoint (only the fields given).' })
  updateWebhookEndpoint(
    @Arg('id', () => ID, { description: 'The endpoint id (we_…).' }) id: string,
    @Arg('input', () => UpdateWebhookEndpointInput, { description: 'The changes.' }) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<WebhookEndpointEntity> {
    return ctx.services.webhookEndpoints.update(ctx.principal, id, input);
  }

  @Mutation(() => ID, { description: 'Deletes an endpoint with its delivery log; returns its id.' })
  deleteWebhookEndpoint(@Arg('id', () => ID, { description: 'The endpoint id (we_…).' }) id: string, @Ctx() ctx: GatewayContext): Promise<string> {
    return ctx.services.webhookEndpoints.delete(ctx.principal, id);
  }

  @Mutation(() => WebhookEndpointWithSecret, {
    description: 'A new signing secret, shown only this once; the old one keeps signing alongside it (two v1 signatures) for the grace period.',
  })
  rotateWebhookEndpointSecret(
    @Arg('id', () => ID, { description: 'The endpoint id (we_…).' }) id: string,
    @Arg('graceSeconds', () => Int, {
      nullable: true,
      description: 'How long the old secret keeps signing: 0 to 604800 seconds (default 86400, WEBHOOK_SECRET_GRACE_SECONDS).',
    })
    graceSeconds: number | null | undefined,
    @Ctx() ctx: GatewayContext,
  ): Promise<EndpointWithSecret> {
    return ctx.services.webhookEndpoints.rotateSecret(ctx.principal, id, graceSeconds);
  }

  @Mutation(() => WebhookDelivery, {
    description: 'Sends a webhook_endpoint.ping to the endpoint now (once, enabled or not) and returns that delivery with its attempt.',
  })
  testWebhookEndpoint(@Arg('id', () => ID, { description: 'The endpoint id (we_…).' }) id: string, @Ctx() ctx: GatewayContext): Promise<WebhookDeliveryEntity> {
    return ctx.services.webhookEndpoints.test(ctx.principal, id);
  }

  @Mutation(() => WebhookDelivery, { description: 'Sends an event to an endpoint again now (same webhook-id); a failure is retried from now as usual.' })
  redeliverEvent(
    @Arg('eventId', () => ID, { description: 'The event (evt_…).' }) eventId: string,
    @Arg('endpointId', () => ID, { description: 'The endpoint (we_…); it must be enabled.' }) endpointId: string,
    @Ctx() ctx: GatewayContext,
  ): Promise<WebhookDeliveryEntity> {
    return ctx.services.webhookEndpoints.redeliver(ctx.principal, eventId, endpointId);
  }

  @Query(() => WebhookEndpointConnection, { description: 'Your webhook endpoints, newest first.' })
  webhookEndpoints(@Args(() => PageArgs) args: PageArgs, @Ctx() ctx: GatewayContext) {
    return ctx.services.webhookEndpoints.list(ctx.principal, { ...args, first: pageSize(args.first) });
  }

  @Query(() => WebhookEndpoint, { nullable: true, description: 'One of your webhook endpoints.' })
  webhookEndpoint(@Arg('id', () => ID, { description: 'The endpoint id (we_…).' }) id: string, @Ctx() ctx: GatewayContext): Promise<WebhookEndpointEntity> {
    return ctx.services.webhookEndpoints.get(ctx.principal, id);
  }

  @Query(() => WebhookDeliveryConnection, { description: 'The delivery log, newest first: each event sent to each endpoint, with every attempt.' })
  webhookDeliveries(@Args(() => WebhookDeliveriesArgs) args: WebhookDeliveriesArgs, @Ctx() ctx: GatewayContext) {
    return ctx.services.webhookEndpoints.deliveries(ctx.principal, { ...args, first: pageSize(args.first) });
  }

  @FieldResolver(() => [WebhookDeliveryAttempt], { description: 'Every attempt, oldest first.' })
  attempts(@Root() delivery: WebhookDeliveryEntity, @Ctx() ctx: GatewayContext): Promise<WebhookDeliveryAttemptEntity[]> {
    return attemptsLoader(ctx).load(delivery.id);
  }
}
