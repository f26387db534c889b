import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createHash } from 'node:crypto';
import semver from 'semver';
import { PackpubError, errorMessage, isPackpubError } from '../errors.js';
import { sha256Digest, type Digest } from '../oci/digest.js';
import { parseManifest, type Descriptor } from '../oci/manifest.js';
import { NOT_PACK_CONFIG_TYPES } from '../oci/media-types.js';
import { isValidRepositoryPath, validateRepositoryPath, validateTag } from '../oci/reference.js';
import { baseRepository, packNameOf, packRepository } from '../pack/naming.js';
import type { ReadableTarget, WritableTarget } from '../targets/open.js';
import { TAG_RACE_HINT, type ReadableStore } from '../targets/artifact-store.js';
import { mapConcurrent, onceper } from '../util/concurrency.js';
import { MAX_PACKS, MAX_REREADS, pauseBeforeReread, readTagLists, sortVersions } from './list.js';
import { isArchiveVerdict } from './archive-pack-json.js';
import { readBackError, tagHolds, tagHoldsAfterWrite } from './read-back.js';
import { cosignAttachment, heldManifest, packManifest, type HeldManifest } from './resolve-pack.js';
import { summarizeCopy, type CopyEventSink, type CopyReport, type CopyResult, type NotServedPack } from './copy-report.js';
import { counting, ensureBaseRepository, runConcurrency, errorInfo, paletteCacheNote, plannedRefusal, pushManifestOwed, refusalWarning, sparedOnItsWord } from './publish.js';
import type { PlannedAction } from './push-report.js';

export interface CopyOptions {
  /** Pack name; with `version` one version, with `all` every version. Without a name, `all` copies every pack. */
  name?: string;
  version?: string;
  /** Every version of `name`, or with no name every pack under the source base path. */
  all?: boolean;
  /** Replace a different manifest already under the version at the destination. */
  force?: boolean;
  /** Keep a different manifest already under the version, and report it as skipped. */
  skipExisting?: boolean;
  /** Report what would happen; write nothing. */
  dryRun?: boolean;
  /** Stop starting new versions after the first failure or conflict. */
  failFast?: boolean;
  /** Versions copied at once (default: as push). */
  concurrency?: number;
  onEvent?: CopyEventSink;
  signal?: AbortSignal;
  /** `all`: the pause before a listed tag that answered "not there" is read again (default: the retry policy's first delay). */
  rereadDelayMs?: number;
}

/**
 * `pushBlob` wants a synchronous `open()`; fetching from the source is async. The PassThrough is
 * returned at once and fed when the fetch answers, so the blob streams from one store to the other
 * without being held in memory.
 */
