import semver from 'semver';
import { PackpubError } from '../errors.js';
import { isValidTag, type PackRef } from '../oci/reference.js';
import { goFolded } from '../oci/manifest.js';
import type { ReadableTarget } from '../targets/open.js';
import type { ResolvedPack } from './resolve-pack.js';

/**
 * The pack.json of a pulled archive, judged the same way by `pull` (read from the extracted folder before it is
 * moved into place) and `inspect` (read from the stream): an archive whose pack.json is missing, unreadable or
 * another pack's is refused by both, so that a scripted pull never ends 0 with a folder that is not the pack
 * asked for, and inspect never shows as that pack what pull refuses.
 */

/** pack.json larger than this inside an archive is not read (a pack.json is a few KB). */
export const MAX_PACK_JSON_BYTES = 4 * 1024 * 1024;

/** Deepest nesting of a manifest or pack.json inspect prints (validate's bound for pack.json, MAX_JSON_DEPTH). */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` holds arrays or objects nested more than `max` deep (walked without recursion). */
export function nestsDeeper(value: unknown, max: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [v, depth] = next;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * Errors that are a verdict on the archive's own bytes (no pack.json, another pack's, not gzip or tar, unsafe),
 * as opposed to a failure to read them (the registry's 500, a reset, a digest that does not match): copy --all
 * leaves out a label on a verdict only, never because its layer could not be read.
 */
const VERDICTS = new WeakSet<Error>();

/** `err`, marked as a verdict on the archive's bytes (see isArchiveVerdict). */
export function archiveVerdict<T extends Error>(err: T): T {
  VERDICTS.add(err);
  return err;
}

/** Whether `err` is a verdict on an archive's bytes, not a failure to read them. */
export function isArchiveVerdict(err: unknown): boolean {
  return err instanceof Error && VERDICTS.has(err);
}

/** What the archive holds where pull writes pack.json: nothing, a file too large to read, or the file's bytes. */
export type FoundPackJson = { bytes: Buffer } | { size: number } | undefined;

/** Longest name or version of a pack.json an error quotes whole (pack names are OCI repository names: far shorter). */
const MAX_SHOWN = 128;

const HINT_OTHER = 'check the name and --registry: this tag holds another kind of artifact, not a pack; nothing was written';

/**
 * The pack.json (parsed) of the archive published as `reference` (`ref` as the user named it), where pull writes
 * it (`<folder>/pack.json`, or `pack.json` at the archive's top when it has no single top folder); refused
 * (REGISTRY) when there is none, it is no JSON object Palette reads, or it names another pack. The version is
 * compared when the tag is a version (semver, as list orders them): a parent tag (`1.2.x`, `stable`) or a
 * digest holds whichever version it was given. A version tag holding another version is that version's when
 * the version's own tag holds the very same manifest (`sameManifestAs`): a tag packpub put on it (push --tag or
 * packpub tag with --allow-other-version, e.g. `1.0.0-ci.7`), not a pack pushed by hand under another version.
 */
export async function judgePackJson(
  reference: string,
  ref: PackRef,
  folder: string | undefined,
  found: FoundPackJson,
  sameManifestAs?: (version: string) => Promise<boolean>,
): Promise<Record<string, unknown>> {
  const where = folder === undefined ? 'at its top (it has no single top folder)' : `in its folder ${JSON.stringify(folder)}`;
  const notPack = (why: string) => archiveVerdict(new PackpubError('REGISTRY', `${reference} is not a pack: ${why}`, { hint: HINT_OTHER }));
  if (found === undefined) throw notPack(`its archive holds no pack.json ${where}`);
  if (!('bytes' in found)) throw notPack(`the pack.json of its archive is ${found.size} bytes, more than a pack.json (${MAX_PACK_JSON_BYTES / 1024 / 1024} MiB at most)`);
  let value: unknown;
  try {
    // Go's encoding/json (Palette's) takes no byte-order mark, nor does JSON.parse.
    value = JSON.parse(found.bytes.toString('utf8'));
  } catch (err) {
    throw notPack(`the pack.json of its archive is not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw notPack('the pack.json of its archive is not a JSON object');
  // JSON.parse takes any depth, but printing it (inspect, text or --json) overflowed the stack, a crash.
  if (nestsDeeper(value, MAX_JSON_DEPTH)) throw notPack(`the pack.json of its archive nests deeper than ${MAX_JSON_DEPTH} levels`);
  const doc = value as Record<string, unknown>;
  const { name, version } = doc;
  // What the archive says is quoted, cut short: a name of megabytes is no message.
  const quote = (v: string) => JSON.stringify(v.length > MAX_SHOWN ? `${v.slice(0, MAX_SHOWN)}...` : v);
  const shown = `${typeof name === 'string' ? `name ${quote(name)}` : 'no name'}, ${typeof version === 'string' ? `version ${quote(version)}` : 'no version'}`;
  const isVersionTag = !ref.version.startsWith('sha256:') && semver.valid(ref.version, { loose: true }) !== null;
  const sameVersion = () => typeof version === 'string' && semver.valid(version, { loose: true }) !== null && semver.eq(version, ref.version, { loose: true });
  const otherVersion = isVersionTag && !sameVersion();
  const versionsOwn = async () => typeof version === 'string' && isValidTag(version) && sameManifestAs !== undefined && (await sameManifestAs(version));
  if (name !== ref.name || (otherVersion && !(await versionsOwn()))) {
    throw archiveVerdict(
      new PackpubError('REGISTRY', `${reference} holds another pack: the pack.json of its archive has ${shown}`, {
        hint: `nothing was written; the tag was pushed or moved by hand: tell its publisher (a pack is published as spectro-packs/archive/<pack.json name>:<pack.json version>)`,
      }),
    );
  }
  // Go's encoding/json reads `Version` or `verſion` as the version, the later key winning, where JSON.parse reads only
  // `version` (validate warns of such keys: Palette's importer is not public). Where that reading names another pack,
  // pull and inspect refuse it: {"version":"1.0.0","Version":"2.0.0"} under 1.0.0 was pulled, exit 0.
  if (!otherVersion) {
    const goName = goRead(doc, 'name');
    const goVersion = goRead(doc, 'version');
    const goSame = () => typeof goVersion === 'string' && semver.valid(goVersion, { loose: true }) !== null && semver.eq(goVersion, ref.version, { loose: true });
    if ((goName !== name || goVersion !== version) && (goName !== ref.name || (isVersionTag && !goSame()))) {
      const goShown = `${typeof goName === 'string' ? `name ${quote(goName)}` : 'no name'}, ${typeof goVersion === 'string' ? `version ${quote(goVersion)}` : 'no version'}`;
      throw archiveVerdict(
        new PackpubError('REGISTRY', `${reference} holds another pack to Go's JSON reader: the pack.json of its archive has keys that differ from "name" or "version" only in case, read by Go's encoding/json (the later key winning) as ${goShown}`, {
          hint: 'nothing was written; Palette may read that pack.json so: tell its publisher (packpub validate warns of such keys)',
        }),
      );
    }
  }
  return doc;
}

/** The value Go's encoding/json reads into the field `field` of a struct: the last key that folds onto it. */
function goRead(doc: Record<string, unknown>, field: string): unknown {
  const keys = Object.keys(doc).filter((key) => goFolded(key) === field);
  return keys.length === 0 ? undefined : doc[keys[keys.length - 1] as string];
}

/** judgePackJson's `sameManifestAs` for a pack resolved on `target`: whether `version`'s tag holds the same manifest. */
export function sameManifestOn(target: ReadableTarget, resolved: ResolvedPack): (version: string) => Promise<boolean> {
  return async (version) => (await target.store.getManifest(resolved.repository, version))?.descriptor.digest === resolved.fetched.descriptor.digest;
}
