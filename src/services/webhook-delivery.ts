import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import type { Database, Tx } from '../db/database';
import { newId, randomToken } from '../domain/ids';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEndpointEntity, type DeliveredEvent } from '../entities';
import { scrubSecrets, type Logger } from '../logger';
import type { WebhookConfig } from '../config';
import type { EventLog, LoggedEvent } from './event-log';
import { ForbiddenAddressError, guardedLookup, literalHostProblem, schemeProblem, systemResolver, type OutboundPolicy, type Resolver } from './outbound-url';

/** The event type of `testWebhookEndpoint`'s ping (never recorded in the event log, sent whatever the endpoint subscribes to). */
export const PING_EVENT_TYPE = 'webhook_endpoint.ping';

/** How long a commit's wake-up waits for others to join it. */
const WAKE_COALESCE_MS = 3;

/** What a delivery keeps of a receiver's answer. */
export const RESPONSE_EXCERPT_BYTES = 1024;

/** A shaped payload: the endpoint's GraphQL document run for one event (implemented by the API layer, set by app.ts). */
export interface PayloadShaper {
  /** Null when `document` is a valid payload query for the schema, else the GraphQL error's message. */
  check(document: string): string | null;
  /** Runs the document with the merchant as the only principal; resolves to its result (`data`, maybe `errors`). */
  run(merchantId: string, document: string, variables: PayloadVariables): Promise<Record<string, unknown>>;
}

/** The variables a payload query may declare (docs/events-and-webhooks.md#payload-shaping). */
export interface PayloadVariables {
  eventId: string;
  eventType: string;
  objectId: string;
  objectType: string;
  objectVersion: number;
}

/** Records `webhook_endpoint.disabled` in the event log, in the transaction that disables the endpoint. */
export type EndpointDisabledRecorder = (tx: Tx, endpoint: WebhookEndpointEntity, reason: string) => Promise<void>;

/** A delivery this instance holds the lease of, and the attempt the claim opened in the log. */
export type ClaimedDelivery = WebhookDeliveryEntity & { attemptId: string };

/** What an attempt says until its outcome is written: a crash during the attempt leaves it so. */
export const INTERRUPTED = 'no outcome: the instance attempting it stopped before the answer was recorded';

/** One HTTP attempt's result as the delivery log keeps it. */
interface AttemptResult {
  httpStatus: number | null;
  excerpt: string | null;
  error: string | null;
  durationMs: number;
}

/**
 * Outbound webhook delivery: at least once, from durable rows.
 *
 * `enqueue` writes one `webhook_deliveries` row per matching enabled endpoint
 * in the event's own transaction and wakes the worker after commit. The
 * worker (one per instance) claims due rows with a lease (`locked_until`,
 * `lease`; on PostgreSQL `FOR UPDATE SKIP LOCKED`), so one instance at a time
 * attempts a delivery; a lease outlives the attempt's timeout, and after a
 * crash it lapses and another instance (or the restarted one) sends the row.
 * Besides the wake-ups it polls every `pollIntervalMs`, and each retry it
 * schedules wakes it at that time.
 */
export class WebhookDeliveryService {
  /** Set by app.ts once the schema is built. */
  shaper?: PayloadShaper;
  /** Set by the composition root: how a disabling is recorded as an event. */
  onDisabled?: EndpointDisabledRecorder;
  private poll: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private pumping: Promise<void> | undefined;
  private soon: NodeJS.Timeout | undefined;
  private pumpAgain = false;
  private inFlight = new Set<Promise<unknown>>();
  private stopping = false;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly lookup: ReturnType<typeof guardedLookup>;
  private readonly leaseMs: number;
  /** The hot path's statements, written once per database kind (TypeORM's builders cost more than the queries here). */
  private readonly sql: ReturnType<typeof deliverySql>;
  /** Signers by secret: decoding a secret once, not per attempt. */
  private readonly signers = new Map<string, Webhook>();
  /** SQLite only (see SubscriptionCache): each merchant's subscribed endpoints, so that an event's transaction does not read them again. */
  private readonly subscriptions: SubscriptionCache | undefined;

