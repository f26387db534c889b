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
 * The `||` parts of a constraint once NewConstraint rewrote its `a - b` ranges (`>= a, <= b`). The patterns
 * only ever take white space as runs (\s* or \s+): one space for each run keeps every verdict and keeps
 * JavaScript's backtracking linear where Go's RE2 is (runs of spaces split between two \s).
 */
function orParts(constraint: string): string[] {
  const text = constraint.replace(/[\t\n\f\r ]+/g, ' ');
  let rewritten = text;
  for (const m of text.matchAll(RANGE)) rewritten = rewritten.replace(m[0], `>= ${m[1]}, <= ${m[11]} `);
  return rewritten.split('||');
}

/**
 * Whether a constraint NewConstraint reads lets any pre-release version through (`1.29.4-eks-036c24b`):
 * only when one of its `||` parts holds a version with a pre-release (`>= 1.21.0-0`). Every operator's
 * check refuses a pre-release version otherwise: per constraint up to Masterminds semver v3.3.x, per `||`
 * part since v3.4.0 (Helm 3.19), so a part without one refuses it in every Helm 3 and 4. Undefined for a
 * constraint it does not read or too long to judge.
 */
export function goSemverConstraintTakesPrerelease(constraint: string): boolean | undefined {
  if (constraint.length > MAX_CONSTRAINT || goSemverConstraintProblem(constraint) !== undefined) return undefined;
  return orParts(constraint).some((part) => [...part.matchAll(FIND)].some(([one]) => (CONSTRAINT.exec(one)?.[6] ?? '') !== ''));
}

/**
 * Why Masterminds semver's NewConstraint refuses `constraint`, in its words, or undefined when it reads it:
 * `a - b` ranges are rewritten first, then each `||` part must be a list of operator + version pairs, and
 * each version (its missing or `x` parts made 0) must be one NewVersion reads.
 */
export function goSemverConstraintProblem(constraint: string): string | undefined {
  if (constraint.length > MAX_CONSTRAINT) return undefined;
  for (const part of orParts(constraint)) {
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

/** A version as Masterminds semver's NewVersion reads it: three numbers (missing ones 0) and a prerelease. */
interface GoVersion {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
}

function goVersion(text: string): GoVersion | undefined {
  if (goSemverProblem(text) !== undefined) return undefined;
  const m = /^v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-([0-9A-Za-z.-]+))?/.exec(text);
  if (m === null) return undefined;
  return { major: BigInt(m[1] ?? '0'), minor: BigInt(m[2] ?? '0'), patch: BigInt(m[3] ?? '0'), pre: m[4] ?? '' };
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Masterminds comparePrerelease: none sorts after any; dot parts numeric (by value) before alphanumeric (by bytes). */
function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    const c = xn && yn ? cmp(BigInt(x), BigInt(y)) : xn ? -1 : yn ? 1 : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

function compare(a: GoVersion, b: GoVersion): number {
  return cmp(a.major, b.major) || cmp(a.minor, b.minor) || cmp(a.patch, b.patch) || comparePre(a.pre, b.pre);
}

interface GoConstraint {
  op: string;
  con: GoVersion;
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

/** Masterminds' check of one operator (constraints.go constraintOps), prereleases matching only a constraint with one. */
function checkOne(v: GoVersion, c: GoConstraint): boolean {
  const { con } = c;
  const preBlocked = v.pre !== '' && con.pre === '';
  const tilde = (): boolean => {
    if (compare(v, con) < 0) return false;
    if (con.major === 0n && con.minor === 0n && con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
    if (v.major !== con.major) return false;
    return v.minor === con.minor || c.minorDirty;
  };
  switch (c.op) {
    case '':
    case '=':
      if (preBlocked) return false;
      return c.dirty ? tilde() : compare(v, con) === 0;
    case '!=':
      if (c.dirty) {
        if (preBlocked) return false;
        if (con.major !== v.major) return true;
        if (con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) return (v.pre !== '' || con.pre !== '') && comparePre(v.pre, con.pre) !== 0;
      }
      return compare(v, con) !== 0;
    case '>':
      if (preBlocked) return false;
      if (!c.dirty) return compare(v, con) > 0;
      if (v.major !== con.major) return v.major > con.major;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > con.minor;
      return compare(v, con) > 0;
    case '<':
      return !preBlocked && compare(v, con) < 0;
    case '>=':
    case '=>':
      return !preBlocked && compare(v, con) >= 0;
    case '<=':
    case '=<':
      if (preBlocked) return false;
      if (!c.dirty) return compare(v, con) <= 0;
      if (v.major > con.major) return false;
      return !(v.major === con.major && v.minor > con.minor && !c.minorDirty);
    case '~':
    case '~>':
      return !preBlocked && tilde();
    case '^':
      if (preBlocked || compare(v, con) < 0) return false;
      if (con.major > 0n || c.minorDirty) return v.major === con.major;
      if (v.major > 0n) return false;
      if (con.minor > 0n || c.patchDirty) return v.minor === con.minor;
      if (v.minor > 0n) return false;
      return con.patch === v.patch;
    default:
      return false;
  }
}

/**
 * Helm's chartutil.IsCompatibleRange(constraint, version): Masterminds semver v3 NewConstraint(constraint)
 * .Check(NewVersion(version)), false when either cannot be read (an empty constraint included). Helm asks
 * it of each dependency against the subchart vendored under its name: only a match takes the dependency's
 * alias. Undefined for a constraint too long to judge.
 */
export function goSemverMatches(constraint: string, version: string): boolean | undefined {
  if (constraint.length > MAX_CONSTRAINT) return undefined;
  const v = goVersion(version);
  if (v === undefined || goSemverConstraintProblem(constraint) !== undefined) return false;
  return orParts(constraint).some((part) =>
    [...part.matchAll(FIND)].every(([one]) => {
      const m = CONSTRAINT.exec(one);
      if (m === null) return false;
      const [op = '', whole = '', major = '', minor = '', patch = '', pre = ''] = [m[1], m[2], m[3], m[4], m[5], m[6]];
      let text = whole;
      let dirty = false;
      let minorDirty = false;
      let patchDirty = false;
      if (isX(major) || major === '') [text, dirty] = [`0.0.0${pre}`, true];
      else if (isX(minor.slice(1)) || minor === '') [text, dirty, minorDirty] = [`${major}.0.0${pre}`, true, true];
      else if (isX(patch.slice(1)) || patch === '') [text, dirty, patchDirty] = [`${major}${minor}.0${pre}`, true, true];
      const con = goVersion(text);
      return con !== undefined && checkOne(v, { op, con, dirty, minorDirty, patchDirty });
    }),
  );
}
