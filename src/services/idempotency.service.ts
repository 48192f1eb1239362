import { randomBytes } from 'node:crypto';
import type { Database, Tx } from '../db/database';
import { isUniqueViolation } from '../db/database';
import { IdempotencyKeyEntity, type StoredRefusal } from '../entities';
import { GatewayError } from '../domain/errors';

/** Keys are kept at least this long (≥ 24 h; docs/money-truth.md, "Stored refusals"). */
export const KEY_RETENTION_MS = 48 * 3600_000;

export interface IdempotencyOptions {
  /**
   * How long a claim keeps a concurrent duplicate (and reconciliation) away
   * while UCanPay is called. src/config.ts refuses a lease shorter than the
   * longest UCanPay call.
   */
  leaseMs: number;
  /** INSTANCE_ID: stable across restarts, unique among running instances. */
  instanceId?: string;
  /** This process's boot (a new one at every start). */
  bootId?: string;
  now?: () => number;
}

/** What an idempotency key says about a new request that carries it. */
export type ClaimCheck =
  | { kind: 'new' }
  | { kind: 'conflict' }
  /** The first request finished: answer with its result. */
  | { kind: 'completed'; resourceId: string }
  /** The first request was refused for a business reason: the same refusal again. */
  | { kind: 'refused'; outcome: StoredRefusal }
  /** The first request stopped before UCanPay answered (outage or crash): this one takes over with a new token. */
  | { kind: 'resume'; resourceId: string; token: string };

/** A request that carries an idempotency key, as the key's row records it. */
export interface KeyedRequest {
  merchantId: string;
  key: string;
  /** The mutation, e.g. `createPayment`: the same key for another mutation is a conflict. */
  operation: string;
  /** SHA-256 of the canonical input (`requestHash`): the same key with another input is a conflict. */
  requestHash: string;
}

/** A claim this request holds: `token` fences it against a request that took it over. */
export interface HeldClaim {
  merchantId: string;
  key: string;
  token: string;
}

function newToken(): string {
  return randomBytes(12).toString('hex');
}

/**
 * Idempotency keys, scoped per merchant. The (merchant, key) primary key makes
 * a claim atomic on every database: of two concurrent inserts one loses.
 *
 * A claim (IN_PROGRESS) is held by one request at a time, named by its
 * `token`. It is live until `lockedUntil` (the lease) — unless it was taken by
 * this same instance (INSTANCE_ID) under an earlier boot: that request died
 * with the process, so a same-key retry after a restart resumes at once.
 */
