import { describe, expect, it } from 'vitest';
import { goSemverConstraintProblem, goSemverConstraintTakesPrerelease, goSemverMatches, goSemverProblem } from '../../../src/pack/go-semver.js';

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

// Masterminds semver v3 NewConstraint, as Helm reads a chart's kubeVersion at install.
describe('goSemverConstraintProblem', () => {
  it.each([
    '>= 1.21.0-0',
    '>=1.21.0-0',
    '>=v1.23.0-0',
    '^1.8.0-0',
    '>=1.19-0',
    '~1.2.x',
    '1.x',
    '*',
    '>= 1.20, < 1.30',
    '>= 1.20 < 1.30',
    '>=1.20.0-0 <1.30.0-0 || >=2.0.0',
    '1.19 - 1.30',
    '=> 1.2.3',
    '!=1.2.3',
    '\t>= 1.21.0\n',
    '>= 1.21.0+build.1',
  ])('%s is read', (constraint) => {
    expect(goSemverConstraintProblem(constraint)).toBeUndefined();
  });

  it.each<[string, string]>([
    ['1.20+', 'improper constraint: 1.20+'],
    ['>= 1.21.0,, < 2', 'improper constraint: >= 1.21.0,, < 2'],
    ['>=1.21 &&  <2', 'improper constraint: >=1.21 && <2'],
    ['v1.2x', 'constraint parser error'],
    ['>=1.21.0-01', 'constraint parser error'],
    ['>=1.2|3', 'constraint parser error'],
    ['>= 99999999999999999999.0', 'constraint parser error'],
    ['latest', 'improper constraint: latest'],
    ['>= 1.21 ||', 'improper constraint: '],
    ['\v>= 1.21', 'improper constraint: \v>= 1.21'],
  ])('%j is refused: %s', (constraint, problem) => {
    expect(goSemverConstraintProblem(constraint)).toBe(problem);
  });

  it('reads a long run of pairs in linear time', () => {
    const long = Array.from({ length: 400 }, () => '>=1.0   ').join('') + '!';
    const start = process.cpuUsage();
    expect(goSemverConstraintProblem(long)).toMatch(/^improper constraint/);
    const used = process.cpuUsage(start);
    expect(used.user + used.system).toBeLessThan(2_000_000);
  });
});

/*
 * Helm's IsCompatibleRange (Masterminds semver v3 NewConstraint + Check): whether a dependency's version
 * constraint takes the subchart vendored under its name, so that its alias applies.
 */
describe('goSemverMatches', () => {
  it.each([
    ['4.12.17', '4.12.17', true],
    ['4.12.17', '4.14.7', false],
    ['7.x.x', '16.4.0', false],
    ['16.x.x', '16.4.0', true],
    ['~16.4', '16.4.9', true],
    ['~16.4', '16.5.0', false],
    ['^1.2.3', '1.9.0', true],
    ['^1.2.3', '2.0.0', false],
    ['^0.2.3', '0.2.9', true],
    ['^0.2.3', '0.3.0', false],
    ['^0.0.3', '0.0.4', false],
    ['>= 1.2, < 2', '1.9.9', true],
    ['>=1.2 <2', '2.0.0', false],
    ['1.0.0 - 1.4.0', '1.4.0', true],
    ['1.0.0 - 1.4.0', '1.4.1', false],
    ['< 2 || >= 3', '3.1.0', true],
    ['< 2 || >= 3', '2.5.0', false],
    ['*', '12.0.0', true],
    ['>=1.0.0', '1.2.0-rc.1', false],
    ['>=1.0.0-0', '1.2.0-rc.1', true],
    ['!=1.2.x', '1.2.7', false],
    ['!=1.2.x', '1.3.0', true],
    ['>1.2.x', '1.3.0', true],
    ['>1.2.x', '1.2.9', false],
    ['<=1.2.x', '1.2.9', true],
    ['<=1.2.x', '1.3.0', false],
    ['v1.2.3', '1.2.3', true],
    ['=1.2', '1.2.5', true],
  ])('%j takes %s: %s', (constraint, version, want) => {
    expect(goSemverMatches(constraint, version)).toBe(want);
  });

  it('an empty or unreadable constraint, or an unreadable version, matches nothing (Helm: IsCompatibleRange false)', () => {
    expect(goSemverMatches('', '1.0.0')).toBe(false);
    expect(goSemverMatches('>=1.21 && <2', '1.22.0')).toBe(false);
    expect(goSemverMatches('1.x', 'one')).toBe(false);
  });

  it('a constraint too long to judge is not judged', () => {
    expect(goSemverMatches(`${'>=1.0.0, '.repeat(500)}<2`, '1.5.0')).toBeUndefined();
  });
});

/*
 * A chart's kubeVersion against a cluster reporting a pre-release version (EKS v1.29.4-eks-036c24b): only a
 * `||` part holding a pre-release lets one through, in every Masterminds semver Helm 3 and 4 used.
 */
describe('goSemverConstraintTakesPrerelease', () => {
  it.each([
    ['>= 1.21.0', false],
    ['>=1.19', false],
    ['^1.10.0', false],
    ['1.20.0 - 1.30.0', false],
    ['v1.25.0', false],
    ['*', false],
    ['>= 1.21.0-0', true],
    ['>=1.19-0', true],
    ['^1.10.0-0', true],
    ['>= 1.21.0 || >= 1.21.0-0', true],
    // These two: taken since Masterminds semver v3.4.0 (Helm 3.19), where one pre-release counts for its whole part;
    // goSemverMatches reads constraints as the earlier ones, where `<1.40.0` (`<= 1.30.0`) alone refuses it.
    ['>=v1.23.0-0 <1.40.0', true],
    ['1.20.0-0 - 1.30.0', true],
  ])('%j: %s', (constraint, want) => {
    expect(goSemverConstraintTakesPrerelease(constraint)).toBe(want);
    // What Helm's check says of an EKS cluster of a version each of these takes otherwise.
    if (!['v1.25.0', '>=v1.23.0-0 <1.40.0', '1.20.0-0 - 1.30.0'].includes(constraint)) expect(goSemverMatches(constraint, '1.29.4-eks-036c24b')).toBe(want);
  });

  it('an unreadable constraint, or one too long, is not judged', () => {
    expect(goSemverConstraintTakesPrerelease('>=1.21 && <2')).toBeUndefined();
    expect(goSemverConstraintTakesPrerelease(`${'>=1.0.0, '.repeat(500)}<2`)).toBeUndefined();
  });
});
