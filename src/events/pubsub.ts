import type { BillingSubscriptionEntity, PaymentEntity, RefundEntity } from '../entities';
import { FanOut } from './fan-out';

/** Topics and their payloads: one place that names every live event. */
export interface Topics {
  /** A payment changed (its version increased). */
  paymentUpdated: PaymentEntity;
  /** A refund changed (its version increased). */
  refundUpdated: RefundEntity;
  /** A billing subscription changed (its version increased). */
  subscriptionUpdated: BillingSubscriptionEntity;
  /** A merchant's event log grew (a wake-up for its event streams: they read the log itself, src/services/event-log.ts). */
  eventsRecorded: { merchantId: string };
}

/**
 * Carries events from the service that committed a change to the
 * subscribers of it. In memory on one instance (`createInMemoryEventBus`);
 * Redis when REDIS_URL is set (`createRedisEventBus`), so every instance
 * hears every other instance's changes.
 *
 * Delivery is at most once: Redis pub/sub drops what is published while a
 * subscriber connection is down. `onResync` says when that may have happened,
 * and followers (services/versioned.ts) then reload their record from the
 * database, which is the source of truth.
 */
export interface EventBus {
  /** Fire and forget, after the change committed. A failure is logged, never thrown. */
  publish<T extends keyof Topics>(topic: T, id: string, payload: Topics[T]): void;
  /**
   * Calls `listener` with every later event of (topic, id). Resolves once
   * listening is in effect (on Redis: the SUBSCRIBE is acknowledged), so
   * whatever is published after it resolves reaches the listener; resolves to
   * the function that stops listening.
   */
  listen<T extends keyof Topics>(topic: T, id: string, listener: (payload: Topics[T]) => void): Promise<() => void>;
  /** `listener` runs whenever events may have been lost (a reconnected Redis subscriber). Returns the function that removes it. */
  onResync(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Listener calls per turn of the event loop when a bus is not told otherwise (EVENTS_FANOUT_BATCH). */
export const DEFAULT_FANOUT_BATCH = 100;

/**
 * One process: a map of listeners, called in commit order — synchronously on
 * publish, `fanoutBatch` per turn of the event loop beyond that (FanOut).
 * Never loses an event, so never resyncs.
 */
export function createInMemoryEventBus(options: { fanoutBatch?: number } = {}): EventBus {
  const listeners = new Map<string, Set<(payload: never) => void>>();
  const fanOut = new FanOut(options.fanoutBatch ?? DEFAULT_FANOUT_BATCH);
  return {
    publish(topic, id, payload) {
      for (const listener of [...(listeners.get(`${topic}:${id}`) ?? [])]) fanOut.schedule(() => listener(payload as never));
    },
    async listen(topic, id, listener) {
      const key = `${topic}:${id}`;
      const set = listeners.get(key) ?? new Set();
      listeners.set(key, set);
      set.add(listener as (payload: never) => void);
      return () => {
        set.delete(listener as (payload: never) => void);
        if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
      };
    },
    onResync() {
      return () => undefined;
    },
    async close() {
      listeners.clear();
    },
  };
}
