import { registerEnumType } from 'type-graphql';

export enum PaymentStatus {
  PENDING = 'PENDING',
  PAID = 'PAID',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
  EXPIRED = 'EXPIRED',
  PARTIALLY_REFUNDED = 'PARTIALLY_REFUNDED',
  REFUNDED = 'REFUNDED',
}

registerEnumType(PaymentStatus, {
  name: 'PaymentStatus',
  description: 'PENDING → PAID | FAILED | CANCELLED | EXPIRED; PAID → PARTIALLY_REFUNDED → REFUNDED.',
  valuesConfig: {
    PENDING: { description: 'Waiting for the customer at the checkout page.' },
    PAID: { description: 'The customer paid; transactionId is set.' },
    FAILED: { description: 'The payment was declined or refused; see failureCode.' },
    CANCELLED: { description: 'The customer cancelled at the checkout page.' },
    EXPIRED: { description: 'Nobody paid before expiresAt.' },
    PARTIALLY_REFUNDED: { description: 'Part of the paid amount was refunded.' },
    REFUNDED: { description: 'The whole paid amount was refunded.' },
  },
});
