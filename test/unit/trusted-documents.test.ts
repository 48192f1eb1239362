import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { readManifest, TrustedDocuments, type TrustedDocumentsPolicy } from '../../src/api/trusted-documents';
import type { Principal } from '../../src/services/merchant.service';

const TEXT = 'query Trusted { __typename }';
const HEX = createHash('sha256').update(TEXT).digest('hex');
const ID = `sha256:${HEX}`;
const UNTRUSTED = '{ payments(first: 1) { edges { cursor } } }';

const merchant: Principal = { kind: 'merchant', merchantId: 'm' };
const client: Principal = { kind: 'client', merchantId: 'm', paymentId: 'p' };
const PROD = { NODE_ENV: 'production', API_KEY_PEPPER: 'p'.repeat(32) };

function tempFile(content: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-')), 'm.json');
  fs.writeFileSync(file, content);
  return file;
}

type Outcome = 'runs' | 'TRUSTED_DOCUMENT_REQUIRED' | 'TRUSTED_DOCUMENT_NOT_FOUND' | 'BAD_REQUEST';

describe('the policy table (docs/operations.md#trusted-documents)', () => {
  // policy × who sends × what: the outcome.
  const table: Array<[TrustedDocumentsPolicy, 'API key' | 'client secret' | 'nobody', 'raw' | 'trusted text' | 'known id' | 'unknown id', Outcome]> = [];
  const row = (policy: TrustedDocumentsPolicy, outcomes: Record<'raw' | 'trusted text' | 'known id' | 'unknown id', [Outcome, Outcome, Outcome]>) => {
    for (const [what, [apiKey, secret, nobody]] of Object.entries(outcomes) as Array<['raw', [Outcome, Outcome, Outcome]]>) {
      table.push([policy, 'API key', what, apiKey], [policy, 'client secret', what, secret], [policy, 'nobody', what, nobody]);
    }
  };
  const REQ = 'TRUSTED_DOCUMENT_REQUIRED' as const;
  const NF = 'TRUSTED_DOCUMENT_NOT_FOUND' as const;
  row('off', {
    raw: ['runs', 'runs', 'runs'],
    'trusted text': ['runs', 'runs', 'runs'],
    'known id': ['BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST'],
    'unknown id': ['BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST'],
  });
  row('allow', { raw: ['runs', 'runs', 'runs'], 'trusted text': ['runs', 'runs', 'runs'], 'known id': ['runs', 'runs', 'runs'], 'unknown id': [NF, NF, NF] });
  row('enforce-client-secrets', {
    raw: ['runs', REQ, 'runs'],
    'trusted text': ['runs', 'runs', 'runs'],
    'known id': ['runs', 'runs', 'runs'],
    'unknown id': [NF, NF, NF],
  });
  row('enforce', { raw: [REQ, REQ, REQ], 'trusted text': ['runs', 'runs', 'runs'], 'known id': ['runs', 'runs', 'runs'], 'unknown id': [NF, NF, NF] });

  it.each(table)('%s: %s sending a %s → %s', async (policy, who, what, outcome) => {
    const documents = new TrustedDocuments(policy, new Map([[ID, TEXT]]));
    const principal = who === 'API key' ? merchant : who === 'client secret' ? client : null;
    const request = {
      raw: { query: UNTRUSTED },
      'trusted text': { query: TEXT },
      'known id': { documentId: ID },
      'unknown id': { documentId: `sha256:${'a'.repeat(64)}` },
    }[what];
    const verdict = await documents.check(request, async () => principal);
    expect(verdict.ok ? 'runs' : verdict.error.code).toBe(outcome);
    if (verdict.ok && what === 'known id') expect(verdict.text).toBe(TEXT);
  });

  it('an APQ hash is trusted only when it is a manifest id', async () => {
    const documents = new TrustedDocuments('enforce', new Map([[ID, TEXT]]));
    expect(await documents.check({ apqHash: HEX }, async () => client)).toEqual({ ok: true, text: TEXT });
    expect(await documents.check({ apqHash: 'b'.repeat(64) }, async () => client)).toMatchObject({ ok: false, status: 403 });
  });

  it('the principal is only looked up when the answer depends on it', async () => {
    let asked = 0;
    const who = async () => (asked++, client);
    const documents = new TrustedDocuments('enforce-client-secrets', new Map([[ID, TEXT]]));
    await documents.check({ documentId: ID }, who);
    await documents.check({ query: TEXT }, who);
    expect(asked).toBe(0);
    await documents.check({ query: UNTRUSTED }, who);
    expect(asked).toBe(1);
  });

  it('statuses: unknown id 404, untrusted document 403, id and query together 400', async () => {
    const documents = new TrustedDocuments('enforce', new Map([[ID, TEXT]]));
    expect(await documents.check({ documentId: `sha256:${'c'.repeat(64)}` }, async () => null)).toMatchObject({ ok: false, status: 404 });
    expect(await documents.check({ query: UNTRUSTED }, async () => null)).toMatchObject({ ok: false, status: 403 });
    expect(await documents.check({ documentId: ID, query: TEXT }, async () => null)).toMatchObject({ ok: false, status: 400 });
  });
});

