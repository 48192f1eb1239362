import { Field, ObjectType } from 'type-graphql';
import { EventCauseKind } from './event-cause-kind.enum';

@ObjectType({ simpleResolvers: true, description: 'What made a change.' })
export class EventCause {
  @Field(() => EventCauseKind, { description: 'API key, client secret, UCanPay webhook, reconciliation, refresh or the gateway itself.' })
  kind!: EventCauseKind;

  @Field(() => String, { nullable: true, description: "The API key's id, the payment's id (client secret) or UCanPay's event id; null for the others." })
  id!: string | null;
}
