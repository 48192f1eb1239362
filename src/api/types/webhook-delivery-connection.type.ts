import { ObjectType } from 'type-graphql';
import { Connection } from './connection.type';
import { WebhookDelivery } from './webhook-delivery.type';

@ObjectType({ simpleResolvers: true, description: 'A page of deliveries, newest first.' })
export class WebhookDeliveryConnection extends Connection(WebhookDelivery, 'delivery') {}
