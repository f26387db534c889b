import { describe, expect, it } from 'vitest';
import { sortVersions } from '../../../src/operations/list.js';

describe('sortVersions (list, copy --all, palette sync order)', () => {
  it('semver first (leading v allowed, prereleases before their release, equal versions by text), then the rest by text', () => {
    const versions = ['stable', '1.10.0', 'v1.2.0', '1.2.0', '1.2.0-rc.1', '1.2.x', '0.30.0-5.5.2026', '1.5', '2.0.1-up.1', '1.9.0', 'latest', 'v1.12.0'];
    expect(sortVersions(versions)).toEqual(['0.30.0-5.5.2026', '1.2.0-rc.1', '1.2.0', 'v1.2.0', '1.9.0', '1.10.0', 'v1.12.0', '2.0.1-up.1', '1.2.x', '1.5', 'latest', 'stable']);
  });

  it('orders 20,000 versions as one comparison per pair would (each parsed once)', () => {
    const versions = Array.from({ length: 20_000 }, (_, i) => `${i % 7}.${(i * 13) % 101}.${i % 977}${i % 5 === 0 ? `-rc.${i % 3}` : ''}`);
    const sorted = sortVersions([...versions].reverse());
    expect(sorted).toHaveLength(20_000);
    // Each neighbouring pair checked, the pairs out of order collected for one expect() (one per pair cost
    // more than the sort).
    const misordered: string[] = [];
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1] as string, sorted[i] as string];
      if (a !== b && sortVersions([b, a])[0] !== a) misordered.push(`${a} before ${b}`);
    }
    expect(misordered).toEqual([]);
  });
});
