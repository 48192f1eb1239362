/**
 * One test clock for the whole process: gateway and embedded sandbox alike.
 *
 * The sandbox's own clock (`POST /sandbox/clock/advance`) moves only UCanPay's
 * time, but the gateway draws its own inferences (claim leases, "past its
 * expiry", reconciliation's stale window) from the process clock. Advancing
 * both by the same amount is what time passing looks like to the pair, so this
 * shifts `Date` for everything in the process (the sandbox clock is
 * `Date.now() + offset`, webhook signatures and their 300 s window move with
 * it). Timers (`setTimeout`) keep real time; nothing here sleeps.
 */
const RealDate = Date;
let shiftMs = 0;

class TestDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + shiftMs);
    else super(...(args as [string | number | Date]));
  }

  static now(): number {
    return RealDate.now() + shiftMs;
  }

  // Dates made by native code (or before install) still count as Dates.
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof RealDate;
  }
}

/** Replaces the global Date once (idempotent). */
export function installTestClock(): void {
  if (globalThis.Date === (TestDate as unknown as DateConstructor)) return;
  globalThis.Date = TestDate as unknown as DateConstructor;
}

/** Moves the process clock forward by `ms`. */
export function advanceTestClock(ms: number): void {
  if (!(ms >= 0)) throw new RangeError('the test clock only moves forward');
  shiftMs += ms;
}

export function testClockShiftMs(): number {
  return shiftMs;
}
