import { describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids';

describe('ids', () => {
  it('newId: prefix, 10 time digits and 16 random digits of Crockford base32; sorts by creation time', () => {
    const a = newId('pay', Date.UTC(2026, 0, 1));
    const b = newId('pay', Date.UTC(2026, 0, 1) + 1);
    expect(a).toMatch(/^pay_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(a.slice(4, 14)).toBe('01kdvdna00');
    expect(a < b).toBe(true);
  });

  it('newId: 100 000 ids at the same millisecond are all different and their random parts spread over the alphabet', () => {
    const ids = new Set<string>();
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const id = newId('pay', 0);
      ids.add(id);
      for (const ch of id.slice(14)) seen.add(ch);
    }
    expect(ids.size).toBe(100_000);
    expect(seen.size).toBe(32);
  });
});
