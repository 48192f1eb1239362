/**
 * Money is always an integer amount in the currency's minor unit plus an
 * upper-case ISO 4217 code. This module is the one place that knows how many
 * minor-unit digits (the ISO 4217 "exponent") each currency has.
 */

/** Currencies whose exponent is not 2. */
const NON_DEFAULT_EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

/** Active ISO 4217 currency codes with exponent 2 (funds and metals excluded). */
const TWO_DECIMAL = (
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP ' +
  'GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL ' +
  'MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN ' +
  'QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD ' +
  'TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG'
).split(' ');

const EXPONENTS: ReadonlyMap<string, number> = new Map<string, number>([
  ...TWO_DECIMAL.map((code): [string, number] => [code, 2]),
  ...Object.entries(NON_DEFAULT_EXPONENTS),
]);

/** Largest amount accepted anywhere: fits a 53-bit integer and a GraphQL Int. */
export const MAX_AMOUNT = 2_147_483_647;

export function isCurrencyCode(code: unknown): code is string {
  return typeof code === 'string' && EXPONENTS.has(code);
}

/** Number of minor-unit digits of an ISO 4217 currency (JPY 0, USD 2, KWD 3). */
export function currencyExponent(code: string): number {
  const exponent = EXPONENTS.get(code);
  if (exponent === undefined) throw new RangeError(`unknown ISO 4217 currency: ${code}`);
  return exponent;
}

/** Why an amount is not a valid positive minor-unit amount, or null when it is. */
export function amountProblem(amount: unknown): string | null {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return 'must be an integer number of minor units';
  if (!Number.isInteger(amount)) return 'must be an integer number of minor units (no decimals)';
  if (amount <= 0) return 'must be greater than zero';
  if (amount > MAX_AMOUNT) return `must be at most ${MAX_AMOUNT}`;
  return null;
}

/** Why a currency code is not usable, or null when it is. */
export function currencyProblem(currency: unknown): string | null {
  if (typeof currency !== 'string') return 'must be an ISO 4217 currency code';
  if (!/^[A-Z]{3}$/.test(currency)) return 'must be an upper-case three-letter ISO 4217 code, e.g. USD';
  if (!EXPONENTS.has(currency)) return `"${currency}" is not a supported ISO 4217 currency`;
  return null;
}

/**
 * Formats minor units for people: formatMinor(1999, 'USD') === '19.99 USD',
 * formatMinor(500, 'JPY') === '500 JPY', formatMinor(1234, 'KWD') === '1.234 KWD'.
 * Pure integer arithmetic on strings; never goes through a float.
 */
export function formatMinor(amount: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = amount < 0;
  const digits = Math.abs(amount)
    .toString()
    .padStart(exponent + 1, '0');
  const major = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${major} ${currency}`;
}
