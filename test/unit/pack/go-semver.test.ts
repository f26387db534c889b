import { describe, expect, it } from 'vitest';
import { goSemverProblem } from '../../../src/pack/go-semver.js';

/*
 * Masterminds semver v3 NewVersion (Helm's Chart.yaml version, Palette's order of pack versions) reads each
 * numeric part with strconv.ParseUint(part, 10, 64): a part up to 2^64-1 is read, leading zeros or not; one
 * past it fails ("Error parsing version segment"). Prerelease and build parts are not numbers to it.
 */
describe('goSemverProblem: numeric parts as uint64', () => {
  it.each(['18446744073709551615.0.0', '1.18446744073709551615', 'v0.0.18446744073709551615', '000000018446744073709551615.1.1', '1.0.0-18446744073709551616', '1.0.0+99999999999999999999'])('%s is read', (version) => {
    expect(goSemverProblem(version)).toBeUndefined();
  });

  it.each([
    ['18446744073709551616.0.0', '18446744073709551616'],
    ['1.99999999999999999999', '99999999999999999999'],
    ['v1.2.100000000000000000000-rc.1', '100000000000000000000'],
  ])('%s is refused, naming %s', (version, part) => {
    expect(goSemverProblem(version)).toBe(`the number ${part} is larger than 18446744073709551615, the largest it reads`);
  });
});
