import type { Corpus } from './corpus.js';
import { machineLines, type Machine } from './machine.js';
import type { BenchOptions } from './options.js';
import type { LargeRun, NewVersionResult, RegistryRun, StartupResult, ValidateRun } from './scenarios.js';
import type { CpuSplit } from './threads.js';
import { formatBytes, formatMs, formatRatio, list, median } from './stats.js';

/** The results table (stdout) and bench/RESULTS.md, from the raw measurements. */

export interface Measurements {
  machine: Machine;
  corpus: Corpus;
  options: BenchOptions;
  corpusValidateMs?: number;
  /** Timed `packpub validate` runs of the whole corpus. */
  validate?: ValidateRun[];
  /** Time to the first output line of `packpub push` on a terminal, per run. */
  firstOutputMs?: number[];
  /** The same runs pinned to 1 core and to 2 cores (taskset). */
  scaling?: ScalingRun[];
  baselineMs: number[];
  baselineCpuS: number[];
  boundCpuS: number[];
  boundMs: number[];
  registry: RegistryRun[];
  layoutMs: number[];
  large: { runs: LargeRun[]; packBytes: number } | undefined;
  startup: StartupResult | undefined;
  newVersion: NewVersionResult | undefined;
  checks: string[];
  totalMs: number;
  /** 1-minute load average when the measurements ended. */
  loadEnd?: number;
  /** calibrate() when the measurements ended (the machine's figure at the start: Machine.calibrationMs). */
  calibrationEndMs?: number;
}

export type ProfileKey = 'empty' | 'unchanged' | 'large' | 'version' | 'validate' | 'validate-tree';

export interface ScalingRun {
  /** taskset CPU list, e.g. "0" or "0,1". */
  cpus: string;
  cores: number;
  boundCpuS: number[];
  emptyMs: number[];
  emptyCpuS: number[];
  unchangedMs: number[];
  validateMs: number[];
  validateCpuS: number[];
}

