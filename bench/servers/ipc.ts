/**
 * The child side of bench/lib/child.ts: announce readiness, answer commands,
 * and exit when the runner goes away (never outlive the benchmark).
 */
export type Handler = (args: any) => unknown | Promise<unknown>;

export function serve(handlers: Record<string, Handler>, onStop: () => Promise<void>): { ready(info: unknown): void } {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const hardExit = setTimeout(() => process.exit(0), 8_000);
    hardExit.unref();
    try {
      await onStop();
    } finally {
      process.exit(0);
    }
  };
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('message', async (message: { type?: string; id?: number; cmd?: string; args?: unknown }) => {
    if (message.type !== 'call' || message.id === undefined || !message.cmd) return;
    if (message.cmd === 'stop') return void stop();
    const handler = handlers[message.cmd];
    try {
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      const result = await handler(message.args);
      process.send?.({ type: 'reply', id: message.id, ok: true, result });
    } catch (error) {
      process.send?.({ type: 'reply', id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  return {
    ready(info: unknown) {
      process.send?.({ type: 'ready', ready: info });
    },
  };
}

/** Reports a start failure to the runner and exits. */
export function failed(error: unknown): never {
  process.send?.({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
}
