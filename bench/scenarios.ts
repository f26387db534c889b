import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { packRepository } from '../src/pack/naming.js';
import type { RecordedRequest } from '../test/support/recording-proxy.js';
import { manualPublish, type ManualPack } from './baseline.js';
import type { Corpus, HugePack } from './corpus.js';
import type { BenchOptions } from './options.js';
import { packpub, packpubEnv, packpubTimed, pushAll, type PackpubCli, type PushJson } from './packpub.js';
import { runTimed } from './proc.js';
import { profileRegistry } from './registry-profile.js';
import { watchCpu, type CpuSplit } from './threads.js';
import { isBlobUploadStart, withRegistry, type BenchRegistry } from './registry.js';
import { verifyCopies, verifyManifests, type Published } from './verify.js';

/** Each scenario does one timed run; the driver (run.ts) repeats them and takes medians. */

export const BASE_PATH = 'bench';
/** Fixed manifest time for the manual baseline's layouts (packpub stamps its own). */
const MANUAL_CREATED = new Date('2024-01-01T00:00:00Z');

export interface BenchContext {
  repoRoot: string;
  workDir: string;
  cli: PackpubCli;
  corpus: Corpus;
  options: BenchOptions;
  cores: number;
  log: (line: string) => void;
  /** What the correctness checks covered, for RESULTS.md. */
  checks: string[];
}

export async function freshDir(path: string): Promise<string> {
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });
  return path;
}

/** Profiles of quick and full runs are kept apart, so `--report-only` finds the right ones. */
export function profilesRoot(workDir: string, quick: boolean): string {
  return join(workDir, quick ? 'profiles-quick' : 'profiles');
}

export function profileDir(ctx: BenchContext, key: string): Promise<string> {
  return freshDir(join(profilesRoot(ctx.workDir, ctx.options.quick), key));
}

function manualPacks(corpus: Corpus): ManualPack[] {
  return corpus.packs.map((p) => ({ parent: corpus.dir, folder: p.folder, name: p.name, version: p.version }));
}

function registryRefs(registryHost: string, report: PushJson): Published[] {
  return report.results.map((r) => {
    if (r.name === undefined || r.version === undefined || r.digest === undefined) throw new Error(`push report lacks name/version/digest for ${r.dir}`);
    return { ref: `docker://${registryHost}/${packRepository(BASE_PATH, r.name)}:${r.version}`, digest: r.digest };
  });
}

/** A few references to copy out completely: the first, the largest and the last. */
function sample(items: readonly Published[], sizes: ReadonlyMap<string, number>): Published[] {
  if (items.length <= 3) return [...items];
  const largest = [...items].sort((a, b) => (sizes.get(b.ref) ?? 0) - (sizes.get(a.ref) ?? 0))[0] as Published;
  return [...new Set([items[0] as Published, largest, items[items.length - 1] as Published])];
}

function sizesOf(refs: readonly Published[], report: PushJson): Map<string, number> {
  return new Map(refs.map((ref, i) => [ref.ref, report.results[i]?.size ?? 0]));
}

// ---- manual baseline ----

export async function manualRun(ctx: BenchContext, runIndex: number): Promise<{ ms: number; cpuS: number }> {
  return withRegistry(async (registry) => {
    const started = performance.now();
    const { pushed, cpuS } = await manualPublish(manualPacks(ctx.corpus), {
      registryHost: registry.host,
      basePath: BASE_PATH,
      workDir: ctx.workDir,
      created: MANUAL_CREATED,
    });
    const ms = performance.now() - started;
    if (runIndex === 0) {
      // skopeo --preserve-digests must have kept the ORAS 1.0 bytes, or the baseline is not what it claims.
      await verifyManifests(pushed.map((p) => ({ ref: `docker://${registry.host}/${p.repository}:${p.tag}`, digest: p.manifestDigest })));
      ctx.checks.push(`manual baseline: all ${pushed.length} manifests read back with \`skopeo inspect --raw\` are byte-identical to the ORAS 1.0 shape written into the layouts`);
    }
    return { ms, cpuS };
  });
}

// ---- compression bound ----

