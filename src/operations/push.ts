import { createReadStream, rmdirSync, rmSync } from 'node:fs';
import type { Finding } from '../pack/findings.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { BuiltArchive } from '../archive/build.js';
import type { PackEntry } from '../archive/walk.js';
import { archiveMtime } from '../archive/format.js';
import { folderCheck, type CheckedFolder } from '../archive/stat-tree.js';
import { PackpubError, errorMessage, isPackpubError, type ErrorCode } from '../errors.js';
import { isDigest, sha256Digest, type Digest } from '../oci/digest.js';
import {
  EMPTY_CONFIG,
  EMPTY_CONFIG_BYTES,
  createdTime,
  emptyArtifactManifest,
  packLayer,
  packManifest,
  parseManifest,
  serializeManifest,
  type Descriptor,
} from '../oci/manifest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../oci/media-types.js';
import { validateRepositoryPath, validateTag } from '../oci/reference.js';
import { archiveFileName, baseRepository, packRepository } from '../pack/naming.js';
import type { PackTarget } from '../targets/open.js';
import { TAG_RACE_HINT, type ArtifactStore, type FetchedManifest, type StoreWarning, type WritableStore } from '../targets/artifact-store.js';
import { deferred, mapConcurrent, onceper, type Deferred } from '../util/concurrency.js';
import { ArchiveCache, type FolderChecksAhead, type RememberedFolder } from './archive-cache.js';
import { samePackTwice, tagOnTwoVersions } from './discover.js';
import { heldShapeDiffers, judgeHeldLayer, type HeldVerdict, type OurLayer } from './held-layer.js';
import { counting, ensureBaseRepository, ensureBlob, errorInfo, mountsBlobs, paletteCacheNote, plannedRefusal, pushManifestOwed, refusalWarning, runConcurrency } from './publish.js';
import { readBackError, tagHolds, tagHoldsAfterWrite, type ReadBackWords } from './read-back.js';
import { packManifest as heldPackManifest } from './resolve-pack.js';
import { createValidatePool, workFile, type ValidatePool } from './validate-pool.js';
import { LookupPace, type LookupTimer } from './lookup-pace.js';
import { createWorkDir, unmadeWorkDir, workDirRefusal } from './work-dir.js';
import { FAIL_FAST_NOT_STARTED, summarize, type EventSink, type PackResult, type PushReport, type ValidationReportLike } from './push-report.js';
import { shellWord } from '../util/shell-word.js';

