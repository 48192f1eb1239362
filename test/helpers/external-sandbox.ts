import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SANDBOX_DEFAULTS } from '../../src/config';
import { createSandbox, type SandboxHandle, type SandboxOptions } from '../../src/sandbox';

/**
 * A UCanPay sandbox on its own (in this test process), for gateways started
 * as processes: its orders outlive a gateway's crash or restart. Fast webhook
 * retries and clock ticks, the demo merchant registered; `stop()` removes its files.
 */
export async function startTestSandbox(name: string, options: Partial<SandboxOptions> = {}): Promise<SandboxHandle & { stopAndClean: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ucanpay-${name}-`));
  const sandbox = await createSandbox({
    port: 0,
    dbPath: path.join(dir, 'sandbox.sqlite'),
    merchants: [{ ...SANDBOX_DEFAULTS, name: 'Demo Shop' }],
    webhookRetry: { baseMs: 50, maxAttempts: 6, maxDelayMs: 500 },
    tickMs: 200,
    ...options,
  });
  return Object.assign(sandbox, {
    stopAndClean: async () => {
      await sandbox.stop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A port free right now: a restarted gateway listens where its predecessor did (same notify_url in a resumed UCanPay call). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
