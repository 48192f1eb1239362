import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { Database, Tx } from '../db/database';
import { BillingSubscriptionEntity, EventEntity, PaymentEntity, RefundEntity, SubscriptionChargeEntity } from '../entities';
import { GatewayError } from '../domain/errors';
import { createdEventOf, eventTypeOf, type EventObjectType, type EventType } from '../domain/event-types';
import { newId } from '../domain/ids';
import type { EventBus } from '../events/pubsub';
import { currentCause, type Cause } from './cause';
import { paymentData, refundData, subscriptionData } from './event-data';
import type { Page } from './pagination';

export type { EventType, EventObjectType };

/** One entry of the event log: an applied change of one object, as it was recorded in the change's transaction. */
export interface LoggedEvent {
  id: string;
  merchantId: string;
  type: EventType;
  objectType: EventObjectType;
  objectId: string;
  objectVersion: number;
  /** The object at `objectVersion`, in its public shape (as GraphQL shows it; never a client secret or an API key). */
  data: Record<string, unknown>;
  createdAt: Date;
  /** The API key's id (never the key), the payment of a client secret, the UCanPay webhook event… */
  cause: Cause;
}

/** An event as read back from the log, with its position there (pass it as `after` to read on from it). */
export interface ReadEvent extends LoggedEvent {
  cursor: string;
}

export type NewEvent = Omit<LoggedEvent, 'id' | 'createdAt' | 'cause'> & { cause?: Cause };

export type EventListener = (tx: Tx, event: LoggedEvent) => Promise<void>;

export interface EventFilter {
  first: number;
  after?: string | null;
  types?: readonly EventType[] | null;
  objectId?: string | null;
  createdAfter?: Date | null;
}

/** Where an event sits in the log: its writer's transaction id (0 on SQLite), then its insertion number. */
interface Position {
  xid: number;
  seq: number;
}

/**
 * The durable event log. Every applied change of a payment, refund or billing
 * subscription records one event in the change's own transaction (see
 * `recordChange`, called by the one write path `writeVersioned`, and
 * `recordCreated`): a change that rolls back leaves no event, and a write
 * that changes nothing visible records none.
 *
 * **Cursor order never skips.** Readers page in (xid, seq) order, and only
 * read what can no longer be preceded by anything that commits later:
 *
 * - PostgreSQL: sequence numbers are handed out at insert, not at commit,
 *   so a transaction that took seq 7 may commit after one that took seq 8 was
 *   already read (the outbox gap). Each event therefore stores its
 *   transaction's id (`pg_current_xact_id()`), and a reader returns only
 *   events whose xid is below its snapshot's xmin
 *   (`pg_snapshot_xmin(pg_current_snapshot())`): every transaction with a
 *   smaller id has ended (committed or rolled back), and every transaction
 *   that starts later gets a larger id, so the set of events below the
 *   horizon never gains a member below a cursor. The cost is lag: an event
 *   becomes readable once every transaction that began writing before its
 *   own has ended, so one long writing transaction (anywhere in the
 *   PostgreSQL cluster) holds the stream back until it ends. The gateway's
 *   own transactions are short (milliseconds).
 * - SQLite: one writer at a time (the gateway serializes its transactions,
 *   src/db/database.ts), so the rowid order is the commit order and xid is 0.
 *
 * The cursor is opaque to clients: base64url of "<xid>:<seq>".
 */
export class EventLog {
  private readonly listeners: EventListener[] = [];
  /** The merchants each open transaction recorded events for: one "events recorded" notice each, after commit. */
  private readonly notices = new WeakMap<Tx, Set<string>>();
  private readonly table: string;
  private readonly insertSql: string;

  constructor(
    private readonly db: Database,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
    /** false: the write path records nothing (the benchmark's "without the event log" side; never in service). */
    attach = true,
  ) {
    this.table = db.tableName(EventEntity);
    const columns = '(xid, id, merchant_id, type, object_type, object_id, object_version, data, cause_kind, cause_id, created_at)';
    this.insertSql =
      db.kind === 'postgres'
        ? `INSERT INTO ${this.table} ${columns} VALUES (pg_current_xact_id()::text::bigint, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
        : `INSERT INTO ${this.table} ${columns} VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    if (attach) attached.set(db.dataSource, this);
  }

