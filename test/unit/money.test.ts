import { describe, expect, it } from 'vitest';
import { amountProblem, currencyExponent, currencyProblem, formatMinor } from '../../src/domain/money';

describe('money', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['CLF', 4],
  ])('%s has exponent %i', (code, exponent) => {
    expect(currencyExponent(code)).toBe(exponent);
  });

  it.each([
    [1999, 'USD', '19.99 USD'],
    [5, 'USD', '0.05 USD'],
    [500, 'JPY', '500 JPY'],
    [1234, 'KWD', '1.234 KWD'],
    [7, 'KWD', '0.007 KWD'],
  ])('formats %i %s as %s', (amount, currency, text) => {
    expect(formatMinor(amount, currency)).toBe(text);
  });

  it.each([
    [0, 'must be greater than zero'],
    [-1, 'must be greater than zero'],
    [1.5, 'no decimals'],
    [Number.NaN, 'integer'],
    [2 ** 31, 'at most'],
    ['100', 'integer'],
  ])('amount %s is refused (%s)', (amount, problem) => {
    expect(amountProblem(amount)).toContain(problem);
  });

  it.each([['usd'], ['US'], ['XYZ'], [''], [null]])('currency %j is refused', (code) => {
    expect(currencyProblem(code)).not.toBeNull();
  });
});
