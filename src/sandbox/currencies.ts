/**
 * The sandbox's own ISO 4217 table. It stands in for UCanPay, which has its
 * own: if it borrowed the gateway's (src/domain/money.ts), a wrong exponent
 * there would be mirrored here and no test against the sandbox would catch
 * it. Written separately, in another shape (one entry per code, A–Z); a test
 * (test/sandbox/currencies.test.ts) checks that the two tables agree.
 *
 * Active ISO 4217 codes with their minor-unit exponent, funds codes
 * included (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW); precious metals,
 * SDRs and the testing/no-currency codes (XAU, XDR, XTS, XXX, …) excluded.
 */
const TABLE = `
AED2 AFN2 ALL2 AMD2 ANG2 AOA2 ARS2 AUD2 AWG2 AZN2
BAM2 BBD2 BDT2 BGN2 BHD3 BIF0 BMD2 BND2 BOB2 BOV2 BRL2 BSD2 BTN2 BWP2 BYN2 BZD2
CAD2 CDF2 CHE2 CHF2 CHW2 CLF4 CLP0 CNY2 COP2 COU2 CRC2 CUP2 CVE2 CZK2
DJF0 DKK2 DOP2 DZD2
EGP2 ERN2 ETB2 EUR2
FJD2 FKP2
GBP2 GEL2 GHS2 GIP2 GMD2 GNF0 GTQ2 GYD2
HKD2 HNL2 HTG2 HUF2
IDR2 ILS2 INR2 IQD3 IRR2 ISK0
JMD2 JOD3 JPY0
KES2 KGS2 KHR2 KMF0 KPW2 KRW0 KWD3 KYD2 KZT2
LAK2 LBP2 LKR2 LRD2 LSL2 LYD3
MAD2 MDL2 MGA2 MKD2 MMK2 MNT2 MOP2 MRU2 MUR2 MVR2 MWK2 MXN2 MXV2 MYR2 MZN2
NAD2 NGN2 NIO2 NOK2 NPR2 NZD2
OMR3
PAB2 PEN2 PGK2 PHP2 PKR2 PLN2 PYG0
QAR2
RON2 RSD2 RUB2 RWF0
SAR2 SBD2 SCR2 SDG2 SEK2 SGD2 SHP2 SLE2 SOS2 SRD2 SSP2 STN2 SVC2 SYP2 SZL2
THB2 TJS2 TMT2 TND3 TOP2 TRY2 TTD2 TWD2 TZS2
UAH2 UGX0 USD2 USN2 UYI0 UYU2 UYW4 UZS2
VED2 VES2 VND0 VUV0
WST2
XAF0 XCD2 XCG2 XOF0 XPF0
YER2
ZAR2 ZMW2 ZWG2
`;

/** Minor-unit digits by currency code. */
export const SANDBOX_CURRENCIES: ReadonlyMap<string, number> = new Map(
  TABLE.trim()
    .split(/\s+/)
    .map((entry): [string, number] => [entry.slice(0, 3), Number(entry.slice(3))]),
);

/** UCanPay's largest amount (the contract: a positive integer that fits a signed 32-bit integer). */
export const SANDBOX_MAX_AMOUNT = 2_147_483_647;

/** Why `amount` is not a valid positive minor-unit amount, or null. */
export function amountProblem(amount: unknown): string | null {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return 'must be an integer number of minor units';
  if (!Number.isInteger(amount)) return 'must be an integer number of minor units (no decimals)';
  if (amount <= 0) return 'must be greater than zero';
  if (amount > SANDBOX_MAX_AMOUNT) return `must be at most ${SANDBOX_MAX_AMOUNT}`;
  return null;
}

/** Why `currency` is not a currency UCanPay takes, or null. */
export function currencyProblem(currency: unknown): string | null {
  if (typeof currency !== 'string') return 'must be an ISO 4217 currency code';
  if (!/^[A-Z]{3}$/.test(currency)) return 'must be an upper-case three-letter ISO 4217 code, e.g. USD';
  if (!SANDBOX_CURRENCIES.has(currency)) return `"${currency}" is not a supported ISO 4217 currency`;
  return null;
}

/** `1999 USD` → "19.99 USD", `500 JPY` → "500 JPY", `1234 KWD` → "1.234 KWD": digits only, never a float. */
export function displayAmount(amount: number, currency: string): string {
  const exponent = SANDBOX_CURRENCIES.get(currency);
  if (exponent === undefined) throw new RangeError(`unknown currency ${currency}`);
  const sign = amount < 0 ? '-' : '';
  const digits = String(Math.abs(amount));
  if (exponent === 0) return `${sign}${digits} ${currency}`;
  const padded = digits.padStart(exponent + 1, '0');
  return `${sign}${padded.slice(0, padded.length - exponent)}.${padded.slice(padded.length - exponent)} ${currency}`;
}
