import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCorpus, ensureHugePack } from './corpus.js';
import { calibrate, describeMachine } from './machine.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { ensureGnuTime, run } from './proc.js';
import { profileMarkdown, summariseProfiles } from './profile.js';
import { stopAllRegistries } from './registry.js';
import { median } from './stats.js';
import { registryProfileMarkdown, type FloorFigures } from './registry-profile.js';
import { evaluate, resultsMarkdown, textTable, type Measurements, type ProfileKey, type ProfileSection, type Row, type ScalingRun } from './report.js';
import {
  boundRun,
  largeManualRun,
  largePackpubRun,
  layoutRun,
  manualRun,
  newVersionRuns,
  profileDir,
  profilesRoot,
  registryRun,
  firstOutputRun,
  startupRuns,
  validateCorpus,
  validateRun,
  type BenchContext,
  type LargeRun,
} from './scenarios.js';

/*
 * `npm run bench`: issue 7's benchmark. Compiled to bench/.build/bench/run.js (tsconfig.bench.json);
 * measures the built CLI (bin/packpub.js -> dist/) against a real docker-registry on loopback.
 */

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** bench/.build/bench/run.js -> the repository root. */
function repoRoot(): string {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  if (!existsSync(join(root, 'package.json')) || !existsSync(join(root, 'bin', 'packpub.js'))) {
    throw new Error(`cannot find the repository root from ${fileURLToPath(import.meta.url)}: run the bench with \`npm run bench\``);
  }
  return root;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const info = await stat(join(entry.parentPath, entry.name));
    newest = Math.max(newest, info.mtimeMs);
  }
  return newest;
}

/** The bench measures the built CLI: build it when dist/ is missing or older than src/. */
async function ensureBuilt(root: string): Promise<void> {
  const main = join(root, 'dist', 'cli', 'main.js');
  const built = existsSync(main) ? (await stat(main)).mtimeMs : 0;
  if (built > 0 && built >= (await newestMtime(join(root, 'src')))) return;
  log('dist/ is missing or older than src/: npm run build ...');
  await run('npm', ['run', 'build'], { cwd: root });
}

async function requireTool(cmd: string): Promise<void> {
  const r = await run('bash', ['-c', `command -v ${cmd}`], { allowFailure: true });
  if (r.code !== 0) throw new Error(`${cmd} is not installed: run \`bash scripts/ensure-test-tools.sh\` (as root) first`);
}

async function timedRuns<T>(label: string, runs: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < runs; i++) {
    log(`${label}: run ${i + 1}/${runs}`);
    out.push(await fn(i));
  }
  return out;
}

/** Where each scenario's profile goes and how RESULTS.md introduces it. */
const PROFILES: Record<ProfileKey, { dir: string; title: string; note: string }> = {
  empty: { dir: 'empty-registry', title: 'packpub push of the corpus to an empty registry', note: 'One extra run under `node --cpu-prof` (cold cache, fresh registry).' },
  unchanged: { dir: 'unchanged', title: 'packpub push of the unchanged corpus', note: 'The second push of an extra pair of runs, under `node --cpu-prof` (warm cache).' },
  large: { dir: 'large', title: 'packpub push of the 1 GiB pack', note: 'One extra run under `node --cpu-prof` (cold cache, fresh registry).' },
  version: { dir: 'version', title: 'packpub --version', note: 'One run under `node --cpu-prof`.' },
  validate: { dir: 'validate', title: 'packpub validate <one small pack>', note: 'One run under `node --cpu-prof`.' },
  'validate-tree': { dir: 'validate-tree', title: 'packpub validate of the tree', note: 'One run under `node --cpu-prof` (every thread, worker threads included).' },
};

function profileKeys(rows: readonly Row[], mode: BenchOptions['profile']): Set<ProfileKey> {
  const keys = new Set<ProfileKey>();
  for (const r of rows) if (r.profile !== undefined && mode !== 'none' && (mode === 'all' || r.result === 'miss')) keys.add(r.profile);
  // RESULTS.md always shows where the first publish spends its time (issue 16).
  if (mode !== 'none' && rows.some((r) => r.profile === 'empty')) keys.add('empty');
  return keys;
}

/** One extra run of each scenario under `node --cpu-prof`, into bench/work/profiles/<dir>. */
async function recordProfiles(ctx: BenchContext, keys: Set<ProfileKey>, hugePack: () => ReturnType<typeof ensureHugePack>): Promise<void> {
  if (keys.has('empty')) {
    log('profiling: packpub push to an empty registry');
    const dir = await profileDir(ctx, PROFILES.empty.dir);
    await registryRun(ctx, { runIndex: 0, verify: false, profileEmpty: dir, profileRegistry: dir });
  }
  if (keys.has('unchanged')) {
    log('profiling: packpub push, nothing changed');
    await registryRun(ctx, { runIndex: 0, verify: false, profileUnchanged: await profileDir(ctx, PROFILES.unchanged.dir) });
  }
  if (keys.has('large')) {
    log('profiling: packpub push of the 1 GiB pack');
    await largePackpubRun(ctx, await hugePack(), 0, await profileDir(ctx, PROFILES.large.dir));
  }
  if (keys.has('validate-tree')) {
    log('profiling: packpub validate of the tree');
    await validateRun(ctx, await profileDir(ctx, PROFILES['validate-tree'].dir));
  }
  if (keys.has('version') || keys.has('validate')) {
    log('profiling: start-up');
    await startupRuns(ctx, 1, { version: await profileDir(ctx, PROFILES.version.dir), validate: await profileDir(ctx, PROFILES.validate.dir) });
  }
}

