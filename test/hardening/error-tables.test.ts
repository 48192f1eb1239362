import fs from 'node:fs';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/api/errors/error-code.enum';
import { classifyError, createFormatError } from '../../src/api/errors/format-error';
import { GatewayError, THROWN_ERROR_CODES, type ProviderErrorTarget } from '../../src/domain/errors';
import { providerFailure, UCANPAY_ERROR_MAP } from '../../src/services/provider-facts';
import { UCanPayError, UCANPAY_ERROR_TABLE, type UCanPayErrorCode } from '../../src/ucanpay';

const CLIENT_SIDE: UCanPayErrorCode[] = ['NETWORK_ERROR', 'TIMEOUT', 'INVALID_RESPONSE', 'UNKNOWN_ERROR'];
const ALL_UCANPAY = [...(Object.keys(UCANPAY_ERROR_TABLE) as UCanPayErrorCode[]), ...CLIENT_SIDE];

function ucanpayError(code: UCanPayErrorCode, extra: Partial<ConstructorParameters<typeof UCanPayError>[0]> = {}) {
  const retryable =
    code in UCANPAY_ERROR_TABLE ? UCANPAY_ERROR_TABLE[code as keyof typeof UCANPAY_ERROR_TABLE].retryable : code === 'NETWORK_ERROR' || code === 'TIMEOUT';
  return new UCanPayError({
    code,
    retryable,
    attempts: 2,
    message: `UCanPay POST /payment/unifiedorder failed with ${code} (HTTP 4xx): the provider's words`,
    ...extra,
  });
}

describe('the UCanPay → gateway mapping table', () => {
  it('has exactly one entry per UCanPay error code (contract and client-side)', () => {
    expect(Object.keys(UCANPAY_ERROR_MAP).sort()).toEqual([...ALL_UCANPAY].sort());
  });

  it('a contract code is an outage exactly when the contract calls it recoverable', () => {
    for (const [code, { retryable }] of Object.entries(UCANPAY_ERROR_TABLE)) {
      expect(UCANPAY_ERROR_MAP[code as UCanPayErrorCode] === 'PROVIDER_UNAVAILABLE', code).toBe(retryable);
    }
  });

  const expected: Record<ProviderErrorTarget, (f: ReturnType<typeof providerFailure>, code: string) => void> = {
    PROVIDER_UNAVAILABLE: (f, code) => {
      expect(f.kind).toBe('thrown');
      expect(f.error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, details: { providerCode: code } });
      expect(f.error.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(f.error.message).toMatch(/same idempotencyKey/);
    },
    INTERNAL_SERVER_ERROR: (f, code) => {
      expect(f.kind).toBe('thrown');
      expect(f.error).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', retryable: true, details: { providerCode: code } });
      expect(f.error.message).not.toContain("the provider's words");
    },
    PROVIDER_ERROR: (f, code) => {
      expect(f).toMatchObject({ kind: 'refused', providerCode: code });
      expect(f.error).toMatchObject({ code: 'PROVIDER_ERROR', retryable: false });
    },
  };

  it.each(ALL_UCANPAY.map((code) => [code, UCANPAY_ERROR_MAP[code]] as const))('%s → %s', (code, target) => {
    expected[target](providerFailure(ucanpayError(code), 'payment'), code);
    // A read with refresh: the same target, thrown.
    const check = providerFailure(ucanpayError(code), 'payment', 'check');
    expect(check.error.code).toBe(target);
  });

  it('UNKNOWN_ERROR: a 5xx/429 is an outage; otherwise a refusal that keeps UCanPay’s own code', () => {
    expect(providerFailure(ucanpayError('UNKNOWN_ERROR', { retryable: true, httpStatus: 502, providerCode: 'WEIRD' }), 'payment').error.code).toBe(
      'PROVIDER_UNAVAILABLE',
    );
    expect(providerFailure(ucanpayError('UNKNOWN_ERROR', { retryable: false, httpStatus: 418, providerCode: 'TEAPOT' }), 'payment')).toMatchObject({
      kind: 'refused',
      providerCode: 'TEAPOT',
    });
  });

  it("honours UCanPay's Retry-After", () => {
    const f = providerFailure(ucanpayError('RATE_LIMITED', { retryAfterMs: 7_500 }), 'refund');
    expect(f.error.details.retryAfterSeconds).toBe(8);
  });
});

