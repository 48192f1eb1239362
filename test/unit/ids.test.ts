import { describe, expect, it } from 'vitest';
import { newId, newSerialId } from '../../src/domain/ids';

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

  it('newSerialId: same shape as newId, unique and ordered within a process', () => {
    const now = Date.now();
    const ids = Array.from({ length: 10_000 }, () => newSerialId('req', now));
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The process tag is fixed; only the counter moves.
    expect(new Set(ids.map((id) => id.slice(14, 22))).size).toBe(1);
  });
});
