import type { EntityTarget, FindOptionsWhere } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { Database, Tx } from '../db/database';
import type { StoredRefusal } from '../entities';
import { requestHash } from '../domain/validation';
import { UCanPayError } from '../ucanpay';
import type { Logger } from '../logger';
import type { HeldClaim, IdempotencyService, KeyedRequest } from './idempotency.service';
import { providerFailure } from './provider-facts';
import { recordCreated } from './event-log';
import type { Versioned } from './versioned';

/** A row a money-moving create writes first, before UCanPay is called. */
export interface CreatedRow extends Versioned {
  status: string;
  merchantReference: string;
  failureCode: string | null;
  failureMessage: string | null;
}

/** One kind of object a create makes at UCanPay: what the protocol and reconciliation know of it. */
export interface Aggregate<Row extends CreatedRow> {
  /** "payment", "refund", "subscription": UCanPay's error messages name it. */
  name: string;
  entity: EntityTarget<Row>;
  /**
   * Not yet sent to UCanPay: still in its first state, with no UCanPay id. A
   * request holding its claim may be sending it right now; a resumed claim
   * sends it again (same UCanPay idempotency key: its id).
   */
  unsent(row: Row): boolean;
  /** UCanPay (or the gateway, for it) refused its creation: a same-key retry is answered ProviderError. */
  refused(row: Row): boolean;
}

/** UCanPay refused the creation: the typed ProviderError result. */
export type ProviderRefused = { kind: 'providerRefused'; providerCode: string; message: string };

/** The "no"s the protocol answers itself, the same for every create. */
export type CreateRefused =
  | { kind: 'idempotencyConflict'; idempotencyKey: string }
  | { kind: 'merchantReferenceInUse'; merchantReference: string; replayed: boolean }
  | ProviderRefused;

/** What a create can come to: what it made (`Made`), one of its own stored refusals (`Refusal`), or a shared "no". */
export type CreateOutcome<Made, Refusal = never> = Made | CreateRefused | (Refusal & { replayed: boolean });

/** The request, as the protocol needs it. */
export interface CreateRequest {
  /** The mutation, e.g. `createPayment`: stored with the key. */
  operation: string;
  merchantId: string;
  /** The idempotency key (null: none sent, so nothing is claimed or replayed). */
  key: string | null;
  /**
   * The checked input. Its hash is stored with the key (the same key with
   * another input is a conflict); its merchant reference, when given, must
   * be free (a taken one is a stored refusal).
   */
  input: { merchantReference: string | null };
  /** What a stored refusal names as its resource (a refund's payment); none for the others. */
  refusalResourceId?: string;
}

/**
 * What a create supplies to {@link createOnce}: everything that differs
 * between a payment, a refund and a subscription. `Answer` is what the
 * provider call returns, `Made` the create's outcome when UCanPay answered,
 * `Refusal` its own typed "no"s (a refund's amount checks).
 */
export interface CreateSteps<Row extends CreatedRow, Answer, Made, Refusal extends StoredRefusal = never> {
  aggregate: Aggregate<Row>;
  /**
   * Inside the claiming transaction, for a key not seen before (or none):
   * the business checks and the first row, not yet written. A refusal is
   * stored as the key's outcome and replayed, never decided again.
   */
  open(tx: Tx): Promise<{ row: Row } | { refusal: Refusal }>;
  /** Same transaction, once the first row and its claim are written (a refund announces itself). */
  opened?(tx: Tx, row: Row): void;
  /**
   * Whether this row may only be looked up at UCanPay, not sent (a payment
   * past its deadline): asked once, right before the call; UCanPay's errors
   * are then those of a status read.
   */
  lookUpOnly?(row: Row): boolean;
  /** The provider call, outside any transaction. A UCanPayError it throws ends the create (see `createOnce`). */
  send(row: Row, lookUpOnly: boolean): Promise<Answer>;
  /** Under the row's lock, in the transaction that completes the key: records UCanPay's answer. */
  save(tx: Tx, current: Row, answer: Answer): Promise<Made | ProviderRefused>;
  /** Under the row's lock, only while it is still unsent: records UCanPay's refusal on it. */
  saveRefusal(tx: Tx, current: Row, refusal: Omit<ProviderRefused, 'kind'>): Promise<unknown>;
  /** What a same-key retry gets for a row that was not refused: what was made, as it is now (`replayed: true`). */
  replay(tx: Tx, row: Row): Promise<Made>;
}

export interface CreateDeps {
  db: Database;
  idempotency: IdempotencyService;
  log: Pick<Logger, 'warn'>;
}

/**
 * THE idempotent create (docs/money-truth.md): one call for createPayment,
 * refundPayment and createSubscription, in this order —
 *
 * 1. one claiming transaction (`IdempotencyService.claiming`: on PostgreSQL
 *    an advisory lock on the merchant's key): what the key says first — a
 *    conflict, a stored refusal or result to replay, or an unsent row whose
 *    claim lapsed (crash, outage) to send again under a new token; for a new
 *    key the business checks and the merchant reference (a "no" is stored
 *    with the key), then the first row and the claim;
 * 2. the provider call, outside any transaction. A thrown UCanPay failure
 *    (outage, the gateway's own fault) releases the key, so the same-key
 *    retry resumes at once, and is thrown; any other error is thrown as is
 *    (the claim's lease keeps retries off until it ends);
 * 3. one saving transaction: the row locked, UCanPay's answer (or refusal)
 *    recorded, the key completed — fenced by the claim's token: a late
 *    writer, whose lapsed claim another request took over, records
 *    UCanPay's facts but completes nothing (and is logged).
 */
