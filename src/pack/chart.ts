import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, sep } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import ignore from 'ignore';
import { load } from 'js-yaml';
import * as tar from 'tar-stream';
import { PackpubError, errorMessage } from '../errors.js';
import { valuesReferences } from './template-refs.js';

/*
 * Helm charts as a pack author hands them over: a `helm package` archive (.tgz) or an unpacked chart
 * directory. Only Chart.yaml, values.yaml and requirements.yaml of the chart and of its vendored
 * subcharts (`charts/<sub>/` directories or `charts/<sub>.tgz` archives, nested) are read; every other
 * entry is streamed past. Chart layout: helm.sh/docs/topics/charts ("The Chart File Structure").
 */

/** What is wrong with a chart, for callers that handle some problems themselves (the validator reports archive-level ones). */
export type ChartProblem = 'no-chart-yaml' | 'not-an-archive' | 'bad-metadata' | 'too-large' | 'too-many-entries' | 'too-deep' | 'unsafe-file';

export class ChartError extends PackpubError {
  readonly problem: ChartProblem;
  /** True when the problem is in a subchart archive inside the chart rather than the chart's own archive. */
  readonly nested: boolean;

  constructor(code: 'PACK_FILE' | 'UNSAFE_ARCHIVE', problem: ChartProblem, nested: boolean, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.problem = problem;
    this.nested = nested;
  }
}

export interface ChartDependency {
  name: string;
  alias?: string;
  condition?: string;
  tags?: string[];
  repository?: string;
  version?: string;
}

export interface HelmChart {
  /** Chart.yaml `name`: the key under `charts:` in a pack's values.yaml, whatever the folder is called. */
  name: string;
  version?: string;
  appVersion?: string;
  /** The folder the chart sits in (inside its archive, or on disk), for messages. */
  location: string;
  /** Parsed Chart.yaml. */
  metadata: Record<string, unknown>;
  /** The chart's values.yaml text exactly as written ('' when it has none). */
  valuesText: string;
  /** Declared dependencies (Chart.yaml, or requirements.yaml for apiVersion v1 charts). */
  dependencies: ChartDependency[];
  /** Vendored subcharts, in archive/directory order. */
  subcharts: HelmChart[];
  /**
   * `.Values` paths the chart's templates read (`templates/**`), e.g. `['image', 'tag']`: keys a chart
   * uses without listing a default in values.yaml are still valid settings.
   */
  templateValuePaths: string[][];
}

export interface ChartReadLimits {
  /** Largest Chart.yaml / values.yaml read (default 8 MiB). */
  maxTextBytes?: number;
  /** Most tar entries across nested archives (default 100 000). */
  maxEntries?: number;
  /** Most uncompressed bytes across nested archives: a gzip bomb stops here. Default 100 MiB, Helm's own limit (pkg/chart/loader MaxDecompressedChartSize). */
  maxBytes?: number;
  /** Deepest nesting of subchart archives (default 6). */
  maxNesting?: number;
}

const DEFAULT_LIMITS: Required<ChartReadLimits> = {
  maxTextBytes: 8 * 1024 * 1024,
  maxEntries: 100_000,
  maxBytes: 100 * 1024 * 1024,
  maxNesting: 6,
};

const CHART_FILES = new Set(['Chart.yaml', 'values.yaml', 'requirements.yaml']);

/** True for names `helm package` writes or users hand in. */
export function isChartArchiveName(name: string): boolean {
  return /\.(?:tgz|tar\.gz)$/i.test(name);
}

/** Read a chart from a `.tgz` or a directory. Throws PackpubError `PACK_FILE` when it is not a chart. */
export async function readChart(source: string, limits: ChartReadLimits = {}): Promise<HelmChart> {
  let info;
  try {
    info = await stat(source);
  } catch (err) {
    throw new PackpubError('NOT_FOUND', `chart ${source} does not exist`, { hint: 'give a chart .tgz (from `helm package`) or an unpacked chart directory', cause: err });
  }
  if (info.isDirectory()) return readChartDirectory(source, { ...DEFAULT_LIMITS, ...limits });
  return readChartArchive(() => createReadStream(source), source, limits);
}

