import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';

const HEADER = 'x-test-count-queries';

/**
 * The SQL statements that one HTTP request itself ran, and none of anything
 * else running at the same time (reconciliation, a webhook, another request).
 * The request is marked with a header; the in-process server's handling of
 * it runs inside an AsyncLocalStorage context, which every promise, tick and
 * DataLoader batch of that request inherits, and TypeORM's `logQuery` (called
 * in the caller's context) records a statement only inside it.
 */
export async function statementsOf<T>(
  dataSources: DataSource[],
  send: (headers: Record<string, string>) => Promise<T>,
): Promise<{ result: T; statements: string[] }> {
  const token = randomBytes(8).toString('hex');
  const storage = new AsyncLocalStorage<string>();
  const statements: string[] = [];
  const originalEmit = http.Server.prototype.emit as (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
  http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
    const request = args[0] as http.IncomingMessage | undefined;
    if (event === 'request' && request?.headers[HEADER] === token) return storage.run(token, () => originalEmit.call(this, event, ...args));
    return originalEmit.call(this, event, ...args);
  } as typeof http.Server.prototype.emit;
  const loggers = [...new Set(dataSources.map((ds) => ds.logger))].map((shared) => {
    const logger = shared as unknown as { logQuery: (query: string, ...rest: unknown[]) => unknown };
    const original = logger.logQuery;
    logger.logQuery = function (query: string, ...rest: unknown[]) {
      if (storage.getStore() === token) statements.push(query);
      return original.call(this, query, ...rest);
    };
    return () => void (logger.logQuery = original);
  });
  try {
    const result = await send({ [HEADER]: token });
    return { result, statements };
  } finally {
    http.Server.prototype.emit = originalEmit as typeof http.Server.prototype.emit;
    for (const restore of loggers) restore();
  }
}

/** The statements of one request that read the gateway's business tables (the credential lookup is cached per key and is not what these counts are about). */
export function dataStatements(statements: string[]): string[] {
  return statements.filter((sql) => !/"api_keys"|"merchants"/.test(sql));
}
