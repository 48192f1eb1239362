import type { Logger } from '../logger';

interface Money {
  amount: number;
  currency: string;
}

/**
 * Whether UCanPay's object (order or refund) is for another amount or
 * currency than the gateway's record of it. When it is, nothing it says may
 * be applied — a PAID or SUCCEEDED for another sum must never move money in
 * the gateway's books — and an error is logged, with both amounts, for the
 * operator to settle with UCanPay.
 */
export function amountMismatch(
  log: Pick<Logger, 'error'>,
  what: 'order' | 'refund',
  ours: Money,
  theirs: Money & { status: string },
  ids: Record<string, string>,
): boolean {
  if (theirs.amount === ours.amount && theirs.currency === ours.currency) return false;
  log.error(
    {
      ...ids,
      expected: { amount: ours.amount, currency: ours.currency },
      reported: { amount: theirs.amount, currency: theirs.currency, status: theirs.status },
    },
    `UCanPay reports this ${what} with another amount or currency than the gateway's record: not applied`,
  );
  return true;
}