export interface PushOptions {
  /** Pack directories (already expanded from globs / recursive roots). */
  packs: string[];
  /** Replace a different archive already published under the same version. */
  force?: boolean;
  /** Keep a different archive already published under the same version, and report it as skipped. */
  skipExisting?: boolean;
  /** Report what would happen; write nothing. */
  dryRun?: boolean;
  /** Warnings fail validation too. */
  strict?: boolean;
  /** Push the valid packs even when others are invalid. */
  continueOnError?: boolean;
  /** Stop starting new packs after the first failure. */
  failFast?: boolean;
  /** Packs built and uploaded at once (default: four per core, 4 to 16). */
  concurrency?: number;
  /** Extra tags to put on every pushed pack besides its version. */
  extraTags?: string[];
  /** Let an extra tag read as a version other than the pack's (Palette lists it as that version): refused otherwise. */
  allowOtherVersion?: boolean;
  /** Manifest annotations for every pack published in this run (`--annotation`), as ORAS writes them. */
  annotations?: Record<string, string>;
  /** Manifest creation time (default SOURCE_DATE_EPOCH or now). */
  created?: Date;
  /** Archive entry mtime (default SOURCE_DATE_EPOCH or a fixed constant). */
  mtime?: Date;
  /**
   * Folder of the archive-digest cache that lets unchanged packs skip compression; undefined: no cache.
   * The CLI passes defaultCacheDir() unless --no-cache.
   */
  cacheDir?: string;
  /**
   * Checks of the cache's remembered folders made earlier in this run (operations/precheck.ts: the CLI
   * starts them on a worker thread before it loads the rest of itself); a folder without an answer for its
   * record is checked here as usual.
   */
  checksAhead?: FolderChecksAhead;
  env?: NodeJS.ProcessEnv;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

interface ValidPack {
  dir: string;
  name: string;
  version: string;
  /** Validation warnings (kept with the verdict cache). */
  warnings: number;
  /** The warning findings themselves, shown with the pack's result. */
  findings: Finding[];
}

/** Per run and target: what every pack push shares. */
interface TargetState {
  target: PackTarget;
  ensureBase: (repo: string) => Promise<void>;
  /** The {} config into a pack repository (mounted from the base repository where the store can), once per repository and run; a failure is tried again. */
  configIn: (repo: string) => Promise<void>;
  /** Set once the target could not be reached (after retries): later packs fail at once instead of retrying again. */
  unreachable?: PackpubError;
  /**
   * Settles when the run's first lookup on this target has its answer. Lookups started meanwhile wait for
   * it: a target that is down is found once, by one request and its retries, not by every lookup in
   * flight at once (and a token service is asked by the first request alone).
   */
  firstContact?: Promise<void>;
  /** Times this target's early look-ups, which widen the run's look-ups in flight when its answers are slow (lookup-pace.ts). */
  lookupTimer: LookupTimer;
  /**
   * Versions of an OCI layout found naming a blob the layout does not hold whole (readTag), by `repo\0version`:
   * read as not there, they are judged at the write, which finds them under the tag (publishTo).
   */
  damaged: Map<string, FetchedManifest>;
  /**
   * What this run's reads of versions on this target found (readTag): how many held nothing, and whether any held
   * something. A target whose first answers all held nothing is new to this tree (emptyTarget).
   */
  reads: { absent: number; held: boolean };
}

/**
 * Versions a run reads on a target before it takes the target as new to the tree (emptyTarget): as many as the run's
 * first packs in flight at once on two cores (defaultConcurrency), whose look-ups all go out before any answer.
 */
export const READ_FIRST_VERSIONS = 8;

/**
 * Whether the versions this run has read on the target so far (at least READ_FIRST_VERSIONS) all held nothing: a
 * first publish of the tree there (an empty registry, a new base path). Its further versions are then most likely
 * new too, and read once, right before their write (pushOnePack's readLater), as a version the cache never saw in a
 * repository it knows. One version found holding anything ends it for the rest of the run.
 */
function emptyTarget(state: TargetState): boolean {
  return !state.reads.held && state.reads.absent >= READ_FIRST_VERSIONS;
}

/**
 * A connection or TLS failure that survived the retries means the target is down for this run: say so
 * once, and fail the remaining packs for it at once rather than spending every retry on each of them.
 */
function noteUnreachable(state: TargetState, err: unknown): void {
  if (state.unreachable !== undefined || !isPackpubError(err) || (err.code !== 'NETWORK' && err.code !== 'TLS')) return;
  state.unreachable = new PackpubError(err.code, `not attempted: ${state.target.display} failed earlier in this run (${err.message})`, {
    ...(err.hint === undefined ? {} : { hint: err.hint }),
  });
}

/**
 * Validate, build and publish packs to one or more targets. Each pack is built once, so every target
 * receives identical bytes and manifest digests. Order guarantees: blobs are confirmed present before the
 * manifest is written, and the version tag only comes into being with that manifest write.
 */
export async function pushPacks(targetOrTargets: PackTarget | PackTarget[], options: PushOptions): Promise<PushReport> {
  const started = Date.now();
  const targets = Array.isArray(targetOrTargets) ? targetOrTargets : [targetOrTargets];
  const emit: EventSink = options.onEvent ?? (() => undefined);
  if (targets.length === 0) throw new PackpubError('USAGE', 'no target to push to');
  if (options.force === true && options.skipExisting === true) {
    throw new PackpubError('USAGE', '--force and --skip-existing contradict each other: choose one');
  }
  if (options.packs.length === 0) throw new PackpubError('USAGE', 'no packs to push', { hint: 'name one or more pack directories' });
  for (const tag of options.extraTags ?? []) validateTag(tag, 'extra tag');
  const env = options.env ?? process.env;
  const created = options.created ?? createdTime(env);
  const mtime = options.mtime ?? archiveMtime(env);
  const concurrency = runConcurrency('pushPacks', options.concurrency);

  const strict = options.strict === true;
  const cache = options.cacheDir === undefined ? undefined : new ArchiveCache(options.cacheDir, options.checksAhead);
  /** Content keys known without reading files (the folder's stat tree is as it was at its last build). */
  const contentKeys = new Map<string, string>();
  /** Per pack folder, when its check began and which folder it was: what is built must be what was checked (buildArchive `checked`). */
  const checkedSince = new Map<string, CheckedFolder>();
  /** Per pack folder that passed its check on a worker: the entries of its archive that check listed (validateListing). */
  const listings = new Map<string, PackEntry[]>();

  // 1. Validate on every core (validate-pool.ts), overlapped with building: a pack that passed starts
  // building while others are still being checked. Nothing is uploaded, and no registry is touched,
  // until every pack has its verdict: an invalid pack then holds back all the others (issue 5), unless
  // --continue-on-error. A pack whose content key has a passing verdict from an earlier run is not
  // validated again. Push runs the deep values checks only with --strict: they add warnings, and
  // `packpub validate` shows them.
  // A pack recognised from the cache is looked up on every target while the other packs are still being checked,
  // a few at a time while the answers come at once, more when they are slow (lookup-pace.ts): reads only (what each
  // target holds under its version); every write waits for the verdicts.
  const pace = new LookupPace();
  const states: TargetState[] = targets.map((target) => {
    // The {} config of every pack is mounted from the base repository, which holds it (publishTo): every
    // push token then covers reading it too.
    if (options.dryRun !== true && mountsBlobs(target.store)) {
      try {
        target.store.intendMountFrom?.(baseRepository(target.basePath));
      } catch {
        // an invalid base path: ensureBase reports it for each pack
      }
    }
    return {
      target,
      lookupTimer: pace.target(target.store.kind === 'oci-layout'),
      damaged: new Map(),
      reads: { absent: 0, held: false },
      ensureBase: onceper((repo: string) => ensureBaseRepository(target.store, repo)),
      configIn: onceper(async (repo: string) => {
        const from = target.store.kind === 'oci-layout' ? undefined : baseRepository(target.basePath);
        await ensureBlob(target.store, repo, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES]), false, from);
      }),
    };
  });
  const earlyLookups = new Map<string, Promise<Lookup[]>>();
  const early = (where: ReadonlyArray<{ repo: string }>, version: string) => pace.run(() => lookUp(states, where, version, { dryRun: options.dryRun === true, prepare: false, cache, timed: true, signal: options.signal }));
  // Before any folder is checked, each pack the cache remembers with a passing verdict is looked up under
  // the name and version it had: the targets answer while this thread makes the stat calls, instead of
  // after them. A lookup is used only for a folder found as remembered (or validated again as the same
  // pack name and version); any other is left unused.
  const hunches = new Map<string, Hunch>();
  if (cache !== undefined) {
    for (const dir of options.packs) {
      const folder = cache.remembered(dir, mtime);
      const verdict = folder === undefined ? undefined : cache.getVerdict(folder.key, strict);
      if (folder === undefined || verdict === undefined || hunches.has(dir) || (strict && verdict.warnings > 0)) continue;
      const where = repositoriesOf(states, verdict.name);
      if (where === undefined) continue;
      hunches.set(dir, { folder, name: verdict.name, version: verdict.version, lookups: early(where, verdict.version) });
      // The first look-up is each target's first contact, which every other waits for (lookUp): the folders after it are
      // looked at a few at a time, in turns of the event loop, so that its request leaves and its answer is read
      // meanwhile, not after all of them (~10 ms of the bench tree's re-run, issue 16).
      if (hunches.size % HUNCHES_PER_TURN === 1) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const pool = createValidatePool({ dirs: options.packs });
  const reportOf = options.packs.map(() => deferred<ValidationReportLike>());
  // Made while the packs are checked: an archive too large to hold in memory is built into it.
  const workDirMade = createWorkDir(undefined, env);
  workDirMade.catch(() => undefined); // awaited below
  const validation = mapConcurrent(options.packs, concurrency, async (dir, i): Promise<ValidationReportLike> => {
    try {
      const hunch = hunches.get(dir);
      // A remembered folder the check-ahead worker has not answered for yet: its answer is waited for (this
      // thread serves the registry's answers meanwhile), not the same files checked here at the same time.
      const answerOf = hunch === undefined ? undefined : () => options.checksAhead?.wait?.(hunch.folder.root);
      for (let w = answerOf?.(); w !== undefined; w = answerOf?.()) await w;
      // Before the folder is read: a build must see any change since. A folder the check ahead answered for was
      // checked then, from that check's start (no stat call here: one per pack of an unchanged tree, issue 16).
      const checkedNow = hunch?.folder.answeredAhead() === true ? undefined : folderCheck(dir);
      const known = hunch === undefined ? cache?.folderKey(dir, mtime) : hunch.folder.holds() ? hunch.folder : undefined;
      // A folder known from a check made ahead was checked then; one it found changed is read from now on.
      const since = known?.checkedAhead ?? checkedNow ?? folderCheck(dir);
      const verdict = known === undefined ? undefined : cache?.getVerdict(known.key, strict);
      let report: ValidationReportLike;
      if (known !== undefined && verdict !== undefined) {
        contentKeys.set(known.root, known.key);
        report = { dir: known.root, pack: { name: verdict.name, version: verdict.version }, findings: verdict.findings ?? [], errors: 0, warnings: verdict.warnings };
        const where = isFailing(report, strict) ? undefined : repositoriesOf(states, verdict.name);
        if (where !== undefined) {
          // A folder that holds has its remembered key, so the hunch looked up this very name and version.
          earlyLookups.set(known.root, hunch?.lookups ?? early(where, verdict.version));
          // Let the lookups already sent make progress before the next folder is checked (synchronous stat calls).
          await new Promise((resolve) => setImmediate(resolve));
        }
      } else {
        // Checked only, listing the archive's entries: the archive is built from them after the verdicts, while the
        // packs before it upload (pushOnePack), its files stat'ed again once read (buildArchive `checked`). The verdicts
        // gate every upload, so they come first: when the checks built archives too (up to 32 MiB of them), the
        // verdicts came once most of the tree was compressed, and the uploads after them (this thread and the
        // registry, each waiting on the other's answers) left a core idle about a third of the time (issue 16).
        const { report: checked, entries } = await pool.validateListing(dir, { strict, deep: strict });
        report = checked;
        if (entries !== undefined) listings.set(report.dir, entries);
        if (known !== undefined) contentKeys.set(report.dir, known.key);
        // A changed folder that is still the same pack version: what the hunch read is what a lookup now would ask.
        if (hunch !== undefined && report.dir === hunch.folder.root && report.pack?.name === hunch.name && report.pack.version === hunch.version) {
          earlyLookups.set(report.dir, hunch.lookups);
        }
      }
      checkedSince.set(report.dir, since);
      emit({ type: 'validated', dir, report });
      reportOf[i]?.resolve(report);
      return report;
    } catch (err) {
      reportOf[i]?.reject(err);
      throw err;
    }
  });
  // A failed validation (not a failing pack: an unreadable folder, a crashed worker) ends the run: packs
  // whose check never ran must not keep their builders waiting.
  validation.catch((err: unknown) => {
    for (const r of reportOf) r.reject(err);
  });
  // Every folder has its check: a worker still checking ahead stops.
  const checksDone = () => options.checksAhead?.done?.();
  validation.then(checksDone, checksDone);
  // An extra tag that reads as another version than a pack's (version-tags.ts) makes the run a usage error, as two
  // folders of one version do: before anything is written. The rule's module is loaded only for version-like tags.
  const tagRule = (options.extraTags ?? []).some(versionLike) && options.allowOtherVersion !== true ? import('./version-tags.js') : undefined;
  const verdicts = validation.then(async (reports) => {
    const verdict = decide(reports, strict, options.continueOnError === true, options.extraTags ?? [], tagRule === undefined ? undefined : await tagRule);
    if (verdict.usage !== undefined || verdict.blockAll) return verdict;
    // No work folder (TMPDIR unusable): refused only when a pack's archive may not fit in memory (work-dir.ts).
    const unusable = await workDirMade.then(
      () => undefined,
      (err: unknown) => workDirRefusal(err, reports.flatMap((r) => (r.pack === undefined || isFailing(r, strict) ? [] : [{ dir: r.dir, ...r.pack, knownSize: rememberedSize(r.dir) }])), IN_MEMORY_ARCHIVE_BYTES, mtime),
    );
    return unusable === undefined ? verdict : { ...verdict, blockAll: true, usage: unusable };
  });
  /** The size of the archive the cache remembers for a folder's content, when it does. */
  const rememberedSize = (dir: string): number | undefined => {
    const key = contentKeys.get(dir);
    return key === undefined ? undefined : cache?.get(key)?.size;
  };
  // Failures surface through `verdicts` (awaited below); these copies must not count as unhandled.
  verdicts.catch(() => undefined);
  for (const r of reportOf) r.promise.catch(() => undefined);

  // Without one (TMPDIR unusable), archives kept in memory need none: the verdicts refuse the run when a pack's may
  // not fit (workDirRefusal), and the name below is never written into.
  const made = await workDirMade.catch(() => undefined);
  const workDir = made ?? unmadeWorkDir(env);
  // An interrupted run exits through process.exit (cli/signals.ts): still leave no archives behind. An empty
  // folder (each pack removed its archive; a re-run of an unchanged tree built none) goes with one call: the
  // recursive removal loads Node's rimraf module, compiled from its source once the V8 flags are set (issue 16).
  const removeWorkDir = () => {
    if (made === undefined) return;
    try {
      rmdirSync(workDir);
    } catch {
      rmSync(workDir, { recursive: true, force: true });
    }
  };
  process.once('exit', removeWorkDir);
  let stop = false;
  let pushed: PackResult[][] = [];
  let decided: Verdicts;
  const run: RunContext = { ...options, created, mtime, workDir, emit, cache, contentKey: undefined, checkedSince: undefined, build: pool.build };
  const validPack = (report: ValidationReportLike & { pack: { name: string; version: string } }): ValidPack => ({
    dir: report.dir,
    ...report.pack,
    warnings: report.warnings,
    findings: report.findings.filter((f) => f.severity === 'warning'),
  });
  const contextOf = (pack: ValidPack): RunContext => {
    const entries = listings.get(pack.dir);
    listings.delete(pack.dir);
    return { ...run, contentKey: contentKeys.get(pack.dir), checkedSince: checkedSince.get(pack.dir), ...(entries === undefined ? {} : { entries }) };
  };
  /**
   * Archives built after the verdicts ahead of their pack's upload slot, by pack (undefined: the build failed, and is
   * made again in the slot, where its error is reported): up to `concurrency` of them not yet taken by a slot, so
   * the workers keep compressing while the slots upload (a slot that builds its own pack first left a worker idle
   * whenever most slots were waiting on the registry). A pack whose slot started first is built there.
   */
  const builtAhead = new Map<number, Promise<Built | undefined>>();
  const slotStarted = new Set<number>();
  let nextAhead = 0;
  let aheadUntaken = 0;
  const buildAhead = (reports: ValidationReportLike[]): void => {
    while (aheadUntaken < concurrency && nextAhead < reports.length && !stop && options.signal?.aborted !== true) {
      const j = nextAhead++;
      const report = reports[j];
      if (slotStarted.has(j) || report?.pack === undefined || isFailing(report, strict)) continue;
      const pack = validPack({ ...report, pack: report.pack });
      const key = contentKeys.get(pack.dir);
      // Content the cache knows may need no build at all (pushOnePack: every target holds its archive).
      if (key !== undefined && cache?.get(key) !== undefined) continue;
      builtAhead.set(j, buildPack(pack, contextOf(pack)).catch(() => undefined));
      aheadUntaken++;
    }
  };
  try {
    pushed = await mapConcurrent(options.packs, concurrency, async (_dir, i) => {
      slotStarted.add(i);
      const report = await (reportOf[i] as Deferred<ValidationReportLike>).promise;
      if (report.pack === undefined || isFailing(report, strict)) return [];
      const pack = validPack({ ...report, pack: report.pack });
      const ctx = contextOf(pack);
      const verdict = await verdicts;
      const prebuilt = builtAhead.get(i);
      if (prebuilt !== undefined) aheadUntaken--;
      if (verdict.usage !== undefined || verdict.blockAll || stop || options.signal?.aborted === true) {
        const unused = await prebuilt;
        if (unused?.path !== undefined) await rm(unused.path, { force: true });
        if (verdict.usage !== undefined) return [];
        const error = verdict.blockAll
          ? { code: 'PACK_INVALID', message: 'not pushed because other packs are invalid', hint: 'fix them, or pass --continue-on-error' }
          : { code: 'ABORTED', message: stop && options.signal?.aborted !== true ? FAIL_FAST_NOT_STARTED : 'not started: the run was stopped' };
        return states.map(({ target }) => ({
          dir: pack.dir,
          name: pack.name,
          version: pack.version,
          reference: target.store.reference(packRepository(target.basePath, pack.name), pack.version),
          target: target.display,
          status: 'failed' as const,
          uploadedBytes: 0,
          durationMs: 0,
          error,
        }));
      }
      const pushedResults = await pushOnePack(states, pack, { ...ctx, prebuilt, lookups: earlyLookups.get(pack.dir) });
      // A pack that passes with warnings carries them in its result: a silent warning is a rule nobody sees.
      const results = pack.findings.length === 0 ? pushedResults : pushedResults.map((r) => sameConfirmation(r, { ...r, findings: pack.findings }));
      for (const result of results) emit({ type: 'pack-done', result });
      if (options.failFast === true && results.some((r) => r.status === 'failed' || r.status === 'conflict')) stop = true;
      // This slot takes the next pack now: the packs after it are built meanwhile (after the slots' own first builds).
      buildAhead(await validation);
      return results;
    });
    decided = await verdicts;
  } finally {
    // Builds ahead still running write into the work folder: it is removed after them (a run stopped early).
    await Promise.all(builtAhead.values());
    process.off('exit', removeWorkDir);
    // Lookups no pack used are not left in flight when the caller closes the targets (lookUp never rejects),
    // unless the run was stopped: it ends at once, and closing the targets ends them.
    if (options.signal?.aborted !== true) await Promise.all([...hunches.values()].map((h) => h.lookups));
    await pool.close();
    // At once, not through the thread pool: by now the folder is empty or nearly (each pack removed its
    // archive), and the non-blocking removal was three round trips to the pool's threads and back (lstat,
    // lstat, rmdir) between the last answer and the report (issue 16).
    removeWorkDir();
    await cache?.save();
  }
  if (decided.usage !== undefined) throw decided.usage;
  if (options.dryRun !== true) pushed = await confirmHeld(states, pushed, options.extraTags ?? [], emit);
  const results = [...decided.invalid, ...pushed.flat()];
  return {
    target: targets.map((t) => t.display).join(', '),
    results,
    summary: summarize(results),
    durationMs: Date.now() - started,
    aborted: stop || options.signal?.aborted === true,
  };
}

function isFailing(report: ValidationReportLike, strict: boolean): boolean {
  return report.errors > 0 || (strict && report.warnings > 0);
}

interface Verdicts {
  invalid: PackResult[];
  /** Some pack is invalid and --continue-on-error was not given: nothing is pushed. */
  blockAll: boolean;
  /** Two folders are the same pack name and version: the run is a usage error, nothing is pushed. */
  usage?: PackpubError;
}

/** Once every pack has its report: which are invalid, and whether the valid ones may be pushed. */
function decide(reports: ValidationReportLike[], strict: boolean, continueOnError: boolean, extraTags: readonly string[], rule?: typeof import('./version-tags.js')): Verdicts {
  const invalid: PackResult[] = [];
  const seen = new Map<string, string>();
  const tagged = new Map<string, { dir: string; version: string }>();
  // An extra tag that is another pack's version in this run would write one pack over the other's version.
  const runVersions = new Map(reports.flatMap((r) => (r.pack === undefined || isFailing(r, strict) ? [] : [[`${r.pack.name}:${r.pack.version}`, r.dir] as const])));
  for (const report of reports) {
    if (isFailing(report, strict) || report.pack === undefined) {
      invalid.push(invalidResult(report, strict));
      continue;
    }
    const { name, version } = report.pack;
    const otherTags = rule === undefined ? [] : rule.otherVersionTags(extraTags.filter(versionLike), version);
    if (rule !== undefined && otherTags.length > 0) {
      return { invalid, blockAll: true, usage: rule.otherVersionRefusal(report.dir, version, otherTags, '--allow-other-version', '--tag') };
    }
    const taken = extraTags.find((tag) => tag !== version && runVersions.has(`${name}:${tag}`));
    if (taken !== undefined) {
      const usage = new PackpubError('USAGE', `--tag "${taken}" is the version of ${runVersions.get(`${name}:${taken}`) ?? ''} (${name}:${taken}), pushed in this run too: it would put ${report.dir} (${name}:${version}) under that version`, {
        hint: 'nothing was written; give the version its own folder alone, or another --tag',
      });
      return { invalid, blockAll: true, usage };
    }
    const key = `${report.pack.name}:${report.pack.version}`;
    const other = seen.get(key);
    if (other !== undefined) {
      return { invalid, blockAll: true, usage: samePackTwice(other, report.dir, key) };
    }
    seen.set(key, report.dir);
    // A --tag on two versions of one pack: whichever version's write came last kept it (exit 0, `stable` on 1.0.1 after 1.1.0).
    const sibling = extraTags.length === 0 ? undefined : tagged.get(name);
    if (sibling !== undefined && sibling.version !== version) return { invalid, blockAll: true, usage: tagOnTwoVersions(extraTags, name, sibling, { dir: report.dir, version }) };
    tagged.set(name, { dir: report.dir, version });
  }
  return { invalid, blockAll: invalid.length > 0 && !continueOnError };
}

function invalidResult(report: ValidationReportLike, strict: boolean): PackResult {
  return {
    dir: report.dir,
    ...(report.pack ?? {}),
    status: 'invalid',
    uploadedBytes: 0,
    durationMs: 0,
    findings: report.findings,
    error: {
      code: 'PACK_INVALID',
      message: `${report.errors} error(s)${strict ? ` and ${report.warnings} warning(s)` : ''} in validation`,
      hint: `run: packpub validate ${shellWord(report.dir)}`,
    },
  };
}

interface RunContext extends PushOptions {
  created: Date;
  mtime: Date;
  workDir: string;
  emit: EventSink;
  cache: ArchiveCache | undefined;
  /** The pack's content key when known without reading its files. */
  contentKey: string | undefined;
  /** When the pack's check (validation, or recognition from the cache) began, and its folder: its archive must hold what was checked. */
  checkedSince: CheckedFolder | undefined;
  /** buildArchive, on a validation worker when the run has them (validate-pool.ts). */
  build: ValidatePool['build'];
  /** The archive built ahead of this pack's upload slot (undefined in it: that build failed; built again here). */
  prebuilt?: Promise<Built | undefined> | undefined;
  /** The entries of the pack's archive, listed by its check (validateListing): its build walks the folder no second time. */
  entries?: PackEntry[];
  /** What every target holds under the pack's version, when it was read while other packs were being validated. */
  lookups?: Promise<Lookup[]> | undefined;
}

/** A lookup sent for a pack folder before its check, under the pack name and version the cache remembers for it. */
interface Hunch {
  folder: RememberedFolder;
  name: string;
  version: string;
  lookups: Promise<Lookup[]>;
}

/**
 * What a target holds under the version, or why it could not be asked. `refused`: a dry run found that the
 * real run's prepareRepository would refuse the pack there (checkRepository: an existing ECR repository's
 * weaker encryption or other KMS key); the plan is then a conflict, as for a version that holds other content.
 * `unread`: the repository was made ready but the version not read yet (lookUp `read: false`): publishTo reads
 * it right before its write.
 */
type Lookup = { manifest: FetchedManifest | undefined; refused?: PackpubError; unread?: true } | { error: unknown };

/** The pack's repository on every target; undefined when a repository name is not valid (pushOnePack reports it). */
function repositoriesOf(states: TargetState[], name: string): Array<{ repo: string }> | undefined {
  try {
    return states.map(({ target }) => {
      const repo = packRepository(target.basePath, name);
      validateRepositoryPath(repo, 'pack repository');
      return { repo };
    });
  } catch {
    return undefined;
  }
}

/**
 * Read what every target holds under `version` (one target being down does not stop the others). With
 * `prepare`, each repository is first made ready for pushing (ECR CreateRepository, the Harbor project
 * check: requests that may write); without, only the intent to push is declared, which costs no request,
 * so a token service still grants pull and push in one token. A dry run only reads. A registry is offered
 * the manifest the cache saw under the tag last (getManifest `known`): it then only confirms the digest.
 */
function lookUp(
  states: TargetState[],
  where: ReadonlyArray<{ repo: string }>,
  version: string,
  {
    dryRun,
    prepare,
    cache,
    read: readNow = true,
    timed = false,
    signal,
  }: { dryRun: boolean; prepare: boolean; cache: ArchiveCache | undefined; read?: boolean; timed?: boolean; signal?: AbortSignal | undefined },
): Promise<Lookup[]> {
  return Promise.all(
    states.map(async (state, i): Promise<Lookup> => {
      const repo = where[i]?.repo ?? '';
      const store = state.target.store;
      const read = () => readTag(state, repo, version, cache, signal);
      const ask = async (): Promise<Lookup> => {
        try {
          if (dryRun) {
            // Where the real run prepares the repository, the dry run makes the same check, reading only.
            const refused = await plannedRefusal(store, baseRepository(state.target.basePath), repo);
            const manifest = await read();
            return refused === undefined ? { manifest } : { manifest, refused };
          }
          if (prepare) await store.prepareRepository(repo);
          else store.intendPush?.(repo);
          if (!readNow) return { manifest: undefined, unread: true };
          return { manifest: await read() };
        } catch (err) {
          noteUnreachable(state, err);
          return { error: err };
        }
      };
      if (state.firstContact === undefined) {
        const contact = deferred<void>();
        state.firstContact = contact.promise;
        try {
          return await ask();
        } finally {
          contact.resolve();
        }
      }
      await state.firstContact;
      if (state.unreachable !== undefined) return { error: state.unreachable };
      // Timed after the first contact only: that one's time holds the connection's set-up, an auth probe, a token.
      if (!timed) return ask();
      const answered = state.lookupTimer.sent();
      try {
        return await ask();
      } finally {
        answered();
      }
    }),
  );
}

/**
 * What the state's store holds under `version` of `repo`, offered the manifest the cache saw there last (getManifest
 * `known`). `signal`: the run's; aborting it gives a look-up in flight up at once (ABORTED).
 */
async function readTag(state: TargetState, repo: string, version: string, cache: ArchiveCache | undefined, signal?: AbortSignal): Promise<FetchedManifest | undefined> {
  const store = state.target.store;
  const known = store.kind === 'oci-layout' ? undefined : cache?.manifest(repo, version);
  const manifest = await store.getManifest(repo, version, known, signal);
  if (manifest === undefined) state.reads.absent++;
  else state.reads.held = true;
  if (manifest !== undefined && manifest !== known && store.kind !== 'oci-layout') cache?.rememberManifest(repo, version, manifest);
  // An OCI layout is files: a blob of the version removed, emptied by a host crash or cut short by a copy killed
  // mid-file left it "unchanged", exit 0, over a tag pull then refused (chaos s22 F9). Such a version is read as
  // not there: it is built and written again (the rename replaces a blob of the wrong size). One stat per blob.
  // What it held is kept (state.damaged) for the write, which finds it under the tag: there it was taken for
  // another publisher's ("replaced ... during this run", exit 1, even with --force); see publishTo.
  if (manifest !== undefined && store.kind === 'oci-layout' && !(await blobsHeld(store, repo, manifest.bytes))) {
    state.damaged.set(`${repo}\0${version}`, manifest);
    return undefined;
  }
  return manifest;
}

/** Whether the store holds every blob (config, layers) the manifest names, at its size. */
async function blobsHeld(store: PackTarget['store'], repo: string, bytes: Buffer): Promise<boolean> {
  let doc: { config?: Descriptor; layers?: Descriptor[] };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    return true; // not a manifest packpub reads: judged as before
  }
  const blobs = [...(doc.config === undefined ? [] : [doc.config]), ...(doc.layers ?? [])];
  const held = await Promise.all(blobs.map((d) => (typeof d?.digest === 'string' && isDigest(d.digest) ? store.hasBlob(repo, d.digest, typeof d.size === 'number' ? d.size : undefined) : true)));
  return held.every(Boolean);
}

