/**
 * One gateway as its own process, for the scale-out tests (test/helpers/instances.ts
 * spawns it with `node -r ts-node/register/transpile-only`). Configured by the
 * environment like `npm start`, plus:
 *   GATEWAY_DATA_DIR            where the demo key file would go
 *   TEST_REDIS_CHANNEL_PREFIX   the test run's Redis channel prefix
 *   TEST_REDIS_RECONNECT_MS     fixed delay before each Redis reconnect attempt
 * Prints `GATEWAY_READY {"url":…}` on stdout once it serves. Logs go to the
 * vitest run's log directory (gateway-<pid>.log, scanned for secrets by
 * test/global-setup.ts) when there is one, else to stderr.
 * Stops on SIGTERM, or when its parent goes away (stdin closes).
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { RUN_DIR_ENV } from './run-logs';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const reconnectMs = process.env.TEST_REDIS_RECONNECT_MS ? Number(process.env.TEST_REDIS_RECONNECT_MS) : undefined;
  const app = await createApp(config, {
    logger: createLogger(config.logLevel, logDestination()),
    dataDir: process.env.GATEWAY_DATA_DIR,
    redis: {
      channelPrefix: process.env.TEST_REDIS_CHANNEL_PREFIX,
      reconnectDelayMs: reconnectMs === undefined ? undefined : () => reconnectMs,
    },
  });
  process.stdout.write(`GATEWAY_READY ${JSON.stringify({ url: app.url, graphqlUrl: app.graphqlUrl, wsUrl: app.wsUrl, pid: process.pid })}\n`);
  let stopping = false;
  // SIGTERM drains as `npm start` does (src/main.ts): exit 0 when everything finished within SHUTDOWN_TIMEOUT_MS.
  const drain = () => {
    if (stopping) return;
    stopping = true;
    app.drain(config.shutdownTimeoutMs).then(
      (clean) => process.exit(clean ? 0 : 1),
      () => process.exit(1),
    );
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', drain);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

function logDestination(): pino.DestinationStream {
  const dir = process.env[RUN_DIR_ENV];
  if (dir && fs.existsSync(dir)) return pino.destination({ dest: path.join(dir, `gateway-${process.pid}.log`), sync: true, append: true });
  return pino.destination(2);
}

main().catch((error) => {
  process.stderr.write(`gateway process failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
