/**
 * Billing-period arithmetic in UTC calendar terms.
 *
 * Period boundaries are computed from an anchor instant so that a monthly
 * subscription started on the 31st bills on the 31st, on the 30th in 30-day
 * months and on the 28th/29th in February, without drifting.
 */
export type Interval = 'DAY' | 'WEEK' | 'MONTH' | 'YEAR';
export const INTERVALS: readonly Interval[] = ['DAY', 'WEEK', 'MONTH', 'YEAR'];

export const DAY_MS = 86_400_000;

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

function addMonthsClamped(anchorMs: number, months: number): number {
  const d = new Date(anchorMs);
  const total = d.getUTCMonth() + months;
  const year = d.getUTCFullYear() + Math.floor(total / 12);
  const month0 = ((total % 12) + 12) % 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month0));
  return Date.UTC(year, month0, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** The k-th period boundary after `anchorMs` (k = 0 is the anchor itself). */
export function periodBoundary(anchorMs: number, interval: Interval, intervalCount: number, k: number): number {
  const n = k * intervalCount;
  switch (interval) {
    case 'DAY':
      return anchorMs + n * DAY_MS;
    case 'WEEK':
      return anchorMs + n * 7 * DAY_MS;
    case 'MONTH':
      return addMonthsClamped(anchorMs, n);
    case 'YEAR':
      return addMonthsClamped(anchorMs, n * 12);
  }
}

/** Human wording for the checkout page: "month", "2 weeks". */
export function describeInterval(interval: Interval, intervalCount: number): string {
  const unit = interval.toLowerCase();
  return intervalCount === 1 ? unit : `${intervalCount} ${unit}s`;
}
