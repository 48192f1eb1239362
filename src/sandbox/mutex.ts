/** A FIFO async mutex: `run(fn)` runs `fn` once every earlier caller has finished. Not re-entrant. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.pending += 1;
    const result = this.tail.then(fn);
    const done = (): void => {
      this.pending -= 1;
    };
    this.tail = result.then(done, done);
    return result;
  }

  /** Resolves once every operation queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }

  get busy(): boolean {
    return this.pending > 0;
  }
}
