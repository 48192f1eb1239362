import { describe, expect, it } from 'vitest';
import { describeInterval, periodBoundary } from '../../src/sandbox/periods';

const at = (s: string): number => Date.parse(s);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('billing periods in UTC calendar terms', () => {
  it('DAY and WEEK add whole days', () => {
    expect(iso(periodBoundary(at('2026-01-30T10:00:00Z'), 'DAY', 1, 3))).toBe('2026-02-02T10:00:00.000Z');
    expect(iso(periodBoundary(at('2026-01-30T10:00:00Z'), 'WEEK', 2, 1))).toBe('2026-02-13T10:00:00.000Z');
  });

  it('MONTH keeps the day, clamped to month end, without drifting', () => {
    const anchor = at('2026-01-31T08:30:00Z');
    expect(iso(periodBoundary(anchor, 'MONTH', 1, 1))).toBe('2026-02-28T08:30:00.000Z');
    expect(iso(periodBoundary(anchor, 'MONTH', 1, 2))).toBe('2026-03-31T08:30:00.000Z');
    expect(iso(periodBoundary(anchor, 'MONTH', 1, 3))).toBe('2026-04-30T08:30:00.000Z');
    expect(iso(periodBoundary(at('2027-12-15T00:00:00Z'), 'MONTH', 3, 1))).toBe('2028-03-15T00:00:00.000Z');
    expect(iso(periodBoundary(at('2028-01-31T00:00:00Z'), 'MONTH', 1, 1))).toBe('2028-02-29T00:00:00.000Z');
  });

  it('YEAR clamps 29 February', () => {
    expect(iso(periodBoundary(at('2028-02-29T12:00:00Z'), 'YEAR', 1, 1))).toBe('2029-02-28T12:00:00.000Z');
    expect(iso(periodBoundary(at('2028-02-29T12:00:00Z'), 'YEAR', 1, 4))).toBe('2032-02-29T12:00:00.000Z');
  });

  it('describes intervals for people', () => {
    expect(describeInterval('MONTH', 1)).toBe('month');
    expect(describeInterval('WEEK', 2)).toBe('2 weeks');
  });
});