  /** Records one event inside `tx` (the change's transaction); its listeners run there too. */
  async record(tx: Tx, input: NewEvent): Promise<LoggedEvent> {
    const createdAt = new Date(this.now());
    const event: LoggedEvent = {
      id: newId('evt', createdAt.getTime()),
      merchantId: input.merchantId,
      type: input.type,
      objectType: input.objectType,
      objectId: input.objectId,
      objectVersion: input.objectVersion,
      data: input.data,
      createdAt,
      cause: input.cause ?? currentCause(),
    };
    await tx.manager.query(this.insertSql, [
      event.id,
      event.merchantId,
      event.type,
      event.objectType,
      event.objectId,
      event.objectVersion,
      JSON.stringify(event.data),
      event.cause.kind,
      event.cause.id,
      createdAt.getTime(),
    ]);
    for (const listener of this.listeners) await listener(tx, event);
    this.noticeAfterCommit(tx, event.merchantId);
    return event;
  }

  /** Listeners run inside the recording transaction (e.g. to enqueue outbound deliveries in the same tx). */
  onRecorded(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** After commit, once per transaction and merchant: a wake-up for the streams (the log itself is the truth). */
  private noticeAfterCommit(tx: Tx, merchantId: string): void {
    let merchants = this.notices.get(tx);
    if (!merchants) {
      merchants = new Set();
      this.notices.set(tx, merchants);
    }
    if (merchants.has(merchantId)) return;
    merchants.add(merchantId);
    tx.afterCommit(() => this.events.publish('eventsRecorded', merchantId, { merchantId }));
  }

  /** A page of a merchant's events in cursor order (oldest first), filtered. */
  async page(merchantId: string, filter: EventFilter): Promise<Page<ReadEvent>> {
    const after = filter.after ? decodeEventCursor(filter.after) : null;
    const q = this.select(merchantId, after);
    if (filter.objectId) q.where.push(`object_id = ${q.param(filter.objectId)}`);
    if (filter.types?.length) q.where.push(`type IN (${filter.types.map((t) => q.param(t)).join(', ')})`);
    if (filter.createdAfter) q.where.push(`created_at > ${q.param(filter.createdAfter.getTime())}`);
    const rows = await this.db.manager.query(`${q.sql()} ORDER BY xid, seq LIMIT ${q.param(filter.first + 1)}`, q.params);
    return toPage(rows as EventRow[], filter.first, Boolean(after));
  }

  /**
   * Timelines of several objects of one merchant, each a page of its events
   * oldest first, in one query (the object `events` field's DataLoader).
   */
  async timelines(merchantId: string, objectIds: readonly string[], first: number, after: string | null): Promise<Map<string, Page<ReadEvent>>> {
    const position = after ? decodeEventCursor(after) : null;
    const q = this.select(merchantId, position);
    q.where.push(`object_id IN (${objectIds.map((id) => q.param(id)).join(', ')})`);
    const ranked = `SELECT *, ROW_NUMBER() OVER (PARTITION BY object_id ORDER BY xid, seq) AS rn FROM (${q.sql()}) AS candidates`;
    const rows = (await this.db.manager.query(
      `SELECT * FROM (${ranked}) AS ranked WHERE rn <= ${q.param(first + 1)} ORDER BY object_id, xid, seq`,
      q.params,
    )) as EventRow[];
    const byObject = new Map<string, EventRow[]>(objectIds.map((id) => [id, []]));
    for (const row of rows) byObject.get(row.object_id)?.push(row);
    return new Map([...byObject].map(([id, list]) => [id, toPage(list, first, Boolean(position))]));
  }

  /** One event by id, as soon as it is committed (no cursor is involved: the horizon does not apply). */
  async get(merchantId: string, id: string): Promise<ReadEvent | null> {
    const q = this.select(merchantId, null, false);
    q.where.push(`id = ${q.param(id)}`);
    const rows = (await this.db.manager.query(q.sql(), q.params)) as EventRow[];
    return rows.length ? toEvent(rows[0]) : null;
  }

  /**
   * Whether committed events after `after` are still held back by the
   * PostgreSQL horizon (a transaction that began before theirs is still
   * open, anywhere in the cluster). A stream woken for them reads again
   * shortly instead of waiting for the next wake-up. Always false on SQLite.
   */
  async heldBack(merchantId: string, filter: Pick<EventFilter, 'after' | 'types'>): Promise<boolean> {
    if (this.db.kind !== 'postgres') return false;
    const q = this.select(merchantId, filter.after ? decodeEventCursor(filter.after) : null, false);
    if (filter.types?.length) q.where.push(`type IN (${filter.types.map((t) => q.param(t)).join(', ')})`);
    const rows = (await this.db.manager.query(`${q.sql()} LIMIT 1`, q.params)) as EventRow[];
    return rows.length > 0;
  }

  /** The cursor of the newest readable event of a merchant (where a stream without `after` starts), or null when there is none. */
  async endCursor(merchantId: string): Promise<string | null> {
    const q = this.select(merchantId, null);
    const rows = (await this.db.manager.query(`${q.sql()} ORDER BY xid DESC, seq DESC LIMIT 1`, q.params)) as EventRow[];
    return rows.length ? encodeEventCursor(positionOf(rows[0])) : null;
  }

  /** The SELECT of a merchant's readable events after `after`: below the horizon on PostgreSQL (see the class comment). */
  private select(merchantId: string, after: Position | null, horizon = true) {
    const postgres = this.db.kind === 'postgres';
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return postgres ? `$${params.length}` : '?';
    };
    const where = [`merchant_id = ${param(merchantId)}`];
    if (postgres && horizon) where.push('xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint');
    // One index range on (merchant_id, xid, seq): a row-value comparison on PostgreSQL; on SQLite xid is always 0.
    if (after) where.push(postgres ? `(xid, seq) > (${param(after.xid)}, ${param(after.seq)})` : `xid = 0 AND seq > ${param(after.seq)}`);
    return {
      params,
      param,
      where,
      sql: () =>
        `SELECT seq, xid, id, merchant_id, type, object_type, object_id, object_version, data, cause_kind, cause_id, created_at FROM ${this.table} WHERE ${where.join(' AND ')}`,
    };
  }
}