/** Rows `| \`CODE\` | …` of the markdown table under `heading` in docs/errors.md. */
function docRows(heading: string): string[][] {
  const doc = fs.readFileSync(path.resolve('docs/errors.md'), 'utf8');
  const start = doc.indexOf(`\n## ${heading}\n`);
  expect(start, `docs/errors.md has a "## ${heading}" section`).toBeGreaterThan(-1);
  const section = doc.slice(start + 1).split(/\n## /)[0];
  return section
    .split('\n')
    .filter((line) => /^\| `[A-Z_]+` \|/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}
const code = (cell: string) => cell.replace(/`/g, '');

describe('docs/errors.md matches the code', () => {
  it('lists every typed result code once', () => {
    expect(
      docRows('Typed results')
        .map((r) => code(r[0]))
        .sort(),
    ).toEqual(Object.values(ErrorCode).sort());
  });

  it('lists every thrown code once, with the right retry answer', () => {
    const rows = docRows('Thrown errors');
    expect(rows.map((r) => code(r[0])).sort()).toEqual(Object.keys(THROWN_ERROR_CODES).sort());
    for (const row of rows) {
      const retryable = THROWN_ERROR_CODES[code(row[0]) as keyof typeof THROWN_ERROR_CODES].retryable;
      expect(row[3].startsWith(retryable ? 'Yes' : 'No'), `${row[0]}: "${row[3]}"`).toBe(true);
    }
  });

  it('has the UCanPay mapping table exactly as in UCANPAY_ERROR_MAP', () => {
    const rows = docRows('UCanPay errors → gateway codes');
    expect(Object.fromEntries(rows.map((r) => [code(r[0]), code(r[1])]))).toEqual(UCANPAY_ERROR_MAP);
  });

  it('is linked from the README', () => {
    expect(fs.readFileSync(path.resolve('README.md'), 'utf8')).toContain('](docs/errors.md)');
  });
});

describe('formatting thrown errors', () => {
  const production = createFormatError({ production: true });
  const development = createFormatError({ production: false });
  const sqlError = Object.assign(new Error('SQLITE_ERROR: no such table: refunds — SELECT "r"."id" FROM "refunds" "r"'), {
    stack: 'Error: SQLITE_ERROR\n    at Statement.all (/work/main/node_modules/typeorm/driver.js:12:3)',
    query: 'SELECT 1',
  });
  const located = new GraphQLError(sqlError.message, { path: ['refunds'], originalError: sqlError });

  it('an unexpected error in production: a fixed message, code, retryable — nothing else', () => {
    const out = production(located.toJSON(), located);
    expect(out.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', retryable: true });
    expect(JSON.stringify(out)).not.toMatch(/SQLITE|SELECT|no such table|\/work|node_modules|stack/);
    expect(classifyError(located).kind).toBe('internal');
  });

  it('outside production the message helps the developer', () => {
    expect(development(located.toJSON(), located).message).toMatch(/no such table/);
  });

  it('a GatewayError keeps its code, message and details', () => {
    const error = new GraphQLError('x', {
      path: ['createPayment'],
      originalError: new GatewayError('BAD_USER_INPUT', 'input.amount must be greater than zero', { field: 'input.amount' }),
    });
    expect(production(error.toJSON(), error)).toMatchObject({
      message: 'input.amount must be greater than zero',
      extensions: { code: 'BAD_USER_INPUT', retryable: false, field: 'input.amount' },
    });
  });

  it("graphql-js's own errors: argument problems are the caller's, result problems are internal", () => {
    const argument = new GraphQLError('Argument "id" of required type "ID!" was not provided.', { path: ['payment'] });
    expect(classifyError(argument)).toEqual({ kind: 'request', code: 'BAD_USER_INPUT' });
    const nonNull = new GraphQLError('Cannot return null for non-nullable field Payment.id.', { path: ['payment', 'id'] });
    expect(classifyError(nonNull).kind).toBe('internal');
    const validation = new GraphQLError('Syntax Error: Query depth limit of 10 exceeded, found 11.', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(production(validation.toJSON(), validation)).toMatchObject({
      message: 'Query depth limit of 10 exceeded, found 11.',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', retryable: false },
    });
  });
});
