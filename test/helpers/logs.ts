import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger, type Logger } from '../../src/logger';
import { runLogDestination } from './run-logs';

/**
 * A debug logger whose lines a test can read (parsed JSON, in order), and
 * which still writes to the run's log file when there is one (scanned for
 * secrets at the end of the run).
 */
export function capturingLogger(options: { traceIds?: boolean } = {}): { logger: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const memory = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const file = runLogDestination();
  const destination = file
    ? pino.multistream([
        { level: 'debug', stream: memory },
        { level: 'debug', stream: file },
      ])
    : memory;
  return { logger: createLogger('debug', destination, options), lines };
}
