/** A transition table: for each status, the statuses that may directly follow it. */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

/**
 * One aggregate's state machine, the same shape for payments, refunds and
 * billing subscriptions: its table of transitions and, for payments, the
 * corrections (UCanPay's capture overriding a closed state). The service
 * layer's one write path (services/versioned.ts) asks `allows` before it
 * writes any status, so a status no table allows is never stored.
 */
export class StateMachine<S extends string> {
  constructor(
    /** The aggregate, as errors and log lines name it ("payment"). */
    readonly name: string,
    readonly transitions: TransitionTable<S>,
    readonly corrections?: TransitionTable<S>,
  ) {}

  /** `to` directly follows `from` in the table. */
  canTransition(from: S, to: S): boolean {
    return this.transitions[from].includes(to);
  }

  /** `to` follows `from` through one or more transitions (a snapshot may skip states it implies: PENDING → REFUNDED via PAID). */
  isReachable(from: S, to: S): boolean {
    const seen = new Set<S>();
    const stack = [...this.transitions[from]];
    while (stack.length) {
      const next = stack.pop()!;
      if (next === to) return true;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(...this.transitions[next]);
      }
    }
    return false;
  }

  /** `from` → `to` is one of the table's corrections (never a forward transition). */
  isCorrection(from: S, to: S): boolean {
    return this.corrections?.[from].includes(to) ?? false;
  }

  /** No further transition is possible (a correction may still override it). */
  isFinal(status: S): boolean {
    return this.transitions[status].length === 0;
  }

  /**
   * What a status write may do: move forwards through the table, skipping
   * states it implies, or apply a correction. Never backwards, never out of
   * a final state otherwise. Writing the same status is no move.
   */
  allows(from: S, to: S): boolean {
    return from === to || this.isReachable(from, to) || this.isCorrection(from, to);
  }
}

/**
 * A status write its state machine does not allow: a bug in the gateway,
 * never the client's doing. Deliberately not a GatewayError, so a client sees
 * INTERNAL_SERVER_ERROR with the message masked in production; the write path
 * logs it with the ids, and the surrounding transaction rolls back.
 */
export class IllegalTransition extends Error {
  constructor(
    readonly aggregate: string,
    readonly id: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${aggregate} ${id}: ${from} → ${to} is not allowed by the ${aggregate} state table; nothing was written`);
    this.name = 'IllegalTransition';
  }
}