/** Read a chart from a gzip'd tar stream (`helm package` output), streaming. */
export async function readChartArchive(open: () => Readable, label: string, limits: ChartReadLimits = {}): Promise<HelmChart> {
  const budget = { ...DEFAULT_LIMITS, ...limits, entries: 0, bytes: 0 };
  const files = new Map<string, ChartDirFiles>();
  const nested = new Map<string, HelmChart[]>();
  await scanArchive(open(), label, budget, 0, files, nested);
  return assemble(files, nested, label, false);
}

function notAnArchive(label: string, nested: boolean, err: unknown): ChartError {
  return new ChartError('PACK_FILE', 'not-an-archive', nested, `${label} is not a readable chart archive: ${errorMessage(err)}`, {
    hint: 'a chart archive is a gzip-compressed tar as `helm package` writes it',
    cause: err,
  });
}

interface ChartDirFiles {
  chartYaml?: string;
  values?: string;
  requirements?: string;
  templateRefs?: Set<string>;
}

/** Largest template scanned for `.Values` references; bigger ones are skipped. */
const MAX_TEMPLATE_BYTES = 4 * 1024 * 1024;
/** Distinct template references kept per chart. */
const MAX_TEMPLATE_REFS = 20_000;

function addTemplateRefs(slot: ChartDirFiles, text: string): void {
  slot.templateRefs ??= new Set();
  for (const ref of valuesReferences(text)) {
    if (slot.templateRefs.size >= MAX_TEMPLATE_REFS) return;
    slot.templateRefs.add(ref.path.join('.'));
  }
}

/** The chart folder a `templates/...` file belongs to, or undefined. */
function templateOwner(dirSegments: readonly string[]): string | undefined {
  for (let k = 1; k < dirSegments.length; k += 2) {
    if (dirSegments[k] === 'templates' && isChartDir(dirSegments.slice(0, k))) return dirSegments.slice(0, k).join('/');
  }
  return undefined;
}

type Budget = Required<ChartReadLimits> & { entries: number; bytes: number };

/** Directory segments that hold chart files: `top` or `top/charts/x[/charts/y...]`. */
function isChartDir(segments: readonly string[]): boolean {
  if (segments.length % 2 !== 1) return false;
  for (let i = 1; i < segments.length; i += 2) if (segments[i] !== 'charts') return false;
  return true;
}

function normalizeEntryName(name: string): string[] | undefined {
  const segments = name.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..') || name.startsWith('/')) return undefined;
  return segments;
}

async function readText(stream: Readable, limit: number, what: string, nested = false): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new ChartError('PACK_FILE', 'too-large', nested, `${what} is larger than ${limit} bytes`, { hint: 'chart metadata and values files are small text files; check the archive' });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '');
}

class ByteCounter extends Transform {
  constructor(
    private readonly budget: Budget,
    private readonly label: string,
    private readonly nested: boolean,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.budget.bytes += chunk.length;
    if (this.budget.bytes > this.budget.maxBytes) {
      done(
        new ChartError('UNSAFE_ARCHIVE', 'too-large', this.nested, `${this.label} expands to more than ${this.budget.maxBytes} bytes`, {
          hint: 'the archive looks like a decompression bomb; rebuild it with `helm package`',
        }),
      );
      return;
    }
    done(null, chunk);
  }
}

