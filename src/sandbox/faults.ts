/**
 * Fault injection rules (kept in memory: a restart clears them). Rules are
 * consumed in the order they were added; a rule with `count` N affects the
 * next N matching calls/events/refunds/charges and is then removed.
 */
import { codeForStatus, invalid, STATUS_OF_CODE, type ErrorCode } from './errors';

export const CONTRACT_ENDPOINTS = [
  'POST /payment/unifiedorder',
  'GET /payment/status',
  'POST /payment/refund',
  'GET /payment/refund/status',
  'POST /subscriptions/create',
  'POST /subscriptions/update',
  'POST /subscriptions/cancel',
  'GET /subscriptions/status',
] as const;

export const WEBHOOK_FAULT_MODES = ['duplicate', 'out_of_order', 'delay', 'drop', 'bad_signature'] as const;
export type WebhookFaultMode = (typeof WEBHOOK_FAULT_MODES)[number];

export interface HttpFault {
  id: string;
  kind: 'http';
  endpoint: string;
  count: number;
  remaining: number;
  /** Absent when the rule only adds latency or drops the connection. */
  status: number | null;
  code: string | null;
  message: string | null;
  retry_after: number | null;
  latency_ms: number;
  drop: boolean;
  when: 'before' | 'after';
}

export interface WebhookFault {
  id: string;
  kind: 'webhooks';
  mode: WebhookFaultMode;
  count: number;
  remaining: number;
  delay_ms: number;
  types: string[] | null;
}

export interface RefundFault {
  id: string;
  kind: 'refunds';
  count: number;
  remaining: number;
  failure_code: string;
}

/** Addition: forces the outcome of the next N subscription charges (overrides magic amounts). */
export interface ChargeFault {
  id: string;
  kind: 'charges';
  count: number;
  remaining: number;
  /** null = force success. */
  failure_code: string | null;
}

export type FaultRule = HttpFault | WebhookFault | RefundFault | ChargeFault;

/** What happened to one webhook event at enqueue time. */
export interface WebhookFaultDecision {
  mode: WebhookFaultMode;
  delay_ms: number;
  /** For out_of_order: the hold group and its size. */
  group?: string;
  groupSize?: number;
}

type Body = Record<string, unknown>;

function isRecord(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intField(body: Body, field: string, label: string, min: number, max: number, fallback: number): number {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(label, `must be an integer between ${min} and ${max}`);
  }
  return v;
}

export class FaultRegistry {
  private rules: FaultRule[] = [];
  private seq = 0;

  private nextId(): string {
    this.seq += 1;
    return `flt_${this.seq}`;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
  }

  /** Parses and adds one rule from the `POST /sandbox/faults` body; throws INVALID_REQUEST naming the field. */
  add(body: unknown): FaultRule {
    if (!isRecord(body)) throw invalid('body', 'must be a JSON object');
    let rule: FaultRule;
    if (body.webhooks !== undefined) rule = this.parseWebhook(body.webhooks);
    else if (body.refunds !== undefined) rule = this.parseRefund(body.refunds);
    else if (body.charges !== undefined) rule = this.parseCharge(body.charges);
    else rule = this.parseHttp(body);
    this.rules.push(rule);
    return { ...rule };
  }

  private parseHttp(body: Body): HttpFault {
    const endpoint = body.endpoint;
    if (typeof endpoint !== 'string' || (endpoint !== '*' && !(CONTRACT_ENDPOINTS as readonly string[]).includes(endpoint))) {
      throw invalid('endpoint', `must be "*" or one of: ${CONTRACT_ENDPOINTS.join(', ')}`);
    }
    const count = intField(body, 'count', 'count', 1, 1_000_000, 1);
    let status: number | null = null;
    let code: string | null = null;
    if (body.status !== undefined && body.status !== null) status = intField(body, 'status', 'status', 400, 599, 500);
    if (body.code !== undefined && body.code !== null) {
      if (typeof body.code !== 'string' || !/^[A-Z][A-Z0-9_]{0,63}$/.test(body.code)) {
        throw invalid('code', 'must be an upper-case error code such as SERVICE_UNAVAILABLE');
      }
      code = body.code;
    }
    if (status !== null && code === null) code = codeForStatus(status);
    if (code !== null && status === null) status = STATUS_OF_CODE[code as ErrorCode] ?? 500;
    let message: string | null = null;
    if (body.message !== undefined && body.message !== null) {
      if (typeof body.message !== 'string' || body.message.length > 1000) throw invalid('message', 'must be a string of at most 1000 characters');
      message = body.message;
    }
    let retryAfter: number | null = null;
    if (body.retry_after !== undefined && body.retry_after !== null) retryAfter = intField(body, 'retry_after', 'retry_after', 0, 86_400, 0);
    if (retryAfter === null && status === 429) retryAfter = 1;
    const latency = intField(body, 'latency_ms', 'latency_ms', 0, 120_000, 0);
    const drop = body.drop;
    if (drop !== undefined && drop !== null && typeof drop !== 'boolean') throw invalid('drop', 'must be a boolean');
    const when = body.when ?? 'before';
    if (when !== 'before' && when !== 'after') throw invalid('when', 'must be "before" or "after"');
    if (status === null && drop !== true && latency === 0) {
      throw invalid('status', 'is required unless the rule drops the connection or adds latency');
    }
    return {
      id: this.nextId(),
      kind: 'http',
      endpoint,
      count,
      remaining: count,
      status,
      code,
      message,
      retry_after: retryAfter,
      latency_ms: latency,
      drop: drop === true,
      when,
    };
  }

