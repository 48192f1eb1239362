import { ObjectType } from 'type-graphql';
import { Connection } from './connection.type';
import { Payment } from './payment.type';

@ObjectType({ simpleResolvers: true, description: 'A page of payments, newest first.' })
export class PaymentConnection extends Connection(Payment, 'payment') {}
