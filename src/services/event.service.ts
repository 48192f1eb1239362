import { notFound } from '../domain/errors';
import type { EventType } from '../domain/event-types';
import type { EventBus } from '../events/pubsub';
import { requireMerchant } from './access';
import { decodeEventCursor, type EventFilter, type EventLog, type ReadEvent } from './event-log';
import type { Principal } from './merchant.service';
import type { Page } from './pagination';

/** Events read per query while a stream catches up. */
const STREAM_PAGE = 100;
/** How soon a stream reads again while the PostgreSQL horizon hides committed events (then every second). */
const HELD_BACK_DELAYS_MS = [10, 25, 50, 100, 250, 500, 1000];

export interface EventStreamOptions {
  /** How often a stream reads the log even without a notice (a lost Redis message, an event held behind the PostgreSQL horizon). */
  pollMs: number;
}

/**
 * Reading the event log over GraphQL: the merchant's API key only (a client
 * secret is FORBIDDEN, nothing is UNAUTHENTICATED), and the resumable stream
 * behind `eventCreated`.
 */
export class EventService {
  constructor(
    private readonly log: EventLog,
    private readonly events: EventBus,
    private readonly options: EventStreamOptions,
  ) {}

  list(principal: Principal | null, filter: EventFilter): Promise<Page<ReadEvent>> {
    return this.log.page(requireMerchant(principal, 'events'), filter);
  }

  async get(principal: Principal | null, id: string): Promise<ReadEvent> {
    const event = await this.log.get(requireMerchant(principal, 'event'), id);
    if (!event) throw notFound('event', id);
    return event;
  }

  /** Timelines of several objects of the merchant (the object `events` fields' loader). */
  timelines(merchantId: string, objectIds: readonly string[], first: number, after: string | null): Promise<Map<string, Page<ReadEvent>>> {
    return this.log.timelines(merchantId, objectIds, first, after);
  }

  /**
   * Every event after `after` (without it: after the newest one now), then
   * each new one, in cursor order, each once. The order and the absence of
   * gaps come from the log: the stream reads it from its own cursor whenever
   * it is woken — by an "events recorded" notice (any instance, through the
   * EventBus), by a resync of the bus, or by a poll every `pollMs` as a
   * safety net. A notice is only a wake-up, so a lost or late one delays an
   * event, never drops or repeats it.
   */
  async follow(
    principal: Principal | null,
    after: string | null | undefined,
    types: readonly EventType[] | null | undefined,
  ): Promise<AsyncIterableIterator<ReadEvent>> {
    const merchantId = requireMerchant(principal, 'eventCreated');
    if (after) decodeEventCursor(after);
    const only = types?.length ? types : null;
    const stream = new LogStream(
      (cursor) => this.log.page(merchantId, { first: STREAM_PAGE, after: cursor, types: only }),
      (cursor) => this.log.heldBack(merchantId, { after: cursor, types: only }),
    );
    // Listening before the start is read: nothing recorded after it goes unnoticed.
    const stop = await this.events.listen('eventsRecorded', merchantId, () => stream.wake());
    stream.onClose(stop);
    stream.onClose(this.events.onResync(() => stream.wake()));
    const timer = setInterval(() => stream.wake(), this.options.pollMs);
    timer.unref();
    stream.onClose(() => clearInterval(timer));
    try {
      stream.start(after ?? (await this.log.endCursor(merchantId)));
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }
}

/**
 * The iterator behind `follow`: pulls a page of the log only when its reader
 * wants the next event and the last page is used up, so a slow client is
 * never sent more than it reads (and memory stays one page per stream).
 * `return()` (the client went away) stops everything at once.
 */
class LogStream implements AsyncIterableIterator<ReadEvent> {
  private cursor: string | null = null;
  private readonly queue: ReadEvent[] = [];
  private closed = false;
  /** Bumped by every wake-up: a notice that arrives while a page is being read is not lost. */
  private generation = 0;
  private sleeping: (() => void) | undefined;
  private readonly cleanups: Array<() => void> = [];
  /** The one read in progress: `next()` calls never overlap their reads. */
  private pulling: Promise<void> | undefined;

  constructor(
    private readonly read: (after: string | null) => Promise<Page<ReadEvent>>,
    /** Committed events after the cursor that the PostgreSQL horizon still hides: read again soon (HELD_BACK_DELAYS_MS). */
    private readonly heldBack: (after: string | null) => Promise<boolean>,
  ) {}

  start(cursor: string | null): void {
    this.cursor = cursor;
  }

  wake(): void {
    this.generation++;
    const sleeping = this.sleeping;
    this.sleeping = undefined;
    sleeping?.();
  }

  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  async next(): Promise<IteratorResult<ReadEvent>> {
    for (;;) {
      if (this.queue.length) return { value: this.queue.shift()!, done: false };
      if (this.closed) return { value: undefined, done: true };
      await (this.pulling ??= this.pull().finally(() => {
        this.pulling = undefined;
      }));
    }
  }

  /** Reads pages until one has events (queued) or the stream is closed, sleeping between empty reads until woken. */
  private async pull(): Promise<void> {
    let held = 0;
    while (!this.closed) {
      const seen = this.generation;
      let page: Page<ReadEvent>;
      try {
        page = await this.read(this.cursor);
      } catch {
        // The database did not answer: the next wake-up (at the latest the poll) tries again.
        page = { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
      }
      if (this.closed) break;
      if (page.edges.length) {
        this.cursor = page.pageInfo.endCursor;
        this.queue.push(...page.edges.map((edge) => edge.node));
        return;
      }
      if (seen !== this.generation) continue;
      if (await this.heldBack(this.cursor).catch(() => false)) {
        // The wake-up came before the horizon passed its events: look again soon, not at the next poll.
        await this.pause(HELD_BACK_DELAYS_MS[Math.min(held++, HELD_BACK_DELAYS_MS.length - 1)]);
        continue;
      }
      held = 0;
      await new Promise<void>((resolve) => (this.sleeping = resolve));
    }
  }

  /** Waits `ms` or until woken or closed. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.sleeping = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  return(): Promise<IteratorResult<ReadEvent>> {
    if (!this.closed) {
      this.closed = true;
      this.queue.length = 0;
      for (const cleanup of this.cleanups.splice(0)) {
        try {
          cleanup();
        } catch {
          // Stopping one listener must not keep the others running.
        }
      }
      this.wake();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  async throw(error?: unknown): Promise<IteratorResult<ReadEvent>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ReadEvent> {
    return this;
  }
}
