import { Field, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'The customer of a subscription, as given to createSubscription.' })
export class Customer {
  @Field(() => String, { description: 'Your id of the customer (not a gateway id).' })
  id!: string;

  @Field(() => String, { description: "The customer's email address." })
  email!: string;

  @Field(() => String, { description: "The customer's name." })
  name!: string;
}
