/**
 * Webhook outbox and dispatcher.
 *
 * Events are written to the `outbox` table in the same transaction as the
 * state change that produced them, so a restart resends whatever was not
 * delivered. Each event belongs to a lane (its object id): within a lane
 * events are delivered strictly in creation order, one at a time; lanes run
 * concurrently. A failed attempt (non-2xx, network error or timeout) is
 * retried with exponential backoff and jitter until `maxAttempts` failures,
 * after which the event is marked `failed`.
 */
import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { newId } from './ids';
import type { FaultRegistry } from './faults';
import type { Logger } from './logger';
import { SIGNATURE_HEADER, signWebhook } from './signing';
import type { OutboxRow, OutboxState, Store } from './store';

export interface WebhookDispatchOptions {
  baseMs: number;
  maxAttempts: number;
  maxDelayMs: number;
  timeoutMs: number;
  concurrency: number;
}

export interface NewEvent {
  merchantId: string;
  objectId: string;
  type: string;
  notifyUrl: string | null;
  object: unknown;
  /** Sandbox time of the event (epoch ms). */
  createdMs: number;
}

/** Out-of-order hold groups collect at most this long before they are released. */
const HOLD_MAX_MS = 2000;

interface HoldGroup {
  size: number;
  collected: number;
  timer: NodeJS.Timeout | null;
}

interface PostResult {
  status: number | null;
  error: string | null;
}

function postOnce(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (status: number | null, error: string | null): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ status, error });
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish(null, 'invalid notify_url');
      return;
    }
    const mod = target.protocol === 'https:' ? https : http;
    const req = mod.request(target, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' },
    });
    timer = setTimeout(() => {
      finish(null, `timed out after ${timeoutMs} ms`);
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      const status = res.statusCode ?? null;
      res.on('end', () => finish(status, null));
      res.on('close', () => finish(status, null));
      res.on('error', () => finish(status, null));
      res.resume();
    });
    req.on('error', (err) => finish(null, err.message));
    req.end(body);
  });
}

export interface WebhookView {
  id: string;
  type: string;
  notify_url: string | null;
  attempts: number;
  delivered: boolean;
  last_status: number | null;
  merchant_id: string;
  object_id: string;
  state: OutboxState;
  delivered_count: number;
  created: number;
  last_error: string | null;
  fault: string | null;
  next_attempt_at: string | null;
  payload: unknown;
}

export function webhookView(row: OutboxRow): WebhookView {
  return {
    id: row.event_id,
    type: row.type,
    notify_url: row.notify_url,
    attempts: row.attempts,
    delivered: row.delivered_count > 0,
    last_status: row.last_status,
    merchant_id: row.merchant_id,
    object_id: row.object_id,
    state: row.state,
    delivered_count: row.delivered_count,
    created: row.created,
    last_error: row.last_error,
    fault: row.fault,
    next_attempt_at: row.state === 'pending' ? new Date(row.next_attempt_ms).toISOString() : null,
    payload: JSON.parse(row.body) as unknown,
  };
}

export class WebhookDispatcher {
  private stopped = false;
  private started = false;
  private pumping = false;
  private again = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Infinity;
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly background = new Set<Promise<void>>();
  private readonly groups = new Map<string, HoldGroup>();

  constructor(
    private readonly store: Store,
    private readonly faults: FaultRegistry,
    private readonly log: Logger,
    private readonly opts: WebhookDispatchOptions,
  ) {}

  /**
   * Writes one event to the outbox (call inside a transaction) and applies
   * any webhook fault rule to it. Returns the event id.
   */
  async enqueue(ev: NewEvent): Promise<string> {
    const id = newId('evt');
    const body = JSON.stringify({ id, type: ev.type, created: Math.floor(ev.createdMs / 1000), data: { object: ev.object } });
    const realNow = Date.now();
    let state: OutboxState = 'pending';
    let lane = ev.objectId;
    let remaining = 1;
    let next = realNow;
    let badSig = false;
    let fault: string | null = null;
    let group: string | null = null;
    let groupSize = 0;
    if (!ev.notifyUrl) {
      state = 'skipped';
    } else {
      const decision = this.faults.takeWebhook(ev.type);
      if (decision) {
        fault = decision.mode;
        switch (decision.mode) {
          case 'duplicate':
            remaining = 2;
            break;
          case 'delay':
            next = realNow + decision.delay_ms;
            lane = `delay:${id}`;
            break;
          case 'drop':
            state = 'dropped';
            break;
          case 'bad_signature':
            badSig = true;
            break;
          case 'out_of_order':
            state = 'held';
            group = decision.group ?? `ooo_${id}`;
            groupSize = decision.groupSize ?? 1;
            lane = `hold:${group}`;
            break;
        }
      }
    }
    await this.store.insertOutbox(
      {
        event_id: id,
        merchant_id: ev.merchantId,
        object_id: ev.objectId,
        type: ev.type,
        notify_url: ev.notifyUrl,
        body,
        created: Math.floor(ev.createdMs / 1000),
        lane,
        state,
        remaining,
        next_attempt_ms: next,
        bad_sig_first: badSig,
        fault,
        hold_group: group,
      },
      realNow,
    );
    if (group !== null) {
      const g = group;
      this.store.onCommit(() => this.noteHeld(g, groupSize));
    }
    this.store.onCommit(() => this.kick());
    return id;
  }

  /** Starts delivering: pending events are due at once, groups held before a restart are released, then pumps. */
  async start(): Promise<void> {
    this.started = true;
    await this.store.exclusive(async () => {
      await this.store.resetPendingSchedule(Date.now());
      const held = await this.store.heldOutbox();
      const byGroup = new Map<string, OutboxRow[]>();
      for (const row of held) {
        const key = row.hold_group ?? '';
        byGroup.set(key, [...(byGroup.get(key) ?? []), row]);
      }
      for (const rows of byGroup.values()) await this.releaseRows(rows);
    });
    this.kick();
  }

