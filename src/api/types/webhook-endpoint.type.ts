import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { EventType } from './event.type';
import { PageInfo } from './payment-connection.type';

@ObjectType({ simpleResolvers: true, description: 'Where the gateway sends your events: a URL, the event types it wants, and how the payload looks.' })
export class WebhookEndpoint {
  @Field(() => ID, { description: 'The endpoint id, we_ then 26 characters.' })
  id!: string;

  @Field(() => String, { description: 'Receives a POST per event (https in production; never a private or loopback address there).' })
  url!: string;

  @Field(() => String, { description: 'Your note about the endpoint (may be empty).' })
  description!: string;

  @Field(() => [EventType], { description: 'The event types delivered here (payloads name them payment.paid etc.).' })
  eventTypes!: string[];

  @Field(() => Boolean, { description: 'False: nothing is delivered (you disabled it, or the gateway did: see disabledReason).' })
  enabled!: boolean;

  @Field(() => String, { nullable: true, description: 'Why the gateway disabled it (410 Gone, too many consecutive failures); null otherwise.' })
  disabledReason!: string | null;

  @Field(() => String, { nullable: true, description: 'The GraphQL query that shapes each payload; null = the default payload.' })
  payloadQuery!: string | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Until then the secret before the last rotation signs too (a second v1 signature); null when none does.' })
  previousSecretExpiresAt!: Date | null;

  @Field(() => Int, { description: 'Failed attempts since the last success.' })
  consecutiveFailures!: number;

  @Field(() => Int, { description: 'Starts at 1 and increases by one with every change.' })
  version!: number;

  @Field(() => DateTimeISOResolver, { description: 'When it was created (UTC).' })
  createdAt!: Date;

  @Field(() => DateTimeISOResolver, { description: 'When it last changed (UTC).' })
  updatedAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'An endpoint with its signing secret, shown this once.' })
export class WebhookEndpointWithSecret {
  @Field(() => WebhookEndpoint, { description: 'The endpoint.' })
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: 'The signing secret (whsec_…): verify with any Standard Webhooks library. Shown only now; store it safely.' })
  secret!: string;
}

@InputType({ description: 'A new webhook endpoint.' })
export class CreateWebhookEndpointInput {
  @Field(() => String, { nullable: true, description: 'Your note, at most 500 characters. Default empty.' })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Default true.' })
  enabled?: boolean | null;

  @Field(() => [EventType], { description: 'Event types to deliver (at least one, no repeats), e.g. [PAYMENT_PAID].' })
  eventTypes!: string[];

  @Field(() => String, {
    nullable: true,
    description: 'A GraphQL query run for each delivery (variables $eventId, $eventType, $objectId, $objectType, $objectVersion); its result is the payload. Validated now.',
  })
  payloadQuery?: string | null;

  @Field(() => String, { description: 'Absolute http(s) URL; https only in production; checked against private, loopback and metadata addresses.' })
  url!: string;
}

@InputType({ description: 'Changes to a webhook endpoint: only the fields given change.' })
export class UpdateWebhookEndpointInput {
  @Field(() => String, { nullable: true, description: 'Your note, at most 500 characters (null: empty).' })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true re-enables a disabled endpoint (and clears its failure count).' })
  enabled?: boolean | null;

  @Field(() => [EventType], { nullable: true, description: 'Event types to deliver (at least one, no repeats).' })
  eventTypes?: string[] | null;

  @Field(() => String, { nullable: true, description: 'A new payload query; null removes it (the default payload again).' })
  payloadQuery?: string | null;

  @Field(() => String, { nullable: true, description: 'A new URL (same rules as when created).' })
  url?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'One webhook endpoint of a page, with its cursor.' })
export class WebhookEndpointEdge {
  @Field(() => String, { description: 'Opaque position of this endpoint in the list; pass it as after.' })
  cursor!: string;

