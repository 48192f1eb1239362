import { Field, InputType } from 'type-graphql';
import { EventType } from './event-type.enum';

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