  constructor(
    private readonly db: Database,
    private readonly config: WebhookConfig,
    private readonly log: Logger,
    private readonly options: { now?: () => number; resolve?: Resolver; random?: () => number } = {},
  ) {
    this.lookup = guardedLookup(this.policy, options.resolve ?? systemResolver);
    // Keep-alive: a busy endpoint is one TLS handshake, not one per event. Every new socket goes through the guarded lookup.
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: config.concurrency }),
      https: new https.Agent({ keepAlive: true, maxSockets: config.concurrency }),
    };
    this.sql = deliverySql(db);
    this.subscriptions = db.kind === 'sqlite' ? new SubscriptionCache() : undefined;
    // An attempt is cut at timeoutMs; the lease keeps other instances off it for longer than that (up to 10 s more).
    this.leaseMs = config.timeoutMs + Math.min(10_000, Math.max(1_000, config.timeoutMs));
  }

  /** How long a delivery keeps being retried (WEBHOOK_RETRY_FOR_SECONDS). */
  get retryForMs(): number {
    return this.config.retryForMs;
  }

  get policy(): OutboundPolicy {
    return { httpsOnly: this.config.httpsOnly, allowLoopback: this.config.allowLoopback };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Inside the event's transaction: a delivery for every enabled endpoint of
   * the merchant that subscribes to the event's type. Returns how many.
   */
  async enqueue(tx: Tx, merchantId: string, event: DeliveredEvent): Promise<number> {
    const endpoints = await this.subscriptionsOf(tx, merchantId);
    const subscribed = endpoints.filter((e) => e.eventTypes.includes(event.type));
    if (!subscribed.length) return 0;
    const now = new Date(this.now());
    for (const endpoint of subscribed) await this.insertDelivery(tx, this.newDelivery(merchantId, endpoint.id, event, now));
    tx.afterCommit(() => this.wakeSoon());
    return subscribed.length;
  }

  /** The merchant's enabled endpoints and their event types, as `tx` sees them (from the cache on SQLite when it is current). */
  private async subscriptionsOf(tx: Tx, merchantId: string): Promise<readonly Subscription[]> {
    const cached = this.subscriptions?.get(merchantId);
    if (cached) return cached;
    const rows = (await tx.manager.query(this.sql.subscribed, [merchantId])) as Array<{ id: string; event_types: string }>;
    const read = rows.map((row) => ({ id: row.id, eventTypes: JSON.parse(row.event_types) as string[] }));
    this.subscriptions?.offer(tx, merchantId, read);
    return read;
  }

  /**
   * Called by every transaction that creates, deletes, enables, disables or
   * re-subscribes an endpoint, before its write: what the cache holds is
   * dropped, and nothing read before it is cached later.
   */
  endpointsChanging(): void {
    this.subscriptions?.invalidate();
  }

  /** Inserts one delivery row (a prepared statement: this runs in every event's transaction). */
  async insertDelivery(tx: Tx, d: WebhookDeliveryEntity): Promise<void> {
    await tx.manager.query(this.sql.insertDelivery, [
      d.id,
      d.merchantId,
      d.endpointId,
      d.eventId,
      d.eventType,
      JSON.stringify(d.event),
      d.status,
      d.attemptCount,
      d.nextAttemptAt!.getTime(),
      d.retryUntil.getTime(),
      d.createdAt.getTime(),
      d.updatedAt.getTime(),
    ]);
  }

  newDelivery(merchantId: string, endpointId: string, event: DeliveredEvent, now: Date, retryForMs = this.config.retryForMs): WebhookDeliveryEntity {
    return Object.assign(new WebhookDeliveryEntity(), {
      id: newId('whd', now.getTime()),
      merchantId,
      endpointId,
      eventId: event.id,
      eventType: event.type,
      event,
      payload: null,
      status: 'PENDING',
      attemptCount: 0,
      nextAttemptAt: now,
      retryUntil: new Date(now.getTime() + retryForMs),
      lockedUntil: null,
      lease: null,
      lastAttemptAt: null,
      lastHttpStatus: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
    } satisfies WebhookDeliveryEntity);
  }

  start(): void {
    if (this.config.pollIntervalMs <= 0 || this.poll) return;
    this.stopping = false;
    this.poll = setInterval(() => this.wake(), this.config.pollIntervalMs);
    this.poll.unref();
    this.wake();
  }

  /** Stops claiming; attempts in flight finish (each is bounded by the timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.poll);
    this.poll = undefined;
    clearTimeout(this.soon);
    this.soon = undefined;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await this.pumping?.catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /**
   * After a commit: looks for due deliveries within a couple of milliseconds,
   * so that the events of a busy moment are claimed together (one claim
   * transaction for many) rather than one claim per event.
   */
  private wakeSoon(): void {
    if (this.soon || this.stopping) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.wake();
    }, WAKE_COALESCE_MS);
  }

  /** Looks for due deliveries now (a retry's time, the poll, a free slot). */
  wake(): void {
    if (this.stopping || this.config.pollIntervalMs <= 0) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump()
      .catch((error) => this.log.warn({ err: error }, 'webhook delivery: claiming due deliveries failed'))
      .finally(() => {
        this.pumping = undefined;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.wake();
        }
      });
  }

  private async pump(): Promise<void> {
    for (;;) {
      const free = this.config.concurrency - this.inFlight.size;
      if (this.stopping || free <= 0) return;
      const claimed = await this.claimDue(free);
      for (const delivery of claimed) this.track(this.attempt(delivery));
      if (claimed.length < free) return;
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error) => this.log.error({ err: error }, 'webhook delivery attempt failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(tracked);
        // A slot is free: more may be due.
        this.wake();
      });
    this.inFlight.add(tracked);
  }

  /**
   * Claims up to `limit` due deliveries for this instance (a lease each) and
   * opens their attempts in the delivery log, in one transaction: an attempt
   * a crash cuts short stays in the log as one with no outcome.
   */
  async claimDue(limit: number): Promise<ClaimedDelivery[]> {
    const now = this.now();
    return this.db.transaction(async (tx) => {
      // Two instances claiming at once take different rows instead of waiting for each other (PostgreSQL).
      const ids = ((await tx.manager.query(this.sql.due, [now, now, limit])) as Array<{ id: string }>).map((row) => row.id);
      if (!ids.length) return [];
      return this.lease(tx, ids, now, `status = 'PENDING' AND (locked_until IS NULL OR locked_until < :now)`);
    });
  }

  /**
   * Claims one delivery now, whatever its status (a redelivery, a ping):
   * resolves to it, or null when another attempt holds it right now.
   */
  async claimOne(tx: Tx, deliveryId: string): Promise<ClaimedDelivery | null> {
    const [claimed] = await this.lease(tx, [deliveryId], this.now(), '(locked_until IS NULL OR locked_until < :now)');
    return claimed ?? null;
  }

  /** Leases the rows of `ids` still matching `free`, counts their attempt and opens its log row. */
  private async lease(tx: Tx, ids: string[], now: number, free: string): Promise<ClaimedDelivery[]> {
    const lease = randomToken(12);
    const at = new Date(now);
    await tx.manager
      .createQueryBuilder()
      .update(WebhookDeliveryEntity)
      // Due again once the lease lapses, should this instance die during the attempt.
      .set({
        lease,
        lockedUntil: new Date(now + this.leaseMs),
        status: 'PENDING',
        nextAttemptAt: at,
        attemptCount: () => 'attempt_count + 1',
        lastAttemptAt: at,
        updatedAt: at,
      })
      .where('id IN (:...ids)', { ids })
      .andWhere(free, { now })
      .execute();
    const claimed = await tx.manager.find(WebhookDeliveryEntity, { where: { lease } });
    return Promise.all(
      claimed.map(async (d) => {
        const attemptId = newId('wha', now);
        await tx.manager.query(this.sql.openAttempt, [attemptId, d.id, now, INTERRUPTED]);
        return Object.assign(d, { attemptId });
      }),
    );
  }

  /**
   * One attempt of a claimed delivery: build (once) and sign the body, POST
   * it, then in one transaction log the attempt and settle the delivery —
   * success, a retry with backoff, or failure — and the endpoint's failure
   * count (disabling it on 410 or after too many failures). The outcome is
   * written only while the lease is still this attempt's.
   */
  async attempt(delivery: ClaimedDelivery, options: { evenIfDisabled?: boolean } = {}): Promise<WebhookDeliveryEntity> {
    const endpoint = await this.db.findOneBy(WebhookEndpointEntity, { id: delivery.endpointId });
    if (!endpoint || (!endpoint.enabled && !options.evenIfDisabled)) {
      return this.settleUnsent(delivery, endpoint ? 'not sent: the endpoint is disabled' : 'not sent: the endpoint was deleted');
    }
    const payload = delivery.payload ?? (await this.render(endpoint, delivery.event));
    const result = await this.send(endpoint, delivery.eventId, payload, this.now());
    return this.settle(delivery, endpoint, payload, result);
  }

  /** The body: the endpoint's payload query's result, or the default `{ id, type, timestamp, data: { object } }`. */
  private async render(endpoint: WebhookEndpointEntity, event: DeliveredEvent): Promise<string> {
    const envelope = {
      id: event.id,
      type: event.type,
      timestamp: new Date(event.createdAt).toISOString(),
      objectType: event.objectType,
      objectId: event.objectId,
      objectVersion: event.objectVersion,
    };
    if (!endpoint.payloadQuery || !this.shaper || event.type === PING_EVENT_TYPE) {
      return JSON.stringify({ ...envelope, data: { object: event.data } });
    }
    const variables: PayloadVariables = {
      eventId: event.id,
      eventType: event.type,
      objectId: event.objectId,
      objectType: event.objectType,
      objectVersion: event.objectVersion,
    };
    const result = await this.shaper.run(endpoint.merchantId, endpoint.payloadQuery, variables);
    return JSON.stringify({ ...envelope, ...result });
  }

  /** Standard Webhooks headers: one `v1,` signature per live secret (the old one too during a rotation's grace period). */
  signatureHeaders(endpoint: WebhookEndpointEntity, msgId: string, payload: string, at: number): Record<string, string> {
    const when = new Date(at);
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt.getTime() > at) secrets.push(endpoint.previousSecret);
    return {
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(at / 1000)),
      'webhook-signature': secrets.map((secret) => this.signer(secret).sign(msgId, when, payload)).join(' '),
    };
  }

  private signer(secret: string): Webhook {
    let signer = this.signers.get(secret);
    if (!signer) {
      if (this.signers.size >= 1000) this.signers.clear();
      signer = new Webhook(secret);
      this.signers.set(secret, signer);
    }
    return signer;
  }

  /** POSTs the signed body: bounded by the timeout, redirects not followed, every connection's address checked. */
  private send(endpoint: WebhookEndpointEntity, msgId: string, payload: string, at: number): Promise<AttemptResult> {
    const startedHr = process.hrtime.bigint();
    const elapsed = () => Math.round(Number(process.hrtime.bigint() - startedHr) / 1e6);
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...result, durationMs: elapsed() });
      };
      const fail = (error: string) => finish({ httpStatus: null, excerpt: null, error });
      let url: URL;
      try {
        url = new URL(endpoint.url);
      } catch {
        return fail('the endpoint URL is not valid');
      }
      const scheme = schemeProblem(url, this.policy);
      if (scheme) return fail(`not sent: the URL ${scheme}`);
      const literal = literalHostProblem(url, this.policy);
      if (literal) return fail(`not sent: ${literal}`);
      const transport = url.protocol === 'https:' ? https : http;
      const body = Buffer.from(payload);
      const req = transport.request(url, {
        method: 'POST',
        agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
        lookup: this.lookup as never,
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          'user-agent': 'UCanPay-GraphQL-Gateway-Webhooks/1',
          ...this.signatureHeaders(endpoint, msgId, payload, at),
        },
      });
      const timer = setTimeout(() => {
        req.destroy();
        fail(`timed out after ${this.config.timeoutMs} ms`);
      }, this.config.timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        fail(error instanceof ForbiddenAddressError ? `not sent: ${error.message}` : `${error.code ?? 'error'}: ${error.message}`.slice(0, 500));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_EXCERPT_BYTES) {
            chunks.push(chunk.subarray(0, RESPONSE_EXCERPT_BYTES - kept));
            kept += Math.min(chunk.length, RESPONSE_EXCERPT_BYTES - kept);
          }
        });
        const done = () =>
          finish({ httpStatus: res.statusCode ?? null, excerpt: chunks.length ? redactExcerpt(Buffer.concat(chunks).toString('utf8')) : null, error: null });
        res.on('end', done);
        res.on('error', done);
        res.on('aborted', done);
      });
      req.end(body);
    });
  }

  /** Backoff before attempt n+1: base·2^(n-1), capped, ±20 % jitter (growing gaps, no thundering herd). */
  retryDelayMs(attempts: number): number {
    const exact = Math.min(this.config.retryBaseMs * 2 ** Math.min(attempts - 1, 40), this.config.retryMaxDelayMs);
    return Math.round(exact * (0.8 + 0.4 * (this.options.random ?? Math.random)()));
  }

  private async settle(delivery: ClaimedDelivery, endpoint: WebhookEndpointEntity, payload: string, result: AttemptResult): Promise<WebhookDeliveryEntity> {
    const ok = result.httpStatus !== null && result.httpStatus >= 200 && result.httpStatus < 300;
    const gone = result.httpStatus === 410;
    const now = this.now();
    const retryAt = ok || gone ? null : now + this.retryDelayMs(delivery.attemptCount);
    const nextRetryAt = retryAt !== null && retryAt <= delivery.retryUntil.getTime() ? new Date(retryAt) : null;
    const error = result.error ?? (ok ? null : result.httpStatus === null ? 'no answer' : `HTTP ${result.httpStatus}`);
    const status = ok ? 'SUCCEEDED' : nextRetryAt ? 'PENDING' : 'FAILED';
    await this.db.transaction(async (tx) => {
      await tx.manager.query(this.sql.closeAttempt, [
        result.durationMs,
        result.httpStatus,
        result.excerpt,
        error,
        nextRetryAt?.getTime() ?? null,
        delivery.attemptId,
      ]);
      // Fenced by the lease: if it lapsed and another attempt took the row over, that attempt settles it.
      await tx.manager.query(this.sql.settleDelivery, [
        payload,
        status,
        nextRetryAt?.getTime() ?? null,
        result.httpStatus,
        error,
        now,
        delivery.id,
        delivery.lease,
      ]);
      await this.countOutcome(tx, endpoint, ok, gone);
    });
    const settled = Object.assign(delivery, {
      payload,
      status,
      nextAttemptAt: nextRetryAt,
      lockedUntil: null,
      lease: null,
      lastHttpStatus: result.httpStatus,
      lastError: error,
      updatedAt: new Date(now),
    });
    if (nextRetryAt) this.wakeAt(nextRetryAt.getTime());
    this.log.debug(
      { deliveryId: delivery.id, endpointId: endpoint.id, eventId: delivery.eventId, status: result.httpStatus, error: result.error, ms: result.durationMs },
      'webhook attempt',
    );
    return settled;
  }

  /**
   * The endpoint's run of failures: reset by a success. A 410 disables it at
   * once; otherwise it is disabled after `disableAfterFailures` consecutive
   * failed attempts spanning at least `disableAfterFailingMs`, recording the event once.
   */
  private async countOutcome(tx: Tx, endpoint: WebhookEndpointEntity, ok: boolean, gone: boolean): Promise<void> {
    const update = tx.manager.createQueryBuilder().update(WebhookEndpointEntity).where('id = :id', { id: endpoint.id });
    if (ok) {
      // Most successes follow successes: no write then (the endpoint as read for this attempt).
      if (endpoint.consecutiveFailures !== 0) await update.set({ consecutiveFailures: 0, failingSince: null }).execute();
      return;
    }
    const now = this.now();
    await update.set({ consecutiveFailures: () => 'consecutive_failures + 1', failingSince: () => `COALESCE(failing_since, ${Math.floor(now)})` }).execute();
    const current = await this.db.findOneBy(WebhookEndpointEntity, { id: endpoint.id }, { tx });
    if (!current?.enabled) return;
    const { disableAfterFailures: limit, disableAfterFailingMs: span } = this.config;
    let reason: string | null = null;
    if (gone) reason = 'the endpoint answered 410 Gone';
    else if (limit > 0 && current.consecutiveFailures >= limit && now - (current.failingSince?.getTime() ?? now) >= span) {
      reason = `${current.consecutiveFailures} consecutive failed deliveries`;
    }
    if (reason) await this.disable(tx, current, reason);
  }

  /** Disables an enabled endpoint (once, whoever races) and records `webhook_endpoint.disabled`. */
  async disable(tx: Tx, endpoint: WebhookEndpointEntity, reason: string): Promise<void> {
    const now = new Date(this.now());
    this.endpointsChanging();
    const result = await tx.manager
      .createQueryBuilder()
      .update(WebhookEndpointEntity)
      .set({ enabled: false, disabledReason: reason, version: () => 'version + 1', updatedAt: now })
      .where('id = :id AND enabled = :enabled', { id: endpoint.id, enabled: true })
      .execute();
    if (!result.affected) return;
    const disabled = await this.db.findOneByOrFail(WebhookEndpointEntity, { id: endpoint.id }, { tx });
    this.log.warn({ endpointId: endpoint.id, merchantId: endpoint.merchantId, reason }, 'webhook endpoint disabled');
    await this.onDisabled?.(tx, disabled, reason);
  }

  /** A claimed delivery that cannot be sent (its endpoint is disabled or gone): FAILED, and the attempt it opened is withdrawn. */
  private async settleUnsent(delivery: ClaimedDelivery, reason: string): Promise<WebhookDeliveryEntity> {
    return this.db.transaction(async (tx) => {
      await tx.manager.delete(WebhookDeliveryAttemptEntity, { id: delivery.attemptId });
      await tx.manager
        .createQueryBuilder()
        .update(WebhookDeliveryEntity)
        .set({
          status: 'FAILED',
          attemptCount: () => 'attempt_count - 1',
          nextAttemptAt: null,
          lockedUntil: null,
          lease: null,
          lastError: reason,
          updatedAt: new Date(this.now()),
        })
        .where('id = :id AND lease = :lease', { id: delivery.id, lease: delivery.lease })
        .execute();
      return (await this.db.findOneBy(WebhookDeliveryEntity, { id: delivery.id }, { tx })) ?? delivery;
    });
  }

  private wakeAt(at: number): void {
    if (this.stopping) return;
    const timer = setTimeout(
      () => {
        this.retryTimers.delete(timer);
        this.wake();
      },
      Math.max(0, at - this.now()) + 5,
    );
    timer.unref();
    this.retryTimers.add(timer);
  }
}