/**
 * Early lookups, once writes are allowed: make each repository ready for pushing, as lookUp with `prepare` does
 * first. One that failed before its repository was ready (a Harbor project that --create-project makes now, or
 * whose absence prepareRepository names) is asked again once it is; one of an unreachable target is not.
 */
function prepared(states: TargetState[], where: ReadonlyArray<{ repo: string }>, lookups: Lookup[], version: string, cache: ArchiveCache | undefined, signal: AbortSignal | undefined): Promise<Lookup[]> {
  return Promise.all(
    lookups.map(async (lookup, i): Promise<Lookup> => {
      const state = states[i];
      if (state === undefined || ('error' in lookup && state.unreachable !== undefined)) return lookup;
      try {
        const repo = where[i]?.repo ?? '';
        await state.target.store.prepareRepository(repo);
        return 'error' in lookup ? { manifest: await readTag(state, repo, version, cache, signal) } : lookup;
      } catch (err) {
        noteUnreachable(state, err);
        return { error: err };
      }
    }),
  );
}

interface Built {
  /** The archive file in the work folder; undefined when it is held in `bytes` (or not built: unchanged). */
  path?: string;
  bytes?: Buffer;
  digest: Digest;
  size: number;
  manifestBytes?: Buffer;
  manifest?: ReturnType<typeof packManifest>;
  /** Bytes of the tar before compression (undefined: not built). */
  tarSize?: number;
  /** The content key the archive is remembered under (undefined: no cache, or none known). */
  contentKey?: string;
}