  @Field(() => WebhookEndpoint, { description: 'The endpoint.' })
  node!: WebhookEndpoint;
}

@ObjectType({ simpleResolvers: true, description: 'A page of webhook endpoints, newest first.' })
export class WebhookEndpointConnection {
  @Field(() => [WebhookEndpointEdge], { description: 'The endpoints of this page (at most first of them).' })
  edges!: WebhookEndpointEdge[];

  @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursor to get the next.' })
  pageInfo!: PageInfo;
}

export enum WebhookDeliveryStatus {
  FAILED = 'FAILED',
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
}

registerEnumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description: 'PENDING (being retried) → SUCCEEDED (a 2xx) | FAILED (410 Gone, no retry left, or the endpoint disabled).',
  valuesConfig: {
    FAILED: { description: 'Given up: 410 Gone, the retry window ended, or the endpoint is disabled or deleted. redeliverEvent sends it again.' },
    PENDING: { description: 'Not delivered yet: the next attempt is at nextAttemptAt.' },
    SUCCEEDED: { description: 'The endpoint answered 2xx.' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'One HTTP attempt of a delivery.' })
export class WebhookDeliveryAttempt {
  @Field(() => Int, { description: 'From sending the request to the end of the answer (or the error), in milliseconds.' })
  durationMs!: number;

  @Field(() => String, { nullable: true, description: 'Why it failed: the HTTP status, a timeout, a refused connection, a forbidden address; null on success.' })
  error!: string | null;

  @Field(() => Int, { nullable: true, description: 'The status code the endpoint answered; null when no answer came.' })
  httpStatus!: number | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'The retry this failure scheduled; null on success or when none is left.' })
  nextRetryAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The first 1 KiB of the answer, credentials and card-like numbers redacted.' })
  responseExcerpt!: string | null;

  @Field(() => DateTimeISOResolver, { description: 'When the attempt started (UTC).' })
  startedAt!: Date;
}

@ObjectType({ description: 'One event sent to one endpoint, with every attempt (the delivery log).' })
export class WebhookDelivery {
  @Field(() => Int, { description: 'Attempts so far.' })
  attemptCount!: number;

  @Field(() => DateTimeISOResolver, { description: 'When the delivery was created: with its event, in the same transaction.' })
  createdAt!: Date;

  @Field(() => ID, { description: 'The endpoint (we_…).' })
  endpointId!: string;

  @Field(() => ID, { description: 'The event (evt_…): the webhook-id header of every attempt.' })
  eventId!: string;

  @Field(() => String, { description: 'The event type, e.g. payment.paid (webhook_endpoint.ping for testWebhookEndpoint).' })
  eventType!: string;

  @Field(() => ID, { description: 'The delivery id, whd_ then 26 characters.' })
  id!: string;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When the last attempt started; null before the first.' })
  lastAttemptAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed; null when it succeeded or none was made.' })
  lastError!: string | null;

  @Field(() => Int, { nullable: true, description: 'The status code of the last answer; null when none came.' })
  lastHttpStatus!: number | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When the next attempt is due; null unless PENDING.' })
  nextAttemptAt!: Date | null;

  @Field(() => WebhookDeliveryStatus, { description: 'Where the delivery is.' })
  status!: WebhookDeliveryStatus;
}

@ObjectType({ simpleResolvers: true, description: 'One delivery of a page, with its cursor.' })
export class WebhookDeliveryEdge {
  @Field(() => String, { description: 'Opaque position of this delivery in the list; pass it as after.' })
  cursor!: string;

  @Field(() => WebhookDelivery, { description: 'The delivery.' })
  node!: WebhookDelivery;
}

@ObjectType({ simpleResolvers: true, description: 'A page of deliveries, newest first.' })
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDeliveryEdge], { description: 'The deliveries of this page (at most first of them).' })
  edges!: WebhookDeliveryEdge[];

  @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursor to get the next.' })
  pageInfo!: PageInfo;
}