/**
 * Wires outbound webhooks to the event log: every recorded event gets its
 * deliveries in its own transaction (so a committed event always has them,
 * and a rolled-back one none), and an endpoint the worker disables is itself
 * an event (`webhook_endpoint.disabled`), recorded in the disabling transaction.
 */
export function connectOutboundWebhooks(eventLog: EventLog, deliveries: WebhookDeliveryService): void {
  eventLog.onRecorded(async (tx, event) => {
    await deliveries.enqueue(tx, event.merchantId, deliveredEventOf(event));
  });
  deliveries.onDisabled = async (tx, endpoint) => {
    await eventLog.record(tx, {
      merchantId: endpoint.merchantId,
      type: 'webhook_endpoint.disabled',
      objectType: 'webhook_endpoint',
      objectId: endpoint.id,
      objectVersion: endpoint.version,
      data: publicEndpoint(endpoint),
    });
  };
}

/** An endpoint as events and pings show it: never its secrets. */
export function publicEndpoint(endpoint: WebhookEndpointEntity): Record<string, unknown> {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    version: endpoint.version,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  };
}

/** An enabled endpoint of a merchant and the event types it subscribes to. */
interface Subscription {
  id: string;
  eventTypes: readonly string[];
}

/**
 * Each merchant's enabled endpoints as last read, so that recording an event
 * costs no endpoint lookup. SQLite only: there the gateway is the one
 * instance writing the database, and it runs its transactions one at a time
 * (src/db/database.ts), so every endpoint write goes through
 * `endpointsChanging` in this process, and no transaction runs while another
 * is half done. On PostgreSQL several instances write concurrently: every
 * event reads the endpoints in its own transaction.
 *
 * Never stale, because a list enters the cache only once it is known
 * committed and unchanged since: `offer` installs it after the reading
 * transaction commits (a rolled-back transaction, or a group commit that
 * failed, installs nothing), and only if no endpoint write began since the
 * read (the generation). A list read after an endpoint write of the same
 * group commit is installed only when that COMMIT made the write durable
 * too; a write rolled back to its savepoint was undone before the read.
 * Every endpoint write clears the cache before it writes, so the events that
 * follow read the endpoints again, as they did without the cache.
 */