/** Push one pack to every target: read what each holds, build at most once, publish where needed. */
async function pushOnePack(states: TargetState[], pack: ValidPack, ctx: RunContext): Promise<PackResult[]> {
  const started = Date.now();
  const { name, version, dir } = pack;
  const fileName = archiveFileName(name, version);
  const perTarget = states.map(({ target }) => {
    const repo = packRepository(target.basePath, name);
    return { repo, reference: target.store.reference(repo, version) };
  });
  const fail = (err: unknown, built?: Built): PackResult[] =>
    states.map(({ target }, i) => failure(pack, target, perTarget[i]?.reference, err, built, Date.now() - started));

  let built: Built | undefined;
  // Per target: what it holds under this version, or why it could not be asked.
  let lookups: Lookup[];
  try {
    for (const { repo } of perTarget) validateRepositoryPath(repo, 'pack repository');
    ctx.emit({ type: 'pack-start', dir, name, version, reference: perTarget[0]?.reference ?? '' });
    const dryRun = ctx.dryRun === true;
    // A version the cache never saw in a repository it knows, on every target (the next version of a pack published
    // from here), or on a target where every version this run read so far held nothing (emptyTarget: the first
    // publish of a tree there): most likely new there. It is then read once, right before its write, where the check
    // that would follow the uploads is made anyway (publishTo), not before the uploads too: one request less (issue
    // 16). A version that is there after all is found then: unchanged, or a conflict, only after its layer was uploaded.
    const cache = ctx.cache;
    const readLater =
      !dryRun &&
      ctx.lookups === undefined &&
      ctx.skipExisting !== true &&
      ctx.force !== true &&
      states.every((state, i) => state.target.store.kind !== 'oci-layout' && (emptyTarget(state) || cache?.knowsRepositoryNotTag(perTarget[i]?.repo ?? '', version) === true));
    if (ctx.lookups === undefined) lookups = await lookUp(states, perTarget, version, { dryRun, prepare: true, cache, read: !readLater, signal: ctx.signal });
    else lookups = dryRun ? await ctx.lookups : await prepared(states, perTarget, await ctx.lookups, version, ctx.cache, ctx.signal);
    // A run stopped while this pack was being looked up (the read given up at once, ABORTED) sends nothing of it: the
    // pack is reported as one the stop found before it started, as it is on the registry.
    if (ctx.signal?.aborted === true) return fail(new PackpubError('ABORTED', 'not started: the run was stopped'));
    const live = lookups.filter((l): l is { manifest: FetchedManifest | undefined } => !('error' in l));
    if (live.length === 0) {
      return lookups.map((l, i) => failure(pack, states[i]!.target, perTarget[i]?.reference, 'error' in l ? l.error : undefined, built, Date.now() - started));
    }
    // When every target already holds the archive this content key produced last time, the pack is
    // unchanged and nothing is built (the key came from remembered file hashes: no file was read).
    const key = ctx.contentKey;
    const cached = key === undefined ? undefined : ctx.cache?.get(key);
    // Or a layer an earlier run found holding this very tar, compressed by another zlib (held-layer.ts): judged in publishTo.
    // Under the manifest this build writes, as publishTo judges it: anything else is built, and judged there as before.
    const sameLayer = (bytes: Buffer) => {
      const held = safeLayer(bytes);
      const layer = held?.digest;
      return layer !== undefined && (isLayer(held, cached) || (cached?.held?.includes(layer) === true && heldShapeDiffers(bytes, fileName) === undefined));
    };
    // --force builds it: a version found unchanged then has its blobs checked, and the layer sent again if lost (resendLost).
    const allSame = ctx.force !== true && cached !== undefined && live.every((l) => l.manifest !== undefined && sameLayer(l.manifest.bytes));
    if (allSame && cached !== undefined) {
      built = { digest: cached.digest, size: cached.size, ...(key === undefined ? {} : { contentKey: key }) };
      ctx.emit({ type: 'archive-built', name, version, digest: cached.digest, size: cached.size, cached: true });
    } else {
      built = (await ctx.prebuilt) ?? (await buildPack(pack, ctx));
      ctx.emit({ type: 'archive-built', name, version, digest: built.digest, size: built.size, cached: false });
    }
  } catch (err) {
    const unused = built === undefined ? await ctx.prebuilt : undefined;
    if (unused?.path !== undefined) await rm(unused.path, { force: true });
    return fail(err, built);
  }

  const results: PackResult[] = [];
  for (const [i, state] of states.entries()) {
    const t0 = Date.now();
    const where = perTarget[i] as { repo: string; reference: string };
    const lookup = lookups[i];
    try {
      if (lookup === undefined || 'error' in lookup) throw lookup?.error;
      const result = lookup.refused === undefined ? await publishTo(state, pack, where, built, lookup.manifest, ctx, t0, lookup.unread === true) : refusedPlan(pack, state.target, where.reference, built, lookup, t0);
      results.push(withWarnings(result, state.target.store, where.repo));
    } catch (err) {
      noteUnreachable(state, err);
      results.push(withWarnings(failure(pack, state.target, where.reference, err, built, Date.now() - t0), state.target.store, where.repo));
    } finally {
      if (built.path !== undefined && i === states.length - 1) await rm(built.path, { force: true });
    }
  }
  return results;
}

