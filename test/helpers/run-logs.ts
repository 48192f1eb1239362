import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';

/**
 * One directory per `vitest run` (made by test/global-setup.ts): every test
 * process writes the logs of the gateways it starts to `gateway-<pid>.log`
 * (debug level) and the secrets it used to `secrets-<pid>.txt`. The
 * teardown scans every log for every secret: a leak anywhere in the run
 * fails it.
 */
export const RUN_DIR_ENV = 'UCANPAY_GW_TEST_RUN_DIR';

export function runDir(): string | undefined {
  const dir = process.env[RUN_DIR_ENV];
  return dir && fs.existsSync(dir) ? dir : undefined;
}

let destination: pino.DestinationStream | undefined;

/** This process's log file (synchronous writes: nothing is lost when the worker exits), or undefined outside a run. */
export function runLogDestination(): pino.DestinationStream | undefined {
  const dir = runDir();
  if (!dir) return undefined;
  destination ??= pino.destination({ dest: path.join(dir, `gateway-${process.pid}.log`), sync: true, append: true });
  return destination;
}

const recorded = new Set<string>();

/** Remembers credentials the run used, for the teardown's scan. */
export function recordSecret(...values: Array<string | null | undefined>): void {
  const dir = runDir();
  const fresh = values.filter((v): v is string => typeof v === 'string' && v.length >= 12 && !recorded.has(v));
  if (!fresh.length) return;
  for (const value of fresh) recorded.add(value);
  if (dir) fs.appendFileSync(path.join(dir, `secrets-${process.pid}.txt`), fresh.map((v) => `${JSON.stringify(v)}\n`).join(''));
}

const SECRET_KEYS = new Set(['clientSecret', 'apiKey', 'secretKey', 'webhookSecret', 'secret']);

/** Records every credential-named string field of a (GraphQL) response. */
export function recordSecretsIn(value: unknown, depth = 0): void {
  if (!value || typeof value !== 'object' || depth > 12) return;
  if (Array.isArray(value)) {
    for (const item of value) recordSecretsIn(item, depth + 1);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (SECRET_KEYS.has(key) && typeof child === 'string') recordSecret(child);
    else recordSecretsIn(child, depth + 1);
  }
}

export interface SecretLeak {
  file: string;
  line: number;
  /** The first and last 4 characters: enough to recognise, not enough to use. */
  secret: string;
}

const TOKEN = /[A-Za-z0-9_-]{12,}/g;
const TOKEN_ONLY = /^[A-Za-z0-9_-]+$/;
const PREFIX = 12;

/**
 * Finds any of `secrets` in the text files. Secrets made of token characters
 * are looked up by their first 12 characters at every offset inside each
 * token-character run (fast for thousands of secrets over megabytes);
 * others are searched for directly.
 */
export function findSecrets(files: string[], secrets: Iterable<string>): SecretLeak[] {
  const byPrefix = new Map<string, string[]>();
  const other: string[] = [];
  for (const secret of new Set(secrets)) {
    if (secret.length < PREFIX) continue;
    if (TOKEN_ONLY.test(secret)) {
      const key = secret.slice(0, PREFIX);
      byPrefix.set(key, [...(byPrefix.get(key) ?? []), secret]);
    } else other.push(secret);
  }
  const leaks: SecretLeak[] = [];
  const show = (s: string) => `${s.slice(0, 4)}…${s.slice(-4)} (${s.length} chars)`;
  const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(TOKEN)) {
      const token = match[0];
      for (let i = 0; i + PREFIX <= token.length; i++) {
        const candidates = byPrefix.get(token.substr(i, PREFIX));
        if (!candidates) continue;
        for (const secret of candidates) {
          if (token.startsWith(secret, i)) leaks.push({ file, line: lineOf(text, match.index! + i), secret: show(secret) });
        }
      }
    }
    for (const secret of other) {
      const index = text.indexOf(secret);
      if (index !== -1) leaks.push({ file, line: lineOf(text, index), secret: show(secret) });
    }
  }
  return leaks;
}

export interface ExposedCredential {
  file: string;
  line: number;
  /** The header or parameter name, never its value. */
  what: string;
}

/** A JSON field named like a credential header, with a string value other than "[redacted]". */
const CREDENTIAL_HEADER =
  /"(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|apikey|x-auth|x-auth-token|idempotency-key|ucanpay-signature)":"(?!\[redacted\]")/gi;
/** A query string credential with a value other than "[redacted]". */
const CREDENTIAL_PARAM = /[?&](api[_-]?key|apikey|access_token)=(?!\[redacted\]|&|"|$)/gi;

/**
 * Finds credential headers and query-string credentials that reached a log
 * line with their value, whatever that value is — also secrets no test
 * recorded (a key an operator chose, a header nobody thought of).
 */
export function findExposedCredentials(files: string[]): ExposedCredential[] {
  const out: ExposedCredential[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, i) => {
      for (const pattern of [CREDENTIAL_HEADER, CREDENTIAL_PARAM]) {
        for (const match of text.matchAll(pattern)) out.push({ file, line: i + 1, what: match[1].toLowerCase() });
      }
    });
  }
  return out;
}

/** Scans every log of a run directory for every secret recorded in it, and for credential headers and query strings left unredacted. */
export function scanRun(dir: string): { leaks: SecretLeak[]; exposed: ExposedCredential[]; logFiles: number; logBytes: number; secrets: number } {
  const names = fs.readdirSync(dir);
  const logFiles = names.filter((n) => n.endsWith('.log')).map((n) => path.join(dir, n));
  const secrets = new Set<string>();
  for (const name of names.filter((n) => n.startsWith('secrets-'))) {
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (line) secrets.add(JSON.parse(line) as string);
    }
  }
  const logBytes = logFiles.reduce((sum, f) => sum + fs.statSync(f).size, 0);
  return { leaks: findSecrets(logFiles, secrets), exposed: findExposedCredentials(logFiles), logFiles: logFiles.length, logBytes, secrets: secrets.size };
}
