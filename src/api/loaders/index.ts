import DataLoader from 'dataloader';
import type { PaymentEntity, RefundEntity, SubscriptionChargeEntity } from '../../entities';
import type { Services } from '../../services';
import type { Principal } from '../../services/merchant.service';
import { eventTimelineLoader, type TimelineKey } from './event-timeline';
import type { ReadEvent } from '../../services/event-log';
import type { Page } from '../../services/pagination';

/** Per-request batch loaders: one SQL query per relation per request, never shared between merchants. */
export interface Loaders {
  refundsByPaymentId: DataLoader<string, RefundEntity[]>;
  paymentById: DataLoader<string, PaymentEntity | null>;
  chargesBySubscriptionId: DataLoader<string, SubscriptionChargeEntity[]>;
  /** Objects' event timelines: one query per page size and cursor. */
  eventTimeline: DataLoader<TimelineKey, Page<ReadEvent>, string>;
}

export function createLoaders(services: Services, principal: Principal | null, options: { cache: boolean } = { cache: true }): Loaders {
  const merchantId = principal?.merchantId ?? '';
  const { cache } = options;
  return {
    refundsByPaymentId: new DataLoader((ids) => services.refunds.byPaymentIds(ids), { cache }),
    chargesBySubscriptionId: new DataLoader((ids) => services.subscriptions.chargesBySubscriptionIds(ids), { cache }),
    eventTimeline: eventTimelineLoader(services, merchantId, cache),
    paymentById: new DataLoader(
      async (ids) => {
        const rows = await services.payments.byIds(merchantId, ids);
        const byId = new Map(rows.map((p) => [p.id, p]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { cache },
    ),
  };
}