/** Folders looked at per turn of the event loop before the run's first look-ups have their answers (pushPacks). */
const HUNCHES_PER_TURN = 16;

/**
 * An archive up to this size stays in memory from its build to its upload (most packs: 88 KB median on the
 * pack-central-shaped corpus), instead of a file written into the work folder and read back. In memory at
 * once: one per pack being uploaded and one per pack built ahead of its upload (the run's concurrency each, 16 at
 * most): 32 MiB at worst; larger archives stream through a file.
 */
const IN_MEMORY_ARCHIVE_BYTES = 1024 * 1024;

/** Build the pack's archive and manifest into the work folder, and remember its digest and verdict by content. */
async function buildPack(pack: ValidPack, ctx: RunContext): Promise<Built> {
  const { name, version, dir } = pack;
  // On a validation worker when the run has them: its reads, tar, hashing and deflate do not hold this
  // thread, which sends the archives already built meanwhile.
  const archive = await ctx.build(dir, workFile(ctx.workDir, name, version), {
    name,
    version,
    mtime: ctx.mtime,
    ...(ctx.checkedSince === undefined ? {} : { checked: ctx.checkedSince }),
    ...(ctx.entries === undefined ? {} : { entries: ctx.entries }),
    inMemoryUpTo: IN_MEMORY_ARCHIVE_BYTES,
  });
  return archived(pack, ctx, archive);
}

/** An archive built of the pack, with its manifest; its digest and verdict remembered by content. */
function archived(pack: ValidPack, ctx: RunContext, archive: BuiltArchive): Built {
  const { name, version } = pack;
  const fileName = archiveFileName(name, version);
  const manifest = packManifest({
    layer: { digest: archive.digest, size: archive.size },
    title: fileName,
    created: ctx.created,
    ...(ctx.annotations === undefined ? {} : { annotations: ctx.annotations }),
  });
  ctx.cache?.set(archive.contentKey, { digest: archive.digest, size: archive.size });
  ctx.cache?.setVerdict(archive.contentKey, ctx.strict === true, { name, version, warnings: pack.warnings, findings: pack.findings });
  if (archive.tree !== undefined) ctx.cache?.rememberFolder(archive.tree, ctx.mtime, archive.contentKey);
  const where = archive.bytes === undefined ? { path: archive.path } : { bytes: archive.bytes };
  return { ...where, digest: archive.digest, size: archive.size, tarSize: archive.uncompressedSize, contentKey: archive.contentKey, manifest, manifestBytes: serializeManifest(manifest) };
}

/** The result with what the store found about the pack's repository that the user must be told (an existing ECR repository's own settings). */
function withWarnings(result: PackResult, store: PackTarget['store'], repo: string): PackResult {
  const warnings = store.repositoryWarnings?.(repo) ?? [];
  // In place: the result's identity marks it as confirmed without a write (CONFIRMED_WITHOUT_WRITE).
  if (warnings.length > 0) result.warnings = [...(result.warnings ?? []), ...warnings];
  return result;
}

/**
 * A dry run's plan where the real run would refuse the pack before writing (checkRepository): a planned
 * conflict, like a version that holds other content (a planned conflict does not fail the dry run), with
 * the refusal as the result's first warning, since a planned result carries no error.
 */
function refusedPlan(pack: ValidPack, target: PackTarget, reference: string, built: Built, lookup: { manifest: FetchedManifest | undefined; refused?: PackpubError }, started: number): PackResult {
  const refused = lookup.refused;
  return {
    dir: pack.dir,
    name: pack.name,
    version: pack.version,
    reference,
    target: target.display,
    status: 'planned',
    plan: 'conflict',
    ...(lookup.manifest === undefined ? {} : { digest: lookup.manifest.descriptor.digest }),
    layerDigest: built.digest,
    size: built.size,
    uploadedBytes: 0,
    bytesToUpload: 0,
    durationMs: Date.now() - started,
    ...(refused === undefined ? {} : { warnings: [refusalWarning(refused)] }),
  };
}

function failure(pack: ValidPack, target: PackTarget, reference: string | undefined, err: unknown, built: Built | undefined, durationMs: number): PackResult {
  const info = errorInfo(err);
  return {
    dir: pack.dir,
    name: pack.name,
    version: pack.version,
    ...(reference === undefined ? {} : { reference }),
    target: target.display,
    status: info.code === 'CONFLICT' ? 'conflict' : 'failed',
    ...(built === undefined ? {} : { layerDigest: built.digest, size: built.size }),
    uploadedBytes: 0,
    durationMs,
    error: info,
  };
}

