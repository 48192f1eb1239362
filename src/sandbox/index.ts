/**
 * The UCanPay sandbox: a faithful offline implementation of
 * docs/ucanpay-api.md plus the test extensions of docs/sandbox-extensions.md.
 *
 *   const sandbox = await createSandbox({ port: 0, dbPath: ':memory:', merchants: [...] });
 *   ... sandbox.url ...
 *   await sandbox.stop();
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { SandboxClock } from './clock';
import type { SandboxContext } from './context';
import { advanceClock, runDueRefunds, runDueWork } from './due-work';
import { FaultRegistry } from './faults';
import { silentLogger, type Logger } from './logger';
import { RequestLog } from './request-log';
import { createRequestListener } from './server';
import { Store } from './store';
import { errorText, WebhookDispatcher } from './webhooks';

export { signWebhook } from './signing';
export type { Logger } from './logger';

/** Demo merchant of `npm run sandbox` when UCANPAY_* are unset (docs/sandbox-extensions.md). */
export const DEMO_MERCHANT = {
  merchantId: 'mch_demo',
  secretKey: 'sk_test_demo_0123456789abcdef',
  webhookSecret: 'whsec_demo_0123456789abcdef',
  name: 'Demo Shop',
} as const;

export interface SandboxMerchantSeed {
  merchantId: string;
  secretKey: string;
  webhookSecret: string;
  name?: string;
}

export interface SandboxOptions {
  /** 0 = any free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Its own SQLite file (':memory:' allowed in unit tests). */
  dbPath: string;
  /** Base of pay_url; default http://<host>:<port>. */
  publicUrl?: string;
  /** Seeded on start (idempotent upsert). */
  merchants?: SandboxMerchantSeed[];
  /** Default 500 ms, 8 attempts, 60 s; `timeoutMs` (addition) bounds each attempt, default 5000. */
  webhookRetry?: { baseMs?: number; maxAttempts?: number; maxDelayMs?: number; timeoutMs?: number };
  /** How often due work runs in real time; default 1000. */
  tickMs?: number;
  /** PROCESSING -> SUCCEEDED after this real delay; default 200. */
  refundDelayMs?: number;
  /** pino-compatible, optional. */
  logger?: Logger;
  /** Addition: request body limit in bytes; default 65536. */
  bodyLimitBytes?: number;
}

export interface SandboxHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Addition: the sandbox's current time. */
  now(): Date;
  /** Addition: same as `POST /sandbox/clock/advance`. */
  advanceClock(seconds: number): Promise<Date>;
}

const IDEMPOTENCY_RETENTION_MS = 48 * 3600 * 1000;
/**
 * Finished outbox events (delivered, failed, dropped, skipped) are kept as
 * long as idempotency records: far beyond the retry horizon (about a minute
 * by default), and long enough to inspect them. Pending or held events are
 * never pruned.
 */
const OUTBOX_RETENTION_MS = IDEMPOTENCY_RETENTION_MS;
/** Rows deleted per batch; each batch holds the sandbox's lock alone, so requests run in between. */
const PRUNE_BATCH = 500;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`createSandbox: ${name} must be a non-negative number`);
  return value;
}