/** Summaries of the profiles on disk for these keys (missing ones are left out). */
async function profileSections(root: string, workDir: string, keys: Set<ProfileKey>, quick: boolean, floor: FloorFigures): Promise<ProfileSection[]> {
  const sections: ProfileSection[] = [];
  for (const key of keys) {
    const { dir, title, note } = PROFILES[key];
    const path = join(profilesRoot(workDir, quick), dir);
    if (!existsSync(path)) continue;
    const summary = await summariseProfiles(path, root);
    if (summary.files.length > 0) sections.push({ title, lines: [note, '', ...profileMarkdown(summary, relative(root, path))] });
    // The registry's side of the same run (Go pprof through its debug server), or why there is none.
    const registry = key === 'empty' ? await registryProfileMarkdown(path, relative(root, path), floor) : undefined;
    if (registry !== undefined) sections.push({ title: 'docker-registry during the packpub push to an empty registry', lines: registry });
  }
  return sections;
}

function resultsPath(root: string, options: BenchOptions): string {
  return options.output ?? join(root, 'bench', options.quick ? 'work/RESULTS-quick.md' : 'RESULTS.md');
}

function rawPath(workDir: string, options: BenchOptions): string {
  return join(workDir, options.quick ? 'last-run-quick.json' : 'last-run.json');
}

async function writeResults(root: string, workDir: string, m: Measurements, options: BenchOptions): Promise<void> {
  const rows = evaluate(m);
  const floor: FloorFigures = {
    cores: m.machine.cores,
    ...(m.registry.some((r) => r.emptyCpu !== undefined) ? { registryCpuS: median(m.registry.flatMap((r) => (r.emptyCpu === undefined ? [] : [r.emptyCpu.registryS]))) } : {}),
    ...(m.boundCpuS.length > 0 ? { compressionCpuS: median(m.boundCpuS) } : {}),
  };
  const profiles = await profileSections(root, workDir, profileKeys(rows, options.profile), options.quick, floor);
  const output = resultsPath(root, options);
  await writeFile(output, resultsMarkdown(m, rows, profiles));
  process.stdout.write(`${textTable(m, rows)}\n`);
  log(`results written to ${relative(process.cwd(), output) || output}`);
}

/** `--report-only`: RESULTS.md again from the last run's raw numbers and profiles, without measuring. */
async function reportOnly(options: BenchOptions): Promise<number> {
  const root = repoRoot();
  const workDir = join(root, 'bench', 'work');
  const raw = rawPath(workDir, options);
  if (!existsSync(raw)) throw new Error(`${relative(root, raw)} does not exist: run the bench first`);
  const { measurements } = JSON.parse(await readFile(raw, 'utf8')) as { measurements: Measurements };
  await writeResults(root, workDir, measurements, options);
  return 0;
}

/** The CPUs this process may run on, as taskset prints them ("0,1" or "0-3"). */
async function affinity(): Promise<string> {
  const r = await run('taskset', ['-p', '-c', String(process.pid)]);
  return r.stdout.trim().split(': ').pop() ?? '';
}

/** Pin this process (every thread) to `cpus`; processes it starts afterwards inherit it. */
async function pin(cpus: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpus, String(process.pid)]);
}

/** The bound, the first publish + unchanged and validate of the tree, pinned to 1 core and then to 2 cores. */
async function scalingRuns(ctx: BenchContext): Promise<ScalingRun[]> {
  const original = await affinity();
  const sets = ctx.cores >= 2 ? ['0', '0,1'] : ['0'];
  const out: ScalingRun[] = [];
  try {
    for (const cpus of sets) {
      await pin(cpus);
      const cores = cpus.split(',').length;
      const pinned: BenchContext = { ...ctx, cores };
      const s: ScalingRun = { cpus, cores, boundCpuS: [], emptyMs: [], emptyCpuS: [], unchangedMs: [], validateMs: [], validateCpuS: [] };
      for (let i = 0; i < ctx.options.runs; i++) {
        log(`scaling, taskset -c ${cpus}: run ${i + 1}/${ctx.options.runs}`);
        s.boundCpuS.push((await boundRun(pinned)).cpuS);
        const r = await registryRun(pinned, { runIndex: i, verify: false });
        s.emptyMs.push(r.emptyMs);
        s.emptyCpuS.push(r.emptyCpuS);
        s.unchangedMs.push(r.unchangedMs);
        const v = await validateRun(pinned);
        s.validateMs.push(v.ms);
        s.validateCpuS.push(v.cpuS);
      }
      out.push(s);
    }
  } finally {
    await pin(original);
  }
  return out;
}