export interface Row {
  scenario: string;
  measured: string;
  target: string;
  /** '' for reference rows without a target. */
  result: 'pass' | 'miss' | '';
  /** How far off a missed target is, in words. */
  missBy: string;
  /** Why-analysis available for this row. */
  profile?: ProfileKey;
  /** Plain-number hints printed under a miss (CPU use and the like). */
  hints: string[];
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** measured <= limit */
function atMost(measured: number, limit: number, fmt: (v: number) => string): Pick<Row, 'result' | 'missBy'> {
  if (!Number.isFinite(measured)) return { result: '', missBy: '' };
  if (measured <= limit) return { result: 'pass', missBy: '' };
  return { result: 'miss', missBy: `${fmt(measured)} against ${fmt(limit)}: ${pct(measured / limit - 1)} over the target` };
}

export function evaluate(m: Measurements): Row[] {
  const rows: Row[] = [];
  const baseline = median(m.baselineMs);
  const bound = median(m.boundMs);
  const cores = m.machine.cores;
  if (m.baselineMs.length > 0) {
    rows.push({ scenario: `manual baseline (${m.corpus.packs.length} packs: tar -czf + skopeo copy, in sequence)`, measured: formatMs(baseline), target: 'reference', result: '', missBy: '', hints: [] });
  }
  if (m.boundMs.length > 0) {
    rows.push({
      scenario: `compression bound (tar | gzip -6 CPU time / ${cores} cores)`,
      measured: `${formatMs(bound)} (CPU ${median(m.boundCpuS).toFixed(1)} s)`,
      target: 'reference',
      result: '',
      missBy: '',
      hints: [],
    });
  }
  if (m.registry.length > 0) {
    const empty = median(m.registry.map((r) => r.emptyMs));
    const cpu = median(m.registry.map((r) => r.emptyCpuS));
    const validateHint =
      m.corpusValidateMs === undefined ? [] : [`for scale: \`packpub validate\` of the whole corpus (one process) takes ${formatMs(m.corpusValidateMs)}`];
    const hints: string[] = [
      `packpub used ${cpu.toFixed(1)} CPU-s in ${formatMs(empty)} wall: ${pct(cpu / (empty / 1000) / cores)} of ${cores} cores` +
        (m.boundCpuS.length > 0 ? `; compressing the corpus once takes ${median(m.boundCpuS).toFixed(1)} CPU-s (gzip -6)` : '') +
        (m.baselineCpuS.length > 0 ? `; the manual loop's tar, gzip and skopeo processes use ${median(m.baselineCpuS).toFixed(1)} CPU-s` : ''),
      ...validateHint,
      ...(m.layoutMs.length > 0
        ? [`the same push into a local OCI layout (no HTTP, no registry) takes ${formatMs(median(m.layoutMs))}: the registry side accounts for about ${formatMs(Math.max(0, empty - median(m.layoutMs)))}`]
        : []),
    ];
    if (m.baselineMs.length > 0) {
      const speedup = baseline / empty;
      rows.push({
        scenario: 'packpub push, empty registry: vs manual',
        measured: `${formatMs(empty)} = ${speedup >= 1 ? `${formatRatio(speedup)} faster` : `${formatRatio(1 / speedup)} slower`}`,
        target: '>= 10x faster (stretch)',
        ...(speedup >= 10
          ? { result: 'pass' as const, missBy: '' }
          : { result: 'miss' as const, missBy: `${formatRatio(speedup)} the manual speed instead of 10x: needs ${formatMs(baseline / 10)} or less, took ${pct(empty / (baseline / 10) - 1)} longer` }),
        profile: 'empty',
        hints: [
          ...(m.boundMs.length > 0 && baseline / 10 < bound
            ? [
                `this target is below the compression bound here: 10x the manual speed means ${formatMs(baseline / 10)}, but compressing the bytes once on ${cores} cores takes ${formatMs(bound)}; no publisher can meet it on this machine (the manual loop is cheap on a loopback registry), so the bound target is the one to judge by`,
              ]
            : []),
          ...hints,
        ],
      });
    }
    if (m.boundMs.length > 0) {
      const ratio = empty / bound;
      rows.push({
        scenario: 'packpub push, empty registry: vs compression bound',
        measured: `${formatRatio(ratio)} the bound`,
        target: '<= 2x',
        ...atMost(ratio, 2, formatRatio),
        profile: 'empty',
        hints,
      });
    }
    const unchanged = median(m.registry.map((r) => r.unchangedMs));
    rows.push({ scenario: 'packpub push again, nothing changed: wall', measured: formatMs(unchanged), target: '<= 0.5 s', ...atMost(unchanged, 500, formatMs), profile: 'unchanged', hints: [] });
    const uploads = Math.max(...m.registry.map((r) => r.unchangedUploads));
    rows.push({
      scenario: 'packpub push again, nothing changed: blob uploads',
      measured: `${uploads} (${median(m.registry.map((r) => r.unchangedRequests))} requests in all)`,
      target: '0 POST /blobs/uploads/',
      ...(uploads === 0 ? { result: 'pass' as const, missBy: '' } : { result: 'miss' as const, missBy: `${uploads} uploads started` }),
      hints: [],
    });
  }
  if (m.registry.length > 0) {
    const rssMb = (Math.max(...m.registry.map((r) => r.emptyRssKb)) * 1024) / 1e6;
    rows.push({ scenario: 'packpub push of the whole tree: peak RSS', measured: `${rssMb.toFixed(0)} MB`, target: '<= 300 MB', ...atMost(rssMb, 300, (v) => `${v.toFixed(0)} MB`), profile: 'empty', hints: [] });
  }
  if (m.validate !== undefined && m.validate.length > 0) {
    const ms = median(m.validate.map((r) => r.ms));
    const cpu = median(m.validate.map((r) => r.cpuS));
    const used = cpu / (ms / 1000);
    rows.push({
      scenario: `packpub validate of the tree (${m.corpus.packs.length} packs)`,
      measured: `${formatMs(ms)}, CPU ${cpu.toFixed(1)} s = ${used.toFixed(2)} of ${cores} cores`,
      target: '<= 1.5 s',
      ...atMost(ms, 1500, formatMs),
      profile: 'validate-tree',
      hints: [`packpub used ${cpu.toFixed(1)} CPU-s in ${formatMs(ms)} wall: ${pct(used / cores)} of ${cores} cores`],
    });
    rows.push({
      scenario: 'packpub validate of the tree: cores used (CPU time / wall time)',
      measured: `${used.toFixed(2)}`,
      target: `every core: >= ${(0.75 * cores).toFixed(2)} of ${cores}`,
      ...(used >= 0.75 * cores ? { result: 'pass' as const, missBy: '' } : { result: 'miss' as const, missBy: `${used.toFixed(2)} cores busy on average, ${(0.75 * cores).toFixed(2)} wanted` }),
      profile: 'validate-tree',
      hints: [],
    });
  }
  if (m.firstOutputMs !== undefined && m.firstOutputMs.length > 0) {
    const ms = median(m.firstOutputMs);
    rows.push({ scenario: 'packpub push of the tree on a terminal: first output line', measured: formatMs(ms), target: '<= 300 ms', ...atMost(ms, 300, formatMs), hints: [] });
  }
  if (m.layoutMs.length > 0) {
    const layout = median(m.layoutMs);
    rows.push({
      scenario: 'packpub push --oci-layout, empty layout (no network)',
      measured: m.boundMs.length > 0 ? `${formatMs(layout)} = ${formatRatio(layout / bound)} the bound` : formatMs(layout),
      target: 'info',
      result: '',
      missBy: '',
      hints: [],
    });
  }
  if (m.large !== undefined && m.large.runs.length > 0) {
    const p = median(m.large.runs.map((r) => r.packpubMs));
    const man = median(m.large.runs.map((r) => r.manualMs));
    const cpu = median(m.large.runs.map((r) => r.packpubCpuS));
    const manCpu = median(m.large.runs.map((r) => r.manualCpuS));
    rows.push({
      scenario: `one ${formatBytes(m.large.packBytes)} pack: packpub vs manual`,
      measured: `${formatMs(p)} vs ${formatMs(man)} = ${formatRatio(p / man)}`,
      target: '<= 0.5x',
      ...atMost(p / man, 0.5, formatRatio),
      profile: 'large',
      hints: [
        `packpub used ${cpu.toFixed(1)} CPU-s in ${formatMs(p)} wall: ${pct(cpu / (p / 1000) / cores)} of ${cores} cores; ` +
          `the manual tar -czf + skopeo used ${manCpu.toFixed(1)} CPU-s in ${formatMs(man)} (one core)`,
      ],
    });
    const rssMb = (Math.max(...m.large.runs.map((r) => r.packpubRssKb)) * 1024) / 1e6;
    rows.push({
      scenario: `one ${formatBytes(m.large.packBytes)} pack: packpub peak RSS`,
      measured: `${rssMb.toFixed(0)} MB`,
      target: '<= 200 MB',
      ...atMost(rssMb, 200, (v) => `${v.toFixed(0)} MB`),
      profile: 'large',
      hints: [],
    });
  }
  if (m.startup !== undefined) {
    const v = median(m.startup.versionMs);
    const val = median(m.startup.validateMs);
    rows.push({ scenario: 'packpub --version', measured: formatMs(v), target: '<= 100 ms', ...atMost(v, 100, formatMs), profile: 'version', hints: [] });
    rows.push({ scenario: 'packpub validate <one small pack>', measured: formatMs(val), target: '<= 300 ms', ...atMost(val, 300, formatMs), profile: 'validate', hints: [] });
  }
  if (m.newVersion !== undefined) {
    const n = median(m.newVersion.counts);
    const once = m.newVersion.oneOffs;
    rows.push({
      scenario: 'HTTP requests per new pack version, existing repository',
      measured: `${n}${once > 0 ? ` (+${once} once per run, outside the pack's repository)` : ''}`,
      target: '<= 6',
      ...atMost(n, 6, (x) => `${x}`),
      hints: [`requests: ${m.newVersion.lastRequests.map((r) => `${r.method} ${r.path.replace(/\?.*$/, '?...')} ${r.status ?? '-'}`).join(', ')}`],
    });
  }
  return rows;
}

export function textTable(m: Measurements, rows: readonly Row[]): string {
  const header = ['scenario', 'measured', 'target', 'result'];
  const body = rows.map((r) => [r.scenario, r.measured, r.target, r.result === '' ? '-' : r.result]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [
    ...machineLines(m.machine),
    ...(m.loadEnd === undefined ? [] : [`load average at end (1 min): ${m.loadEnd.toFixed(2)}`]),
    ...(m.calibrationEndMs === undefined ? [] : [`calibration at end: ${m.calibrationEndMs.toFixed(0)} ms`]),
    corpusLine(m),
    '',
    line(header),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...body.map(line),
    '',
    ...rows.filter((r) => r.result === 'miss').map((r) => `miss: ${r.scenario}: ${r.missBy}`),
  ].join('\n');
}

function corpusLine(m: Measurements): string {
  const kinds = new Map<string, number>();
  for (const p of m.corpus.packs) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
  const mix = [...kinds.entries()].map(([k, n]) => `${n} ${k}`).join(', ');
  return `corpus: ${m.corpus.packs.length} packs (${mix}), ${m.corpus.totalFiles} files, ${formatBytes(m.corpus.totalBytes)} (${(m.corpus.totalBytes / 1e6).toFixed(0)} MB) uncompressed, seed ${m.corpus.seed}${m.corpus.quick ? ' (QUICK corpus: not the issue 7 corpus)' : ''}`;
}

export interface ProfileSection {
  title: string;
  lines: string[];
}

export function resultsMarkdown(m: Measurements, rows: readonly Row[], profiles: readonly ProfileSection[]): string {
  const out: string[] = [];
  const md = (s: string) => s.replaceAll('|', '\\|');
  out.push('# packpub benchmark results', '');
  out.push(`Written by \`npm run bench${m.options.quick ? ' -- --quick' : ''}\` (bench/README.md explains each scenario). Medians of ${m.options.runs} run(s); start-up medians of ${m.options.startupRuns}. Whole bench: ${formatMs(m.totalMs)}.`, '');
  out.push('## Machine', '', ...machineLines(m.machine).map((l) => `- ${l}`));
  if (m.loadEnd !== undefined) out.push(`- load average at end (1 min): ${m.loadEnd.toFixed(2)}`);
  if (m.calibrationEndMs !== undefined) out.push(`- calibration at end: ${m.calibrationEndMs.toFixed(0)} ms`);
  // The end figure includes the bench's own last runs; only the start says whether others were busy.
  if (m.machine.load > m.machine.cores * 0.5) {
    out.push('', `The machine was shared: it was not idle when the bench started (load average ${m.machine.load.toFixed(2)} on ${m.machine.cores} cores), so wall and start-up times may be inflated by other work, and CPU times too (compare the calibration figures).`);
  }
  out.push('');
  out.push('## Corpus', '', `- ${corpusLine(m).replace(/^corpus: /, '')}`);
  const byKind = (k: string) => m.corpus.packs.filter((p) => p.kind === k);
  for (const [kind, what] of [
    ['chart', 'packs with chart archives and the same charts unpacked beside them'],
    ['archive', 'packs with chart archives only'],
    ['manifest', 'manifest packs'],
  ] as const) {
    const ps = byKind(kind);
    if (ps.length === 0) continue;
    const sizes = ps.map((p) => p.bytes);
    out.push(`- ${ps.length} ${what}: ${formatBytes(Math.min(...sizes))} to ${formatBytes(Math.max(...sizes))} each, ${formatBytes(sizes.reduce((a, b) => a + b, 0))} in all, ${Math.round(median(ps.map((p) => p.files)))} files (median)`);
  }
  if (m.large !== undefined) out.push(`- one separate pack of ${formatBytes(m.large.packBytes)}: 32 x 16 MiB generated YAML and 32 x 16 MiB random bytes, plus a small manifest pack around them`);
  out.push('');
  out.push('## Results', '', '| scenario | measured | target | result |', '| --- | --- | --- | --- |');
  for (const r of rows) out.push(`| ${md(r.scenario)} | ${md(r.measured)} | ${md(r.target)} | ${r.result === '' ? '-' : r.result === 'miss' ? '**miss**' : 'pass'} |`);
  out.push('');
  out.push(...cpuSplitMarkdown(m), ...scalingMarkdown(m));
  const misses = rows.filter((r) => r.result === 'miss');
  out.push('## Missed targets and why', '');
  if (misses.length === 0) out.push('Every target was met.', '');
  for (const r of misses) {
    out.push(`### ${r.scenario}`, '', `- missed by: ${r.missBy}`, ...r.hints.map((h) => `- ${h}`), '');
  }
  for (const p of profiles) out.push(`### Profile: ${p.title}`, '', ...p.lines, '');
  out.push('## Details (every run)', '');
  if (m.baselineMs.length > 0) out.push(`- manual baseline: ${list(m.baselineMs, formatMs)}; CPU ${list(m.baselineCpuS, (v) => `${v.toFixed(1)} s`)}`);
  if (m.boundMs.length > 0) out.push(`- compression bound: CPU ${list(m.boundCpuS, (v) => `${v.toFixed(2)} s`)} -> ${list(m.boundMs, formatMs)} on ${m.machine.cores} cores`);
  if (m.registry.length > 0) {
    out.push(`- packpub, empty registry: ${list(m.registry.map((r) => r.emptyMs), formatMs)}; CPU ${list(m.registry.map((r) => r.emptyCpuS), (v) => `${v.toFixed(1)} s`)}; peak RSS ${list(m.registry.map((r) => r.emptyRssKb), (v) => `${Math.round((v * 1024) / 1e6)} MB`)}; uploaded ${formatBytes(m.registry[0]?.uploadedBytes ?? 0)} per run`);
    const again = m.registry.map((r) => r.unchangedCpu).filter((c) => c !== undefined);
    const split = again.length === 0 ? '' : `; CPU main thread ${list(again.map((c) => c.mainS), (v) => `${v.toFixed(2)} s`)}, other threads ${list(again.map((c) => c.otherThreadsS), (v) => `${v.toFixed(2)} s`)}, registry ${list(again.map((c) => c.registryS), (v) => `${v.toFixed(2)} s`)}`;
    out.push(`- packpub, unchanged: ${list(m.registry.map((r) => r.unchangedMs), formatMs)}${split}; blob uploads ${m.registry.map((r) => r.unchangedUploads).join(', ')}; requests ${m.registry.map((r) => r.unchangedRequests).join(', ')}`);
  }
  if (m.layoutMs.length > 0) out.push(`- packpub --oci-layout: ${list(m.layoutMs, formatMs)}`);
  if (m.large !== undefined) {
    out.push(`- 1 GiB pack, packpub: ${list(m.large.runs.map((r) => r.packpubMs), formatMs)}; CPU ${list(m.large.runs.map((r) => r.packpubCpuS), (v) => `${v.toFixed(1)} s`)}; peak RSS ${list(m.large.runs.map((r) => r.packpubRssKb), (v) => `${Math.round((v * 1024) / 1e6)} MB`)}; layer ${formatBytes(m.large.runs[0]?.layerBytes ?? 0)}`);
    out.push(`- 1 GiB pack, manual: ${list(m.large.runs.map((r) => r.manualMs), formatMs)}; CPU ${list(m.large.runs.map((r) => r.manualCpuS), (v) => `${v.toFixed(1)} s`)}`);
  }
  if (m.startup !== undefined) {
    out.push(`- packpub --version: ${list(m.startup.versionMs, formatMs)}`);
    out.push(`- packpub validate ${m.startup.pack}: ${list(m.startup.validateMs, formatMs)}`);
  }
  if (m.newVersion !== undefined) {
    // Compared by value: the measurements may have been read back from last-run.json.
    const perPack = new Set(m.newVersion.lastRequests.map((r) => `${r.method} ${r.path}`));
    const inPackRepository = (r: { method: string; path: string }) => perPack.has(`${r.method} ${r.path}`);
    out.push(`- new version in an existing repository: ${m.newVersion.counts.join(', ')} requests in the pack's repository; last run, every request:`);
    for (const r of m.newVersion.allRequests) out.push(`  - \`${r.method} ${r.path.replace(/_state=[^&]*/, '_state=...')}\` -> ${r.status ?? 'no answer'}${inPackRepository(r) ? '' : ' (once per run)'}`);
  }
  if (m.validate !== undefined && m.validate.length > 0) {
    out.push(`- \`packpub validate\` of the tree: ${list(m.validate.map((r) => r.ms), formatMs)}; CPU ${list(m.validate.map((r) => r.cpuS), (v) => `${v.toFixed(1)} s`)}; peak RSS ${list(m.validate.map((r) => r.rssKb), (v) => `${Math.round((v * 1024) / 1e6)} MB`)}`);
  } else if (m.corpusValidateMs !== undefined) {
    out.push(`- \`packpub validate\` of the whole corpus (one process): ${formatMs(m.corpusValidateMs)}`);
  }
  if (m.firstOutputMs !== undefined && m.firstOutputMs.length > 0) out.push(`- first output line on a terminal: ${list(m.firstOutputMs, formatMs)}`);
  out.push('');
  out.push('## Correctness checks (the bench stops if one fails)', '', ...m.checks.map((c) => `- ${c}`), '');
  out.push(
    '## Notes',
    '',
    '- ORAS is not installable on this machine (no Debian or npm package), so the manual baseline pushes with `skopeo copy --all --preserve-digests` from an OCI layout the bench writes with exactly the ORAS 1.0 manifest (config `{}` of the unknown type, one layer titled NAME-VERSION.tar.gz); the digests read back afterwards prove skopeo kept those bytes. Hashing the archive and writing the layout (ORAS\'s own work) is inside the timed loop.',
    '- The manual loop does not push the base repository\'s empty artifact the docs push once: that only favours the baseline.',
    '- Timed pushes go straight to the registry; the recording proxy (a Node process in the bench) sits only in front of the runs whose requests are counted, so its CPU is not billed to the publisher on a 2-core machine.',
    '- Every packpub run gets its own HOME and archive cache (`PACKPUB_CACHE_DIR`): "empty registry" runs start cold, the "unchanged" run reuses the cache of the push before it, as a CI job with a kept cache would.',
    '- CPU time and peak RSS come from GNU time (`/usr/bin/time -f "%U %S %M"`), wall time from the bench itself.',
    '',
  );
  return `${out.join('\n')}\n`;
}

/** Where the first publish's CPU went, from /proc samples of the timed runs (bench/threads.ts). */
function cpuSplitMarkdown(m: Measurements): string[] {
  const splits = m.registry.map((r) => r.emptyCpu).filter((c) => c !== undefined);
  if (splits.length === 0) return [];
  const wall = median(m.registry.map((r) => r.emptyMs)) / 1000;
  const main = median(splits.map((c) => c.mainS));
  const other = median(splits.map((c) => c.otherThreadsS));
  const registry = median(splits.map((c) => c.registryS));
  const row = (what: string, s: number) => `| ${what} | ${s.toFixed(2)} s | ${pct(s / wall)} |`;
  return [
    '## Where the first publish spends its time',
    '',
    `CPU seconds of the push to an empty registry (median of ${splits.length} run(s), ${formatMs(wall * 1000)} wall), sampled from /proc every 50 ms. Node names every thread "node", so the packpub process splits into its main thread and all other threads: libuv's thread pool (gzip, sha256 hashing, file reads), worker threads, and V8's own helpers. "Busy" is CPU time / wall time: 100% is one core kept busy for the whole run.`,
    '',
    '| where | CPU | busy |',
    '| --- | ---: | ---: |',
    row('packpub main thread (JavaScript, fs calls, HTTP)', main),
    row('packpub other threads (thread pool zlib/hash/fs, workers, V8 helpers)', other),
    row('docker-registry process', registry),
    row('all three', main + other + registry),
    '',
    ...otherThreadsLine(splits),
    ...idleCoresLine(splits, m.machine.cores),
    ...cpuReading(m, main, other, registry),
  ];
}

/**
 * The other threads one by one, of the run whose other threads took the median CPU (none for raw numbers recorded
 * before they were kept apart): a push that starts validation workers shows them as the busiest, one per core.
 */
function otherThreadsLine(splits: CpuSplit[]): string[] {
  const runs = splits.filter((c) => c.otherEachS !== undefined).sort((a, b) => a.otherThreadsS - b.otherThreadsS);
  const each = runs[Math.floor((runs.length - 1) / 2)]?.otherEachS;
  if (each === undefined || each.length === 0) return [];
  const shown = each.filter((s) => s >= 0.05);
  const small = each.length - shown.length;
  const text = `${shown.map((s) => s.toFixed(2)).join(', ')}${small === 0 ? '' : `${shown.length === 0 ? '' : ', '}${small} more under 0.05`} s`;
  return [
    `- The other threads one by one (${runs.length === 1 ? 'the run' : 'the run with the median'}): ${text}. Node names them all "node": where push runs its validation workers (one per core, for a tree worth them) those are the busiest (they validate, tar and deflate each pack); the rest are V8's helper threads (TurboFan compiles, garbage collection) and libuv's thread pool (zlib, hashing, file reads when the main thread builds).`,
  ];
}

/**
 * Where the cores were not all busy, of the run with the median wall among those with a timeline: the core-seconds
 * left unused (cores x wall minus the CPU of all three, sample by sample), the time with under one core busy, and
 * how long packpub worked before its first request (the checks: every upload waits for every verdict).
 */
export function idleCoresLine(splits: CpuSplit[], cores: number): string[] {
  const runs = splits.filter((c) => c.timeline !== undefined && c.timeline.length > 1);
  const run = runs.sort((a, b) => (a.timeline?.at(-1)?.[0] ?? 0) - (b.timeline?.at(-1)?.[0] ?? 0))[Math.floor((runs.length - 1) / 2)];
  const timeline = run?.timeline;
  if (run === undefined || timeline === undefined) return [];
  let unused = 0;
  let underOne = 0;
  for (let i = 1; i < timeline.length; i++) {
    const [t0, c0] = timeline[i - 1] as [number, number];
    const [t1, c1] = timeline[i] as [number, number];
    const dt = t1 - t0;
    if (dt <= 0) continue;
    const busy = (c1 - c0) / dt;
    unused += Math.max(0, cores - busy) * dt;
    if (busy < 1) underOne += dt;
  }
  const span = (timeline.at(-1) as [number, number])[0];
  const first = run.firstRequest;
  const before =
    first === undefined
      ? ''
      : ` Before its first request (the registry's first CPU: every upload waits for every verdict) packpub worked ${first.atS.toFixed(2)} s: main thread ${first.mainS.toFixed(2)} CPU-s, other threads ${first.otherThreadsS.toFixed(2)} CPU-s.`;
  return [
    `- Cores left idle (${runs.length === 1 ? 'the run' : 'the run with the median wall'}, /proc samples every 50 ms, all three together): ${unused.toFixed(2)} of ${(cores * span).toFixed(2)} core-seconds (${cores} cores x ${span.toFixed(2)} s sampled); under one core busy for ${underOne.toFixed(2)} s.${before}`,
  ];
}

/** What the split means for the bound target: the CPU floor, and where the biggest part of it is. */
function cpuReading(m: Measurements, main: number, other: number, registry: number): string[] {
  const cores = m.machine.cores;
  const floor = (main + other + registry) / cores;
  const lines: string[] = [];
  if (m.boundMs.length > 0) {
    const bound = median(m.boundMs) / 1000;
    lines.push(
      `- CPU floor: the three together need ${floor.toFixed(2)} s of ${cores} cores even with perfect overlap, ${formatRatio(floor / bound)} the compression bound (${bound.toFixed(2)} s); the bound target (2x) needs that CPU to shrink below ${(2 * bound * cores).toFixed(1)} CPU-s in all, not only better overlap.`,
    );
  }
  const validateCpu = m.validate !== undefined && m.validate.length > 0 ? median(m.validate.map((r) => r.cpuS)) : undefined;
  if (validateCpu !== undefined) {
    lines.push(
      `- Validation alone (\`packpub validate\` of the tree, deep checks included) costs ${validateCpu.toFixed(1)} CPU-s; push skips the deep checks unless --strict, and runs the rest on worker threads (counted in "other threads" above).`,
    );
  }
  if (m.boundCpuS.length > 0) {
    lines.push(`- Compressing the tree once (tar | gzip -6) costs ${median(m.boundCpuS).toFixed(1)} CPU-s; the registry process alone spends ${registry.toFixed(1)} CPU-s storing what packpub sends.`);
  }
  const biggest = [
    ['the packpub main thread', main],
    ['the packpub thread pool and workers', other],
    ['the registry process', registry],
  ].sort((a, b) => (b[1] as number) - (a[1] as number))[0] as [string, number];
  lines.push(`- The biggest share is ${biggest[0]} (${biggest[1].toFixed(1)} CPU-s): the next step starts there (the CPU profile below has its functions).`, '');
  return lines;
}

/** The same runs pinned to 1 core and to 2 cores. */
function scalingMarkdown(m: Measurements): string[] {
  if (m.scaling === undefined || m.scaling.length === 0) return [];
  const sets = m.scaling;
  const head = `| scenario | ${sets.map((x) => `${x.cores} core${x.cores === 1 ? '' : 's'} (taskset -c ${x.cpus})`).join(' | ')} |${sets.length > 1 ? ' speed-up |' : ''}`;
  const sep = `| --- | ${sets.map(() => '---:').join(' | ')} |${sets.length > 1 ? ' ---: |' : ''}`;
  const line = (what: string, values: number[], fmt: (v: number) => string, speedup = true) => {
    const first = values[0] ?? Number.NaN;
    const last = values[values.length - 1] ?? Number.NaN;
    return `| ${what} | ${values.map(fmt).join(' | ')} |${sets.length > 1 ? ` ${speedup ? formatRatio(first / last) : '-'} |` : ''}`;
  };
  const bound = sets.map((x) => (median(x.boundCpuS) * 1000) / x.cores);
  return [
    '## Scaling: the same runs pinned to 1 and 2 cores',
    '',
    `Every process of the run (packpub, docker-registry, tar and gzip) pinned with \`taskset\` to the CPUs shown; medians of ${sets[0]?.emptyMs.length ?? 0} run(s). The speed-up is the 1-core time over the ${sets[sets.length - 1]?.cores ?? 0}-core time.`,
    '',
    head,
    sep,
    line('compression bound (gzip -6 CPU / cores)', bound, formatMs),
    line('packpub push, empty registry', sets.map((x) => median(x.emptyMs)), formatMs),
    line('... vs the bound', sets.map((x, i) => median(x.emptyMs) / (bound[i] ?? Number.NaN)), formatRatio, false),
    line('packpub push, empty registry: CPU', sets.map((x) => median(x.emptyCpuS)), (v) => `${v.toFixed(1)} s`, false),
    line('packpub push again, nothing changed', sets.map((x) => median(x.unchangedMs)), formatMs),
    line('packpub validate of the tree', sets.map((x) => median(x.validateMs)), formatMs),
    line('packpub validate of the tree: CPU', sets.map((x) => median(x.validateCpuS)), (v) => `${v.toFixed(1)} s`, false),
    '',
  ];
}
