import { readdir, readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/*
 * Summaries of V8 CPU profiles written by `node --cpu-prof` (Chrome DevTools Profile format:
 * nodes with callFrame + hitCount, samples, timeDeltas). Self time is what a function spent in its own
 * code; zlib and file I/O run on libuv's thread pool and show up as "(idle)" on the main thread.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  label: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  files: string[];
  /** Profiled wall time of all threads together, ms. */
  totalMs: number;
  functions: ProfileEntry[];
  /** Self time grouped by where the code lives: packpub modules, dependencies, Node internals, V8/GC, idle. */
  areas: ProfileEntry[];
}

function shortUrl(url: string, repoRoot: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + 1);
  return path.startsWith('/') ? relative(repoRoot, path) : path;
}

/** Native functions Node's fs bindings expose: their self time is the cost of issuing many small file calls. */
const FS_BINDINGS = new Set([
  'access', 'close', 'fstat', 'lstat', 'mkdir', 'open', 'openFileHandle', 'read', 'readdir', 'readFileUtf8',
  'realpath', 'rename', 'stat', 'unlink', 'writeBuffer', 'writeBuffers', 'writeLatin1String', 'writeString', 'writev',
]);

function area(url: string, name: string): string {
  if (name === '(idle)') return 'idle (waiting: thread pool zlib/fs, network)';
  if (name === '(garbage collector)') return 'garbage collector';
  if (url === '' && FS_BINDINGS.has(name)) return 'fs calls (open/stat/read/write/close bindings)';
  if (name === '(program)' || url === '') return 'V8 / native (program, builtins)';
  if (url.startsWith('node:')) return `Node internals (${url.slice(5).split('/')[0] ?? ''})`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '');
    return `dependency ${pkg}`;
  }
  const m = /(?:^|\/)(?:dist|src)\/([^/]+)\//.exec(url);
  return m === null ? url : `packpub ${m[1]}/`;
}

function sortEntries(map: Map<string, number>, total: number, limit: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([label, selfMs]) => ({ label, selfMs, share: total > 0 ? selfMs / total : 0 }));
}

/**
 * The source a frame's code came from, when its file has a source map beside it (FILE.map): the built
 * CLI is a bundle (dist/bundle/, scripts/build-cli.mjs) whose chunks hold packpub's modules and its
 * dependencies together, so a frame is filed under the src/ module or package it was bundled from.
 */
async function originalFrame(found: CallFrame, maps: Map<string, SourceMap | undefined>): Promise<CallFrame> {
  // A CommonJS chunk (.cjs, the bundle's) is named by its path, not a file: URL.
  const frame = found.url.startsWith('/') && found.url.endsWith('.cjs') ? { ...found, url: pathToFileURL(found.url).href } : found;
  if (!frame.url.startsWith('file://')) return found;
  if (!maps.has(frame.url)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(await readFile(`${fileURLToPath(frame.url)}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(frame.url, map);
  }
  const entry = maps.get(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber ?? 0);
  if (entry === undefined || !('originalSource' in entry)) return found;
  const source = resolve(dirname(fileURLToPath(frame.url)), entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : entry.originalSource);
  return { ...frame, url: pathToFileURL(source).href, lineNumber: entry.originalLine, columnNumber: entry.originalColumn };
}

/** Read every .cpuprofile in `dir` (one per thread) and add their self times up. */
export async function summariseProfiles(dir: string, repoRoot: string, limit = 15): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let totalMs = 0;
  const maps = new Map<string, SourceMap | undefined>();
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    if (samples.length > 0 && deltas.length === samples.length) {
      // timeDeltas[i] is the time before sample i; attribute it to that sample's node (microseconds).
      for (let i = 0; i < samples.length; i++) {
        const id = samples[i] as number;
        self.set(id, (self.get(id) ?? 0) + Math.max(0, deltas[i] ?? 0) / 1000);
      }
    } else {
      const perHit = (profile.endTime - profile.startTime) / 1000 / Math.max(1, samples.length);
      for (const n of profile.nodes) self.set(n.id, (n.hitCount ?? 0) * perHit);
    }
    for (const [id, ms] of self) {
      const node = nodes.get(id);
      if (node === undefined || ms === 0) continue;
      const frame = await originalFrame(node.callFrame, maps);
      const url = shortUrl(frame.url, repoRoot);
      const name = frame.functionName || '(anonymous)';
      const label = url === '' ? name : `${name} (${url}:${frame.lineNumber + 1})`;
      byFunction.set(label, (byFunction.get(label) ?? 0) + ms);
      const a = area(url, name);
      byArea.set(a, (byArea.get(a) ?? 0) + ms);
      totalMs += ms;
    }
  }
  return { files, totalMs, functions: sortEntries(byFunction, totalMs, limit), areas: sortEntries(byArea, totalMs, 10) };
}

/** What time in an area usually means, for the one-line reading under a profile. */
function meaning(label: string): string {
  if (label.startsWith('idle')) return 'the main thread waiting (for zlib or fs work on the thread pool, the network, or the registry)';
  if (label.startsWith('fs calls')) return 'issuing file-system calls on the main thread (synchronous calls, or very many small ones)';
  if (label === 'garbage collector') return 'garbage collection (allocation churn)';
  if (label === 'Node internals (zlib)') return 'the JavaScript side of zlib (per-chunk callbacks and buffer handling)';
  if (label === 'Node internals (internal)') return 'Node internals: module loading, streams, promises, buffers';
  if (label.startsWith('Node internals')) return `Node's ${label.slice('Node internals '.length)} module`;
  if (label.startsWith('packpub ')) return `packpub's own ${label.slice('packpub '.length)} code`;
  if (label.startsWith('dependency ')) return `the ${label.slice('dependency '.length)} package`;
  return label;
}

export function profileMarkdown(summary: ProfileSummary, where: string): string[] {
  const pct = (e: ProfileEntry) => `${(e.share * 100).toFixed(1)}%`;
  const reading = summary.areas
    .slice(0, 3)
    .map((e) => `${pct(e)} ${meaning(e.label)}`)
    .join('; ');
  const lines = [
    `Reading: ${reading}.`,
    '',
    `Profile: ${summary.files.length} thread profile(s) in \`${where}\`, ${Math.round(summary.totalMs)} ms sampled in total. ` +
      'zlib and file I/O on libuv\'s thread pool are not in V8 profiles (they are main-thread "idle"); GNU time\'s CPU total above includes them.',
    '',
    '| where | self time | share |',
    '| --- | ---: | ---: |',
    ...summary.areas.map((e) => `| ${e.label} | ${Math.round(e.selfMs)} ms | ${pct(e)} |`),
    '',
    '| top self-time functions | self time | share |',
    '| --- | ---: | ---: |',
    ...summary.functions.map((e) => `| \`${e.label.replaceAll('|', '\\|')}\` | ${Math.round(e.selfMs)} ms | ${pct(e)} |`),
  ];
  return lines;
}