async function scanArchive(
  input: Readable,
  label: string,
  budget: Budget,
  depth: number,
  files: Map<string, ChartDirFiles>,
  nested: Map<string, HelmChart[]>,
): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(input, createGunzip(), new ByteCounter(budget, label, depth > 0), extract);
  feeding.catch(() => undefined);
  try {
    for await (const item of extract) {
      const entry = item as unknown as Readable & { header: tar.Header };
      if (++budget.entries > budget.maxEntries) {
        throw new ChartError('UNSAFE_ARCHIVE', 'too-many-entries', depth > 0, `${label} has more than ${budget.maxEntries} entries`, { hint: 'check the chart archive; real charts have a few hundred files' });
      }
      const segments = normalizeEntryName(entry.header.name);
      const isFile = entry.header.type === 'file' || entry.header.type === 'contiguous-file';
      const file = segments?.at(-1);
      const dirSegments = segments?.slice(0, -1) ?? [];
      if (isFile && file !== undefined && CHART_FILES.has(file) && isChartDir(dirSegments)) {
        const text = await readText(entry, budget.maxTextBytes, `${label}:${entry.header.name}`, depth > 0);
        const key = dirSegments.join('/');
        const slot = files.get(key) ?? {};
        if (file === 'Chart.yaml') slot.chartYaml = text;
        else if (file === 'values.yaml') slot.values = text;
        else slot.requirements = text;
        files.set(key, slot);
      } else if (isFile && templateOwner(dirSegments) !== undefined && (entry.header.size ?? 0) <= MAX_TEMPLATE_BYTES) {
        const key = templateOwner(dirSegments) ?? '';
        const text = await readText(entry, MAX_TEMPLATE_BYTES, `${label}:${entry.header.name}`, depth > 0);
        const slot = files.get(key) ?? {};
        addTemplateRefs(slot, text);
        files.set(key, slot);
      } else if (
        isFile &&
        file !== undefined &&
        isChartArchiveName(file) &&
        dirSegments.at(-1) === 'charts' &&
        isChartDir(dirSegments.slice(0, -1))
      ) {
        if (depth + 1 > budget.maxNesting) {
          throw new ChartError('UNSAFE_ARCHIVE', 'too-deep', true, `${label} nests subchart archives more than ${budget.maxNesting} deep`);
        }
        const innerFiles = new Map<string, ChartDirFiles>();
        const innerNested = new Map<string, HelmChart[]>();
        const innerLabel = `${label}:${entry.header.name}`;
        await scanArchive(entry, innerLabel, budget, depth + 1, innerFiles, innerNested);
        const parent = dirSegments.slice(0, -1).join('/');
        const list = nested.get(parent) ?? [];
        list.push(assemble(innerFiles, innerNested, innerLabel, true));
        nested.set(parent, list);
      } else {
        entry.resume();
        await new Promise<void>((resolve, reject) => {
          entry.once('end', resolve);
          entry.once('error', reject);
        });
      }
    }
    await feeding;
  } catch (err) {
    input.destroy();
    if (err instanceof PackpubError) throw err;
    throw notAnArchive(label, depth > 0, err);
  }
}

function parseYamlObject(text: string, what: string, nested: boolean): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = load(text, { json: true });
  } catch (err) {
    throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what} is not valid YAML: ${errorMessage(err).split('\n')[0]}`, { hint: `fix ${what}`, cause: err });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what} is not a YAML mapping`, { hint: `fix ${what}` });
  }
  return parsed as Record<string, unknown>;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function parseDependencies(list: unknown): ChartDependency[] {
  if (!Array.isArray(list)) return [];
  const deps: ChartDependency[] = [];
  for (const item of list) {
    if (item === null || typeof item !== 'object') continue;
    const d = item as Record<string, unknown>;
    const name = str(d['name']);
    if (name === undefined) continue;
    const dep: ChartDependency = { name };
    const alias = str(d['alias']);
    if (alias !== undefined) dep.alias = alias;
    const condition = str(d['condition']);
    if (condition !== undefined) dep.condition = condition;
    if (Array.isArray(d['tags'])) dep.tags = d['tags'].filter((t): t is string => typeof t === 'string');
    const repository = str(d['repository']);
    if (repository !== undefined) dep.repository = repository;
    const version = str(d['version']);
    if (version !== undefined) dep.version = version;
    deps.push(dep);
  }
  return deps;
}

