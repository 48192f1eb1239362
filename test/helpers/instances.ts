import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import Redis from 'ioredis';
import { loadConfig } from '../../src/config';
import { gqlOver, TEST_API_KEY, wsClientFor } from './gateway';
import { RUN_DIR_ENV, recordSecret, runDir } from './run-logs';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(__dirname, 'gateway-process.ts');

/**
 * For a beforeAll that spawns two gateways one after the other: each takes
 * ~5 s (ts-node compiles the app), much longer on a loaded machine.
 */
export const SPAWN_HOOK_TIMEOUT_MS = 150_000;

/** A gateway running in its own process (see gateway-process.ts). */
export interface GatewayProcess {
  name: string;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  pid: number;
  /** Runs a typed operation over HTTP; `token` defaults to the demo merchant's API key. */
  gql<TData, TVars>(
    doc: TypedDocumentNode<TData, TVars>,
    variables?: TVars,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<ExecutionResult<TData> & { status: number }>;
  /** A graphql-ws connection (closed by stop()). */
  ws(token?: string | null): Client;
  /** The last lines it wrote to stderr (its logs, outside a vitest run), for failure messages. */
  logs(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** kill -9 at once (no shutdown: its claims and connections are left as they are); `stop()` still removes its files. */
  crash(): Promise<void>;
  /** SIGTERM (a graceful drain, as `npm start` does) and its exit code once gone (SIGKILL after `timeoutMs`: then null). */
  terminate(timeoutMs?: number): Promise<number | null>;
}

/**
 * Starts `node -r ts-node/register/transpile-only test/helpers/gateway-process.ts`
 * with `env` on top of test defaults (free port, demo API key TEST_API_KEY,
 * reconciliation off) and resolves once it prints its URL. Pass
 * DATABASE_URL, REDIS_URL and UCANPAY_BASE_URL to make several of them one
 * deployment. Rejects (and kills it) if it does not start within `timeoutMs`.
 */
export async function spawnGateway(name: string, env: Record<string, string>, timeoutMs = 70_000): Promise<GatewayProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ucanpay-gw-proc-${name}-`));
  // Inside a vitest run the process logs at debug to the run's log directory, scanned for secrets at the end.
  const logDir = runDir();
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DEMO_MERCHANT_API_KEY: TEST_API_KEY,
    LOG_LEVEL: logDir ? 'debug' : (process.env.TEST_LOG_LEVEL ?? 'warn'),
    RECONCILE_INTERVAL_MS: '0',
    UCANPAY_TIMEOUT_MS: '3000',
    GATEWAY_DATA_DIR: dataDir,
    TS_NODE_TRANSPILE_ONLY: 'true',
    ...(logDir ? { [RUN_DIR_ENV]: logDir } : {}),
    ...env,
  };
  const config = loadConfig(childEnv);
  recordSecret(config.ucanpay.secretKey, config.ucanpay.webhookSecret, config.apiKeyPepper, config.demoMerchantApiKey);
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', SCRIPT], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const logLines: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      logLines.push(line);
      if (logLines.length > 200) logLines.shift();
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[${name}] ${line}\n`);
    }
  });
  let exitCode: number | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );

  let ready: { url: string; graphqlUrl: string; wsUrl: string; pid: number };
  try {
    ready = await new Promise((resolve, reject) => {
      let buffer = '';
      const timer = setTimeout(() => reject(new Error(`gateway ${name} did not start within ${timeoutMs} ms`)), timeoutMs);
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        const line = buffer.split('\n').find((l) => l.startsWith('GATEWAY_READY '));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line.slice('GATEWAY_READY '.length)));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gateway ${name} exited with ${code} before it started`));
      });
    });
  } catch (error) {
    await kill(child, exited);
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${logLines.slice(-30).join('\n')}`);
  }

  const clients: Client[] = [];
  return {
    name,
    ...ready,
    gql: (doc, variables, opts) => gqlOver(ready.graphqlUrl, doc, variables, opts),
    ws: (token = TEST_API_KEY) => wsClientFor(ready.wsUrl, token, clients),
    logs: () => logLines.join('\n'),
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await kill(child, exited);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    async crash() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async terminate(timeoutMs = 60_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      return exitCode;
    },
  };
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Kills (CLIENT KILL ID) the Redis pub/sub connections whose name starts with
 * `namePrefix`, e.g. `${channelPrefix}subscriber:${pid}.` for one gateway
 * process. Resolves to how many were killed. Only this test's connections
 * are touched, so parallel test files are never disturbed.
 */
export async function killRedisSubscribers(redisUrl: string, namePrefix: string, options: { anyType?: boolean } = {}): Promise<number> {
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    // A subscriber connection with no channel yet is not of TYPE pubsub: `anyType` finds it too.
    const list = (await (options.anyType ? admin.call('CLIENT', 'LIST') : admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))) as string;
    const ids = list
      .split('\n')
      .map((line) => ({ id: /(?:^| )id=(\d+)/.exec(line)?.[1], name: /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '' }))
      .filter((c) => c.id && c.name.startsWith(namePrefix))
      .map((c) => c.id!);
    for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    return ids.length;
  } finally {
    admin.disconnect();
  }
}