async function publishTo(
  state: TargetState,
  pack: ValidPack,
  where: { repo: string; reference: string },
  built: Built,
  existing: FetchedManifest | undefined,
  ctx: RunContext,
  started: number,
  /** The version was not read yet (Lookup `unread`; `existing` is undefined): read it right before the write. */
  unread = false,
): Promise<PackResult> {
  const { target } = state;
  const store = target.store;
  const { name, version } = pack;
  const base = { dir: pack.dir, name, version, reference: where.reference, target: target.display, layerDigest: built.digest, size: built.size };
  const done = (fields: Partial<PackResult> & Pick<PackResult, 'status'>): PackResult => ({
    ...base,
    uploadedBytes: 0,
    durationMs: Date.now() - started,
    ...fields,
  });
  /** --dry-run: a version-like extra tag a real run would refuse to move (keepVersionTags), as a planned conflict. */
  const tagRefusal = async (bytes: Buffer): Promise<PackResult | undefined> => {
    if (ctx.extraTags === undefined || ctx.extraTags.length === 0) return undefined;
    try {
      await keepVersionTags(store, where.repo, bytes, ctx.extraTags, ctx.force);
      return undefined;
    } catch (err) {
      if (!isPackpubError(err, 'CONFLICT')) throw err;
      return done({ status: 'planned', plan: 'conflict', bytesToUpload: 0, warnings: [refusalWarning(err)] });
    }
  };
  /**
   * The extra tags put on the version, which holds `digest` (this run's write, `written`, or found there): undefined
   * when all were written, else the result saying the version is published and the tags are not. Was the tag's error
   * alone, `failed` without a digest: a report saying "maybe blobs" of a version that was published.
   */
  const extraTagsOn = async (bytes: Buffer, mediaType: string, digest: Digest, uploadedBytes: number, checked: boolean, written = false): Promise<PackResult | undefined> => {
    try {
      await tagExtra(store, where.repo, bytes, mediaType, ctx.extraTags, ctx.force, checked);
      return undefined;
    } catch (err) {
      const info = errorInfo(err);
      const message = `${where.reference} ${written ? 'was published' : 'holds this pack'} (${digest}), but not every extra tag was written: ${info.message}`;
      return done({ status: info.code === 'CONFLICT' ? 'conflict' : 'failed', digest, uploadedBytes, error: { ...info, message } });
    }
  };
  /** This build's layer, for the comparison with a held layer of another digest (held-layer.ts). */
  const ourLayer = (): OurLayer => {
    const { path, bytes } = built;
    const open = bytes !== undefined ? () => Readable.from([bytes], { objectMode: false }) : path !== undefined ? () => createReadStream(path) : undefined;
    const key = built.contentKey;
    const remembered = key === undefined ? undefined : ctx.cache?.get(key);
    const known = remembered?.digest === built.digest ? (layer: Digest) => remembered.held?.includes(layer) === true : undefined;
    return { title: archiveFileName(name, version), digest: built.digest, size: built.size, tarSize: built.tarSize ?? 0, open: built.tarSize === undefined ? undefined : open, ...(known === undefined ? {} : { known }) };
  };
  /** judgeHeld's answers by manifest digest: a version judged again (the race's look-again, samePackOr) is not read again. */
  const judgedBefore = new Map<Digest, Promise<HeldVerdict>>();
  /**
   * Whether the layer `held` names, of another digest than this build's, holds this very tar, compressed by another zlib
   * (held-layer.ts: read and compared); undefined where it is not asked: no pack layer, this build's own, a layout
   * version read as damaged (readTag: its blobs are not all there to read), or a layer the cache knows as built here of
   * other content (the pack changed since it was published from here: another tar, known without a read).
   */
  const judgeHeld = (held: FetchedManifest): Promise<HeldVerdict> | undefined => {
    const layer = safeLayer(held.bytes)?.digest;
    if (layer === undefined || layer === built.digest || state.damaged.get(`${where.repo}\0${version}`) === held || ctx.cache?.builtHere(layer) === true) return undefined;
    let judging = judgedBefore.get(held.descriptor.digest);
    if (judging === undefined) {
      judging = judgeHeldLayer(store, where.repo, held, ourLayer(), ctx.signal);
      judging.catch(() => undefined); // awaited by each caller
      judgedBefore.set(held.descriptor.digest, judging);
    }
    return judging;
  };
  /** What a version found holding `held` comes to: a result, a conflict (thrown), or undefined: replace it (--force). */
  const holding = async (held: FetchedManifest, uploadedBytes: number): Promise<PackResult | undefined> => {
    const heldLayer = safeLayer(held.bytes);
    const digest = held.descriptor.digest;
    let judged: HeldVerdict | undefined;
    let readFailure: unknown;
    const judging = judgeHeld(held);
    if (judging !== undefined) {
      judged = await judging.catch((err: unknown) => {
        if (isPackpubError(err, 'ABORTED') || ctx.signal?.aborted === true) throw err;
        readFailure = err;
        return undefined;
      });
    }
    // What the comparison found is remembered: a re-run here knows the layer without building or reading (allSame).
    if (judged?.same === true && judged.known !== true && built.contentKey !== undefined) ctx.cache?.rememberHeld(built.contentKey, judged.layer.digest);
    if (isLayer(heldLayer, built) || judged?.same === true) {
      // Reported as held: the layer Palette pulls, and why it is not this build's.
      const same = judged?.same === true ? { layerDigest: judged.layer.digest, size: judged.layer.size, warnings: [otherZlibNote(where.reference, judged.layer.digest, built.digest)] } : {};
      if (ctx.dryRun === true) {
        // Extra tags are written even onto an unchanged version: a store refusing writes (Harbor read-only) refuses those.
        if ((ctx.extraTags ?? []).length > 0) refuseWrites(store, where.repo);
        const lost = ctx.force === true && store.kind !== 'oci-layout' ? await resendLost(store, where.repo, where.reference, held.bytes, built, false) : 0;
        return (await tagRefusal(held.bytes)) ?? done({ status: 'planned', plan: 'unchanged', digest, bytesToUpload: lost, ...same });
      }
      // --force asks for the blobs too (a registry that lost one serves the tag, and pull fails): those it lacks are sent again.
      if (ctx.force === true && store.kind !== 'oci-layout') uploadedBytes += await resendLost(store, where.repo, where.reference, held.bytes, built, true);
      const tagFailed = await extraTagsOn(held.bytes, held.descriptor.mediaType, digest, uploadedBytes, false);
      if (tagFailed !== undefined) return tagFailed;
      const result = done({ status: 'unchanged', digest, uploadedBytes, ...same });
      // This run read the tag holding exactly this digest and wrote nothing under it: there is no write of
      // ours for a concurrent publisher to have raced, so the end-of-run read-back reads only the extra tags.
      CONFIRMED_WITHOUT_WRITE.add(result);
      return result;
    }
    if (ctx.skipExisting === true) {
      return done(ctx.dryRun === true ? { status: 'planned', plan: 'skip', digest, bytesToUpload: 0 } : { status: 'skipped', digest, uploadedBytes });
    }
    if (ctx.force !== true) {
      // Neither kept nor replaced: a layer that could not be read says so, not that it holds other content.
      if (readFailure !== undefined) throw unreadHeld(where.reference, heldLayer?.digest, built.digest, readFailure);
      if (ctx.dryRun === true) return done({ status: 'planned', plan: 'conflict', digest, bytesToUpload: 0 });
      const damaged = state.damaged.get(`${where.repo}\0${version}`) === held ? ', some of whose blobs are missing from the layout' : '';
      const why = judged?.same === false ? (judged.why ?? '') : heldLayer?.digest === built.digest ? `, whose descriptor says ${heldLayer.size} bytes where the layer is ${built.size}: pull refuses it` : '';
      throw new PackpubError(
        'CONFLICT',
        `${where.reference} already holds different content (${heldContent(held.bytes, heldLayer, where.reference)}${why}${damaged}, this build ${built.digest})`,
        { hint: paletteCacheNote('Publish') },
      );
    }
    // --force where the store would still refuse to replace the version (an immutable ECR repository or tag, a Harbor
    // immutable tag rule, a promise packpub keeps for --ecr-tag-mutability): asked before any upload, as the dry run
    // plans it; the real run uploaded the layer, then met the refusal at the manifest PUT.
    const refused = await store.refusesReplacing?.(where.repo, version, digest);
    if (refused === undefined) return undefined;
    if (ctx.dryRun === true) return done({ status: 'planned', plan: 'conflict', digest, bytesToUpload: 0, warnings: [refusalWarning(refused)] });
    throw refused;
  };
  let overwrite = false;
  if (existing !== undefined) {
    const result = await holding(existing, 0);
    if (result !== undefined) return result;
    overwrite = true;
  }
  if ((built.path === undefined && built.bytes === undefined) || built.manifest === undefined || built.manifestBytes === undefined) {
    // Only reachable when the cache said unchanged for every target, which returned above.
    throw new PackpubError('INTERNAL', `archive of ${name}:${version} was not built`);
  }
  if (ctx.dryRun === true) {
    // A store that refuses every write (Harbor in read-only mode): the real run fails here, exit 1; so does the plan.
    refuseWrites(store, where.repo);
    const tagRefused = await tagRefusal(built.manifestBytes);
    if (tagRefused !== undefined) return tagRefused;
    const bytesToUpload = (await store.hasBlob(where.repo, built.digest, built.size)) ? 0 : built.size;
    return done({ status: 'planned', plan: overwrite ? 'overwrite' : 'new', bytesToUpload });
  }

  const baseRepo = store.kind === 'oci-layout' ? undefined : baseRepository(target.basePath);
  if (baseRepo !== undefined) await state.ensureBase(baseRepo);
  // Blobs first, manifest last: a tag never points at missing content. The {} config is mounted from the
  // base repository, which ensureBase left holding it: one request where asking first, then uploading into
  // a new repository, took three. Once per repository and run: further versions of the pack in the same
  // run (pack-central: 118 of its 220 packs) find it there, as this run's own mount or upload left it.
  await state.configIn(where.repo);
  const { path: archivePath, bytes: archiveBytes } = built;
  const archive = (): Readable => (archiveBytes !== undefined ? Readable.from([archiveBytes], { objectMode: false }) : createReadStream(archivePath ?? ''));
  // A version the target does not hold yet has a new layer (the archive holds pack.json with this version).
  let uploadedBytes = await ensureBlob(store, where.repo, built.manifest.layers[0] as Descriptor, () => {
    let sent = 0;
    ctx.emit({ type: 'blob-upload-start', name, version, digest: built.digest, size: built.size });
    return archive().pipe(
      counting((n) => {
        sent += n;
        ctx.emit({ type: 'blob-upload-progress', name, version, digest: built.digest, bytes: sent, size: built.size });
      }),
    );
  }, existing === undefined);
  ctx.emit({ type: 'blob-upload-done', name, version, digest: built.digest, size: built.size, skipped: uploadedBytes === 0 });
  // Registries offer no compare-and-swap: look again right before the write (the uploads took time), then
  // write. The tag is read back once, at the end of the run (confirmHeld), which also sees a publisher that
  // replaced it later in this run. The OCI layout checks `ifTagHolds` under its lock, which makes this exact there.
  let expected = existing?.descriptor.digest ?? null;
  const local = sha256Digest(built.manifestBytes);
  let before: Digest | null;
  if (unread) {
    // Not read before the uploads (pushOnePack: most likely new): this read is the look-up and the check before the write.
    const held = await readTag(state, where.repo, version, ctx.cache);
    if (held !== undefined) {
      const result = await holding(held, uploadedBytes);
      if (result !== undefined) return result;
      overwrite = true;
    }
    expected = before = held?.descriptor.digest ?? null;
  } else before = (await store.headManifest(where.repo, version))?.digest ?? null;
  const ours = { descriptor: { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: local, size: built.manifestBytes.length }, bytes: built.manifestBytes };
  // What the next run offers the registry under this tag (lookUp): it then only confirms the digest.
  const remember = () => {
    if (store.kind !== 'oci-layout') ctx.cache?.rememberManifest(where.repo, version, ours);
  };
  if (before === local) {
    remember();
    return (await extraTagsOn(built.manifestBytes, MEDIA_TYPE_OCI_MANIFEST, local, uploadedBytes, false)) ?? done({ status: 'unchanged', digest: local, uploadedBytes });
  }
  /**
   * Another publisher wrote this version meanwhile (`race`): when it holds this very pack (this build's layer, under
   * a manifest made at another time, or this build's tar in a layer another zlib compressed: judgeHeld), the version is
   * what this run would leave it, as a re-run finds it: unchanged (review s21 F1: was a conflict, exit 1). Other
   * content, or a layer that could not be read, stays the conflict.
   */
  const samePackOr = async (race: PackpubError): Promise<PackResult> => {
    const now = await store.getManifest(where.repo, version);
    const ours = now !== undefined && (isLayer(safeLayer(now.bytes), built) || (await judgeHeld(now)?.catch(unlessAborted))?.same === true);
    const same = ours ? await holding(now, uploadedBytes) : undefined;
    if (same === undefined) throw race;
    return same;
  };
  const damaged = expected === null ? state.damaged.get(`${where.repo}\0${version}`) : undefined;
  if (damaged !== undefined && before === damaged.descriptor.digest) {
    // The damaged version read as not there (readTag): the same pack is unchanged now its blobs are written again,
    // other content a conflict (--force: replaced).
    const result = await holding(damaged, uploadedBytes);
    if (result !== undefined) return result;
    overwrite = true;
    expected = before;
  }
  if (before !== expected) return await samePackOr(raced(where.reference, before, local));
  // A version-like extra tag holding other content stops the pack before its version is written (keepVersionTags).
  if (ctx.extraTags !== undefined && ctx.extraTags.length > 0) await keepVersionTags(store, where.repo, built.manifestBytes, ctx.extraTags, ctx.force);
  let digest: Digest;
  try {
    const put = await pushManifestOwed(store, where.repo, version, built.manifestBytes, MEDIA_TYPE_OCI_MANIFEST, { ifTagHolds: expected });
    digest = put.digest;
    uploadedBytes += put.resentBytes;
  } catch (err) {
    // The OCI layout checks `ifTagHolds` under its lock: another publisher's write there is this conflict.
    if (!isPackpubError(err, 'CONFLICT')) throw err;
    return await samePackOr(err);
  }
  if (digest === local) remember();
  // Checked just above (each version-like tag read once, not again here); the read-back at the end of the run reads them all.
  const tagFailed = await extraTagsOn(built.manifestBytes, MEDIA_TYPE_OCI_MANIFEST, digest, uploadedBytes, true, true);
  if (tagFailed !== undefined) return tagFailed;
  const result = done({ status: overwrite ? 'overwritten' : 'published', digest, uploadedBytes });
  if (before !== null) OVERWROTE.set(result, before);
  return result;
}

