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
