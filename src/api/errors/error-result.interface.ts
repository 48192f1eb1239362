import { Field, InterfaceType } from 'type-graphql';
import { ErrorCode } from './error-code.enum';

@InterfaceType({ description: 'A business outcome that is not a success. Every error type of a result union implements it.' })
export abstract class ErrorResult {
  @Field(() => ErrorCode, { description: 'What happened; stable, switch on it.' })
  code!: ErrorCode;

  @Field(() => String, { description: 'For the developer; show your own text to end users.' })
  message!: string;
}
