import { Field, ObjectType } from 'type-graphql';
import { Payment } from './payment.type';

@ObjectType({ simpleResolvers: true, description: 'Where a page of a list is (Relay cursor connections).' })
export class PageInfo {
  @Field(() => Boolean, { description: 'True when a next page exists: pass endCursor as after to get it.' })
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: 'True when after was given (a page before this one exists). Lists are read forwards only (first/after).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first edge of this page; null when the page is empty.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last edge of this page; null when the page is empty.' })
  endCursor!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'One payment of a page, with its cursor.' })
export class PaymentEdge {
  @Field(() => String, { description: 'Opaque position of this payment in the list; pass it as after.' })
  cursor!: string;

  @Field(() => Payment, { description: 'The payment.' })
  node!: Payment;
}

@ObjectType({ simpleResolvers: true, description: 'A page of payments, newest first.' })
export class PaymentConnection {
  @Field(() => [PaymentEdge], { description: 'The payments of this page (at most first of them).' })
  edges!: PaymentEdge[];

  @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursor to get the next.' })
  pageInfo!: PageInfo;
}