  kick(): void {
    if (this.stopped || !this.started) return;
    this.track(this.pump());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    for (const g of this.groups.values()) if (g.timer) clearTimeout(g.timer);
    this.groups.clear();
    while (this.inFlight.size > 0 || this.background.size > 0) {
      await Promise.allSettled([...this.inFlight.values(), ...this.background]);
    }
  }

  private track(p: Promise<void>): void {
    const wrapped = p.catch((err: unknown) => {
      this.log.error({ err: errorText(err) }, 'sandbox webhook dispatcher error');
    });
    this.background.add(wrapped);
    void wrapped.finally(() => this.background.delete(wrapped));
  }

  private noteHeld(group: string, size: number): void {
    if (this.stopped) return;
    let g = this.groups.get(group);
    if (!g) {
      g = { size, collected: 0, timer: null };
      this.groups.set(group, g);
      g.timer = setTimeout(() => this.track(this.release(group)), HOLD_MAX_MS);
    }
    g.collected += 1;
    if (g.collected >= g.size) this.track(this.release(group));
  }

  private async release(group: string): Promise<void> {
    const g = this.groups.get(group);
    if (!g) return;
    if (g.timer) clearTimeout(g.timer);
    this.groups.delete(group);
    if (this.stopped) return;
    await this.store.exclusive(async () => this.releaseRows(await this.store.heldOutbox(group)));
    this.kick();
  }

  /** Makes held rows pending again, in reverse order of creation (call inside `exclusive`). */
  private async releaseRows(rows: OutboxRow[]): Promise<void> {
    const seqs = rows.map((r) => r.row_id);
    const now = Date.now();
    for (let i = 0; i < rows.length; i += 1) {
      await this.store.releaseHeld(rows[i].row_id, seqs[rows.length - 1 - i], now);
    }
  }

  private async pump(): Promise<void> {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const rows = await this.store.exclusive(() => this.store.pendingOutbox());
        if (this.stopped) return;
        const now = Date.now();
        const lanes = new Set<string>();
        let wake = Infinity;
        for (const row of rows) {
          if (lanes.has(row.lane)) continue;
          lanes.add(row.lane);
          if (this.inFlight.has(row.row_id)) continue;
          if (row.next_attempt_ms > now) {
            wake = Math.min(wake, row.next_attempt_ms);
            continue;
          }
          if (this.inFlight.size >= this.opts.concurrency) continue; // re-pumped when an attempt ends
          this.startAttempt(row.row_id);
        }
        this.scheduleWake(wake);
      } while (this.again && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  private scheduleWake(at: number): void {
    if (this.stopped || at === Infinity) return;
    if (this.wakeTimer && at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.wakeAt = Infinity;
        this.kick();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private startAttempt(rowId: number): void {
    const p = this.attempt(rowId)
      .catch((err: unknown) => {
        this.log.error({ err: errorText(err), row: rowId }, 'sandbox webhook attempt crashed');
      })
      .finally(() => {
        this.inFlight.delete(rowId);
        this.kick();
      });
    this.inFlight.set(rowId, p);
  }

  private backoff(failures: number): number {
    const raw = this.opts.baseMs * 2 ** Math.min(failures - 1, 30);
    const jittered = raw * (0.75 + Math.random() * 0.5);
    return Math.round(Math.min(this.opts.maxDelayMs, jittered));
  }

  private async attempt(rowId: number): Promise<void> {
    const loaded = await this.store.exclusive(async () => {
      const row = await this.store.getOutbox(rowId);
      const merchant = row ? await this.store.getMerchant(row.merchant_id) : undefined;
      return { row, merchant };
    });
    const { row, merchant } = loaded;
    if (!row || row.state !== 'pending' || !row.notify_url) return;
    const t = Math.floor(Date.now() / 1000);
    const wrongSecret = row.bad_sig_first === 1 && row.attempts === 0;
    const secret = wrongSecret || !merchant ? `whsec_wrong_${randomBytes(8).toString('hex')}` : merchant.webhook_secret;
    const result = await postOnce(
      row.notify_url,
      row.body,
      {
        'Content-Type': 'application/json',
        'User-Agent': 'UCanPay-Sandbox/1.0',
        [SIGNATURE_HEADER]: signWebhook(secret, row.body, t),
      },
      this.opts.timeoutMs,
    );
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const now = Date.now();
    const attempts = row.attempts + 1;
    let { failures, remaining, delivered_count: deliveredCount } = row;
    let state: OutboxState = 'pending';
    let next = now;
    if (ok) {
      failures = 0;
      remaining -= 1;
      deliveredCount += 1;
      if (remaining <= 0) state = 'delivered';
    } else {
      failures += 1;
      if (failures >= this.opts.maxAttempts) state = 'failed';
      else next = now + this.backoff(failures);
    }
    await this.store.exclusive(() =>
      this.store.recordAttempt(rowId, {
        state,
        attempts,
        failures,
        remaining,
        delivered_count: deliveredCount,
        last_status: result.status,
        last_error: result.error,
        next_attempt_ms: next,
        delivered_real_ms: ok ? now : null,
      }),
    );
    const logFields = { event: row.event_id, type: row.type, attempt: attempts, status: result.status };
    if (ok) this.log.info(logFields, 'sandbox webhook delivered');
    else if (state === 'failed') this.log.warn({ ...logFields, error: result.error }, 'sandbox webhook gave up');
    else this.log.info({ ...logFields, error: result.error, retry_in_ms: next - now }, 'sandbox webhook attempt failed');
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
