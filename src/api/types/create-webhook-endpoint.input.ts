import { Field, InputType } from 'type-graphql';
import { EventType } from './event-type.enum';

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
    description:
      'A GraphQL query run for each delivery (variables $eventId, $eventType, $objectId, $objectType, $objectVersion); its result is the payload. Validated now.',
  })
  payloadQuery?: string | null;

  @Field(() => String, { description: 'Absolute http(s) URL; https only in production; checked against private, loopback and metadata addresses.' })
  url!: string;
}