function openSourceBlob(source: ReadableStore, repo: string, descriptor: Descriptor, onBytes: (total: number) => void): Readable {
  const out = new PassThrough();
  source
    .fetchBlob(repo, descriptor)
    .then((stream) => {
      // The source store verifies the digest while the blob flows; this only counts for progress.
      let total = 0;
      const count = counting((n) => onBytes((total += n)));
      stream.on('error', (err) => out.destroy(err));
      out.on('close', () => {
        if (!stream.destroyed) stream.destroy();
      });
      stream.pipe(count).pipe(out);
    })
    .catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

interface Selected {
  name: string;
  version: string;
}

/** What --all without a name found: the versions, and the packs whose repository the source's listing names but whose tag list answers 404. */
interface Selection {
  selected: Selected[];
  tagsNotServed: NotServedPack[];
}

async function selectVersions(from: ReadableTarget, options: CopyOptions): Promise<Selection> {
  if (options.name !== undefined) validateRepositoryPath(options.name, 'pack name');
  if (options.all === true && options.version !== undefined) {
    throw new PackpubError('USAGE', `give either ${options.name ?? '<name>'}:${options.version} or --all, not both`, {
      hint: '--all copies every version of the named pack (or every pack, without a name)',
    });
  }
  if (options.all !== true) {
    if (options.name === undefined || options.version === undefined) {
      throw new PackpubError('USAGE', 'name what to copy: <name>:<version>, <name> --all, or --all for every pack', {
        hint: 'e.g. packpub copy hello-universe:1.2.0 --from staging --to prod',
      });
    }
    validateTag(options.version, 'pack version');
    return { selected: [{ name: options.name, version: options.version }], tagsNotServed: [] };
  }
  const store = from.store;
  const repositories =
    options.name !== undefined ? [packRepository(from.basePath, options.name)] : (await store.listRepositories(baseRepository(from.basePath))).sort();
  // As list: a tag list per repository, one after the other; a huge or hostile catalog is refused before the first.
  if (repositories.length > MAX_PACKS) {
    throw new PackpubError('REGISTRY', `${store.reference(baseRepository(from.basePath))} holds ${repositories.length} repositories; copy --all reads at most ${MAX_PACKS} (a tag list each)`, {
      hint: 'copy packs by name (<name> --all), or give --from a base path deeper down; if the registry should not hold that many, report it to its owner',
    });
  }
  const selected: Selected[] = [];
  const tagsNotServed: NotServedPack[] = [];
  // As list does: names no registry may hold are left out; a repository the listing names whose tag list
  // answers 404 is read again after a pause, and if it still does, named in the report (not left out unseen).
  const packs = repositories.flatMap((repository) => {
    const name = packNameOf(from.basePath, repository);
    return name === undefined || !isValidRepositoryPath(repository) ? [] : [{ name, repository }];
  });
  const tagLists = await readTagLists(store, packs.map((p) => p.repository), {
    named: options.name !== undefined,
    concurrency: 1,
    ...(options.rereadDelayMs === undefined ? {} : { rereadDelayMs: options.rereadDelayMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  packs.forEach(({ name, repository }, i) => {
    const tags = tagLists[i];
    if (tags === undefined) tagsNotServed.push({ name, source: store.reference(repository) });
    else for (const version of sortVersions(tags)) selected.push({ name, version });
  });
  if (selected.length === 0) {
    const what = options.name === undefined ? `no packs under ${store.reference(baseRepository(from.basePath))}` : `${store.reference(packRepository(from.basePath, options.name))} has no versions`;
    const unserved = tagsNotServed.length === 0 ? '' : ` (${store.location} lists the repositories of ${tagsNotServed.map((p) => p.name).join(', ')}, but answers 404 for their tag lists)`;
    throw new PackpubError('NOT_FOUND', `nothing to copy: ${what}${unserved}`, {
      hint: `check --from (${from.display}) and the pack name; packpub list shows what is published there`,
    });
  }
  return { selected, tagsNotServed };
}

/**
 * Copy published packs from one target to another by digest: the destination ends up with the
 * source's manifest bytes, so the digest Palette sees is the same on both sides. Blobs stream from
 * source to destination and are verified on the way; blobs the destination has are not sent.
 * An identical digest at the destination is `unchanged`; a different one is a conflict unless
 * `force` (replace) or `skipExisting` (keep).
 */
export async function copyPacks(from: ReadableTarget, to: WritableTarget, options: CopyOptions = {}): Promise<CopyReport> {
  const started = Date.now();
  const emit: CopyEventSink = options.onEvent ?? (() => undefined);
  if (options.force === true && options.skipExisting === true) {
    throw new PackpubError('USAGE', '--force and --skip-existing contradict each other: choose one');
  }
  const concurrency = runConcurrency('copyPacks', options.concurrency);
  const { selected, tagsNotServed } = await selectVersions(from, options);
  const refs = (item: Selected) => {
    const srcRepo = packRepository(from.basePath, item.name);
    const dstRepo = packRepository(to.basePath, item.name);
    return { srcRepo, dstRepo, base: { name: item.name, version: item.version, source: from.store.reference(srcRepo, item.version), destination: to.store.reference(dstRepo, item.version) } };
  };
  emit({ type: 'selected', total: selected.length, versions: selected.map((item) => refs(item).base) });

  const ensureBase = onceper((repo: string) => ensureBaseRepository(to.store, repo));
  const prepare = onceper((repo: string) => to.store.prepareRepository(repo));
  // Two tags of one repository often share blobs: upload each blob once per destination repository.
  // The first caller counts the bytes; later callers wait for it and count nothing.
  const blobsInFlight = new Map<string, Promise<void>>();
  const copyBlob = async (repo: string, srcRepo: string, item: Selected, descriptor: Descriptor): Promise<number> => {
    const key = `${repo}@${descriptor.digest}`;
    const pending = blobsInFlight.get(key);
    if (pending !== undefined) {
      await pending;
      return 0;
    }
    const { name, version } = item;
    const { digest, size } = descriptor;
    let sent = 0;
    const work = (async () => {
      const open = () => openSourceBlob(from.store, srcRepo, descriptor, (bytes) => emit({ type: 'blob-upload-progress', name, version, digest, bytes, size }));
      const there = await to.store.hasBlob(repo, digest, size);
      // An OCI layout's file of the blob's size is read whole: one damaged at its size was held, the copy `copied`.
      if (there && (await to.store.blobIntact?.(repo, descriptor)) !== false) {
        sparedOnItsWord(to.store, repo, descriptor, open);
        emit({ type: 'blob-upload-done', name, version, digest, size, skipped: true });
        return;
      }
      await to.store.pushBlob(repo, descriptor, open, there ? { replace: true } : undefined);
      sent = size;
      emit({ type: 'blob-upload-done', name, version, digest, size, skipped: false });
    })();
    blobsInFlight.set(key, work);
    work.catch(() => blobsInFlight.delete(key));
    await work;
    return sent;
  };

  // --all: a tag the tag list just named that answers 404 is read once more after a pause, as list does (at most
  // MAX_REREADS in a run: a registry naming thousands of tags it does not serve is no passing fault).
  let rereads = 0;
  const rereadAllowed = async (): Promise<boolean> => {
    if (options.all !== true || rereads >= MAX_REREADS) return false;
    rereads++;
    await pauseBeforeReread(options.rereadDelayMs, options.signal);
    return true;
  };

  let stop = false;
  // Each selected version's outcome once known (ownVersionHeld); tags of a version copied in this run wait for it.
  const outcomes = new Map<string, CopyResult>();
  const chosen = new Set(selected.map((s) => `${s.name}:${s.version}`));
  const versionResult = (name: string, version: string): CopyResult | 'pending' | undefined => {
    const key = `${name}:${version}`;
    return outcomes.get(key) ?? (chosen.has(key) && !versionsDone ? 'pending' : undefined);
  };
  let versionsDone = false;
  const afterVersions: Selected[] = [];
  const copyItem = async (item: Selected): Promise<CopyResult | undefined> => {
    const { srcRepo, dstRepo, base } = refs(item);
    if (stop || options.signal?.aborted === true) {
      const result: CopyResult = { ...base, status: 'failed', copiedBytes: 0, durationMs: 0, error: { code: 'ABORTED', message: 'not started: the run was stopped' } };
      outcomes.set(`${item.name}:${item.version}`, result);
      emit({ type: 'pack-done', result });
      return result;
    }
    let result: CopyResult;
    try {
      result = await copyOne(from, to, item, base, srcRepo, dstRepo, options, { emit, ensureBase, prepare, copyBlob, rereadAllowed, versionResult });
    } catch (err) {
      if (!(err instanceof AfterVersions)) throw err;
      afterVersions.push(item);
      return undefined;
    }
    outcomes.set(`${item.name}:${item.version}`, result);
    emit({ type: 'pack-done', result });
    if (options.failFast === true && (result.status === 'failed' || result.status === 'conflict')) stop = true;
    return result;
  };
  // cosign's tags after the versions they sign: a registry may look the signed artifact up when a signature is
  // written (Harbor before 2.8 answers such a PUT 404 while it is not there yet, though it stored it).
  const signs = selected.map((item) => cosignAttachment(item.version) !== undefined);
  await mapConcurrent(selected.filter((_, i) => !signs[i]), concurrency, copyItem);
  // Tags of a version that holds another version's pack, copied in this run too: after the versions (ownVersionHeld).
  versionsDone = true;
  await mapConcurrent(afterVersions, concurrency, copyItem);
  await mapConcurrent(selected.filter((_, i) => signs[i]), concurrency, copyItem);
  const results = selected.map((s) => outcomes.get(`${s.name}:${s.version}`) as CopyResult);
  // --all found tags, but none holds a pack (each left out as notPack): nothing was copied, as when there are no
  // tags at all, not a run that did what was asked (a repository of packs packpub does not recognise included).
  if (results.length > 0 && results.every((r) => r.notPack !== undefined)) {
    const where = options.name === undefined ? `under ${from.store.reference(baseRepository(from.basePath))}` : `of ${from.store.reference(packRepository(from.basePath, options.name))}`;
    throw new PackpubError('NOT_FOUND', `nothing to copy: no tag ${where} holds a pack (${results.length} tag${results.length === 1 ? '' : 's'} hold${results.length === 1 ? 's' : ''} another kind of artifact)`, {
      hint: `check --from (${from.display}) and the pack name; packpub list shows what each tag there holds`,
    });
  }
  return {
    from: from.display,
    to: to.display,
    results,
    summary: summarizeCopy(results),
    durationMs: Date.now() - started,
    aborted: stop || options.signal?.aborted === true,
    ...(tagsNotServed.length === 0 ? {} : { tagsNotServed }),
  };
}

/**
 * A tag --all does not leave out: a pack version (semver, as list orders them) holding an image manifest of no
 * other known kind (not a container image, a Helm chart, an index), with other than one layer: most likely a
 * pack pushed wrong, which a promotion must not pass over with exit 0. It fails as when it is named.
 */
function brokenPackVersion(held: HeldManifest, tag: string): boolean {
  return held.manifest !== undefined && !NOT_PACK_CONFIG_TYPES.has(held.manifest.config.mediaType) && semver.valid(tag, { loose: true }) !== null;
}

/** Whether the store holds `blob` whole: there, and, where hasBlob trusts a file's size (an OCI layout), its bytes read and checked. */
async function holdsWhole(store: WritableTarget['store'], repository: string, blob: Descriptor): Promise<'held' | 'missing' | 'damaged'> {
  if (!(await store.hasBlob(repository, blob.digest, blob.size))) return 'missing';
  return (await store.blobIntact?.(repository, blob)) === false ? 'damaged' : 'held';
}

/** The blobs of `blobs` the store does not hold whole (holdsWhole), each with what it found. */
async function missingBlobs(store: WritableTarget['store'], repository: string, blobs: Descriptor[]): Promise<Array<{ blob: Descriptor; found: 'missing' | 'damaged' }>> {
  const found = await Promise.all(blobs.map((b) => holdsWhole(store, repository, b)));
  return blobs.flatMap((blob, i) => (found[i] === 'held' ? [] : [{ blob, found: found[i] as 'missing' | 'damaged' }]));
}

/** Thrown for a tag of a version this --all run copies too (see ownVersionHeld): it is copied after the versions. */
class AfterVersions extends Error {}

/**
 * judgePackJson's `sameManifestAs` for copy: a version tag holding another version's pack (`version`) is that
 * version's extra tag (push --tag, tag --allow-other-version) when the version's own tag holds the same manifest at
 * the source, and is copied only where pull at the destination will take it too: the destination's own tag of that
 * version holds the same manifest. Under --all, with that version copied in this run as well, it waits until the
 * versions are done (AfterVersions); a dry run counts the version's plan.
 */
async function ownVersionHeld(
  from: ReadableTarget,
  to: WritableTarget,
  item: Selected,
  base: Pick<CopyResult, 'source' | 'destination'>,
  srcRepo: string,
  dstRepo: string,
  digest: Digest,
  version: string,
  options: CopyOptions,
  ctx: CopyContext,
): Promise<boolean> {
  if ((await from.store.getManifest(srcRepo, version))?.descriptor.digest !== digest) return false;
  const own = ctx.versionResult(item.name, version);
  if (options.all === true && own === 'pending') throw new AfterVersions();
  if (options.dryRun === true && own !== 'pending' && own?.digest === digest && own.plan !== undefined && own.plan !== 'conflict' && own.plan !== 'skip') return true;
  const there = (await to.store.getManifest(dstRepo, version))?.descriptor.digest;
  if (there === digest) return true;
  const versionRef = to.store.reference(dstRepo, version);
  throw new PackpubError(there === undefined ? 'NOT_FOUND' : 'CONFLICT', `${base.source} is a tag of version ${version} (its tag holds the same manifest there), and ${versionRef} ${there === undefined ? 'does not exist' : `holds other content (${there})`}: pull would refuse ${base.destination}`, {
    hint: there === undefined ? `copy ${item.name}:${version} first (copy ${item.name} --all copies the version with its tags); nothing was written` : `the destination has another ${item.name}:${version}; nothing was written`,
  });
}

interface CopyContext {
  /** The outcome of `name:version`'s own copy in this run: 'pending' while it is still to come, undefined when not selected. */
  versionResult: (name: string, version: string) => CopyResult | 'pending' | undefined;
  emit: CopyEventSink;
  ensureBase: (repo: string) => Promise<void>;
  prepare: (repo: string) => Promise<void>;
  copyBlob: (repo: string, srcRepo: string, item: Selected, descriptor: Descriptor) => Promise<number>;
  /** Whether a listed tag that answered 404 is read again (after the pause it waited). */
  rereadAllowed: () => Promise<boolean>;
}

async function copyOne(
  from: ReadableTarget,
  to: WritableTarget,
  item: Selected,
  base: Pick<CopyResult, 'name' | 'version' | 'source' | 'destination'>,
  srcRepo: string,
  dstRepo: string,
  options: CopyOptions,
  ctx: CopyContext,
): Promise<CopyResult> {
  const started = Date.now();
  let digest: Digest | undefined;
  let size: number | undefined;
  let copiedBytes = 0;
  const done = (rest: Omit<CopyResult, 'name' | 'version' | 'source' | 'destination' | 'durationMs' | 'copiedBytes'>): CopyResult => {
    // What the destination repository keeps that differs from what was asked (an existing ECR repository's settings).
    const warnings = [...(rest.warnings ?? []), ...(to.store.repositoryWarnings?.(dstRepo) ?? [])];
    return { ...base, ...rest, copiedBytes, durationMs: Date.now() - started, ...(warnings.length === 0 ? {} : { warnings }) };
  };
  try {
    ctx.emit({ type: 'pack-start', ...base });
    let fetched = await from.store.getManifest(srcRepo, item.version);
    if (fetched === undefined && (await ctx.rereadAllowed())) fetched = await from.store.getManifest(srcRepo, item.version);
    if (fetched === undefined) {
      const hint = `list what is published with: packpub list ${item.name}${from.flags ?? ''}`;
      // --all took the tag from the tag list: it is there, its manifest is not served (also when read again).
      if (options.all === true) throw new PackpubError('NOT_FOUND', `${base.source} is listed, but ${from.store.location} serves no manifest for it`, { hint: `a cache or replica behind the tag list? copy it again later; ${hint}` });
      throw new PackpubError('NOT_FOUND', `${base.source} does not exist`, { hint });
    }
    // Copy by digest: the bytes we write must be exactly the bytes whose digest the source reports.
    digest = sha256Digest(fetched.bytes);
    if (digest !== fetched.descriptor.digest) {
      throw new PackpubError('DIGEST_MISMATCH', `${base.source}: manifest bytes hash to ${digest}, the source says ${fetched.descriptor.digest}`);
    }
    // A pack: copy promotes packs (an index, another artifact or several layers are refused, as pull refuses them).
    // A cosign signature, attestation or SBOM of a version (sha256-<hex>.sig ...) goes verbatim, as skopeo sync and
    // crane copy take every tag: the digest is kept, so it still verifies at the destination. Any other tag --all
    // lists is left out (named, not a failure); named on its own, it is refused.
    const held = heldManifest(fetched.bytes, item.version);
    if (held.notPack !== undefined && (held.manifest === undefined || cosignAttachment(item.version) === undefined)) {
      if (options.all === true && !brokenPackVersion(held, item.version)) return done({ status: options.dryRun === true ? 'planned' : 'skipped', ...(options.dryRun === true ? { plan: 'skip', bytesToCopy: 0 } : {}), digest, notPack: held.notPack });
      packManifest(fetched.bytes, base.source);
    }
    const manifest = held.manifest ?? packManifest(fetched.bytes, base.source).manifest;
    const blobs: Descriptor[] = [manifest.config, ...manifest.layers];
    size = blobs.reduce((n, b) => n + b.size, 0);

    // Declaring the push first gets a pull,push token in one go, so rejected credentials are reported as
    // missing push permission (and ECR creates the repository); a dry run only reads, and makes the same
    // check of an existing repository's settings (checkRepository): a refusal-to-come is a planned conflict.
    const refused = options.dryRun === true ? await plannedRefusal(to.store, baseRepository(to.basePath), dstRepo) : undefined;
    if (options.dryRun !== true) await ctx.prepare(dstRepo);
    // Read (GET, the bytes hashed), not a HEAD's word: "unchanged" ends in exit 0 with nothing written, and a
    // version a cache calls absent would be written over without --force.
    const existing = (await to.store.getManifest(dstRepo, item.version))?.descriptor;
    if (refused !== undefined) {
      return done({ status: 'planned', plan: 'conflict', digest, ...(existing === undefined ? {} : { existingDigest: existing.digest }), size, bytesToCopy: 0, warnings: [refusalWarning(refused)] });
    }
    let overwrite = false;
    if (existing !== undefined) {
      if (existing.digest === digest) {
        // An OCI layout is files anyone can remove: a blob of the version gone (by hand, a cleanup) left it
        // "unchanged", exit 0, while pull fails on it. Written again from the source (a file check per blob; a
        // registry keeps what its manifests name, and is not asked: a request per blob on every re-run).
        // A blob file damaged at its own size (a flipped bit, a region a crash zeroed) is read as such (blobIntact).
        const missing = to.store.kind === 'oci-layout' ? await missingBlobs(to.store, dstRepo, blobs) : [];
        if (options.dryRun === true) return done({ status: 'planned', plan: 'unchanged', bytesToCopy: missing.reduce((n, m) => n + m.blob.size, 0), digest, size });
        for (const { blob } of missing) copiedBytes += await ctx.copyBlob(dstRepo, srcRepo, item, blob);
        const repaired = (['missing', 'damaged'] as const).flatMap((found) => {
          const these = missing.filter((m) => m.found === found).map((m) => m.blob.digest);
          const what = found === 'missing' ? 'missing from the layout' : 'damaged in the layout (its file does not match its digest)';
          return these.length === 0 ? [] : [{ message: `${base.destination} held this manifest, but ${these.join(', ')} ${these.length === 1 ? 'was' : 'were'} ${what}: written again from the source` }];
        });
        return done({ status: 'unchanged', digest, size, ...(repaired.length === 0 ? {} : { warnings: repaired }) });
      }
      const existingDigest = existing.digest;
      if (options.skipExisting === true) {
        return done({ status: options.dryRun === true ? 'planned' : 'skipped', ...(options.dryRun === true ? { plan: 'skip', bytesToCopy: 0 } : {}), digest, existingDigest, size });
      }
      if (options.force !== true) {
        if (options.dryRun === true) return done({ status: 'planned', plan: 'conflict', digest, existingDigest, size, bytesToCopy: 0 });
        return done({
          status: 'conflict',
          digest,
          existingDigest,
          size,
          error: {
            code: 'CONFLICT',
            message: `${base.destination} already holds a different manifest (${existingDigest}; the source has ${digest})`,
            // cosign's tag at the destination holds its own signatures (signed there too): Palette never reads it.
            hint: cosignAttachment(item.version) === undefined ? paletteCacheNote('Copy') : `the destination holds other content under cosign's tag (signed there as well?): --skip-existing keeps it, --force replaces it with the source's`,
          },
        });
      }
      overwrite = true;
    }

    // What pull refuses is not published either (archive-pack-json.ts): an archive that holds no pack.json, or
    // another pack's (another version under a version tag, unless that version's own tag holds the same manifest:
    // a tag packpub put on it). Read from the source as pull reads it, before anything is written. A cosign tag
    // goes verbatim: it holds no pack.
    // --all leaves out a tag that is no version (as it leaves out other artifacts) and fails a version tag.
    if (cosignAttachment(item.version) === undefined && held.layer !== undefined) {
      const { readPackJson } = await import('./inspect.js');
      try {
        await readPackJson(from, { repository: srcRepo, reference: base.source, fetched, manifest, layer: held.layer }, item, (version) => ownVersionHeld(from, to, item, base, srcRepo, dstRepo, digest as Digest, version, options, ctx));
      } catch (err) {
        if (err instanceof AfterVersions) throw err;
        // Only a verdict on the archive's bytes: a layer the registry failed to serve is no archive pull refuses.
        if (options.all !== true || semver.valid(item.version, { loose: true }) !== null || !isArchiveVerdict(err) || !isPackpubError(err)) throw err;
        const why = err.message.replace(`could not read the archive of ${base.source}: `, 'its archive cannot be read: ').replace(`${base.source} is not a pack: `, '').replace(`${base.source} `, '');
        return done({ status: options.dryRun === true ? 'planned' : 'skipped', ...(options.dryRun === true ? { plan: 'skip', bytesToCopy: 0 } : {}), digest, notPack: `an archive pull refuses: ${why}` });
      }
    }

    if (options.dryRun === true) {
      // A store that refuses every write (Harbor in read-only mode): the real run fails here, exit 1; so does the plan.
      const refusedWrite = to.store.refusesWriting?.(dstRepo);
      if (refusedWrite !== undefined) throw refusedWrite;
    }
    // --force where the store would still refuse to replace the version (an immutable ECR repository or Harbor tag
    // rule): asked before any blob is copied, as push; a dry run plans the conflict.
    const refusedReplace = overwrite && existing !== undefined ? await to.store.refusesReplacing?.(dstRepo, item.version, existing.digest) : undefined;
    if (refusedReplace !== undefined && existing !== undefined) {
      if (options.dryRun !== true) throw refusedReplace;
      return done({ status: 'planned', plan: 'conflict', digest, existingDigest: existing.digest, size, bytesToCopy: 0, warnings: [refusalWarning(refusedReplace)] });
    }
    if (options.dryRun === true) {
      let bytesToCopy = 0;
      for (const blob of blobs) if ((await holdsWhole(to.store, dstRepo, blob)) !== 'held') bytesToCopy += blob.size;
      return done({ status: 'planned', plan: overwrite ? 'overwrite' : 'new', digest, ...(overwrite && existing !== undefined ? { existingDigest: existing.digest } : {}), size, bytesToCopy });
    }

    // As push: the base repository first (Harbor shows it, ECR needs it), then this pack's repository.
    if (to.store.kind !== 'oci-layout') await ctx.ensureBase(baseRepository(to.basePath));
    await ctx.prepare(dstRepo);
    // Blobs before the manifest, so the tag never points at missing content.
    for (const blob of blobs) {
      copiedBytes += await ctx.copyBlob(dstRepo, srcRepo, item, blob);
    }
    // The uploads took time: another publisher may have written this version meanwhile. Look again right
    // before the write (registries offer no compare-and-swap; the OCI layout checks `ifTagHolds` under its lock).
    const expected = existing?.digest ?? null;
    const before = await tagHolds(to.store, dstRepo, item.version);
    if (before === digest) return done({ status: 'unchanged', digest, size });
    if (before !== expected) {
      return done({
        status: 'conflict',
        digest,
        ...(before === null ? {} : { existingDigest: before }),
        size,
        error: {
          code: 'CONFLICT',
          message: `${base.destination} was written by another publisher during this copy (it holds ${before ?? 'nothing'}; the source has ${digest})`,
          hint: 'nothing was overwritten; check what it holds (packpub inspect), then copy again (--force replaces it)',
        },
      });
    }
    ctx.emit({ type: 'manifest-start', name: item.name, version: item.version });
    const put = await pushManifestOwed(to.store, dstRepo, item.version, fetched.bytes, fetched.descriptor.mediaType, { ifTagHolds: expected });
    const written = put.digest;
    copiedBytes += put.resentBytes;
    if (written !== digest) {
      throw new PackpubError('DIGEST_MISMATCH', `${base.destination}: the destination stored the manifest as ${written}, not ${digest}`, {
        hint: 'the destination rewrote the manifest; Palette would see another digest than the source has',
      });
    }
    // Read back (read-back.ts): a write accepted and not kept, or a publisher right after, is not "copied".
    const after = await tagHoldsAfterWrite(to.store, dstRepo, item.version, (held) => held !== digest && (held === null || held === before), { delayMs: options.rereadDelayMs });
    if (after !== digest) {
      const err = readBackError(base.destination, digest, after, {
        when: 'after the destination accepted it',
        nothing: 'the destination or a proxy in front of it accepted the manifest without keeping it; copy again, and report it to its owner if it persists',
        other: TAG_RACE_HINT,
      }, before);
      if (after === null || err.code === 'REGISTRY') throw err;
      return done({ status: 'conflict', digest, existingDigest: after, size, error: { code: 'CONFLICT', message: err.message, hint: TAG_RACE_HINT } });
    }
    return done({ status: overwrite ? 'overwritten' : 'copied', digest, ...(overwrite && existing !== undefined ? { existingDigest: existing.digest } : {}), size });
  } catch (err) {
    if (err instanceof AfterVersions) throw err;
    const info = errorInfo(err);
    return done({
      status: info.code === 'CONFLICT' ? 'conflict' : 'failed',
      ...(digest === undefined ? {} : { digest }),
      ...(size === undefined ? {} : { size }),
      error: info,
    });
  }
}

export {
  copySucceeded,
  summarizeCopy,
  type CopyEvent,
  type CopyEventSink,
  type CopyReport,
  type CopyResult,
  type CopyStatus,
  type CopySummary,
  type NotServedPack,
} from './copy-report.js';