async function bench(options: BenchOptions): Promise<number> {
  const started = performance.now();
  const root = repoRoot();
  const workDir = join(root, 'bench', 'work');
  await mkdir(workDir, { recursive: true });
  await ensureGnuTime(log);
  for (const tool of ['docker-registry', 'skopeo', 'tar', 'gzip']) await requireTool(tool);
  await ensureBuilt(root);
  const cli = { repoRoot: root, bin: join(root, 'bin', 'packpub.js'), workDir };
  const machine = await describeMachine(cli.bin);
  const corpus = await ensureCorpus({ workDir, seed: options.seed, quick: options.quick, log });
  const ctx: BenchContext = { repoRoot: root, workDir, cli, corpus, options, cores: machine.cores, log, checks: [] };
  log(`corpus: ${corpus.packs.length} packs, ${(corpus.totalBytes / 1e6).toFixed(0)} MB in ${corpus.dir}`);
  const m: Measurements = {
    machine,
    corpus,
    options,
    baselineMs: [],
    baselineCpuS: [],
    boundCpuS: [],
    boundMs: [],
    registry: [],
    layoutMs: [],
    large: undefined,
    startup: undefined,
    newVersion: undefined,
    checks: ctx.checks,
    totalMs: 0,
  };
  m.corpusValidateMs = (await validateCorpus(ctx)).ms;
  const want = options.scenarios;
  if (want.has('validate')) m.validate = await timedRuns('packpub validate of the tree', options.runs, () => validateRun(ctx));
  if (want.has('first-output')) m.firstOutputMs = await timedRuns('first output line on a terminal', options.runs, () => firstOutputRun(ctx));

  // Start-up first, on a quiet machine.
  if (want.has('startup')) {
    log(`start-up: ${options.startupRuns} runs each of --version and validate`);
    m.startup = await startupRuns(ctx, options.startupRuns);
  }
  if (want.has('bound')) {
    for (const r of await timedRuns('compression bound', options.runs, () => boundRun(ctx))) {
      m.boundCpuS.push(r.cpuS);
      m.boundMs.push(r.boundMs);
    }
  }
  // Baseline and packpub runs alternate, so slow drift on the machine hits both alike.
  const registryWanted = want.has('empty') || want.has('unchanged');
  for (let i = 0; i < options.runs; i++) {
    if (want.has('baseline')) {
      log(`manual baseline: run ${i + 1}/${options.runs} (${corpus.packs.length} packs in sequence)`);
      const manual = await manualRun(ctx, i);
      m.baselineMs.push(manual.ms);
      m.baselineCpuS.push(manual.cpuS);
    }
    if (registryWanted) {
      log(`packpub push, empty registry then unchanged: run ${i + 1}/${options.runs}`);
      m.registry.push(await registryRun(ctx, { runIndex: i, verify: i === 0 }));
    }
  }
  if (want.has('layout')) m.layoutMs = await timedRuns('packpub push --oci-layout', options.runs, (i) => layoutRun(ctx, i));
  if (want.has('new-version')) {
    log('requests per new version in an existing repository');
    m.newVersion = await newVersionRuns(ctx, options.runs);
  }
  let huge: Awaited<ReturnType<typeof ensureHugePack>> | undefined;
  const hugePack = async () => (huge ??= await ensureHugePack({ workDir, seed: options.seed, quick: options.quick, log }));
  if (want.has('large')) {
    const pack = await hugePack();
    const runs: LargeRun[] = await timedRuns('1 GiB pack (packpub, then manual)', options.runs, async (i) => {
      const p = await largePackpubRun(ctx, pack, i);
      const manual = await largeManualRun(ctx, pack);
      return { ...p, manualMs: manual.ms, manualCpuS: manual.cpuS };
    });
    m.large = { runs, packBytes: pack.bytes };
  }

  if (want.has('scaling')) m.scaling = await scalingRuns(ctx);

  m.loadEnd = loadavg()[0] ?? 0;
  m.calibrationEndMs = calibrate();
  const keys = profileKeys(evaluate(m), options.profile);
  // Old profiles of other scenarios would be mistaken for this run's.
  await rm(profilesRoot(workDir, options.quick), { recursive: true, force: true });
  if (keys.size > 0) await recordProfiles(ctx, keys, hugePack);
  m.totalMs = performance.now() - started;
  // The raw numbers too, for comparing runs and for --report-only.
  await writeFile(rawPath(workDir, options), `${JSON.stringify({ measurements: m, rows: evaluate(m) }, null, 2)}\n`);
  await writeResults(root, workDir, m, options);
  return 0;
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const stop = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping registries`);
    void stopAllRegistries().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    process.exitCode = options.reportOnly ? await reportOnly(options) : await bench(options);
  } catch (err) {
    process.stderr.write(`\nbench FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await stopAllRegistries();
  }
}

await main();
