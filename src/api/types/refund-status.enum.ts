import { registerEnumType } from 'type-graphql';

export enum RefundStatus {
  PROCESSING = 'PROCESSING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

registerEnumType(RefundStatus, {
  name: 'RefundStatus',
  description: 'PROCESSING → SUCCEEDED | FAILED. A PROCESSING refund holds its amount; a FAILED one frees it.',
  valuesConfig: {
    PROCESSING: { description: 'Sent to UCanPay (or about to be); its amount is reserved and cannot be refunded twice.' },
    SUCCEEDED: { description: 'UCanPay returned the money to the customer; final.' },
    FAILED: { description: 'UCanPay refused or failed it; its amount can be refunded again. Final; see failureCode.' },
  },
});
