import fs from 'node:fs';
import path from 'node:path';
import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTROSPECTION_OFF_MESSAGE } from '../../src/api/graphql-limits';
import { startGateway, type TestGateway } from '../helpers/gateway';

/**
 * graphql-http's audit suite (the GraphQL-over-HTTP spec's own checks)
 * against the running gateway: no MUST fails, and every SHOULD/MAY that is
 * not met is one we chose, listed with its reason in docs/conformance.md.
 */

const PRODUCTION = { NODE_ENV: 'production', API_KEY_PEPPER: 'test-pepper-for-production-mode-0001' };

/** Audits answered otherwise on purpose, in every mode (docs/conformance.md says why). */
const KEPT: Record<string, 'warn' | 'notice'> = {
  '572B': 'warn', // parse failure: 400, not 200, with application/json
  FDE2: 'warn', // validation failure: 400, not 200, with application/json
  '7B9B': 'warn', // variable coercion failure: 400, not 200, with application/json
  '5A70': 'notice', // GET without a preflight header: CSRF prevention
  D6D5: 'notice', // GET without a preflight header: CSRF prevention
  '6A70': 'notice', // GET without a preflight header: CSRF prevention
};
/** With introspection off (production's default) the audits that send `__type` are refused like any introspection. */
const INTROSPECTION_AUDITS: Record<string, 'error' | 'warn'> = { BF61: 'error', '28B9': 'error', '2EA1': 'warn' };

const modes = [
  { name: 'development', env: { NODE_ENV: 'development' }, expected: KEPT },
  { name: 'production with GRAPHQL_INTROSPECTION=true', env: { ...PRODUCTION, GRAPHQL_INTROSPECTION: 'true' }, expected: KEPT },
  { name: 'production, introspection off (the default)', env: PRODUCTION, expected: { ...KEPT, ...INTROSPECTION_AUDITS } },
] as const;

for (const mode of modes) {
  describe(`graphql-http audits: ${mode.name}`, () => {
    let gw: TestGateway;
    const results: AuditResult[] = [];
    beforeAll(async () => {
      gw = await startGateway(mode.env);
    });
    afterAll(async () => {
      const counts: Record<string, number> = {};
      for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
      console.log(`graphql-http audits, ${mode.name}: ${JSON.stringify(counts)}`);
      await gw?.stop();
    });

    for (const audit of serverAudits({ url: () => gw.app.graphqlUrl })) {
      const expected: string = (mode.expected as Record<string, string>)[audit.id] ?? 'ok';
      it(`${audit.id} ${audit.name} → ${expected}`, async () => {
        const result = await audit.fn();
        results.push(result);
        expect(result.status, result.status === 'ok' ? '' : result.reason).toBe(expected);
        if (expected !== 'ok' && audit.id in INTROSPECTION_AUDITS && mode.env === PRODUCTION) {
          const body = (await (result as { response: Response }).response.clone().json()) as {
            errors: Array<{ message: string; extensions: { code: string } }>;
          };
          expect(body.errors[0]).toMatchObject({ message: INTROSPECTION_OFF_MESSAGE, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
        }
      });
    }
  });
}

it('docs/conformance.md lists every audit the gateway answers otherwise, with its id', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/conformance.md'), 'utf8');
  for (const id of [...Object.keys(KEPT), ...Object.keys(INTROSPECTION_AUDITS)]) expect(doc).toMatch(new RegExp(`\\| \`${id}\` \\|`));
});
