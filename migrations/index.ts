import { InitialSchema1764100000000 } from './1764100000000-initial-schema';
import { Refunds1764200000000 } from './1764200000000-refunds';
import { BillingSubscriptions1764300000000 } from './1764300000000-billing-subscriptions';
import { IdempotencyClaims1764400000000 } from './1764400000000-idempotency-claims';
import { ScaleIndexes1764500000000 } from './1764500000000-scale-indexes';
import { ReconcileDueIndexes1764600000000 } from './1764600000000-reconcile-due-indexes';
import { Events1764700000000 } from './1764700000000-events';
import { OutboundWebhooks1764800000000 } from './1764800000000-outbound-webhooks';

/** Every migration, oldest first. Listed explicitly so ts-node, vitest and builds agree. */
export const migrations = [
  InitialSchema1764100000000,
  Refunds1764200000000,
  BillingSubscriptions1764300000000,
  IdempotencyClaims1764400000000,
  ScaleIndexes1764500000000,
  ReconcileDueIndexes1764600000000,
  Events1764700000000,
  OutboundWebhooks1764800000000,
];
