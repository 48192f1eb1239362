import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { EventCause } from './event-cause.type';
import { EventObjectType } from './event-object-type.enum';
import { EventType } from './event-type.enum';
import { Node } from './node.interface';

@ObjectType({
  simpleResolvers: true,
  implements: Node,
  description: 'One applied change of a payment, refund or subscription, recorded in the same transaction as the change. Kept EVENT_RETENTION_DAYS (30).',
})
export class Event implements Node {
  @Field(() => ID, { description: 'The event id, evt_ then 26 characters.' })
  id!: string;

  @Field(() => EventType, { description: 'What happened.' })
  type!: string;

  @Field(() => EventObjectType, { description: 'The kind of object it happened to.' })
  objectType!: string;

  @Field(() => ID, { description: 'The object’s id (pay_…, ref_…, sub_…).' })
  objectId!: string;

  @Field(() => Int, { description: 'The object’s version after the change: drop an event whose version you have already seen.' })
  objectVersion!: number;

  @Field(() => JSONObjectResolver, { description: 'The object at objectVersion, as the GraphQL type shows it (dates as ISO 8601; never a client secret).' })
  data!: Record<string, unknown>;

  @Field(() => DateTimeISOResolver, { description: 'When the change was recorded (UTC).' })
  createdAt!: Date;

  @Field(() => EventCause, { description: 'What made the change.' })
  cause!: EventCause;

  @Field(() => String, { description: 'This event’s place in the log: pass it as after (events, eventCreated) to read on from here.' })
  cursor!: string;
}
