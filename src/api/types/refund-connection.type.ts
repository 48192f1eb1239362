import { ObjectType } from 'type-graphql';
import { Connection } from './connection.type';
import { Refund } from './refund.type';

@ObjectType({ simpleResolvers: true, description: 'A page of refunds, newest first.' })
export class RefundConnection extends Connection(Refund, 'refund') {}
