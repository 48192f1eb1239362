/**
 * The sandbox clock: real time plus a persisted offset that only moves
 * forward (`POST /sandbox/clock/advance`). Sandbox time drives objects
 * (created_at, expires_at, periods, event `created`); webhook signatures use
 * real time.
 */
export class SandboxClock {
  constructor(private offsetMs = 0) {}

  now(): number {
    return Date.now() + this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }

  setOffset(ms: number): void {
    this.offsetMs = ms;
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}

/** `YYYY-MM-DD` of an instant, in UTC. */
export function utcDate(ms: number): string {
  return iso(ms).slice(0, 10);
}