/** undefined for a failure, which is thrown again when it is the run's stop (ABORTED). */
function unlessAborted(err: unknown): undefined {
  if (isPackpubError(err, 'ABORTED')) throw err;
  return undefined;
}

/** The note on a version found holding this build's tar in a layer another zlib compressed (held-layer.ts). */
function otherZlibNote(reference: string, held: Digest, ours: Digest): StoreWarning {
  return {
    message: `${reference} holds this pack's files in layer ${held}, compressed by another build of zlib than this build's ${ours}: kept as it is (unchanged)`,
    hint: 'nothing to do: Palette pulls the layer the version holds; the same pack gzips to other bytes on another processor or Node build (README, Reproducibility)',
  };
}

/** A version whose layer (not this build's digest) could not be read to compare with this build: the read's failure, said so. */
function unreadHeld(reference: string, held: Digest | undefined, ours: Digest, err: unknown): PackpubError {
  const info = errorInfo(err);
  return new PackpubError(info.code as ErrorCode, `${reference} holds layer ${held ?? 'unknown'}, not this build's ${ours}; reading it to compare failed: ${info.message}`, {
    hint: `the version was left as it is; ${info.hint ?? 'push again once the store serves its layer'}`,
    cause: err,
  });
}

/** Another run wrote this version while this one was publishing it. */
function raced(reference: string, holds: Digest | null, ours: Digest): PackpubError {
  return new PackpubError('CONFLICT', `${reference} was replaced by another publisher during this run (it holds ${holds ?? 'nothing'}, this run wrote ${ours})`, {
    hint: TAG_RACE_HINT,
  });
}

/**
 * Results whose version this run found already holding the digest it reports, and under which it wrote
 * no manifest: the read-back skips the version (one request per unchanged version), and reads only the
 * extra tags this run wrote.
 */
const CONFIRMED_WITHOUT_WRITE = new WeakSet<PackResult>();

/**
 * What the version held before this run's --force write replaced it, by result: a replica lagging behind that write
 * still serves it for a moment, which the read-back waits out (tagHoldsAfterWrite) instead of calling it another
 * publisher's.
 */
const OVERWROTE = new WeakMap<PackResult, Digest>();

/** `copy` of `result`, confirmed as it was. */
function sameConfirmation(result: PackResult, copy: PackResult): PackResult {
  if (CONFIRMED_WITHOUT_WRITE.has(result)) CONFIRMED_WITHOUT_WRITE.add(copy);
  const before = OVERWROTE.get(result);
  if (before !== undefined) OVERWROTE.set(copy, before);
  return copy;
}

/**
 * The read-back, at the end of the run: each tag this run wrote (or found unchanged after uploading blobs
 * for it), the version and every extra tag, is read (GET, the bytes hashed: a HEAD answered by a cache can
 * name a digest the tag does not serve). A tag holding another digest was replaced by a concurrent
 * publisher after this run's check: a conflict. A tag holding nothing was accepted and not kept (or deleted
 * since): a failure. A version found unchanged at the start, with nothing written, is not read again: its
 * tag was confirmed in this run, and there is no write of this run that could have been raced. Several
 * versions of one pack write its extra tags in turn: any digest this run wrote there is this run's own.
 */
async function confirmHeld(states: TargetState[], pushed: PackResult[][], extraTags: readonly string[], emit: EventSink): Promise<PackResult[][]> {
  const wrote = (r: PackResult): r is PackResult & { digest: Digest; name: string; version: string } =>
    r.digest !== undefined && r.name !== undefined && r.version !== undefined && (r.status === 'published' || r.status === 'overwritten' || r.status === 'unchanged');
  const ours = new Map<string, Set<Digest>>();
  for (const results of pushed) {
    results.forEach((r, i) => {
      const state = states[i];
      if (state === undefined || !wrote(r)) return;
      const repo = packRepository(state.target.basePath, r.name);
      for (const tag of extraTags) {
        const key = `${i}\n${repo}\n${tag}`;
        (ours.get(key) ?? ours.set(key, new Set()).get(key))?.add(r.digest);
      }
    });
  }
  const reads = new Map<string, Promise<Digest | null | undefined | PackpubError>>();
  /**
   * What `tag` holds now, read once per target and repository; undefined when it cannot be read (a policy may
   * block reads): the accepted write stands. Bytes that do not hash to the digest served with them (twice)
   * are an answer, and not this run's manifest: a failure.
   */
  const heldAt = (i: number, store: ArtifactStore, repo: string, tag: string, before: Digest | undefined) => {
    const key = `${i}\n${repo}\n${tag}`;
    let read = reads.get(key);
    if (read === undefined) {
      // Nothing, or (a version this run overwrote) what it held before: a replica that has not caught up yet.
      read = tagHoldsAfterWrite(store, repo, tag, (h) => h === null || h === before).catch((err: unknown) => (isPackpubError(err, 'DIGEST_MISMATCH') ? err : undefined));
      reads.set(key, read);
    }
    return read;
  };
  return Promise.all(
    pushed.map((results) =>
      Promise.all(
        results.map(async (r, i) => {
          const state = states[i];
          if (state === undefined || !wrote(r)) return r;
          const store = state.target.store;
          const repo = packRepository(state.target.basePath, r.name);
          const tags = CONFIRMED_WITHOUT_WRITE.has(r) ? extraTags : [r.version, ...extraTags];
          const before = OVERWROTE.get(r);
          const held = await Promise.all(tags.map((tag) => heldAt(i, store, repo, tag, tag === r.version ? before : undefined)));
          const kept = (tag: string, h: Digest | null | undefined | PackpubError) =>
            h === undefined || h === r.digest || (typeof h === 'string' && tag !== r.version && ours.get(`${i}\n${repo}\n${tag}`)?.has(h) === true);
          const at = tags.findIndex((tag, k) => !kept(tag, held[k]));
          const tag = tags[at];
          if (tag === undefined) return r;
          const h0 = held[at];
          // The version replaced after this run's write by another publisher of this very pack (its layer, under a
          // manifest made at another time): it holds what this run published, as a re-run finds it (review s21 F1).
          // Its extra tags then hold either manifest of the pack (the other run wrote them too, or not yet).
          const eitherManifest = () => tags.every((t, k) => t === r.version || held[k] === h0 || kept(t, held[k]));
          if (tag === r.version && typeof h0 === 'string' && eitherManifest() && (await holdsLayer(store, repo, tag, h0, r.layerDigest, r.size))) {
            const same: PackResult = { ...r, status: 'unchanged', digest: h0 };
            emit({ type: 'pack-done', result: same });
            return same;
          }
          const reference = tag === r.version ? (r.reference ?? `${r.name}:${r.version}`) : store.reference(repo, tag);
          const h = held[at] ?? null;
          const err = h instanceof PackpubError ? h : readBackError(reference, r.digest, h, notKept(reference, r.digest, tag !== r.version), tag === r.version ? before : undefined);
          const changed: PackResult = { ...r, status: err.code === 'CONFLICT' ? 'conflict' : 'failed', error: { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) } };
          emit({ type: 'pack-done', result: changed }); // supersedes the earlier result of this pack and target
          return changed;
        }),
      ),
    ),
  );
}

