import { PackpubError } from '../errors.js';

/**
 * The largest SOURCE_DATE_EPOCH packpub takes: the tar header's mtime is a signed 32-bit number of seconds
 * (archive/format.ts), so 2038-01-19T03:14:07Z.
 */
export const MAX_SOURCE_DATE_EPOCH = 2 ** 31 - 1;

/**
 * SOURCE_DATE_EPOCH as reproducible-builds.org specifies it: "an integer of seconds since the epoch", in the form
 * `date +%s` prints (ASCII digits only: no sign, no fraction, no spaces); a malformed value is an error, never
 * ignored ("the build process SHOULD exit with a non-zero error code"). The one reading of it for every use
 * (archive entry times, the manifest's created time, the archive cache's key, init's chart packing), so that
 * no value is taken by one and refused or ignored by another. Unset or empty (an unset CI variable passed on):
 * undefined. Refused (USAGE, exit 2): anything else that is not digits from 0 to MAX_SOURCE_DATE_EPOCH.
 */
export function sourceDateEpoch(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const raw = env['SOURCE_DATE_EPOCH'];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > MAX_SOURCE_DATE_EPOCH) {
    throw new PackpubError('USAGE', `SOURCE_DATE_EPOCH=${JSON.stringify(raw)} is not a whole number of seconds since 1970 from 0 to ${MAX_SOURCE_DATE_EPOCH} (digits only, as date +%s prints)`, {
      hint: 'set it to a fixed Unix timestamp kept the same on every run (e.g. 946684800, 2000-01-01), not the commit time, which would change every archive; or unset it',
    });
  }
  return Number(raw);
}
