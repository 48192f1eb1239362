import { DateTimeISOResolver } from 'graphql-scalars';
import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'One HTTP attempt of a delivery.' })
export class WebhookDeliveryAttempt {
  @Field(() => Int, { description: 'From sending the request to the end of the answer (or the error), in milliseconds.' })
  durationMs!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Why it failed: the HTTP status, a timeout, a refused connection, a forbidden address; null on success.',
  })
  error!: string | null;

  @Field(() => Int, { nullable: true, description: 'The status code the endpoint answered; null when no answer came.' })
  httpStatus!: number | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'The retry this failure scheduled; null on success or when none is left.' })
  nextRetryAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The first 1 KiB of the answer, credentials and card-like numbers redacted.' })
  responseExcerpt!: string | null;

  @Field(() => DateTimeISOResolver, { description: 'When the attempt started (UTC).' })
  startedAt!: Date;
}