interface EventRow {
  seq: number | string;
  xid: number | string;
  id: string;
  merchant_id: string;
  type: string;
  object_type: string;
  object_id: string;
  object_version: number;
  data: string;
  cause_kind: string;
  cause_id: string | null;
  created_at: number | string;
}

function positionOf(row: EventRow): Position {
  return { xid: Number(row.xid), seq: Number(row.seq) };
}

function toEvent(row: EventRow): ReadEvent {
  return {
    cursor: encodeEventCursor(positionOf(row)),
    id: row.id,
    merchantId: row.merchant_id,
    type: row.type as EventType,
    objectType: row.object_type as EventObjectType,
    objectId: row.object_id,
    objectVersion: Number(row.object_version),
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: new Date(Number(row.created_at)),
    cause: { kind: row.cause_kind as Cause['kind'], id: row.cause_id },
  };
}

function toPage(rows: EventRow[], first: number, hasPrevious: boolean): Page<ReadEvent> {
  const edges = rows.slice(0, first).map((row) => {
    const node = toEvent(row);
    return { node, cursor: node.cursor };
  });
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: hasPrevious,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

export function encodeEventCursor(position: Position): string {
  return Buffer.from(`${position.xid}:${position.seq}`).toString('base64url');
}

/** The position of a cursor this API returned; anything else is BAD_USER_INPUT naming `after`. */
export function decodeEventCursor(cursor: string): Position {
  const match = /^(\d{1,19}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  const xid = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(xid) || Buffer.from(`${match[1]}:${match[2]}`).toString('base64url') !== cursor) {
    throw new GatewayError('BAD_USER_INPUT', 'after is not an event cursor returned by this API', { field: 'after' });
  }
  return { xid, seq: Number(match[2]) };
}

/**
 * The event log of each database: the one write path (`writeVersioned`)
 * finds it through its transaction's data source, so recording needs no new
 * parameter at any call site. Several gateways in one process (the tests)
 * each have their own data source, hence their own log.
 */
const attached = new WeakMap<DataSource, EventLog>();

function logOf(tx: Tx): EventLog | undefined {
  return attached.get(tx.manager.connection);
}

type Logged = PaymentEntity | RefundEntity | BillingSubscriptionEntity;

/** Object type and public shape of each logged entity. */
const LOGGED = new Map<
  EntityTarget<ObjectLiteral>,
  { objectType: Exclude<EventObjectType, 'webhook_endpoint'>; data: (row: never) => Record<string, unknown> }
>([
  [PaymentEntity, { objectType: 'payment', data: paymentData }],
  [RefundEntity, { objectType: 'refund', data: refundData }],
  [BillingSubscriptionEntity, { objectType: 'billing_subscription', data: subscriptionData }],
]);

/** Records the event of a visible change (`writeVersioned`): `before` is the row as it was, `after` at its new version. */
export async function recordChange(tx: Tx, target: EntityTarget<ObjectLiteral>, before: ObjectLiteral, after: ObjectLiteral): Promise<void> {
  const log = logOf(tx);
  const logged = LOGGED.get(target);
  if (!log || !logged) return;
  const row = after as Logged;
  const type = eventTypeOf(logged.objectType, {
    status: row.status,
    previousStatus: before.status as string | undefined,
    refundedAmount: (row as PaymentEntity).refundedAmount,
    previousRefundedAmount: before.refundedAmount as number | undefined,
    chargeCount: (row as BillingSubscriptionEntity).providerChargeCount,
    previousChargeCount: before.providerChargeCount as number | undefined,
    newChargeStatus: await newChargeStatus(tx, logged.objectType, before, row),
  });
  await log.record(tx, {
    merchantId: row.merchantId,
    type,
    objectType: logged.objectType,
    objectId: row.id,
    objectVersion: row.version,
    data: logged.data(row as never),
  });
}

/** A subscription write that came with a new charge (inserted just before, in `tx`): that charge's status. */
async function newChargeStatus(tx: Tx, objectType: EventObjectType, before: ObjectLiteral, row: Logged): Promise<string | undefined> {
  if (objectType !== 'billing_subscription') return undefined;
  const sub = row as BillingSubscriptionEntity;
  if (!(sub.providerChargeCount > ((before.providerChargeCount as number | undefined) ?? 0))) return undefined;
  // The newest charge: a query of its own (ordered), not a row by its columns (db.findOneBy).
  const newest = (await tx.manager
    .createQueryBuilder(SubscriptionChargeEntity, 'c')
    .select('c.status', 'status')
    .where('c.subscription_id = :id', { id: sub.id })
    .orderBy('c.period_start', 'DESC')
    .addOrderBy('c.created_at', 'DESC')
    .limit(1)
    .getRawOne()) as { status: string } | undefined;
  return newest?.status;
}

/** Records the `created` event of a new payment, refund or subscription row (inserted in `tx`). */
export async function recordCreated(tx: Tx, target: EntityTarget<ObjectLiteral>, row: ObjectLiteral): Promise<void> {
  const log = logOf(tx);
  const logged = LOGGED.get(target);
  if (!log || !logged) return;
  const created = row as Logged;
  await log.record(tx, {
    merchantId: created.merchantId,
    type: createdEventOf(logged.objectType),
    objectType: logged.objectType,
    objectId: created.id,
    objectVersion: created.version,
    data: logged.data(created as never),
  });
}
