import type { Database, Tx } from '../db/database';
import { isUniqueViolation } from '../db/database';
import { IdempotencyKeyEntity } from '../entities';
import { GatewayError } from '../domain/errors';

/** How long a claimed key blocks a concurrent duplicate while UCanPay is called. */
export const CLAIM_LEASE_MS = 60_000;
/** Keys are kept at least this long (DESIGN: ≥ 24 h). */
export const KEY_RETENTION_MS = 48 * 3600_000;

/** What an idempotency key says about a new request that carries it. */
export type ClaimCheck =
  | { kind: 'new' }
  | { kind: 'conflict' }
  /** The first request finished: answer with its result. */
  | { kind: 'completed'; resourceId: string }
  /** The first request stopped before UCanPay answered (outage or crash): this one takes over. */
  | { kind: 'resume'; resourceId: string };

/**
 * Idempotency keys, scoped per merchant. The (merchant, key) primary key makes
 * a claim atomic on every database: of two concurrent inserts one loses.
 */
export class IdempotencyService {
  constructor(private readonly db: Database) {}

  /** Inside the claiming transaction: what does `key` say? Throws IDEMPOTENCY_KEY_IN_USE while another request holds it. */
  private async check(tx: Tx, merchantId: string, key: string, operation: string, requestHash: string): Promise<ClaimCheck> {
    const existing = await this.db.findOneBy(IdempotencyKeyEntity, { merchantId, key }, { tx, forUpdate: true });
    if (!existing) return { kind: 'new' };
    if (existing.operation !== operation || existing.requestHash !== requestHash) return { kind: 'conflict' };
    if (existing.state === 'COMPLETED') return { kind: 'completed', resourceId: existing.resourceId };
    const now = Date.now();
    if (existing.lockedUntil.getTime() > now) {
      throw new GatewayError(
        'IDEMPOTENCY_KEY_IN_USE',
        `A request with idempotency key "${key}" is still in progress; retry in a moment with the same key`,
        { retryAfterSeconds: 1 },
      );
    }
    await tx.manager.update(IdempotencyKeyEntity, { merchantId, key }, { lockedUntil: new Date(now + CLAIM_LEASE_MS) });
    return { kind: 'resume', resourceId: existing.resourceId };
  }

  /**
   * Inside the claiming transaction: null when the request carries no key or
   * a new one; otherwise what the earlier request with it means —
   * a conflict, the stored resource to replay, or (when the earlier request
   * stopped before UCanPay answered) the resource to send again.
   */
  async earlier<R>(
    tx: Tx,
    merchantId: string,
    key: string | null,
    operation: string,
    requestHash: string,
    load: (resourceId: string) => Promise<R>,
    unsent: (resource: R) => boolean,
  ): Promise<null | { kind: 'conflict' } | { kind: 'call' | 'replay'; resource: R }> {
    if (key === null) return null;
    const check = await this.check(tx, merchantId, key, operation, requestHash);
    if (check.kind === 'new') return null;
    if (check.kind === 'conflict') return check;
    const resource = await load(check.resourceId);
    return { kind: check.kind === 'resume' && unsent(resource) ? 'call' : 'replay', resource };
  }

  /** Inside the same transaction as the resource's first row: the key now belongs to it. */
  async claim(tx: Tx, merchantId: string, key: string, operation: string, requestHash: string, resourceId: string): Promise<void> {
    const now = Date.now();
    await tx.manager.insert(IdempotencyKeyEntity, {
      merchantId,
      key,
      operation,
      requestHash,
      state: 'IN_PROGRESS',
      resourceId,
      lockedUntil: new Date(now + CLAIM_LEASE_MS),
      createdAt: new Date(now),
      expiresAt: new Date(now + KEY_RETENTION_MS),
    });
  }

  /** The request reached its final answer: later retries replay it. */
  async complete(tx: Tx, merchantId: string, key: string): Promise<void> {
    await tx.manager.update(IdempotencyKeyEntity, { merchantId, key }, { state: 'COMPLETED', lockedUntil: new Date(0) });
  }

  /** UCanPay could not be reached: let the caller's retry with the same key resume at once. */
  async release(merchantId: string, key: string): Promise<void> {
    await this.db.transaction((tx) => tx.manager.update(IdempotencyKeyEntity, { merchantId, key }, { lockedUntil: new Date(0) }));
  }

  /** Whether a request for this resource may still be talking to UCanPay. */
  async inFlight(resourceId: string): Promise<boolean> {
    const claim = await this.db.manager.findOne(IdempotencyKeyEntity, { where: { resourceId } });
    return claim !== null && claim.state === 'IN_PROGRESS' && claim.lockedUntil.getTime() > Date.now();
  }

  /**
   * Runs a claiming transaction for `key`. On PostgreSQL it first takes a
   * transaction-scoped advisory lock on (merchant, key): a concurrent request
   * with the same key waits for this one to commit and then sees its claim,
   * instead of passing the key check in the gap and failing later on some
   * other rule (a taken reference, an already-reserved refund) with a false
   * answer. On SQLite transactions are serialized already. A unique violation
   * (another instance won an insert race on a different key path) runs the
   * work once more, which then sees the winner's rows.
   */
  async claiming<T>(merchantId: string, key: string | null, work: (tx: Tx) => Promise<T>): Promise<T> {
    const locked = async (tx: Tx) => {
      if (key !== null && this.db.kind === 'postgres') {
        await tx.manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`idempotency:${merchantId}:${key}`]);
      }
      return work(tx);
    };
    try {
      return await this.db.transaction(locked);
    } catch (error) {
      if (isUniqueViolation(error)) return this.db.transaction(locked);
      throw error;
    }
  }
}