  private parseWebhook(raw: unknown): WebhookFault {
    if (!isRecord(raw)) throw invalid('webhooks', 'must be an object');
    const mode = raw.mode;
    if (typeof mode !== 'string' || !(WEBHOOK_FAULT_MODES as readonly string[]).includes(mode)) {
      throw invalid('webhooks.mode', `must be one of ${WEBHOOK_FAULT_MODES.join(', ')}`);
    }
    const count = intField(raw, 'count', 'webhooks.count', 1, 1_000_000, 1);
    const delay = intField(raw, 'delay_ms', 'webhooks.delay_ms', 0, 3_600_000, 2000);
    let types: string[] | null = null;
    if (raw.types !== undefined && raw.types !== null) {
      if (!Array.isArray(raw.types) || raw.types.some((t) => typeof t !== 'string')) throw invalid('webhooks.types', 'must be an array of event types');
      types = raw.types as string[];
    }
    return { id: this.nextId(), kind: 'webhooks', mode: mode as WebhookFaultMode, count, remaining: count, delay_ms: delay, types };
  }

  private parseRefund(raw: unknown): RefundFault {
    if (!isRecord(raw)) throw invalid('refunds', 'must be an object');
    const count = intField(raw, 'count', 'refunds.count', 1, 1_000_000, 1);
    const code = raw.failure_code ?? 'PROVIDER_ERROR';
    if (typeof code !== 'string' || code.length === 0 || code.length > 64) throw invalid('refunds.failure_code', 'must be a short string');
    return { id: this.nextId(), kind: 'refunds', count, remaining: count, failure_code: code };
  }

  private parseCharge(raw: unknown): ChargeFault {
    if (!isRecord(raw)) throw invalid('charges', 'must be an object');
    const count = intField(raw, 'count', 'charges.count', 1, 1_000_000, 1);
    const code = raw.failure_code === undefined ? 'CARD_DECLINED' : raw.failure_code;
    if (code !== null && (typeof code !== 'string' || code.length === 0 || code.length > 64)) {
      throw invalid('charges.failure_code', 'must be a short string, or null to force success');
    }
    return { id: this.nextId(), kind: 'charges', count, remaining: count, failure_code: code };
  }

  private consume<R extends FaultRule>(rule: R): R {
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    return rule;
  }

  /** The HTTP fault for this call, if any (consumed). */
  takeHttp(endpoint: string): HttpFault | undefined {
    const rule = this.rules.find((r): r is HttpFault => r.kind === 'http' && (r.endpoint === '*' || r.endpoint === endpoint));
    return rule ? { ...this.consume(rule) } : undefined;
  }

  takeWebhook(type: string): WebhookFaultDecision | undefined {
    const rule = this.rules.find((r): r is WebhookFault => r.kind === 'webhooks' && (r.types === null || r.types.includes(type)));
    if (!rule) return undefined;
    this.consume(rule);
    return { mode: rule.mode, delay_ms: rule.delay_ms, group: `ooo_${rule.id}`, groupSize: rule.count };
  }

  takeRefund(): string | undefined {
    const rule = this.rules.find((r): r is RefundFault => r.kind === 'refunds');
    return rule ? this.consume(rule).failure_code : undefined;
  }

  /** undefined: no rule; null: force success; string: force failure with that code. */
  takeCharge(): string | null | undefined {
    const rule = this.rules.find((r): r is ChargeFault => r.kind === 'charges');
    return rule ? this.consume(rule).failure_code : undefined;
  }
}
