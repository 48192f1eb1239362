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
  async check(tx: Tx, merchantId: string, key: string, operation: string, requestHash: string): Promise<ClaimCheck> {
    const existing = await tx.manager.findOne(IdempotencyKeyEntity, { where: { merchantId, key }, ...this.db.forUpdate });
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
   * Runs a claiming transaction; on PostgreSQL a concurrent request may win
   * the insert race, so on a unique violation it runs once more and then sees
   * the other request's claim.
   */
  async claiming<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(work);
    } catch (error) {
      if (isUniqueViolation(error)) return this.db.transaction(work);
      throw error;
    }
  }
}
