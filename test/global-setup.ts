import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RUN_DIR_ENV, scanRun } from './helpers/run-logs';

/**
 * Once per `vitest run`: a directory for the run's gateway logs (see
 * test/helpers/run-logs.ts), then, after every test file, a scan of those
 * logs for every secret the tests used, and for credential headers
 * (X-Api-Key, Api-Key, X-Auth, Idempotency-Key, Authorization, …) and
 * `?api_key=` / `?api-key=` query strings logged with a value. A leak fails the run.
 * `KEEP_TEST_LOGS=1` keeps the directory for inspection.
 */
export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-gw-run-'));
  process.env[RUN_DIR_ENV] = dir;
  return () => {
    if (!fs.existsSync(dir)) {
      process.stderr.write(`secret scan skipped: the run's log directory ${dir} was removed by something else\n`);
      return;
    }
    const { leaks, exposed, logFiles, logBytes, secrets } = scanRun(dir);
    const summary = `secret scan: ${secrets} secrets and every credential header / api_key query string over ${logFiles} log file(s), ${(logBytes / 1e6).toFixed(1)} MB`;
    if (leaks.length || exposed.length) {
      // vitest reports a teardown error but still exits 0: set the exit code as well.
      process.exitCode = 1;
      const list = [
        ...leaks.slice(0, 20).map((l) => `  ${l.secret} in ${path.basename(l.file)} line ${l.line}`),
        ...exposed.slice(0, 20).map((e) => `  an unredacted ${e.what} in ${path.basename(e.file)} line ${e.line}`),
      ].join('\n');
      throw new Error(
        `${summary}: ${leaks.length} secret(s) and ${exposed.length} unredacted credential field(s) found in the logs (kept in ${dir}):\n${list}`,
      );
    }
    process.stdout.write(`${summary}: no secret found${process.env.KEEP_TEST_LOGS ? ` (logs kept in ${dir})` : ''}\n`);
    if (!process.env.KEEP_TEST_LOGS) fs.rmSync(dir, { recursive: true, force: true });
  };
}