class SubscriptionCache {
  private generation = 0;
  private readonly byMerchant = new Map<string, readonly Subscription[]>();

  get(merchantId: string): readonly Subscription[] | undefined {
    return this.byMerchant.get(merchantId);
  }

  /** `list` was read in `tx`: cached once `tx` has committed, unless an endpoint write began in between. */
  offer(tx: Tx, merchantId: string, list: readonly Subscription[]): void {
    const readAt = this.generation;
    tx.afterCommit(() => {
      if (this.generation === readAt) this.byMerchant.set(merchantId, list);
    });
  }

  invalidate(): void {
    this.generation++;
    this.byMerchant.clear();
  }
}

/** The delivery path's statements for this database (`?` on SQLite, `$n` on PostgreSQL; tables schema-qualified). */
function deliverySql(db: Database) {
  const postgres = db.kind === 'postgres';
  const endpoints = db.tableName(WebhookEndpointEntity);
  const deliveries = db.tableName(WebhookDeliveryEntity);
  const attempts = db.tableName(WebhookDeliveryAttemptEntity);
  return {
    due: db.placeholders(
      `SELECT id FROM ${deliveries} WHERE status = 'PENDING' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?) ORDER BY next_attempt_at LIMIT ?${postgres ? ' FOR UPDATE SKIP LOCKED' : ''}`,
    ),
    subscribed: db.placeholders(`SELECT id, event_types FROM ${endpoints} WHERE merchant_id = ? AND enabled = ${postgres ? 'true' : '1'}`),
    insertDelivery: db.placeholders(
      `INSERT INTO ${deliveries} (id, merchant_id, endpoint_id, event_id, event_type, event, status, attempt_count, next_attempt_at, retry_until, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    openAttempt: db.placeholders(`INSERT INTO ${attempts} (id, delivery_id, started_at, duration_ms, error) VALUES (?, ?, ?, 0, ?)`),
    closeAttempt: db.placeholders(`UPDATE ${attempts} SET duration_ms = ?, http_status = ?, response_excerpt = ?, error = ?, next_retry_at = ? WHERE id = ?`),
    settleDelivery: db.placeholders(
      `UPDATE ${deliveries} SET payload = ?, status = ?, next_attempt_at = ?, locked_until = NULL, lease = NULL, last_http_status = ?, last_error = ?, updated_at = ? WHERE id = ? AND lease = ?`,
    ),
  };
}

/** A receiver's answer as logged: credential-shaped strings and card-number-like digit runs replaced. */
export function redactExcerpt(text: string): string {
  return scrubSecrets(text).replace(/\b(?:\d[ -]?){12,18}\d\b/g, '[redacted]');
}

/** What a delivery keeps of a logged event (its payload is built from this at the first attempt). */
export function deliveredEventOf(event: LoggedEvent): DeliveredEvent {
  return {
    id: event.id,
    type: event.type,
    createdAt: event.createdAt.getTime(),
    objectType: event.objectType,
    objectId: event.objectId,
    objectVersion: event.objectVersion,
    data: event.data,
  };
}
