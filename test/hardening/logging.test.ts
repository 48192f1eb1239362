import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { findSecrets } from '../helpers/run-logs';

function memoryLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLogger('debug', stream), lines };
}

const SECRETS = {
  apiKey: 'gw_k3y_Of_A_Merchant_0123456789abcdef',
  clientSecret: 'pay_01m8a6zw37rvt3zfn9xs1yzxtd_secret_AbCdEf0123456789xyz',
  ucanpaySecretKey: 'a-real-ucanpay-key-with-no-known-shape-42',
  webhookSecret: 'hook-secret-with-no-known-shape-0007',
  pepper: 'pepper-for-the-api-key-hmac-000000',
};

describe('log redaction', () => {
  it('credential fields are redacted at any depth, in child loggers too', () => {
    const { log, lines } = memoryLogger();
    const child = log.child({ requestId: 'req_1' });
    child.info({ req: { headers: { authorization: `Bearer ${SECRETS.apiKey}`, 'ucanpay-signature': 't=1,v1=abc', cookie: 'sid=1' } } }, 'request');
    child.info({ merchant: { id: 'mer_1', ucanpaySecretKey: SECRETS.ucanpaySecretKey, ucanpayWebhookSecret: SECRETS.webhookSecret } }, 'merchant');
    child.info({ a: { b: { c: { d: { payment: { clientSecret: SECRETS.clientSecret } } } } } }, 'deep');
    child.info({ config: { apiKeyPepper: SECRETS.pepper, ucanpay: { secretKey: SECRETS.ucanpaySecretKey, webhookSecret: SECRETS.webhookSecret } } }, 'config');
    child.info({ connectionParams: { authorization: `Bearer ${SECRETS.clientSecret}` } }, 'ws');
    const text = lines.join('\n');
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(text).toContain('"requestId":"req_1"');
    expect(text).toContain('[redacted]');
    expect(lines).toHaveLength(5);
  });

  it('credential-shaped strings are scrubbed from messages and unexpected fields', () => {
    const { log, lines } = memoryLogger();
    log.warn({ note: `retrying with ${SECRETS.apiKey}` }, `client sent Bearer ${SECRETS.clientSecret} and sk_test_abcdef0123456789 and whsec_abcdef0123456789`);
    const text = lines.join('\n');
    expect(text).not.toContain(SECRETS.apiKey);
    expect(text).not.toContain(SECRETS.clientSecret);
    expect(text).not.toContain('sk_test_abcdef0123456789');
    expect(text).not.toContain('whsec_abcdef0123456789');
  });

  it('errors are logged with stack but without SQL parameters', () => {
    const { log, lines } = memoryLogger();
    const error = Object.assign(new Error('SQLITE_CONSTRAINT'), { query: 'INSERT INTO merchants …', parameters: ['mer_1', SECRETS.ucanpaySecretKey] });
    log.error({ err: error }, 'failed');
    const entry = JSON.parse(lines[0]);
    expect(entry.err.stack).toMatch(/at /);
    expect(entry.err.query).toBe('INSERT INTO merchants …');
    expect(lines[0]).not.toContain(SECRETS.ucanpaySecretKey);
  });
});

describe('the run-wide secret scan (test/global-setup.ts) can fail', () => {
  it('finds a planted secret inside a token, inside JSON and after URL encoding, and nothing in a clean log', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-test-'));
    try {
      const dirty = path.join(dir, 'dirty.log');
      fs.writeFileSync(
        dirty,
        [
          '{"msg":"ok"}',
          `{"msg":"x","note":"Bearer%20${SECRETS.apiKey}"}`,
          `{"msg":"prefix${SECRETS.pepper}suffix"}`,
          `{"odd":"${'secret with spaces: hunter2!'}"}`,
        ].join('\n'),
      );
      const clean = path.join(dir, 'clean.log');
      fs.writeFileSync(clean, '{"msg":"graphql request","authorization":"[redacted]"}\n');
      const leaks = findSecrets([dirty, clean], [SECRETS.apiKey, SECRETS.pepper, 'secret with spaces: hunter2!', SECRETS.clientSecret]);
      expect(leaks.map((l) => [path.basename(l.file), l.line])).toEqual([
        ['dirty.log', 2],
        ['dirty.log', 3],
        ['dirty.log', 4],
      ]);
      expect(leaks.every((l) => !Object.values(SECRETS).some((s) => l.secret.includes(s)))).toBe(true);
      expect(findSecrets([clean], Object.values(SECRETS))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
