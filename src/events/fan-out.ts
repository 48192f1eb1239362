/**
 * Hands events to listeners at most `batch` calls per turn of the event
 * loop, in order. One change followed by thousands of subscribers would
 * otherwise be delivered in one go — each call starts a GraphQL execution
 * and a WebSocket frame in the same microtask drain — and hold up every other
 * client's request until the last frame is out. Between batches
 * (`setImmediate`) the loop serves I/O.
 *
 * While nothing waits, calls run at once (a small fan-out is delivered
 * synchronously, as before); once the turn's budget is spent they queue, and
 * queued calls always run before newer ones, so every listener still sees
 * events in publish order.
 */
export class FanOut {
  private readonly pending: Array<() => void> = [];
  private head = 0;
  private used = 0;
  private ticking = false;

  constructor(private readonly batch: number) {}

  /** Calls `call` now if this turn's budget allows and nothing is queued, otherwise in a later turn. */
  schedule(call: () => void): void {
    if (this.head === this.pending.length && this.used < this.batch) {
      this.used++;
      this.tickLater();
      run(call);
      return;
    }
    this.pending.push(call);
    this.tickLater();
  }

  /** Calls waiting for a later turn. */
  get queued(): number {
    return this.pending.length - this.head;
  }

  private tickLater(): void {
    if (this.ticking) return;
    this.ticking = true;
    setImmediate(() => this.tick());
  }

  private tick(): void {
    this.ticking = false;
    this.used = 0;
    while (this.used < this.batch && this.head < this.pending.length) {
      const call = this.pending[this.head];
      this.pending[this.head++] = noop;
      this.used++;
      run(call);
    }
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    }
    // Also when the budget was used but nothing waits: the next turn starts with a fresh budget.
    if (this.used > 0) this.tickLater();
  }
}

function noop(): void {}

function run(call: () => void): void {
  try {
    call();
  } catch {
    // One broken listener must not keep the event from the others.
  }
}
