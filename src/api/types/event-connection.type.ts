import { ObjectType } from 'type-graphql';
import { Connection } from './connection.type';
import { Event } from './event.type';

@ObjectType({
  simpleResolvers: true,
  description: 'A page of events, oldest first (cursor order). Keep pageInfo.endCursor even on the last page: more events may come later.',
})
export class EventConnection extends Connection(Event, 'event') {}
