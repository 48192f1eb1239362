import { createPubSub } from '@graphql-yoga/subscription';
import type { PaymentEntity, RefundEntity } from '../entities';

/** Topics and their payloads: one place that names every live event. */
export interface Topics {
  /** A payment changed (its version increased). */
  paymentUpdated: PaymentEntity;
  /** A refund changed (its version increased). */
  refundUpdated: RefundEntity;
}

/**
 * Carries events from the service that committed a change to the
 * subscribers of it. In memory on one instance; Redis when REDIS_URL is set.
 */
export interface EventBus {
  publish<T extends keyof Topics>(topic: T, id: string, payload: Topics[T]): void;
  subscribe<T extends keyof Topics>(topic: T, id: string): AsyncIterableIterator<Topics[T]>;
  close(): Promise<void>;
}

export function createInMemoryEventBus(): EventBus {
  const pubsub = createPubSub<{ [K in keyof Topics]: [string, Topics[K]] }>();
  return {
    publish(topic, id, payload) {
      pubsub.publish(topic, id, payload as never);
    },
    subscribe(topic, id) {
      return (pubsub.subscribe as (t: string, i: string) => unknown)(topic, id) as AsyncIterableIterator<never>;
    },
    async close() {},
  };
}
