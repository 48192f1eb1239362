import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { findExposedCredentials, recordSecret, runLogDestination } from '../helpers/run-logs';
import { rawRequest } from './helpers';
import { RawWs } from './ws-raw';

/** A demo key with none of the shapes the logger's patterns know (no gw_, sk_, Bearer). */
const KEY = 'DemoKey-with-no-known-shape-7f3a9c2e51';

describe('what reaches the logs (debug level)', () => {
  let gw: TestGateway;
  const lines: string[] = [];
  beforeAll(async () => {
    recordSecret(KEY);
    const memory = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const run = runLogDestination();
    const streams: pino.StreamEntry[] = [{ level: 'debug', stream: memory }];
    if (run) streams.push({ level: 'debug', stream: run });
    gw = await startGateway({ DEMO_MERCHANT_API_KEY: KEY, LOG_LEVEL: 'debug' }, { logger: createLogger('debug', pino.multistream(streams)) });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('the key under X-Api-Key, Api-Key, X-Auth, Idempotency-Key, Authorization, a cookie or an unknown header, or in ?api_key= / ?api-key=: never logged', async () => {
    const headers = {
      'x-api-key': KEY,
      'api-key': KEY,
      'x-auth': KEY,
      'idempotency-key': KEY,
      'x-custom-credential': KEY,
      cookie: `session=${KEY}`,
      authorization: `Bearer ${KEY}`,
    };
    const body = JSON.stringify({ query: '{ __typename }' });
    for (const [name, value] of Object.entries(headers)) {
      const res = await rawRequest(gw.app.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', [name]: value }, body });
      expect(res.status, name).toBe(200);
    }
    for (const q of [`api_key=${KEY}`, `api-key=${KEY}`, `apikey=${KEY}`, `${KEY}`, `operationName=x&token=${KEY}`]) {
      await rawRequest(`${gw.app.graphqlUrl}?${q}&query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
      await rawRequest(`${gw.app.url}/health?${q}`, {});
      await rawRequest(`${gw.app.url}/no/such/route?${q}`, {});
    }
    // A webhook carries its signature header; graphql-ws its token in connectionParams.
    await rawRequest(`${gw.app.url}/webhooks/ucanpay/${gw.app.demo.merchantId}?api_key=${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'ucanpay-signature': `t=1,v1=${KEY}` },
      body: '{}',
    });
    const ws = await RawWs.connect(gw.app.wsUrl, KEY);
    ws.subscribe('q', '{ __typename }');
    await ws.until(() => ws.of('q').some((m) => m.type === 'complete'), 10_000, 'complete');
    ws.close();

    const text = lines.join('\n');
    expect(lines.filter((l) => l.includes('http request received')).length).toBeGreaterThanOrEqual(20);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(KEY.slice(0, 16));
    // Harmless headers are still there to debug with; the others by name only.
    const received = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'http request received' && l.req.headers.otherHeaders?.includes('x-api-key'));
    expect(received.req.headers['content-type']).toBe('application/json');
    expect(received.req.headers['x-api-key']).toBeUndefined();
    expect(lines.some((l) => l.includes('api_key=[redacted]'))).toBe(true);
  });

  it('X-Request-Id: a UUID or a trace id is kept; anything else (a key sent there by mistake) is replaced by a generated id', async () => {
    const uuid = '0b7c5a4e-2f1d-4c8a-9e3b-6d5f4a3b2c1d';
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    for (const kept of [uuid, trace]) {
      const res = await rawRequest(`${gw.app.url}/health`, { headers: { 'x-request-id': kept } });
      expect(res.headers.get('x-request-id')).toBe(kept);
    }
    for (const refused of [KEY, 'trace-1', 'a'.repeat(64), `${uuid}x`, 'req_short', '']) {
      const res = await rawRequest(`${gw.app.url}/health`, { headers: { 'x-request-id': refused } });
      expect(res.headers.get('x-request-id'), refused).toMatch(/^req_[0-9a-z]{26}$/);
    }
    expect(lines.join('\n')).not.toContain(KEY);
  });
});

describe('the run-wide scan also looks for credential headers and query strings that were not redacted', () => {
  it('flags any value under a credential header name or after api_key= / api-key=, whatever the secret; passes redacted lines', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exposed-scan-'));
    try {
      const dirty = path.join(dir, 'dirty.log');
      fs.writeFileSync(
        dirty,
        [
          '{"msg":"ok","req":{"headers":{"x-api-key":"[redacted]","otherHeaders":["api-key","x-auth"]}}}',
          '{"msg":"a","req":{"headers":{"X-Api-Key":"anything-at-all"}}}',
          '{"msg":"b","req":{"headers":{"api-key":"zzz"}}}',
          '{"msg":"c","headers":{"x-auth":"q"}}',
          '{"msg":"d","headers":{"idempotency-key":"order-1"}}',
          '{"msg":"e","url":"/graphql?api_key=abc"}',
          '{"msg":"f","url":"/graphql?x=1&api-key=abc"}',
          '{"msg":"g","url":"/graphql?api_key=[redacted]&api-key=[redacted]"}',
        ].join('\n'),
      );
      const found = findExposedCredentials([dirty]);
      expect(found.map((f) => f.line)).toEqual([2, 3, 4, 5, 6, 7]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
