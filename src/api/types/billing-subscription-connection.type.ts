import { ObjectType } from 'type-graphql';
import { BillingSubscription } from './billing-subscription.type';
import { Connection } from './connection.type';

@ObjectType({ simpleResolvers: true, description: 'A page of subscriptions, newest first.' })
export class BillingSubscriptionConnection extends Connection(BillingSubscription, 'subscription') {}
