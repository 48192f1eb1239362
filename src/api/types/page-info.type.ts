import { Field, ObjectType } from 'type-graphql';

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
