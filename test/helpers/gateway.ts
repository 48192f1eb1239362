import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print, type ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import pino from 'pino';
import { createApp, type App, type AppOptions } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { tempSqlitePath } from './databases';
import { recordSecret, recordSecretsIn, runLogDestination } from './run-logs';

export const TEST_API_KEY = 'gw_test_key_for_the_demo_merchant_0001';

export interface TestGateway {
  app: App;
  config: Config;
  /** Runs a typed operation over HTTP; `token` defaults to the demo merchant's API key. */
  gql<TData, TVars>(
    doc: TypedDocumentNode<TData, TVars>,
    variables?: TVars,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<ExecutionResult<TData> & { status: number }>;
  /** Opens a graphql-ws connection with the token (default: the demo API key). */
  ws(token?: string | null): Client;
  sandboxUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts a real gateway with an embedded sandbox, each on a free port, with
 * fresh SQLite files. Webhook retries and reconciliation are fast so tests
 * stay short; everything is stopped by `stop()`.
 */
export async function startGateway(env: Record<string, string> = {}, options: AppOptions = {}): Promise<TestGateway> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-gw-e2e-'));
  // Inside a vitest run every gateway logs at debug to the run's log file, scanned for secrets at the end.
  const runLog = runLogDestination();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    UCANPAY_SANDBOX_PORT: '0',
    DATABASE_URL: `sqlite:${tempSqlitePath('gateway')}`,
    SANDBOX_DB: path.join(dir, 'sandbox.sqlite'),
    DEMO_MERCHANT_API_KEY: TEST_API_KEY,
    LOG_LEVEL: runLog ? 'debug' : (process.env.TEST_LOG_LEVEL ?? 'silent'),
    RECONCILE_INTERVAL_MS: '0',
    UCANPAY_TIMEOUT_MS: '3000',
    ...env,
  });
  recordSecret(config.ucanpay.secretKey, config.ucanpay.webhookSecret, config.apiKeyPepper, config.demoMerchantApiKey);
  const app = await createApp(config, {
    logger: createLogger(config.logLevel, testLogDestination(runLog)),
    dataDir: dir,
    ...options,
    sandbox: { webhookRetry: { baseMs: 50, maxAttempts: 6, maxDelayMs: 500 }, tickMs: 200, refundDelayMs: 50, ...options.sandbox },
  });
  const clients: Client[] = [];
  return {
    app,
    config,
    sandboxUrl: app.ucanpayUrl,
    gql: (doc, variables, opts) => gqlOver(app.graphqlUrl, doc, variables, opts),
    ws: (token = TEST_API_KEY) => wsClientFor(app.wsUrl, token, clients),
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The run's log file, plus stdout at TEST_LOG_LEVEL when that is set. */
function testLogDestination(runLog: pino.DestinationStream | undefined): pino.DestinationStream | undefined {
  const stdoutLevel = process.env.TEST_LOG_LEVEL;
  if (!runLog) return undefined;
  if (!stdoutLevel || stdoutLevel === 'silent') return runLog;
  return pino.multistream([
    { level: 'debug', stream: runLog },
    { level: stdoutLevel as pino.Level, stream: process.stdout },
  ]);
}

/** Runs a typed operation over HTTP at `url`; `token` defaults to the demo merchant's API key. */
export async function gqlOver<TData, TVars>(
  url: string,
  doc: TypedDocumentNode<TData, TVars>,
  variables?: TVars,
  opts: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<ExecutionResult<TData> & { status: number }> {
  const token = opts.token === undefined ? TEST_API_KEY : opts.token;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...opts.headers,
    },
    body: JSON.stringify({ query: print(doc), variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as ExecutionResult<TData>;
  recordSecretsIn(body.data);
  return { ...body, status: res.status };
}

/** A lazy graphql-ws client for `url` with the token (null: none); added to `clients` for disposal. */
export function wsClientFor(url: string, token: string | null, clients: Client[]): Client {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  return client;
}

/** Collects the values of one subscription; `next(predicate)` waits (bounded) for a matching one. */
export function collect<T, V>(client: Client, doc: TypedDocumentNode<T, V>, variables: V) {
  const values: ExecutionResult<T>[] = [];
  const waiters: Array<() => void> = [];
  let completed = false;
  let error: unknown;
  const unsubscribe = client.subscribe<T>(
    { query: print(doc), variables: variables as Record<string, unknown> },
    {
      next: (value) => {
        values.push(value as ExecutionResult<T>);
        waiters.splice(0).forEach((w) => w());
      },
      error: (e) => {
        error = e;
        completed = true;
        waiters.splice(0).forEach((w) => w());
      },
      complete: () => {
        completed = true;
        waiters.splice(0).forEach((w) => w());
      },
    },
  );
  return {
    values,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    unsubscribe,
    /** Resolves with the first value (from the start) matching `predicate`; rejects after `ms`. */
    async until(predicate: (value: ExecutionResult<T>) => boolean, ms = 10_000): Promise<ExecutionResult<T>> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = values.find(predicate);
        if (found) return found;
        if (completed) throw new Error(`subscription ended before a match: ${JSON.stringify({ values, error })}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching subscription value within ${ms} ms: ${JSON.stringify(values)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

/** Plays the customer at the hosted checkout without a browser (the same form POST the buttons send). */
export async function checkout(checkoutUrl: string, action: 'authorize' | 'decline' | 'cancel'): Promise<URL> {
  const res = await fetch(checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action }).toString(),
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 303) throw new Error(`checkout ${action} answered ${res.status}: ${await res.text()}`);
  return new URL(res.headers.get('location')!);
}

/** Calls a sandbox test endpoint. */
export async function sandboxCall<T = unknown>(sandboxUrl: string, method: string, pathname: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sandboxUrl}${pathname}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${method} ${pathname} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Polls `check` until it returns a truthy value, or fails after `ms` of real time (performance.now: tests that shift Date.now do not move it). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, ms = 10_000, every = 50): Promise<T> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
