import { ObjectType } from 'type-graphql';
import { Connection } from './connection.type';
import { WebhookEndpoint } from './webhook-endpoint.type';

@ObjectType({ simpleResolvers: true, description: 'A page of webhook endpoints, newest first.' })
export class WebhookEndpointConnection extends Connection(WebhookEndpoint, 'webhook endpoint') {}