describe('manifests', () => {
  it('the gateway ships its codegen manifest: every generated operation is trusted', () => {
    const generated = JSON.parse(fs.readFileSync(path.resolve('src/client/generated/persisted-documents.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(generated).length).toBeGreaterThan(5);
    expect(TrustedDocuments.load('allow').size).toBe(Object.keys(generated).length);
    expect(TrustedDocuments.load('off').size).toBe(0);
  });

  it('reads the client preset format, bare hex keys, and Apollo’s persisted query manifest', () => {
    expect(readManifest(tempFile(JSON.stringify({ [ID]: TEXT })))).toEqual(new Map([[ID, TEXT]]));
    expect(readManifest(tempFile(JSON.stringify({ [HEX]: TEXT })))).toEqual(new Map([[ID, TEXT]]));
    const apollo = { format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: HEX, name: 'Trusted', type: 'query', body: TEXT }] };
    expect(readManifest(tempFile(JSON.stringify(apollo)))).toEqual(new Map([[ID, TEXT]]));
  });

  it('a merchant manifest adds to the gateway’s', () => {
    const documents = TrustedDocuments.load('enforce', [tempFile(JSON.stringify({ [ID]: TEXT }))]);
    expect(documents.size).toBe(TrustedDocuments.load('enforce').size + 1);
    // Their operation names are metric labels (a fixed set): the gateway's and the merchant's.
    expect([...documents.operationNames()]).toEqual(expect.arrayContaining(['CreatePayment', 'GetPayment', 'PaymentUpdated', 'Trusted']));
  });
});

describe('configuration', () => {
  it('defaults: enforce-client-secrets in production, allow otherwise', () => {
    expect(loadConfig(PROD).trustedDocuments).toEqual({ policy: 'enforce-client-secrets', manifests: [] });
    expect(loadConfig({}).trustedDocuments.policy).toBe('allow');
    expect(loadConfig({ ...PROD, TRUSTED_DOCUMENTS: 'enforce' }).trustedDocuments.policy).toBe('enforce');
  });

  it.each([
    [{ TRUSTED_DOCUMENTS: 'strict' }, /^TRUSTED_DOCUMENTS must be one of off, allow, enforce-client-secrets, enforce, got "strict"$/],
    [
      { TRUSTED_DOCUMENTS_MANIFESTS: '/nonexistent/manifest.json' },
      /^TRUSTED_DOCUMENTS_MANIFESTS: \/nonexistent\/manifest.json cannot be read as a trusted-documents manifest \(ENOENT\)$/,
    ],
    [{ TRUSTED_DOCUMENTS_MANIFESTS: 'NOT_JSON' }, /not JSON/],
    [{ TRUSTED_DOCUMENTS_MANIFESTS: 'LYING' }, /is not the sha256 of its document$/],
    [{ TRUSTED_DOCUMENTS_MANIFESTS: 'BAD_KEY' }, /is not "sha256:<64 hex>": "<document>"$/],
    [{ TRUSTED_DOCUMENTS: 'off', TRUSTED_DOCUMENTS_MANIFESTS: 'GOOD' }, /needs TRUSTED_DOCUMENTS other than off/],
  ] as Array<[Record<string, string>, RegExp]>)('refuses %j at start with one line', (env, message) => {
    const files: Record<string, string> = {
      NOT_JSON: tempFile('{ nope'),
      LYING: tempFile(JSON.stringify({ [ID]: UNTRUSTED })),
      BAD_KEY: tempFile(JSON.stringify({ 'md5:abc': TEXT })),
      GOOD: tempFile(JSON.stringify({ [ID]: TEXT })),
    };
    const resolved = {
      ...env,
      ...(env.TRUSTED_DOCUMENTS_MANIFESTS ? { TRUSTED_DOCUMENTS_MANIFESTS: files[env.TRUSTED_DOCUMENTS_MANIFESTS] ?? env.TRUSTED_DOCUMENTS_MANIFESTS } : {}),
    };
    try {
      loadConfig({ ...PROD, ...resolved });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(message);
    }
  });
});
