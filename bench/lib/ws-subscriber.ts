import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/**
 * A minimal graphql-ws ("graphql-transport-ws") subscriber: one socket, one
 * subscription, no reconnects, so that thousands fit in the load process and
 * every frame is timestamped the moment it is parsed.
 */
export class Subscriber {
  /** The `data` of every `next` frame, with `performance.now()` at arrival. */
  readonly frames: Array<{ at: number; data: any }> = [];
  private waiters: Array<() => void> = [];
  private closed = false;
  error: string | undefined;

  private constructor(private readonly socket: WebSocket) {}

  /** Connects, authenticates with `token`, subscribes, and resolves once the first frame (the current state) arrived. */
  static open(url: string, token: string, query: string, variables: Record<string, unknown>, timeoutMs = 30_000): Promise<Subscriber> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
      const sub = new Subscriber(socket);
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`subscription not started within ${timeoutMs} ms`));
      }, timeoutMs);
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          socket.terminate();
          reject(error);
        } else resolve(sub);
      };
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      socket.on('message', (raw) => {
        const at = performance.now();
        const message = JSON.parse(raw.toString()) as { type: string; id?: string; payload?: any };
        if (message.type === 'connection_ack') {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        } else if (message.type === 'next') {
          if (message.payload?.errors) sub.error = JSON.stringify(message.payload.errors);
          sub.frames.push({ at, data: message.payload?.data });
          sub.waiters.splice(0).forEach((w) => w());
          settle(sub.error ? new Error(sub.error) : undefined);
        } else if (message.type === 'error') {
          settle(new Error(JSON.stringify(message.payload)));
        } else if (message.type === 'ping') {
          socket.send(JSON.stringify({ type: 'pong' }));
        }
      });
      socket.on('error', (error) => settle(error));
      socket.on('close', (code, reason) => {
        sub.closed = true;
        sub.waiters.splice(0).forEach((w) => w());
        settle(new Error(`socket closed (${code} ${reason.toString()})`));
      });
    });
  }

  /** Resolves when a frame matching `predicate` has arrived (or after `ms`, with undefined). */
  async until(predicate: (data: any) => boolean, ms: number): Promise<{ at: number; data: any } | undefined> {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = this.frames.find((f) => predicate(f.data));
      if (found || this.closed) return found;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    if (!this.closed) this.socket.terminate();
    this.closed = true;
  }
}

/** Opens `count` subscribers with at most `parallel` handshakes in flight; fails on the first error. */
export async function openMany(count: number, parallel: number, open: (i: number) => Promise<Subscriber>): Promise<Subscriber[]> {
  const out: Subscriber[] = new Array(count);
  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(parallel, count) }, async () => {
    while (next < count && !failed) {
      const i = next++;
      out[i] = await open(i);
    }
  });
  try {
    await Promise.all(workers.map((w) => w.catch((error) => ((failed = true), Promise.reject(error)))));
  } catch (error) {
    failed = true;
    await Promise.allSettled(workers);
    for (const s of out) s?.close();
    throw error;
  }
  return out;
}
