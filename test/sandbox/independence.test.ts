import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currencyExponent, formatMinor, isCurrencyCode } from '../../src/domain/money';
import { displayAmount, SANDBOX_CURRENCIES } from '../../src/sandbox/currencies';

/**
 * The sandbox is the oracle the gateway is tested against: it shares no code
 * with the gateway (a bug in shared code would pass both), and the two
 * independently written currency tables must agree.
 */
describe('the sandbox is an independent oracle', () => {
  it('imports nothing from the gateway (only its own files and packages)', () => {
    const dir = path.resolve('src/sandbox');
    const offenders: string[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const match of text.matchAll(/(?:from|import|require\()\s*['"](\.[^'"]*)['"]/g)) {
        if (!path.resolve(dir, match[1]).startsWith(dir + path.sep)) offenders.push(`${file}: ${match[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("its currency table and the gateway's agree on every code and exponent", () => {
    const gatewayCodes: string[] = [];
    for (let a = 65; a <= 90; a++) {
      for (let b = 65; b <= 90; b++) {
        for (let c = 65; c <= 90; c++) {
          const code = String.fromCharCode(a, b, c);
          if (isCurrencyCode(code)) gatewayCodes.push(code);
        }
      }
    }
    expect([...SANDBOX_CURRENCIES.keys()].sort()).toEqual(gatewayCodes);
    const disagreements = gatewayCodes.filter((code) => currencyExponent(code) !== SANDBOX_CURRENCIES.get(code));
    expect(disagreements).toEqual([]);
    expect(gatewayCodes.length).toBeGreaterThan(150);
  });

  it('formats amounts as the gateway does', () => {
    for (const [amount, currency] of [
      [1999, 'USD'],
      [500, 'JPY'],
      [1234, 'KWD'],
      [5, 'EUR'],
      [1, 'CLF'],
      [2_147_483_647, 'BHD'],
    ] as const) {
      expect(displayAmount(amount, currency)).toBe(formatMinor(amount, currency));
    }
    expect(displayAmount(1999, 'USD')).toBe('19.99 USD');
    expect(displayAmount(7, 'KWD')).toBe('0.007 KWD');
  });
});