export class IdempotencyService {
  readonly leaseMs: number;
  readonly bootId: string;
  private readonly instanceId: string | null;
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    options: IdempotencyOptions,
  ) {
    this.leaseMs = options.leaseMs;
    this.instanceId = options.instanceId ?? null;
    this.bootId = options.bootId ?? newToken();
    this.now = options.now ?? Date.now;
  }

  /** Whether a request may still be working under this claim. */
  private live(claim: IdempotencyKeyEntity): boolean {
    if (claim.state !== 'IN_PROGRESS' || claim.lockedUntil.getTime() <= this.now()) return false;
    // Ours from an earlier boot: that process is gone, and its request with it.
    return !(this.instanceId !== null && claim.owner === this.instanceId && claim.boot !== this.bootId);
  }

  private holder(token: string) {
    return { owner: this.instanceId, boot: this.bootId, token, lockedUntil: new Date(this.now() + this.leaseMs) };
  }

  /**
   * Inside the claiming transaction: what the request's key says — new, a
   * conflict, the earlier request's result or stored refusal, or (when that
   * request stopped before UCanPay answered) a claim this request now holds
   * under a new token. Throws IDEMPOTENCY_KEY_IN_USE while another request
   * holds it.
   */
  async earlier(tx: Tx, request: KeyedRequest): Promise<ClaimCheck> {
    const { merchantId, key } = request;
    const existing = await this.db.findOneBy(IdempotencyKeyEntity, { merchantId, key }, { tx, forUpdate: true });
    if (!existing) return { kind: 'new' };
    if (existing.operation !== request.operation || existing.requestHash !== request.requestHash) return { kind: 'conflict' };
    if (existing.state === 'COMPLETED') {
      return existing.outcome ? { kind: 'refused', outcome: existing.outcome } : { kind: 'completed', resourceId: existing.resourceId };
    }
    if (this.live(existing)) {
      throw new GatewayError('IDEMPOTENCY_KEY_IN_USE', `A request with idempotency key "${key}" is still in progress; retry in a moment with the same key`, {
        retryAfterSeconds: 1,
      });
    }
    const token = newToken();
    await tx.manager.update(IdempotencyKeyEntity, { merchantId, key }, this.holder(token));
    return { kind: 'resume', resourceId: existing.resourceId, token };
  }

  /** Inside the same transaction as the resource's first row: the key now belongs to it. Returns the claim this request holds. */
  async claim(tx: Tx, request: KeyedRequest, resourceId: string): Promise<HeldClaim> {
    const token = newToken();
    await tx.manager.insert(IdempotencyKeyEntity, {
      ...this.row(request, resourceId),
      state: 'IN_PROGRESS',
      ...this.holder(token),
      outcome: null,
    });
    return { merchantId: request.merchantId, key: request.key, token };
  }

  /** The columns every new key row has: who, what, and its retention from now. */
  private row({ merchantId, key, operation, requestHash }: KeyedRequest, resourceId: string) {
    const now = this.now();
    return { merchantId, key, operation, requestHash, resourceId, createdAt: new Date(now), expiresAt: new Date(now + KEY_RETENTION_MS) };
  }

  /**
   * Inside the refusing transaction: the key's outcome is this refusal, for
   * good. The same key with the same input gets it again (replayed), even
   * when a new decision would now say yes.
   */
  async refuse(tx: Tx, request: KeyedRequest, resourceId: string, outcome: StoredRefusal): Promise<void> {
    await tx.manager.insert(IdempotencyKeyEntity, {
      ...this.row(request, resourceId),
      state: 'COMPLETED',
      owner: null,
      boot: null,
      token: null,
      outcome,
      lockedUntil: new Date(0),
    });
  }

  /**
   * Inside the saving transaction: the request reached its final answer, so
   * later retries replay it. Fenced by the token: false (and nothing written)
   * for a late writer whose claim lapsed and was taken over by another request.
   */
  async complete(tx: Tx, { merchantId, key, token }: HeldClaim): Promise<boolean> {
    const result = await tx.manager.update(IdempotencyKeyEntity, { merchantId, key, token }, { state: 'COMPLETED', lockedUntil: new Date(0) });
    return (result.affected ?? 0) > 0;
  }

  /** UCanPay could not be reached: let the caller's retry with the same key resume at once (if the claim is still this request's). */
  async release({ merchantId, key, token }: HeldClaim): Promise<void> {
    await this.db.transaction((tx) => tx.manager.update(IdempotencyKeyEntity, { merchantId, key, token }, { lockedUntil: new Date(0) }));
  }

  /**
   * Whether a request for this resource may still be talking to UCanPay.
   * With `tx`, the claim rows are locked: a caller that gives the resource up
   * in the same transaction cannot race a retry that is taking the claim over.
   */
  async inFlight(resourceId: string, tx?: Tx): Promise<boolean> {
    const qb = (tx?.manager ?? this.db.manager)
      .createQueryBuilder(IdempotencyKeyEntity, 'k')
      .where('k.resource_id = :resourceId AND k.state = :state', { resourceId, state: 'IN_PROGRESS' });
    if (tx && this.db.kind === 'postgres') qb.setLock('pessimistic_write');
    const claims = await qb.getMany();
    return claims.some((claim) => this.live(claim));
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
