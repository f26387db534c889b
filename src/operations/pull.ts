import { readdirSync, rmSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { extractArchive } from '../archive/index.js';
import { isPackpubError, PackpubError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { PackRef } from '../oci/reference.js';
import type { ReadableTarget } from '../targets/open.js';
import { localWriteError, makeDirs, removeMadeFolders } from '../util/fs.js';
import { judgePackJson, MAX_PACK_JSON_BYTES, sameManifestOn, type FoundPackJson } from './archive-pack-json.js';
import { resolvePack } from './resolve-pack.js';
import { leftByGoneRun, ownerTag, runningHere } from './work-dir.js';

export interface PullOptions {
  /** Directory that becomes the pack folder (default `./<name>-<version>`). Must not exist or be empty. */
  outDir?: string;
  /** Refuse archives that expand beyond this many bytes (decompression-bomb guard). */
  maxBytes?: number;
  /** Aborting it gives the pull up at once (ABORTED), the manifest read and the download in flight included; nothing is placed. */
  signal?: AbortSignal;
}

export interface PullResult {
  reference: string;
  digest: Digest;
  layerDigest: Digest;
  path: string;
  entries: number;
  bytes: number;
}

/** The start of the name of a pull's staging folder inside an existing -o folder (then `<owner tag>` and mkdtemp's six characters). */
const STAGING_INSIDE = '.packpub-pull-';

/** `own`: this pull's staging folder inside outDir (fillFolder), which says nothing of an earlier pull. */
function outputTaken(outDir: string, own?: string): PackpubError {
  // A staging folder of another pull inside it: that pull is running (two pulls into one folder at once: each is
  // refused, told it was "interrupted"), or it was killed mid-way (its exit handler never ran).
  const others = readdirSafe(outDir).filter((name) => name.startsWith(STAGING_INSIDE) && name !== own);
  const running = others.some((name) => runningHere(name.slice(STAGING_INSIDE.length)));
  return new PackpubError('USAGE', `${outDir} already exists and is not empty`, {
    hint: running
      ? 'another pull into it is running (it holds that pull\'s .packpub-pull-* folder): wait for it to end, or pull into another folder'
      : others.length > 0
        ? `an earlier pull into it was interrupted (it holds a .packpub-pull-* folder): empty ${outDir} and pull again`
        : 'pass -o with a new directory',
  });
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** -o names a file (or a link to one, or anything else but a folder): the pack cannot go there, nor be put inside. */
function notAFolder(outDir: string): PackpubError {
  return new PackpubError('USAGE', `${outDir} already exists and is not a folder`, { hint: 'pass -o with a new directory, or an empty one: the pack is extracted into it' });
}

/**
 * `own`: the error came from placing an entry inside the folder from this pull's staging folder `own` in it, where
 * ENOTDIR means a file of that name appeared there.
 */
function takenOr(outDir: string, err: unknown, own?: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOTDIR') return own !== undefined ? outputTaken(outDir, own) : notAFolder(outDir);
  return code === 'ENOTEMPTY' || code === 'EEXIST' ? outputTaken(outDir, own) : err;
}

/**
 * Fill the user's existing empty folder with the extracted pack: the folder itself is never removed or
 * replaced (its permissions, owner and mount stay), and the staging folder inside it is the only other
 * entry. Files that appeared there while the pull downloaded (another process) are never deleted to make
 * room: the pull is refused. A move that fails takes back what was moved, so the folder is left empty, as
 * it was. `moved` lists what is in place so far (the caller removes it if the process exits mid-way).
 */
async function fillFolder(source: string, outDir: string, staging: string, moved: string[]): Promise<void> {
  const present = await readdir(outDir).catch((err: unknown) => {
    throw takenOr(outDir, err);
  });
  if (present.some((name) => name !== basename(staging))) throw outputTaken(outDir, basename(staging));
  try {
    // pack.json last: a pull killed mid-way (SIGKILL, no exit handler) leaves a folder that is not a pack,
    // never one with a pack.json and part of its files (chaos s22 F2).
    const names = (await readdir(source)).sort((a, b) => Number(a === 'pack.json') - Number(b === 'pack.json'));
    for (const name of names) {
      await rename(join(source, name), join(outDir, name));
      moved.push(join(outDir, name));
    }
  } catch (err) {
    for (const path of moved.splice(0)) await rm(path, { recursive: true, force: true });
    throw takenOr(outDir, err, basename(staging));
  }
}

/** The pack.json extracted at the top of `folder`, as archive-pack-json.ts judges it (none: not a file). */
async function pulledPackJson(folder: string): Promise<FoundPackJson> {
  const path = join(folder, 'pack.json');
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined || !info.isFile()) return undefined;
  return info.size > MAX_PACK_JSON_BYTES ? { size: info.size } : { bytes: await readFile(path) };
}

/**
 * Why -o cannot become the pack folder; undefined when it is missing or an empty folder (or unreadable: making or
 * filling it says why). A folder holding nothing but the staging folders of pulls into it that were killed while they
 * downloaded (SIGKILL: their exit handler never ran) and whose runs are gone is emptied of them and filled: it was
 * refused, the hint saying to empty it by hand. With anything else in it (part of a pack a killed pull had moved in)
 * it is refused as before, its staging folder the sign of the interrupted pull.
 */
async function outputRefusal(dir: string): Promise<PackpubError | undefined> {
  try {
    if (!(await stat(dir)).isDirectory()) return notAFolder(dir);
    const names = await readdir(dir);
    if (names.length > 0 && names.every((name) => name.startsWith(STAGING_INSIDE))) await removeGoneStaging(dir, STAGING_INSIDE);
    return names.length === 0 || (await readdir(dir)).length === 0 ? undefined : outputTaken(dir);
  } catch {
    return undefined;
  }
}

/**
 * Download a pack, verify every digest, and extract it safely into a folder of its own.
 * Extraction happens in a staging folder and is moved into place at the end, so a refused, failed or
 * interrupted pull leaves nothing half-written at the target, and an existing empty folder is kept.
 */
export async function pullPack(target: ReadableTarget, ref: PackRef, options: PullOptions = {}): Promise<PullResult> {
  const outDir = resolve(options.outDir ?? `${ref.name}-${ref.version}`);
  // A signal aborted already (or while a step that does not look at it ran: an OCI layout's reads) places nothing.
  const stopIfAborted = () => {
    if (options.signal?.aborted === true) throw interrupted(ref);
  };
  stopIfAborted();
  const refusal = await outputRefusal(outDir);
  if (refusal !== undefined) throw refusal;
  const resolved = await resolvePack(target, ref, options.signal).catch((err: unknown) => {
    throw options.signal?.aborted === true ? interrupted(ref) : err;
  });
  // An existing (empty) folder is filled in place, from a staging folder inside it (same filesystem, even
  // when the folder is a mount point); a new one is renamed into place whole from a staging folder beside it.
  const existing = (await stat(outDir).catch(() => undefined))?.isDirectory() === true;
  /** The first folder above -o this pull made (`-o new/deeper/hello`: new): taken back when the pull fails. */
  let made: string | undefined;
  // Staging names carry their run (work-dir.ts ownerTag): what a killed pull left beside -o (no exit handler ran)
  // is removed by the next pull to the same -o once that run is gone (chaos s22 F5).
  const beside = `.${basename(outDir)}.packpub-`;
  const staging = await (async () => {
    if (existing) return mkdtemp(join(outDir, `${STAGING_INSIDE}${ownerTag()}`));
    made = await makeDirs(dirname(outDir));
    await removeGoneStaging(dirname(outDir), beside);
    return mkdtemp(join(dirname(outDir), `${beside}${ownerTag()}`));
  })().catch((err: unknown) => {
    removeMadeFolders(made, dirname(outDir));
    throw localWriteError(err, outDir);
  });
  const moved: string[] = [];
  let placed = false;
  // An interrupted pull exits through process.exit (cli/signals.ts): still leave nothing beside or in the target.
  const removeStaging = () => {
    for (const path of moved) rmSync(path, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
    removeMadeFolders(made, dirname(outDir));
  };
  process.once('exit', removeStaging);
  try {
    const tree = join(staging, 'tree');
    // One pass: the blob streams through the digest check into the extractor, which places nothing
    // until the whole archive was read and its digest matched. The store resumes a connection lost
    // mid-body itself, within the retry deadline (no second loop here: it would multiply the deadline).
    // fetchBlob verifies the digest while the blob flows (the store's stream errors on a mismatch).
    const blob = await target.store.fetchBlob(resolved.repository, resolved.layer, options.signal);
    const extracted = await extractArchive(blob, tree, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    });
    stopIfAborted();
    // The archive holds the pack folder as its single top-level directory: that folder becomes outDir.
    const top = extracted.topLevel.length === 1 ? join(tree, extracted.topLevel[0] as string) : tree;
    const source = (await stat(top)).isDirectory() ? top : tree;
    // Only the pack asked for is placed: an archive with no pack.json, or another pack's, is refused as inspect
    // refuses it (archive-pack-json.ts), before anything reaches the target.
    await judgePackJson(resolved.reference, ref, source === tree ? undefined : extracted.topLevel[0], await pulledPackJson(source), sameManifestOn(target, resolved));
    stopIfAborted();
    if (existing) await fillFolder(source, outDir, staging, moved);
    else await rename(source, outDir).catch((err: unknown) => Promise.reject(takenOr(outDir, err)));
    moved.length = 0; // in place: no longer the pull's to take back
    placed = true;
    return {
      reference: resolved.reference,
      digest: resolved.fetched.descriptor.digest,
      layerDigest: resolved.layer.digest,
      path: outDir,
      entries: extracted.entries,
      bytes: extracted.bytes,
    };
  } catch (err) {
    // Given up through the signal (an interrupt, a caller's deadline): the request or extraction in flight ends at once.
    if (options.signal?.aborted === true) throw interrupted(ref);
    // gunzip or tar refused the bytes before the blob's end, where the store checks its digest: other bytes than the
    // digest names (a layout file damaged at its size, a proxy's) fail so too, and were called "not valid gzip".
    // Read the blob through once more, as inspect does: a digest that does not match is the cause to tell.
    if (isPackpubError(err, 'UNSAFE_ARCHIVE')) {
      await (await import('./inspect.js')).drainBlob(target, resolved, options.signal).catch((cause: unknown) => {
        throw options.signal?.aborted === true ? interrupted(ref) : cause;
      });
    }
    // An entry whose path, under the staging folder, passes what the system takes (an archive's paths near 4096
    // bytes): "a bug in packpub" before.
    if (((isPackpubError(err, 'LOCAL_WRITE') ? err.cause : err) as NodeJS.ErrnoException | undefined)?.code === 'ENAMETOOLONG') {
      throw new PackpubError('LOCAL_WRITE', `cannot extract ${resolved.reference} into ${outDir}: a path of its archive, under that folder, is longer than this system allows (ENAMETOOLONG)`, {
        hint: 'pull into a folder with a shorter path (-o); an archive whose paths come near 4096 bytes cannot be extracted anywhere: ask its publisher to shorten them',
        cause: err,
      });
    }
    // A full disk while extracting names the folder asked for, not the staging folder beside it.
    throw localWriteError(isPackpubError(err, 'LOCAL_WRITE') ? err.cause : err, outDir);
  } finally {
    process.off('exit', removeStaging);
    await rm(staging, { recursive: true, force: true });
    // A refused or failed pull leaves no folder of its own above -o either (only empty ones are removed).
    if (!placed) removeMadeFolders(made, dirname(outDir));
  }
}

/** A pull given up through its signal: nothing is placed (the staging folder is taken away). */
function interrupted(ref: PackRef): PackpubError {
  return new PackpubError('ABORTED', `pull of ${ref.name}:${ref.version} interrupted; nothing was written: the pack folder appears only once all of it is verified`);
}

/** Remove the staging folders `<prefix><owner>...` in `dir` that runs now gone left (a pull killed while it downloaded). */
async function removeGoneStaging(dir: string, prefix: string): Promise<void> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(prefix));
  for (const name of names) {
    const path = join(dir, name);
    if (await leftByGoneRun(path, name.slice(prefix.length))) await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}
