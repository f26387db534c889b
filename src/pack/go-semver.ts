/** The largest number Go's strconv.ParseUint reads into a uint64. */
const MAX_UINT64 = 2n ** 64n - 1n;

/**
 * Why the Go semantic-version reader that Helm and Palette use refuses `version`, or undefined when it
 * reads it. Both parse with Masterminds semver v3 `NewVersion` (Helm: Chart.yaml `version`; Palette's
 * Terraform provider: the order of pack versions), which by default (`CoerceNewVersion`) takes an
 * optional lowercase `v`, one to three numeric parts with leading zeros allowed (`1.5`, `26.02.1`),
 * then a prerelease and build metadata whose dot-separated identifiers are non-empty `[0-9A-Za-z-]`,
 * with no leading zero on a numeric prerelease identifier (`0.30.0-5.5.2026`, `2.0.1-up.1`); each
 * numeric part must fit a uint64 (a larger one fails "Error parsing version segment").
 */
export function goSemverProblem(version: string): string | undefined {
  const m = /^v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(version);
  if (m === null) {
    return /^[0-9]+(?:\.[0-9]+){3,}/.test(version.replace(/^v/, '')) ? 'more than three numeric parts' : 'not of the form MAJOR[.MINOR[.PATCH]][-PRERELEASE]';
  }
  const [, major, minor, patch, pre, build] = m;
  // Each numeric part is read into a uint64 (strconv.ParseUint), which refuses a larger number.
  for (const part of [major, minor, patch]) {
    if (part !== undefined && part.length > 19 && BigInt(part) > MAX_UINT64) return `the number ${part} is larger than ${MAX_UINT64}, the largest it reads`;
  }
  for (const id of pre?.split('.') ?? []) {
    if (id === '') return 'an empty prerelease identifier';
    if (/^[0-9]+$/.test(id) && id.length > 1 && id.startsWith('0')) return `the numeric prerelease identifier "${id}" has a leading zero`;
  }
  if (build?.split('.').includes('') === true) return 'an empty build identifier';
  return undefined;
}

/*
 * Masterminds semver v3 NewConstraint (constraints.go, the same grammar from v3.2.1 to v3.4.0): what
 * Helm reads a chart's `kubeVersion` with (chartutil.IsCompatibleRange, at every install). Go's `\s` is
 * ASCII white space without \v.
 */
const S = '[\\t\\n\\f\\r ]';
const CV = 'v?([0-9|x|X|\\*]+)(\\.[0-9|x|X|\\*]+)?(\\.[0-9|x|X|\\*]+)?(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?';
const OPS = '=||!=|>|<|>=|=>|<=|=<|~|~>|\\^';
const CONSTRAINT = new RegExp(`^${S}*(${OPS})${S}*(${CV})${S}*$`);
const RANGE = new RegExp(`${S}*(${CV})${S}+-${S}+(${CV})${S}*`, 'g');
const FIND = new RegExp(`(${OPS})${S}*(${CV})`, 'g');
/**
 * CV as a test alone: `(\.n)?(\.n)?` written `(?:\.n(?:\.n)?)?`, the same texts, but one way to match `.0`
 * (as a minor or as a patch part, each pair a branch JavaScript's backtracking tried: 2^pairs steps).
 */
const CV_TEST = 'v?[0-9|x|X|\\*]+(?:\\.[0-9|x|X|\\*]+(?:\\.[0-9|x|X|\\*]+)?)?(?:-[0-9A-Za-z\\-]+(?:\\.[0-9A-Za-z\\-]+)*)?(?:\\+[0-9A-Za-z\\-]+(?:\\.[0-9A-Za-z\\-]+)*)?';
const VALID = new RegExp(`^${S}*(?:${OPS})${S}*${CV_TEST}${S}*(?:(?:${S}+|,${S}*)(?:${OPS})${S}*${CV_TEST}${S}*)*$`);

/** Longer constraints are not judged (real ones are a few dozen characters). */
const MAX_CONSTRAINT = 4096;

const isX = (part: string): boolean => part === 'x' || part === 'X' || part === '*';

/**
 * Why Masterminds semver's NewConstraint refuses `constraint`, in its words, or undefined when it reads it:
 * `a - b` ranges are rewritten first, then each `||` part must be a list of operator + version pairs, and
 * each version (its missing or `x` parts made 0) must be one NewVersion reads.
 */
export function goSemverConstraintProblem(constraint: string): string | undefined {
  // The patterns only ever take white space as runs (\s* or \s+): one space for each run keeps every verdict
  // and keeps JavaScript's backtracking linear where Go's RE2 is (runs of spaces split between two \s).
  if (constraint.length > MAX_CONSTRAINT) return undefined;
  const text = constraint.replace(/[\t\n\f\r ]+/g, ' ');
  let rewritten = text;
  for (const m of text.matchAll(RANGE)) rewritten = rewritten.replace(m[0], `>= ${m[1]}, <= ${m[11]} `);
  for (const part of rewritten.split('||')) {
    if (!VALID.test(part)) return `improper constraint: ${part}`;
    for (const [one] of part.matchAll(FIND)) {
      const m = CONSTRAINT.exec(one);
      if (m === null) return `improper constraint: ${one}`;
      const [major = '', minor = '', patch = '', pre = ''] = [m[3], m[4], m[5], m[6]];
      const version =
        isX(major) || major === ''
          ? `0.0.0${pre}`
          : isX(minor.slice(1)) || minor === ''
            ? `${major}.0.0${pre}`
            : isX(patch.slice(1)) || patch === ''
              ? `${major}${minor}.0${pre}`
              : (m[2] as string);
      if (goSemverProblem(version) !== undefined) return 'constraint parser error';
    }
  }
  return undefined;
}
