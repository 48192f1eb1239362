/** Every contract call received (including faulted ones), oldest first; in memory, bounded. */
export interface RequestLogEntry {
  endpoint: string;
  idempotency_key: string | null;
  /** HTTP status answered; 0 when the connection was dropped by a fault; null while in progress. */
  status: number | null;
  /** Real (wall-clock) time the call arrived. */
  at: string;
  merchant_id: string | null;
  /** Id of the fault rule applied to the call, if any. */
  fault: string | null;
  replayed: boolean;
  /** The caller's W3C `traceparent` header, when it sent a well-formed one. */
  traceparent: string | null;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];

  constructor(private readonly max = 10_000) {}

  add(endpoint: string, idempotencyKey: string | null, traceparent?: string | string[]): RequestLogEntry {
    const entry: RequestLogEntry = {
      endpoint,
      idempotency_key: idempotencyKey,
      status: null,
      at: new Date().toISOString(),
      merchant_id: null,
      fault: null,
      replayed: false,
      traceparent: typeof traceparent === 'string' && /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(traceparent) ? traceparent : null,
    };
    this.entries.push(entry);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    return entry;
  }

  list(endpoint?: string): RequestLogEntry[] {
    return this.entries.filter((e) => endpoint === undefined || e.endpoint === endpoint).map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries = [];
  }
}