export async function createOnce<Row extends CreatedRow, Answer, Made, Refusal extends StoredRefusal = never>(
  deps: CreateDeps,
  request: CreateRequest,
  steps: CreateSteps<Row, Answer, Made, Refusal>,
): Promise<CreateOutcome<Made, Refusal>> {
  const step = await claimOrAnswer(deps, request, steps);
  if (step.kind === 'answer') return step.outcome;
  const { aggregate } = steps;
  const { row, held } = step;
  const lookUpOnly = steps.lookUpOnly?.(row) ?? false;
  let answer: Answer;
  try {
    answer = await steps.send(row, lookUpOnly);
  } catch (error) {
    if (!(error instanceof UCanPayError)) throw error;
    // One mapping for every UCanPay error (src/domain/errors.ts): thrown ones leave the key usable.
    const failure = providerFailure(error, aggregate.name, lookUpOnly ? 'check' : 'create');
    if (failure.kind === 'thrown') {
      if (held) await deps.idempotency.release(held);
      throw failure.error;
    }
    const refusal = { providerCode: failure.providerCode, message: failure.message };
    await save(deps, request, aggregate, row.id, held, async (tx, current) => {
      if (aggregate.unsent(current)) await steps.saveRefusal(tx, current, refusal);
    });
    return { kind: 'providerRefused', ...refusal };
  }
  return save(deps, request, aggregate, row.id, held, (tx, current) => steps.save(tx, current, answer));
}

/** A row's outcome for a same-key retry: its refusal at creation, or null when it was made. */
export function refusalOf<Row extends CreatedRow>(aggregate: Aggregate<Row>, row: Row): ProviderRefused | null {
  if (!aggregate.refused(row) || row.failureCode === null) return null;
  return { kind: 'providerRefused', providerCode: row.failureCode, message: row.failureMessage ?? `UCanPay refused the ${aggregate.name}` };
}

type Step<Row, Outcome> = { kind: 'answer'; outcome: Outcome } | { kind: 'send'; row: Row; held: HeldClaim | null };

/** Step 1: the claiming transaction. Returns the answer, or the row to send (and the claim this request holds on it). */
function claimOrAnswer<Row extends CreatedRow, Answer, Made, Refusal extends StoredRefusal>(
  deps: CreateDeps,
  request: CreateRequest,
  steps: CreateSteps<Row, Answer, Made, Refusal>,
): Promise<Step<Row, CreateOutcome<Made, Refusal>>> {
  const { aggregate } = steps;
  const { merchantId, key } = request;
  const { merchantReference } = request.input;
  const answer = (outcome: CreateOutcome<Made, Refusal>) => ({ kind: 'answer' as const, outcome });
  const keyed: KeyedRequest | null = key === null ? null : { merchantId, key, operation: request.operation, requestHash: requestHash(request.input) };
  return deps.idempotency.claiming(merchantId, key, async (tx) => {
    if (keyed) {
      const earlier = await deps.idempotency.earlier(tx, keyed);
      if (earlier.kind === 'conflict') return answer({ kind: 'idempotencyConflict', idempotencyKey: keyed.key });
      if (earlier.kind === 'refused') return answer({ ...earlier.outcome, replayed: true } as CreateOutcome<Made, Refusal>);
      if (earlier.kind !== 'new') {
        const row = await deps.db.findOneByOrFail(aggregate.entity, { id: earlier.resourceId } as Partial<Row>, { tx });
        if (earlier.kind === 'resume' && aggregate.unsent(row)) return { kind: 'send', row, held: { merchantId, key: keyed.key, token: earlier.token } };
        return answer(refusalOf(aggregate, row) ?? (await steps.replay(tx, row)));
      }
    }
    // A typed "no" is this key's outcome for good: stored with the key and replayed, never decided again.
    const refuse = async (refusal: StoredRefusal) => {
      if (keyed) await deps.idempotency.refuse(tx, keyed, request.refusalResourceId ?? '', refusal);
      return answer({ ...refusal, replayed: false } as CreateOutcome<Made, Refusal>);
    };
    const opened = await steps.open(tx);
    if ('refusal' in opened) return refuse(opened.refusal);
    if (merchantReference !== null && (await tx.manager.exists(aggregate.entity, { where: { merchantId, merchantReference } as FindOptionsWhere<Row> }))) {
      return refuse({ kind: 'merchantReferenceInUse', merchantReference });
    }
    const { row } = opened;
    // The row is complete: no re-read of column defaults after the insert (TypeORM's default costs a SELECT).
    await tx.manager
      .createQueryBuilder()
      .insert()
      .into(aggregate.entity)
      .values(row as QueryDeepPartialEntity<Row>)
      .updateEntity(false)
      .execute();
    await recordCreated(tx, aggregate.entity, row); // the event log: the …created event, in this transaction
    const held = keyed && (await deps.idempotency.claim(tx, keyed, row.id));
    steps.opened?.(tx, row);
    return { kind: 'send', row, held };
  });
}

/** Step 3: under the row's lock, `write` records what UCanPay said and the key is completed if this request still holds it. */
function save<Row extends CreatedRow, T>(
  deps: CreateDeps,
  request: CreateRequest,
  aggregate: Aggregate<Row>,
  id: string,
  held: HeldClaim | null,
  write: (tx: Tx, current: Row) => Promise<T>,
): Promise<T> {
  return deps.db.transaction(async (tx) => {
    const current = await deps.db.findOneByOrFail(aggregate.entity, { id } as Partial<Row>, { tx, forUpdate: true });
    const result = await write(tx, current);
    if (held && !(await deps.idempotency.complete(tx, held))) {
      tx.afterCommit(() =>
        deps.log.warn(
          { operation: request.operation, resourceId: id, merchantId: current.merchantId },
          `UCanPay answered ${request.operation} after the request lost its idempotency claim; its answer is recorded, the key is left to the request that holds it`,
        ),
      );
    }
    return result;
  });
}
