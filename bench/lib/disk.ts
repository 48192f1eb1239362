import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sqlite3 from 'sqlite3';
import { percentile } from './stats';

export interface DiskProbe {
  commits: number;
  /** One-row SQLite transactions, WAL + synchronous=FULL, one after another: the floor of every durable write. */
  commitMs: { p50: number; p99: number };
  commitsPerS: number;
}

/**
 * How long a durable SQLite COMMIT takes on this disk right now (an fsync of
 * the WAL each time). Other work on the machine moves it a lot, and every
 * write path of the gateway waits for it, so the run records it beside the
 * numbers it explains. Bounded: at most `maxMs` or 300 commits.
 */
export async function probeDisk(maxMs = 1500): Promise<DiskProbe> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-bench-disk-'));
  const db = new sqlite3.Database(path.join(dir, 'probe.sqlite'));
  const run = (sql: string, params: unknown[] = []) => new Promise<void>((resolve, reject) => db.run(sql, params, (err) => (err ? reject(err) : resolve())));
  try {
    await run('PRAGMA journal_mode = WAL');
    await run('PRAGMA synchronous = FULL');
    await run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 300 && performance.now() - start < maxMs) {
      const t0 = performance.now();
      await run('BEGIN');
      await run('INSERT INTO t (v) VALUES (?)', ['x'.repeat(200)]);
      await run('COMMIT');
      times.push(performance.now() - t0);
    }
    const total = times.reduce((a, b) => a + b, 0);
    return { commits: times.length, commitMs: { p50: percentile(times, 50), p99: percentile(times, 99) }, commitsPerS: (1000 * times.length) / total };
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