function makeChart(location: string, slot: ChartDirFiles, subcharts: HelmChart[], nested: boolean): HelmChart {
  const metadata = parseYamlObject(slot.chartYaml ?? '', `${location}/Chart.yaml`, nested);
  const name = str(metadata['name']);
  if (name === undefined) {
    throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${location}/Chart.yaml has no name`, { hint: 'Helm requires `name:` in Chart.yaml' });
  }
  const requirements = slot.requirements === undefined ? {} : parseYamlObject(slot.requirements, `${location}/requirements.yaml`, nested);
  const chart: HelmChart = {
    name,
    location,
    metadata,
    valuesText: (slot.values ?? '').replace(/^\uFEFF/, ''),
    dependencies: parseDependencies(metadata['dependencies'] ?? requirements['dependencies']),
    subcharts,
    templateValuePaths: [...(slot.templateRefs ?? [])].map((p) => p.split('.')),
  };
  const version = str(metadata['version']);
  if (version !== undefined) chart.version = version;
  const appVersion = str(metadata['appVersion']);
  if (appVersion !== undefined) chart.appVersion = appVersion;
  return chart;
}

function assemble(files: Map<string, ChartDirFiles>, nested: Map<string, HelmChart[]>, label: string, isNested: boolean): HelmChart {
  const roots = [...files.entries()].filter(([dir, slot]) => slot.chartYaml !== undefined && !dir.includes('/')).map(([dir]) => dir);
  roots.sort();
  const top = roots[0];
  if (top === undefined) {
    throw new ChartError('PACK_FILE', 'no-chart-yaml', isNested, `${label} has no Chart.yaml in its top folder`, {
      hint: 'a chart archive holds one folder with Chart.yaml in it, as `helm package` writes it',
    });
  }
  const build = (dir: string): HelmChart => {
    const subs: HelmChart[] = [];
    const prefix = `${dir}/charts/`;
    for (const [d, slot] of files) {
      if (d.startsWith(prefix) && !d.slice(prefix.length).includes('/') && slot.chartYaml !== undefined) subs.push(build(d));
    }
    subs.push(...(nested.get(dir) ?? []));
    return makeChart(`${label}:${dir}`, files.get(dir) ?? {}, subs, isNested || dir !== top);
  };
  return build(top);
}

async function readOptional(path: string, limit: number): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (info.size > limit) throw new ChartError('PACK_FILE', 'too-large', false, `${path} is larger than ${limit} bytes`);
    return (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readChartDirectory(dir: string, limits: Required<ChartReadLimits>, depth = 0): Promise<HelmChart> {
  const chartYaml = await readOptional(join(dir, 'Chart.yaml'), limits.maxTextBytes);
  if (chartYaml === undefined) {
    throw new ChartError('PACK_FILE', 'no-chart-yaml', depth > 0, `${dir} has no Chart.yaml`, { hint: 'give the chart folder (the one holding Chart.yaml), or a chart .tgz' });
  }
  const slot: ChartDirFiles = { chartYaml };
  const values = await readOptional(join(dir, 'values.yaml'), limits.maxTextBytes);
  if (values !== undefined) slot.values = values;
  const requirements = await readOptional(join(dir, 'requirements.yaml'), limits.maxTextBytes);
  if (requirements !== undefined) slot.requirements = requirements;
  await readTemplateDirectory(join(dir, 'templates'), slot, 0);
  const subcharts: HelmChart[] = [];
  let entries: string[] = [];
  try {
    entries = (await readdir(join(dir, 'charts'))).sort();
  } catch {
    entries = [];
  }
  for (const name of entries) {
    const path = join(dir, 'charts', name);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) continue;
    if (info.isDirectory() && depth < limits.maxNesting) {
      if ((await readOptional(join(path, 'Chart.yaml'), limits.maxTextBytes)) !== undefined) subcharts.push(await readChartDirectory(path, limits, depth + 1));
    } else if (info.isFile() && isChartArchiveName(name)) {
      subcharts.push(await readChartArchive(() => createReadStream(path), path, limits));
    }
  }
  return makeChart(dir, slot, subcharts, depth > 0);
}

async function readTemplateDirectory(dir: string, slot: ChartDirFiles, depth: number): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory() === true && depth < 8) await readTemplateDirectory(path, slot, depth + 1);
    else if (info?.isFile() === true && info.size <= MAX_TEMPLATE_BYTES) addTemplateRefs(slot, await readFile(path, 'utf8'));
  }
}

/**
 * The keys a subchart's values sit under in its parent's values: its alias(es) when the parent's
 * dependencies give one, else its name (Helm "Alias field in dependencies").
 */
export function subchartValueKeys(parent: HelmChart, sub: HelmChart): string[] {
  const deps = parent.dependencies.filter((d) => d.name === sub.name);
  const keys = new Set<string>();
  for (const d of deps) keys.add(d.alias ?? d.name);
  if (keys.size === 0) keys.add(sub.name);
  return [...keys];
}

/** Dependencies declared in Chart.yaml that are not vendored under charts/ (`helm dependency build` not run). */
export function missingDependencies(chart: HelmChart): ChartDependency[] {
  const vendored = new Set(chart.subcharts.map((s) => s.name));
  return chart.dependencies.filter((d) => !vendored.has(d.name));
}

/* ---------- packing a chart directory into a deterministic .tgz ---------- */

/** 1980-01-01T00:00:00Z: a fixed, plausible mtime when SOURCE_DATE_EPOCH is not set. */
const DEFAULT_MTIME_SECONDS = 315_532_800;

export interface PackChartOptions {
  /** Seconds since the epoch for every entry (reproducible-builds.org SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
}

export interface PackedChart {
  file: string;
  size: number;
  entries: number;
}

/**
 * RFC 1952: byte 9 of the gzip header is the OS that wrote it, which zlib sets per platform;
 * pin it to 3 (Unix) so the same chart gives the same bytes on every machine.
 */
class GzipOsByte extends Transform {
  private offset = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.offset <= 9 && this.offset + chunk.length > 9) {
      chunk = Buffer.from(chunk);
      chunk[9 - this.offset] = 3;
    }
    this.offset += chunk.length;
    done(null, chunk);
  }
}

interface ChartFileEntry {
  rel: string;
  path: string;
  size: number;
  mode: number;
}

async function listChartFiles(root: string): Promise<ChartFileEntry[]> {
  const rootReal = await realpath(root);
  const ig = ignore();
  const helmignore = await readOptional(join(root, '.helmignore'), 1024 * 1024);
  if (helmignore !== undefined) ig.add(helmignore);
  const out: ChartFileEntry[] = [];
  const visited = new Set<string>([rootReal]);
  const walk = async (dir: string, rel: string): Promise<void> => {
    const names = (await readdir(dir)).sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : a === b ? 0 : 1));
    for (const name of names) {
      const path = join(dir, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      let info = await lstat(path);
      if (info.isSymbolicLink()) {
        const target = await realpath(path).catch(() => undefined);
        if (target === undefined || (target !== rootReal && !target.startsWith(rootReal + sep))) {
          throw new ChartError('PACK_FILE', 'unsafe-file', false, `${path} is a symlink that points outside the chart`, { hint: 'replace it with the file it points to, or list it in .helmignore' });
        }
        info = await stat(path);
        if (info.isDirectory()) {
          if (visited.has(target)) continue;
          visited.add(target);
        }
      }
      if (info.isDirectory()) {
        if (ig.ignores(`${childRel}/`)) continue;
        await walk(path, childRel);
      } else if (info.isFile()) {
        if (ig.ignores(childRel)) continue;
        out.push({ rel: childRel, path, size: info.size, mode: info.mode & 0o111 ? 0o755 : 0o644 });
      } else {
        throw new ChartError('PACK_FILE', 'unsafe-file', false, `${path} is not a regular file or directory`, { hint: 'remove it from the chart, or list it in .helmignore' });
      }
    }
  };
  await walk(root, '');
  return out;
}

/**
 * Pack a chart directory as `helm package` lays it out (one top folder named after Chart.yaml's `name`,
 * files only, .helmignore honoured), but deterministically: sorted entries, uid/gid 0 without owner
 * names, normalised modes, a fixed mtime, and a gzip header without name or time. Files are streamed.
 * The archive is written to a temporary name and renamed into place.
 */
export async function packChartDirectory(dir: string, outFile: string, options: PackChartOptions = {}): Promise<PackedChart> {
  const chart = await readChart(dir);
  const mtime = new Date((options.sourceDateEpoch ?? DEFAULT_MTIME_SECONDS) * 1000);
  const files = await listChartFiles(dir);
  const tmp = join(dirname(outFile), `.${basename(outFile)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const pack = tar.pack();
  const writing = pipeline(pack, createGzip({ level: 9 }), new GzipOsByte(), createWriteStream(tmp));
  writing.catch(() => undefined);
  try {
    for (const f of files) {
      const entry = pack.entry({
        name: `${chart.name}/${f.rel}`,
        size: f.size,
        mode: f.mode,
        mtime,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        type: 'file',
      });
      await pipeline(createReadStream(f.path), entry);
    }
    pack.finalize();
    await writing;
    await rename(tmp, outFile);
  } catch (err) {
    pack.destroy();
    await writing.catch(() => undefined);
    await rm(tmp, { force: true });
    if (err instanceof PackpubError) throw err;
    throw new PackpubError('PACK_FILE', `cannot pack chart ${dir}: ${errorMessage(err)}`, { cause: err });
  }
  const { size } = await stat(outFile);
  return { file: outFile, size, entries: files.length };
}