export async function boundRun(ctx: BenchContext): Promise<{ cpuS: number; boundMs: number }> {
  const timed = await runTimed('bash', ['-c', `tar -cf - ${basename(ctx.corpus.dir)} | gzip -6 > /dev/null`], { cwd: dirname(ctx.corpus.dir) });
  const cpuS = timed.userS + timed.sysS;
  return { cpuS, boundMs: (cpuS * 1000) / ctx.cores };
}

// ---- packpub to a registry: empty, then unchanged ----

export interface RegistryRun {
  emptyMs: number;
  /** Where the first publish's CPU went (main thread, other threads, registry process). */
  emptyCpu?: CpuSplit;
  emptyCpuS: number;
  emptyRssKb: number;
  uploadedBytes: number;
  unchangedMs: number;
  /** Where the unchanged run's CPU went (main thread, other threads, registry process). */
  unchangedCpu?: CpuSplit;
  unchangedCpuS?: number;
  unchangedUploads: number;
  unchangedRequests: number;
}

export interface RegistryRunOptions {
  runIndex: number;
  verify: boolean;
  profileEmpty?: string;
  profileUnchanged?: string;
  /** Also CPU-profile the registry (Go pprof, its debug server) during the first push, into this directory. */
  profileRegistry?: string;
}

export async function registryRun(ctx: BenchContext, options: RegistryRunOptions): Promise<RegistryRun> {
  return withRegistry(async (registry) => {
    const cache = `registry-${options.runIndex}${options.profileEmpty !== undefined || options.profileUnchanged !== undefined ? '-profile' : ''}`;
    await rm(join(ctx.workDir, 'cache', cache), { recursive: true, force: true });
    const env = await packpubEnv(ctx.cli, cache);
    const args = [ctx.corpus.dir, '--recursive', '--registry', `${registry.host}/${BASE_PATH}`];
    const watch = await watchCpu();
    const registryProfile = options.profileRegistry === undefined ? undefined : profileRegistry(registry.debugUrl, options.profileRegistry, ctx.log);
    const empty = await pushAll(ctx.cli, args, 'published', { env, onSpawn: (pid) => watch.spawned(pid), ...(options.profileEmpty === undefined ? {} : { cpuProfDir: options.profileEmpty }) });
    const emptyCpu = await watch.stop();
    await registryProfile?.stop(emptyCpu.registryS);
    if (empty.report.results.length !== ctx.corpus.packs.length) {
      throw new Error(`packpub pushed ${empty.report.results.length} packs, the corpus has ${ctx.corpus.packs.length}`);
    }
    if (options.verify) await verifyRegistryPush(ctx, registry, empty.report, 'packpub push to an empty registry');

    // The same push again with the archive cache the first push left: timed straight to the registry, as the
    // first push (the recording proxy runs in this process, on the same cores, and would add its CPU and a
    // hop to every request); then once more through the proxy, untimed, to count what it asks.
    const againWatch = await watchCpu();
    const again = await pushAll(ctx.cli, args, 'unchanged', { env, onSpawn: (pid) => againWatch.spawned(pid), ...(options.profileUnchanged === undefined ? {} : { cpuProfDir: options.profileUnchanged }) });
    const unchangedCpu = await againWatch.stop();
    registry.clearLog();
    await pushAll(ctx.cli, [ctx.corpus.dir, '--recursive', '--registry', `${registry.proxyHost}/${BASE_PATH}`], 'unchanged', { env });
    const log = [...registry.requests];
    return {
      emptyMs: empty.timed.wallMs,
      emptyCpu,
      emptyCpuS: empty.timed.userS + empty.timed.sysS,
      emptyRssKb: empty.timed.maxRssKb,
      uploadedBytes: empty.report.results.reduce((s, r) => s + r.uploadedBytes, 0),
      unchangedMs: again.timed.wallMs,
      unchangedCpu,
      unchangedCpuS: again.timed.userS + again.timed.sysS,
      unchangedUploads: log.filter(isBlobUploadStart).length,
      unchangedRequests: log.length,
    };
  }, { debug: options.profileRegistry !== undefined });
}

