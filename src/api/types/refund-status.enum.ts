import { registerEnumType } from 'type-graphql';

export enum RefundStatus {
  PROCESSING = 'PROCESSING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

registerEnumType(RefundStatus, {
  name: 'RefundStatus',
  description: 'PROCESSING → SUCCEEDED | FAILED. A PROCESSING refund holds its amount; a FAILED one frees it.',
});
