import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { EventType } from './event-type.enum';

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

  @Field(() => DateTimeISOResolver, {
    nullable: true,
    description: 'Until then the secret before the last rotation signs too (a second v1 signature); null when none does.',
  })
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
