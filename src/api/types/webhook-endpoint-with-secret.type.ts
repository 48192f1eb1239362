import { Field, ObjectType } from 'type-graphql';
import { WebhookEndpoint } from './webhook-endpoint.type';

@ObjectType({ simpleResolvers: true, description: 'An endpoint with its signing secret, shown this once.' })
export class WebhookEndpointWithSecret {
  @Field(() => WebhookEndpoint, { description: 'The endpoint.' })
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: 'The signing secret (whsec_…): verify with any Standard Webhooks library. Shown only now; store it safely.' })
  secret!: string;
}
