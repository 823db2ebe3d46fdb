// Invalidation stamps forget what is a minute old by looking only at the oldest stamps (the map is kept
// in stamp order), so a busy instance does not rescan every recent stamp on each write.
import { describe, expect, it } from 'vitest';
import { InvalidationStamps } from '../../src/cache/invalidation-stamps.ts';

describe('invalidation stamps', () => {
  it('forget stamps older than a minute, and keep a key stamped again as recent', () => {
    let now = 0;
    const stamps = new InvalidationStamps(() => now);
    stamps.stamp(['a', 'b']);
    now = 10_000;
    stamps.stamp(['c']);
    now = 20_000;
    stamps.stamp(['a']); // moves to the end: stamped at 20 s now
    expect(stamps.since('a', 15_000)).toBe(true);
    expect(stamps.since('b', 15_000)).toBe(false);
    now = 75_000;
    stamps.stamp(['d']);
    // b (0 s) and c (10 s) are over a minute old; a (20 s) and d are not.
    expect(stamps.size).toBe(2);
    expect(stamps.since('a', 0)).toBe(true);
    expect(stamps.since('c', 0)).toBe(false);
  });

  it('with 40,000 stamps, the minute-old half goes at the next stamp and the recent half stays', () => {
    let now = 0;
    const stamps = new InvalidationStamps(() => now);
    stamps.stamp(Array.from({ length: 20_000 }, (_, i) => `old:${i}`));
    now = 30_000;
    stamps.stamp(Array.from({ length: 20_000 }, (_, i) => `recent:${i}`));
    expect(stamps.size).toBe(40_000); // nothing a minute old yet: all kept
    now = 61_000;
    stamps.stamp(['new']);
    expect(stamps.size).toBe(20_001);
    expect(stamps.since('old:0', 0)).toBe(false);
    expect(stamps.since('recent:19999', 30_000)).toBe(true);
  });
});