async function verifyRegistryPush(ctx: BenchContext, registry: BenchRegistry, report: PushJson, what: string): Promise<void> {
  const refs = registryRefs(registry.host, report);
  await verifyManifests(refs);
  const copies = sample(refs, sizesOf(refs, report));
  await verifyCopies(copies, ctx.workDir);
  const manifests = refs.length === 1 ? 'the manifest read back' : `all ${refs.length} manifests read back`;
  const copied = copies.length === refs.length ? (refs.length === 1 ? 'it' : 'all of them') : `${copies.length} of them (first, largest, last)`;
  ctx.checks.push(
    `${what}: ${manifests} with \`skopeo inspect --raw\` ${refs.length === 1 ? 'matches the digest' : 'match the digests'} packpub reported; ` +
      `\`skopeo copy\` of ${copied} to an OCI layout fetched and verified every blob`,
  );
}

// ---- packpub to a local OCI layout ----

export async function layoutRun(ctx: BenchContext, runIndex: number, cpuProfDir?: string): Promise<number> {
  const out = await freshDir(join(ctx.workDir, 'layout-target'));
  const cache = `layout-${runIndex}${cpuProfDir === undefined ? '' : '-profile'}`;
  await rm(join(ctx.workDir, 'cache', cache), { recursive: true, force: true });
  const env = await packpubEnv(ctx.cli, cache);
  try {
    const { timed, report } = await pushAll(ctx.cli, [ctx.corpus.dir, '--recursive', '--oci-layout', out], 'published', { env, ...(cpuProfDir === undefined ? {} : { cpuProfDir }) });
    if (runIndex === 0 && cpuProfDir === undefined) {
      const refs = report.results.map((r) => {
        if (r.reference === undefined || r.digest === undefined) throw new Error(`push report lacks reference/digest for ${r.dir}`);
        return { ref: r.reference, digest: r.digest };
      });
      await verifyManifests(refs);
      const copies = sample(refs, sizesOf(refs, report));
      await verifyCopies(copies, ctx.workDir);
      ctx.checks.push(`packpub push --oci-layout: all ${refs.length} manifests read with \`skopeo inspect --raw oci:...\` match; ${copies.length} copied out and every blob re-hashed`);
    }
    return timed.wallMs;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

// ---- one 1 GiB pack ----

export interface LargeRun {
  packpubMs: number;
  packpubRssKb: number;
  packpubCpuS: number;
  manualMs: number;
  manualCpuS: number;
  layerBytes: number;
}

export async function largePackpubRun(ctx: BenchContext, huge: HugePack, runIndex: number, cpuProfDir?: string): Promise<Omit<LargeRun, 'manualMs' | 'manualCpuS'>> {
  return withRegistry(async (registry) => {
    const cache = `large-${runIndex}${cpuProfDir === undefined ? '' : '-profile'}`;
    await rm(join(ctx.workDir, 'cache', cache), { recursive: true, force: true });
    const env = await packpubEnv(ctx.cli, cache);
    const { timed, report } = await pushAll(ctx.cli, [huge.dir, '--registry', `${registry.host}/${BASE_PATH}`], 'published', { env, ...(cpuProfDir === undefined ? {} : { cpuProfDir }) });
    if (runIndex === 0 && cpuProfDir === undefined) await verifyRegistryPush(ctx, registry, report, 'packpub push of the 1 GiB pack');
    return { packpubMs: timed.wallMs, packpubRssKb: timed.maxRssKb, packpubCpuS: timed.userS + timed.sysS, layerBytes: report.results[0]?.size ?? 0 };
  });
}

export async function largeManualRun(ctx: BenchContext, huge: HugePack): Promise<{ ms: number; cpuS: number }> {
  return withRegistry(async (registry) => {
    const started = performance.now();
    const { cpuS } = await manualPublish([{ parent: huge.parent, folder: basename(huge.dir), name: huge.name, version: huge.version }], {
      registryHost: registry.host,
      basePath: BASE_PATH,
      workDir: ctx.workDir,
      created: MANUAL_CREATED,
    });
    return { ms: performance.now() - started, cpuS };
  });
}

// ---- start-up ----

export interface StartupResult {
  versionMs: number[];
  validateMs: number[];
  pack: string;
}

export async function startupRuns(ctx: BenchContext, runs: number, profile?: { version: string; validate: string }): Promise<StartupResult> {
  const env = await packpubEnv(ctx.cli, 'startup');
  const small = [...ctx.corpus.packs].filter((p) => p.kind === 'manifest').sort((a, b) => a.bytes - b.bytes)[0];
  if (small === undefined) throw new Error('the corpus has no small manifest pack');
  const packDir = join(ctx.corpus.dir, small.folder);
  const version = async (cpuProfDir?: string) => {
    const r = await packpub(ctx.cli, ['--version'], { env, ...(cpuProfDir === undefined ? {} : { cpuProfDir }) });
    if (r.stdout.trim() === '') throw new Error('packpub --version printed nothing');
    return r.wallMs;
  };
  const validate = async (cpuProfDir?: string) => {
    const r = await packpub(ctx.cli, ['validate', packDir], { env, ...(cpuProfDir === undefined ? {} : { cpuProfDir }) });
    return r.wallMs;
  };
  if (profile !== undefined) {
    await version(profile.version);
    await validate(profile.validate);
    return { versionMs: [], validateMs: [], pack: small.folder };
  }
  // One warm-up each: the first start reads the files from disk, later ones from the page cache, as users see.
  await version();
  await validate();
  const versionMs: number[] = [];
  const validateMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    versionMs.push(await version());
    validateMs.push(await validate());
  }
  return { versionMs, validateMs, pack: small.folder };
}

// ---- requests per new version in an existing repository ----

export interface NewVersionResult {
  /** Requests addressed to the pack's own repository, per run. */
  counts: number[];
  /** The last run's requests to the pack's repository. */
  lastRequests: RecordedRequest[];
  /** Every request of the last run, including the once-per-run ones. */
  allRequests: RecordedRequest[];
  /** Requests of the last run that a run makes once whatever it pushes (ping, token, base repository). */
  oneOffs: number;
}

async function setVersion(packDir: string, version: string): Promise<void> {
  const path = join(packDir, 'pack.json');
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  json['version'] = version;
  await writeFile(path, `${JSON.stringify(json, null, 2)}\n`);
}

export async function newVersionRuns(ctx: BenchContext, runs: number): Promise<NewVersionResult> {
  const source = ctx.corpus.packs.find((p) => p.kind === 'manifest');
  if (source === undefined) throw new Error('the corpus has no manifest pack');
  const packDir = join(await freshDir(join(ctx.workDir, 'new-version')), source.folder);
  await cp(join(ctx.corpus.dir, source.folder), packDir, { recursive: true });
  try {
    return await withRegistry(async (registry) => {
      // A cache of its own, empty: one an earlier bench run left behind remembers these versions (on another
      // registry), and push then looks each up before its uploads, as it should for a version it has seen.
      await rm(join(ctx.workDir, 'cache', 'new-version'), { recursive: true, force: true });
      const env = await packpubEnv(ctx.cli, 'new-version');
      // The repository and the base repository exist and hold the first version.
      await pushAll(ctx.cli, [packDir, '--registry', `${registry.host}/${BASE_PATH}`], 'published', { env });
      const counts: number[] = [];
      let lastRequests: RecordedRequest[] = [];
      let allRequests: RecordedRequest[] = [];
      // Per pack = addressed to the pack's repository; the ping, a token and the base repository's
      // empty artifact are paid once per run however many packs it pushes.
      const packPrefix = `/v2/${packRepository(BASE_PATH, source.name)}/`;
      for (let i = 0; i < runs; i++) {
        // A content change too, as a real new version has: a new layer to upload.
        await setVersion(packDir, `99.0.${i}`);
        await writeFile(join(packDir, 'README.md'), `# ${source.name}\n\nRelease 99.0.${i}.\n`);
        registry.clearLog();
        await pushAll(ctx.cli, [packDir, '--registry', `${registry.proxyHost}/${BASE_PATH}`], 'published', { env });
        allRequests = [...registry.requests];
        lastRequests = allRequests.filter((r) => r.path.startsWith(packPrefix));
        counts.push(lastRequests.length);
      }
      return { counts, lastRequests, allRequests, oneOffs: allRequests.length - lastRequests.length };
    });
  } finally {
    await rm(join(ctx.workDir, 'new-version'), { recursive: true, force: true });
  }
}

export interface ValidateRun {
  ms: number;
  cpuS: number;
  rssKb: number;
  packs: number;
  warnings: number;
}

/**
 * `packpub validate` of every corpus pack (one CLI call, JSON out), timed; throws unless every pack passes.
 * The first call also records the correctness check.
 */
export async function validateRun(ctx: BenchContext, cpuProfDir?: string): Promise<ValidateRun> {
  const env = await packpubEnv(ctx.cli, 'validate');
  const dirs = ctx.corpus.packs.map((p) => join(ctx.corpus.dir, p.folder));
  const r = await packpubTimed(ctx.cli, ['validate', '--json', ...dirs], { env, allowFailure: true, ...(cpuProfDir === undefined ? {} : { cpuProfDir }) });
  let reports: Array<{ dir: string; passed: boolean; errors: number; warnings: number; findings: Array<{ file: string; message: string }> }>;
  try {
    reports = JSON.parse(r.stdout) as typeof reports;
  } catch {
    throw new Error(`packpub validate --json printed no JSON (exit ${r.code}): ${r.stderr.trim().slice(-1000)}`);
  }
  const failing = reports.filter((x) => !x.passed);
  if (failing.length > 0 || r.code !== 0 || reports.length !== dirs.length) {
    const lines = failing.slice(0, 5).map((x) => `  ${x.dir}: ${x.findings.slice(0, 3).map((f) => `${f.file}: ${f.message}`).join('; ')}`);
    throw new Error(`the generated corpus does not validate (exit ${r.code}, ${failing.length} packs failing):\n${lines.join('\n')}`);
  }
  const warnings = reports.reduce((s, x) => s + x.warnings, 0);
  const check = `corpus: \`packpub validate\` passes for all ${reports.length} packs (${warnings} warnings)`;
  if (!ctx.checks.includes(check)) ctx.checks.push(check);
  return { ms: r.wallMs, cpuS: r.userS + r.sysS, rssKb: r.maxRssKb, packs: reports.length, warnings };
}

// ---- time to the first output line on a terminal ----

/**
 * `packpub push` of the corpus to a fresh registry under `script` (a pseudo-terminal, as a user at a
 * terminal runs it), timed from spawning to the first text on the terminal (a status line counts); then the run is interrupted
 * (SIGINT to its process group, as Ctrl-C would) and awaited.
 */
export async function firstOutputRun(ctx: BenchContext): Promise<number> {
  return withRegistry(async (registry) => {
    const cache = 'first-output';
    await rm(join(ctx.workDir, 'cache', cache), { recursive: true, force: true });
    // As a user at a terminal: colour and the live status line on (the other runs set NO_COLOR).
    const { NO_COLOR: _noColor, ...plain } = await packpubEnv(ctx.cli, cache);
    const env = { ...plain, TERM: 'xterm-256color' };
    const command = [process.execPath, ctx.cli.bin, 'push', ctx.corpus.dir, '--recursive', '--registry', `${registry.host}/${BASE_PATH}`]
      .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
      .join(' ');
    return new Promise<number>((resolvePromise, reject) => {
      const started = performance.now();
      // A terminal of 120 x 40, as a user's: script's pseudo-terminal has no size of its own (0 columns).
      const child = spawn('script', ['-qfec', `stty cols 120 rows 40; exec ${command}`, '/dev/null'], { env, cwd: ctx.workDir, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      let firstLineMs: number | undefined;
      let seen = '';
      child.stdout.on('data', (chunk: Buffer) => {
        if (firstLineMs !== undefined) return;
        seen += chunk.toString('utf8');
        // The first thing a user can read: a status line redrawn in place (\r, escape codes) counts too.
        if (/[^\s]/.test(seen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''))) {
          firstLineMs = performance.now() - started;
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGINT');
        }
      });
      child.stderr.on('data', () => undefined);
      child.on('error', reject);
      child.on('close', () => {
        if (firstLineMs === undefined) reject(new Error(`packpub push under script printed nothing: ${seen.slice(-500)}`));
        else resolvePromise(firstLineMs);
      });
    });
  });
}

/** The pre-check of every run: all corpus packs validate. */
export async function validateCorpus(ctx: BenchContext): Promise<ValidateRun> {
  return validateRun(ctx);
}
