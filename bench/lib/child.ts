import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Child processes of the benchmark: every server under test runs in its own
 * process, pinned to core 0 with `taskset` when possible, and answers a tiny
 * request/response protocol over the IPC channel. Every child is killed when
 * the runner exits, however it exits.
 */

export interface Pinning {
  /** True when `taskset` works here and there are at least two cores. */
  enabled: boolean;
  serverCore: number;
  loadCore: number;
  note: string;
}

let pinning: Pinning | undefined;

/** Decides once whether to pin, and pins this process (the load generator) to the load core. */
export function setUpPinning(cores: number): Pinning {
  if (pinning) return pinning;
  const probe = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    pinning = { enabled: false, serverCore: -1, loadCore: -1, note: 'taskset not available: server and load generator run UNPINNED' };
  } else if (cores < 2) {
    pinning = { enabled: false, serverCore: -1, loadCore: -1, note: `only ${cores} core: server and load generator run UNPINNED on the same core` };
  } else {
    // -a: every thread of this process (libuv pool included); threads created later inherit it.
    const self = spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
    pinning =
      self.status === 0
        ? { enabled: true, serverCore: 0, loadCore: 1, note: 'server under test pinned to core 0 (taskset -c 0), load generator to core 1' }
        : { enabled: false, serverCore: -1, loadCore: -1, note: 'taskset could not pin the load generator: running UNPINNED' };
  }
  return pinning;
}

const live = new Set<ChildProcess>();
function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

export interface ServerChild<Ready> {
  pid: number;
  ready: Ready;
  /** Calls a command in the child; rejects after `timeoutMs`. */
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop cleanly (bounded), then kills it. */
  stop(): Promise<void>;
  /** VmRSS of the child, in KiB, from /proc/<pid>/status. */
  rssKiB(): number;
}

const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

/** Starts `script` (a .ts file under bench/servers) in a pinned child and waits for its `ready` message. */
export async function startServer<Ready = Record<string, unknown>>(
  script: string,
  options: { env?: Record<string, string>; nodeArgs?: string[]; startTimeoutMs?: number } = {},
): Promise<ServerChild<Ready>> {
  const pin = pinning ?? setUpPinning(2);
  const nodeArgs = [...(options.nodeArgs ?? []), ...TS_NODE, path.resolve(__dirname, '..', 'servers', script)];
  const [cmd, args] = pin.enabled ? ['taskset', ['-c', String(pin.serverCore), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', ...options.env },
  });
  live.add(child);
  child.on('exit', () => live.delete(child));

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let exited: Error | undefined;
  const readyPromise = new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script}: not ready after ${options.startTimeoutMs ?? 60_000} ms`)), options.startTimeoutMs ?? 60_000);
    child.on('message', (message: { type?: string; id?: number; ok?: boolean; result?: unknown; error?: string; ready?: Ready }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.ready as Ready);
      } else if (message.type === 'reply' && message.id !== undefined) {
        const p = pending.get(message.id);
        if (!p) return;
        pending.delete(message.id);
        clearTimeout(p.timer);
        if (message.ok) p.resolve(message.result);
        else p.reject(new Error(`${script}: ${message.error}`));
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${script} failed to start: ${message.error}`));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      exited = new Error(`${script} exited (code ${code}, signal ${signal})`);
      reject(exited);
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(exited);
      }
      pending.clear();
    });
  });
  const ready = await readyPromise;

  return {
    pid: child.pid!,
    ready,
    call<T>(command: string, commandArgs?: unknown, timeoutMs = 60_000): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${script}: ${command} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        child.send({ type: 'call', id, cmd: command, args: commandArgs });
      });
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        child.send({ type: 'call', id: nextId++, cmd: 'stop' });
      } catch {
        // channel already closed
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
    rssKiB() {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
      return match ? Number(match[1]) : NaN;
    },
  };
}

/** Kills every child now (the runner's watchdog). */
export function killAllChildren(): void {
  killAll();
}
