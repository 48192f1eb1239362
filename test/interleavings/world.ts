/**
 * The system under test for one program: a real UCanPay sandbox (its own
 * server and SQLite file, so it outlives a gateway crash) and a real gateway
 * (in-process `createApp`, its own SQLite file) pointed at it over HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../../src/app';
import { ConfigError, loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createSandbox, DEMO_MERCHANT, type SandboxHandle } from '../../src/sandbox';
import { sandboxCall, TEST_API_KEY } from '../helpers/gateway';
import { installTestClock, advanceTestClock } from './clock';

/** A GraphQL answer as the client saw it, or the transport failure it got instead. */
export type GqlAnswer =
  | { kind: 'answer'; status: number; data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, any> }> }
  | { kind: 'network'; message: string };

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** Knobs the harness runs with (the reproductions need one attempt and short reconciliation settings). */
export const WORLD_ENV = {
  UCANPAY_MAX_ATTEMPTS: '1',
  // As in the lease reproduction: one call may take longer than the 60 s claim lease. A build that
  // refuses such a configuration gets FALLBACK_TIMEOUT_MS instead (and the races then stay shorter, see `longestCallSeconds`).
  UCANPAY_TIMEOUT_MS: '70000',
  RECONCILE_INTERVAL_MS: '0',
  RECONCILE_STALE_AFTER_SECONDS: '5',
  RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
};
const FALLBACK_TIMEOUT_MS = '3000';

export class World {
  app!: App;
  config!: Config;
  /** warn and error lines of every gateway of this world (the harness prints them with a counterexample). */
  readonly logs: LogLine[] = [];
  crashes = 0;
  private port = 0;
  private readonly stale: App[] = [];

  private constructor(
    readonly sandbox: SandboxHandle,
    readonly dir: string,
    private readonly gatewayDb: string,
  ) {}

  static async start(): Promise<World> {
    installTestClock();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-interleave-'));
    const sandbox = await createSandbox({
      port: 0,
      dbPath: path.join(dir, 'sandbox.sqlite'),
      merchants: [{ ...DEMO_MERCHANT }],
      webhookRetry: { baseMs: 50, maxAttempts: 6, maxDelayMs: 300, timeoutMs: 2000 },
      tickMs: 200,
      refundDelayMs: 50,
    });
    const world = new World(sandbox, dir, path.join(dir, 'gateway.sqlite'));
    try {
      await world.open();
    } catch (error) {
      await sandbox.stop();
      throw error;
    }
    return world;
  }

  /**
   * The longest one UCanPay call can take with this configuration (timeout × attempts). While a call is in
   * flight, time may pass by less than this: more would mean the call had timed out (its timer is real time).
   */
  get longestCallSeconds(): number {
    return (this.config.ucanpay.timeoutMs * this.config.ucanpay.maxAttempts) / 1000;
  }

  get sandboxUrl(): string {
    return this.sandbox.url;
  }

  get merchantId(): string {
    return this.app.demo.merchantId;
  }

  /** Opens a gateway on the world's SQLite file (after a crash on the same port: UCanPay's notify_url names it). */
  private async open(): Promise<void> {
    const env = {
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: `sqlite:${this.gatewayDb}`,
      UCANPAY_BASE_URL: this.sandbox.url,
      DEMO_MERCHANT_API_KEY: TEST_API_KEY,
      LOG_LEVEL: 'warn',
      ...WORLD_ENV,
    };
    try {
      this.config = loadConfig(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.config = loadConfig({ ...env, UCANPAY_TIMEOUT_MS: FALLBACK_TIMEOUT_MS });
    }
    const logs = this.logs;
    const destination = {
      write(line: string) {
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          logs.push({ level: 50, msg: line });
        }
      },
    };
    let lastError: unknown;
    const restart = this.port !== 0;
    for (let attempt = 0; attempt < 50; attempt++) {
      // Below the ephemeral range, so no outgoing connection holds it as its local port when the gateway restarts.
      const port = restart ? this.port : 20_000 + Math.floor(Math.random() * 12_000);
      try {
        this.app = await createApp({ ...this.config, port }, { logger: createLogger('warn', destination), dataDir: this.dir });
        this.port = this.app.port;
        return;
      } catch (error) {
        lastError = error;
        if (!/EADDRINUSE/.test(String((error as Error)?.message ?? error))) throw error;
        // A restart waits for its port (the crashed gateway's may take a moment to be free); a first start picks another.
        if (restart) await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw lastError;
  }

  /**
   * A crash and a restart. The database connection goes first, so nothing the
   * old gateway still has in flight reaches the database after the "kill"
   * (an open transaction is rolled back, as SQLite does after kill -9); then
   * its port and timers are freed. Claims, rows and UCanPay's state stay as the
   * crash left them, and a new gateway opens the same file on the same port.
   * Unlike kill -9, a UCanPay call already sent still gets its answer (which
   * then cannot be saved) — to UCanPay that is the same as a crash after sending.
   */
  crash(): Promise<void> {
    // Two crashes in one `par`: the second kills the gateway the first one restarted.
    const next = this.crashing.then(() => this.crashNow());
    this.crashing = next.catch(() => undefined);
    return next;
  }

  private crashing: Promise<void> = Promise.resolve();

  private async crashNow(): Promise<void> {
    const old = this.app;
    this.crashes++;
    await old.db.close().catch(() => undefined);
    await old.stop().catch(() => undefined);
    this.stale.push(old);
    await this.open();
  }

  /** Time passes for UCanPay and the gateway alike; the sandbox runs what fell due before answering. */
  async advanceClock(seconds: number): Promise<void> {
    advanceTestClock(seconds * 1000);
    await this.sandboxCall('POST', '/sandbox/clock/advance', { seconds: 0 });
  }

  /** UCanPay calls received and not answered yet (a crashed gateway's among them). */
  async callsInProgress(): Promise<number> {
    const { requests } = await this.sandboxCall<{ requests: Array<{ status: number | null }> }>('GET', '/sandbox/requests');
    return requests.filter((r) => r.status === null).length;
  }

  async gql(query: string, variables?: Record<string, unknown>): Promise<GqlAnswer> {
    try {
      const res = await fetch(this.app.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      try {
        return { kind: 'answer', status: res.status, ...(JSON.parse(text) as object) };
      } catch {
        return { kind: 'answer', status: res.status, errors: [{ message: text.slice(0, 200) }] };
      }
    } catch (error) {
      return { kind: 'network', message: String((error as Error)?.message ?? error) };
    }
  }

  sandboxCall<T = any>(method: string, pathname: string, body?: unknown): Promise<T> {
    return sandboxCall<T>(this.sandbox.url, method, pathname, body);
  }

  async stop(): Promise<void> {
    await this.app?.stop().catch(() => undefined);
    await this.sandbox.stop().catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