/** Whether `tag` holds the manifest `digest` (read again, bytes hashed) whose one pack layer is `layer`. */
async function holdsLayer(store: ArtifactStore, repo: string, tag: string, digest: Digest, layer: Digest | undefined, size: number | undefined): Promise<boolean> {
  if (layer === undefined || size === undefined) return false;
  const now = await store.getManifest(repo, tag).catch(() => undefined);
  return now !== undefined && now.descriptor.digest === digest && sha256Digest(now.bytes) === digest && isLayer(safeLayer(now.bytes), { digest: layer, size });
}

/**
 * Whether a held manifest's pack layer is `ours` (this build's, or the archive the cache remembers): its digest and the
 * size its descriptor says (a manifest naming this layer with another size, which a registry takes, is one pull refuses).
 */
function isLayer(held: Descriptor | undefined, ours: { digest: Digest; size: number } | undefined): boolean {
  return held !== undefined && ours !== undefined && held.digest === ours.digest && held.size === ours.size;
}

/** A tag this run wrote (the registry accepted it) that holds nothing, or another digest, at the end of the run. */
function notKept(reference: string, digest: Digest, extraTag: boolean): ReadBackWords {
  return {
    when: 'at the end of this run',
    nothing: `${extraTag ? 'the version was published; ' : ''}the registry, or a proxy in front of it, accepted the manifest without keeping it (or another run deleted it): push again, and report it to the registry owner if it persists`,
    other: (held) => raced(reference, held, digest),
  };
}

/**
 * What a tag holding other content holds, for the conflict message: the pack layer, or why it is no pack
 * (an image index, a container image, several layers), in resolve-pack's words. Was "published layer unknown".
 */
function heldContent(bytes: Buffer, layer: Descriptor | undefined, reference: string): string {
  if (layer !== undefined) return `published layer ${layer.digest}`;
  try {
    heldPackManifest(bytes, reference);
  } catch (err) {
    const why = errorMessage(err);
    return why.startsWith(`${reference} is `) ? why.slice(reference.length + 4) : why;
  }
  return 'published layer unknown';
}

/** safeLayer's answers by manifest bytes: a looked-up manifest is read twice (every target holds it? what does it hold?). */
const LAYERS = new WeakMap<Buffer, Descriptor | null>();

/**
 * `push --force` onto a version that already holds this pack (unchanged): each blob its manifest names is asked for,
 * and one the registry lacks (lost, garbage-collected, deleted by hand) is sent again, the config and this build's
 * layer, so the tag keeps its digest and pull works again. A blob this build cannot send (another build's layer) is
 * an error. The bytes sent (`send` false: a dry run's plan, the bytes it would send, nothing written).
 */
async function resendLost(store: WritableStore & Pick<ArtifactStore, 'fetchBlob'>, repo: string, reference: string, held: Buffer, built: Built, send: boolean): Promise<number> {
  const manifest = parseManifest(held);
  let sent = 0;
  for (const blob of [manifest.config, ...manifest.layers]) {
    if (await store.hasBlob(repo, blob.digest, blob.size)) {
      await readWhole(store, repo, reference, blob);
      continue;
    }
    if (!send && (blob.digest === EMPTY_CONFIG.digest || blob.digest === built.digest)) {
      // planned: sent by the real run
    } else if (blob.digest === EMPTY_CONFIG.digest) {
      await store.pushBlob(repo, EMPTY_CONFIG, () => Readable.from([EMPTY_CONFIG_BYTES]));
    } else if (blob.digest === built.digest && (built.bytes !== undefined || built.path !== undefined)) {
      const { bytes, path } = built;
      await store.pushBlob(repo, blob, () => (bytes !== undefined ? Readable.from([bytes], { objectMode: false }) : createReadStream(path ?? '')));
    } else {
      throw new PackpubError('NOT_FOUND', `${reference} names blob ${blob.digest}, which the registry does not hold, and this build does not have it to send again`, {
        hint: 'delete the version (packpub delete) and push it again',
      });
    }
    sent += blob.size;
  }
  return sent;
}

/**
 * Read a blob `resendLost` found there whole (its size and digest checked as it arrives): a registry's copy cut short or
 * damaged (its storage's file truncated by a crash) is a failure, not "unchanged". Sending it again would not mend it: a
 * registry keeps a blob it already holds (distribution does), so only its owner can.
 */
async function readWhole(store: Pick<ArtifactStore, 'fetchBlob'>, repo: string, reference: string, blob: Descriptor): Promise<void> {
  try {
    for await (const chunk of await store.fetchBlob(repo, blob)) void chunk;
  } catch (err) {
    if (isPackpubError(err, 'ABORTED') || !(err instanceof PackpubError)) throw err;
    if (err.code !== 'DIGEST_MISMATCH') {
      // A body cut short against its announced length (a registry whose blob cache remembers the size its file lost)
      // is told as the transport saw it, naming the blob this check was reading.
      throw new PackpubError(err.code, `${reference} names blob ${blob.digest}, which could not be read whole (push --force reads each blob of a version it finds unchanged): ${err.message}`, {
        ...(err.hint === undefined ? {} : { hint: err.hint }),
      });
    }
    throw new PackpubError('DIGEST_MISMATCH', `${reference} names blob ${blob.digest}, which the registry holds damaged: ${errorMessage(err)}`, {
      hint: 'the registry keeps a blob it holds when it is sent again: report it to the registry owner, who can remove the damaged copy (then push --force sends it again)',
    });
  }
}

function safeLayer(bytes: Buffer): Descriptor | undefined {
  const seen = LAYERS.get(bytes);
  if (seen !== undefined) return seen ?? undefined;
  let layer: Descriptor | undefined;
  try {
    layer = packLayer(parseManifest(bytes));
  } catch {
    layer = undefined;
  }
  LAYERS.set(bytes, layer ?? null);
  return layer;
}

/** Whether an extra tag may read as a version (version-tags.ts decides): only such tags load that module and are checked. */
function versionLike(tag: string): boolean {
  return /^v?\d/.test(tag);
}

/** A settled promise, for tagExtra without tags: no async frame per pack (issue 16). */
const NOTHING_TO_TAG: Promise<void> = Promise.resolve();

/** A dry run about to plan a write: the refusal the store knows every write would meet (refusesWriting), thrown. */
function refuseWrites(store: PackTarget['store'], repo: string): void {
  const refused = store.refusesWriting?.(repo);
  if (refused !== undefined) throw refused;
}

/**
 * Put the extra tags on the manifest `bytes`, each version-like one checked first (keepVersionTags) unless the
 * caller has just checked them (`checked`: publishTo, before it wrote the version).
 */
function tagExtra(store: ArtifactStore, repo: string, bytes: Buffer, mediaType: string, tags: string[] | undefined, force: boolean | undefined, checked = false): Promise<void> {
  return tags === undefined || tags.length === 0 ? NOTHING_TO_TAG : tagEach(store, repo, bytes, mediaType, tags, force, checked);
}

async function tagEach(store: ArtifactStore, repo: string, bytes: Buffer, mediaType: string, tags: string[], force: boolean | undefined, checked: boolean): Promise<void> {
  if (!checked) await keepVersionTags(store, repo, bytes, tags, force);
  for (const tag of tags) await store.pushManifest(repo, tag, bytes, mediaType);
}

/**
 * An extra tag that reads as a version (only with --allow-other-version: push refuses it otherwise) is moved off
 * other content only with --force, as `tag` moves one: it is that version's tag, which Palette caches by digest.
 * Labels (stable, 1.2.x) keep moving: that is what they are for. Checked before the version is written too.
 * Where the store may refuse to move a tag (refusesReplacing: an immutable ECR repository, a Harbor immutable tag
 * rule), every extra tag holding other content is asked too: the version was written, then the tag refused (exit 1,
 * published in part).
 */
async function keepVersionTags(store: ArtifactStore, repo: string, bytes: Buffer, tags: readonly string[], force: boolean | undefined): Promise<void> {
  const asVersions = force === true ? [] : tags.filter(versionLike);
  if (asVersions.length === 0 && store.refusesReplacing === undefined) return;
  const { isVersionTag } = await import('./version-tags.js');
  const digest = sha256Digest(bytes);
  const kept = new Set(asVersions.filter(isVersionTag));
  for (const tag of store.refusesReplacing === undefined ? kept : tags) {
    const held = await tagHolds(store, repo, tag);
    if (held === null || held === digest) continue;
    if (kept.has(tag)) {
      throw new PackpubError('CONFLICT', `${store.reference(repo, tag)} already holds other content (${held}): --tag moves a tag that reads as a version only with --force`, {
        hint: 'Palette caches pack digests: moving a version that clusters use can break them; nothing was moved; choose another --tag, or pass --force',
      });
    }
    const refused = await store.refusesReplacing?.(repo, tag, held);
    if (refused !== undefined) throw refused;
  }
}

export { defaultConcurrency, ensureBaseRepository, ensureBlob } from './publish.js';
