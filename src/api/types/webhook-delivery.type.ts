import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { WebhookDeliveryStatus } from './webhook-delivery-status.enum';

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