export async function createSandbox(options: SandboxOptions): Promise<SandboxHandle> {
  const host = options.host ?? '127.0.0.1';
  const tickMs = Math.max(10, positive(options.tickMs, 1000, 'tickMs'));
  const refundDelayMs = positive(options.refundDelayMs, 200, 'refundDelayMs');
  const bodyLimit = Math.max(1024, positive(options.bodyLimitBytes, 64 * 1024, 'bodyLimitBytes'));
  const retry = options.webhookRetry ?? {};
  const log = options.logger ?? silentLogger;

  if (options.dbPath !== ':memory:' && options.dbPath !== '' && !options.dbPath.startsWith('file:')) {
    fs.mkdirSync(path.dirname(path.resolve(options.dbPath)), { recursive: true });
  }
  const store = await Store.open(options.dbPath);
  let stopping = false;
  let baseUrl = '';
  const timers = new Set<NodeJS.Timeout>();
  const sleepers = new Set<() => void>();
  const inFlightRequests = new Set<Promise<void>>();

  const after = (ms: number, fn: () => void): void => {
    if (stopping) return;
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopping) {
        resolve();
        return;
      }
      const wake = (): void => {
        sleepers.delete(wake);
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  let server: http.Server | undefined;
  let webhooks: WebhookDispatcher | undefined;
  try {
    const offsetRaw = await store.getMeta('clock_offset_ms');
    const clock = new SandboxClock(offsetRaw === undefined ? 0 : Number(offsetRaw));
    const faults = new FaultRegistry();
    webhooks = new WebhookDispatcher(store, faults, log, {
      baseMs: positive(retry.baseMs, 500, 'webhookRetry.baseMs'),
      maxAttempts: Math.max(1, Math.floor(positive(retry.maxAttempts, 8, 'webhookRetry.maxAttempts'))),
      maxDelayMs: positive(retry.maxDelayMs, 60_000, 'webhookRetry.maxDelayMs'),
      timeoutMs: Math.max(1, positive(retry.timeoutMs, 5000, 'webhookRetry.timeoutMs')),
      concurrency: 16,
    });

    let refundTick: Promise<void> = Promise.resolve();
    const ctx: SandboxContext = {
      store,
      clock,
      faults,
      webhooks,
      log,
      baseUrl: () => baseUrl,
      refundDelayMs,
      scheduleRefundCheck: (delayMs) =>
        after(delayMs, () => {
          refundTick = settleRefunds();
        }),
    };

    const settleRefunds = async (): Promise<void> => {
      if (stopping) return;
      try {
        await store.exclusive(() => runDueRefunds(ctx));
      } catch (err) {
        log.error({ err: errorText(err) }, 'sandbox refund settlement failed');
      }
    };

    // Seed merchants (idempotent upsert).
    await store.exclusive(() =>
      store.tx(async () => {
        for (const m of options.merchants ?? []) {
          const clash = await store.getMerchantByKey(m.secretKey);
          if (clash && clash.merchant_id !== m.merchantId) {
            throw new Error(`createSandbox: merchant ${m.merchantId} reuses the secret key of ${clash.merchant_id}`);
          }
          await store.upsertMerchant(
            {
              merchant_id: m.merchantId,
              secret_key: m.secretKey,
              webhook_secret: m.webhookSecret,
              name: m.name ?? m.merchantId,
            },
            clock.now(),
          );
        }
      }),
    );

    const requests = new RequestLog();
    const listener = createRequestListener({ ctx, requests, bodyLimit, sleep, isStopping: () => stopping });
    const sockets = new Set<Socket>();
    server = http.createServer((req, res) => {
      const p = listener(req, res);
      inFlightRequests.add(p);
      void p.finally(() => inFlightRequests.delete(p));
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    const srv = server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(options.port, host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    const port = (srv.address() as AddressInfo).port;
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const url = `http://${urlHost}:${port}`;
    baseUrl = (options.publicUrl ?? url).replace(/\/+$/, '');

    // Catch up on work that fell due while stopped, then start delivering.
    await store.exclusive(() => runDueWork(ctx, clock.now()));
    await webhooks.start();
    await settleRefunds();
    const nextRefund = await store.exclusive(() => store.nextRefundDue());
    if (nextRefund !== undefined) ctx.scheduleRefundCheck(Math.max(0, nextRefund - Date.now()));

    let ticking: Promise<void> | null = null;
    let lastPurge = 0;
    /** Old idempotency records and finished outbox events, in bounded batches. */
    const prune = async (): Promise<void> => {
      const now = Date.now();
      for (const batch of [
        () => store.pruneIdempotency(now - IDEMPOTENCY_RETENTION_MS, PRUNE_BATCH),
        () => store.pruneOutbox(now - OUTBOX_RETENTION_MS, PRUNE_BATCH),
      ]) {
        while (!stopping && (await store.exclusive(batch)) === PRUNE_BATCH);
      }
    };
    const tick = async (): Promise<void> => {
      try {
        await store.exclusive(() => runDueWork(ctx, clock.now()));
        await store.exclusive(() => runDueRefunds(ctx));
        if (Date.now() - lastPurge > 60_000) {
          lastPurge = Date.now();
          await prune();
        }
      } catch (err) {
        log.error({ err: errorText(err) }, 'sandbox due-work tick failed');
      }
    };
    const ticker = setInterval(() => {
      if (stopping || ticking) return;
      ticking = tick().finally(() => {
        ticking = null;
      });
    }, tickMs);

    log.info({ url, publicUrl: baseUrl, dbPath: options.dbPath }, 'UCanPay sandbox listening');

    const dispatcher = webhooks;
    let stopPromise: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopPromise ??= (async () => {
        stopping = true;
        clearInterval(ticker);
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const wake of [...sleepers]) wake();
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
          for (const s of sockets) s.destroy();
        });
        await Promise.allSettled([...inFlightRequests]);
        await dispatcher.stop();
        if (ticking) await ticking;
        await refundTick;
        await store.close();
        log.info({ url }, 'UCanPay sandbox stopped');
      })();
      return stopPromise;
    };

    return {
      url,
      port,
      stop,
      now: () => new Date(clock.now()),
      advanceClock: async (seconds: number) => {
        if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('advanceClock: seconds must be a non-negative number');
        await advanceClock(ctx, seconds);
        return new Date(clock.now());
      },
    };
  } catch (err) {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    if (webhooks) await webhooks.stop().catch(() => undefined);
    if (server?.listening) {
      const s = server;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
    await store.close().catch(() => undefined);
    throw err;
  }
}
