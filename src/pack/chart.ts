import { isAscii, isUtf8 } from 'node:buffer';
import { createReadStream, type Stats } from 'node:fs';
import { HelmIgnoreError, parseHelmIgnore, type HelmIgnore } from './helmignore.js';
import { join, posix } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type * as tar from 'tar-stream';
import { PackpubError, errorMessage } from '../errors.js';
import { archiveKindOf, ByteReader, fileChunks, gunzipChunks, readTar, UnusualTarError, type ArchiveKind, type NextChunk, type TarEntry } from './chart-archive.js';
import { crdRefusal, helmYamlFile, holdsRemovedCrdApi, helmYamlRefusal, helmYamlRefusalOfChunks, type CrdRefusal, type HelmYamlFile } from './chart-manifests.js';
import { decodeChartLock, decodeChartMetadata, helmSanitizedMetadata, mayHoldNonFinite, nonFinitePath, type ReadAsText } from './chart-metadata.js';
import { blockingReads, hasUtf16Bom, readdirOf, readFileOf, realPathOf, statOf } from './files.js';
import { goSemverConstraintProblem, goSemverMatches, goSemverProblem } from './go-semver.js';
import { goTemplateRead, type DefineBody, type WrongCall } from './go-template.js';
import { eachValuesReferencePath, eachValuesReferencePathOfAscii, requiredScan, type RequiredValue } from './template-refs.js';
import { firstDocumentKind, type YamlParse } from './yaml-go.js';
import { holdsNumberOrBool, valuesWithGoScalars } from './yaml-json-text.js';
import { checkYamlText, isContentDocument } from './yaml-source.js';

/*
 * The one reader of Helm charts, as a pack author hands them over: a `helm package` archive (.tgz) or
 * an unpacked chart directory. Validation, the deep checks and `init --from-chart` all read charts here.
 *
 * Archives follow Helm's own loader (helm/helm pkg/chart/loader/archive.go LoadArchiveFiles and
 * load.go LoadFiles): the first path component of EVERY entry is dropped, whatever it is, so
 * `mychart/Chart.yaml`, `./Chart.yaml` and `other/Chart.yaml` all read as `Chart.yaml`; directory
 * entries are skipped; what is left must be a relative path inside the chart. Subcharts live in
 * `charts/<name>/` folders or `charts/<name>.tgz` archives (names starting with `_` or `.` are
 * ignored, as Helm ignores them). Only Chart.yaml, values.yaml, requirements.yaml and the templates'
 * `.Values` references are kept; the top chart's templates and CRD files are checked as its install reads
 * them (chart-manifests.ts); every other entry is streamed past.
 */

/** What is wrong with a chart, for callers that handle some problems themselves. */
export type ChartProblem =
  | 'no-chart-yaml'
  | 'helm-refuses'
  | 'not-an-archive'
  | 'bad-metadata'
  | 'too-large'
  | 'too-many-entries'
  | 'too-deep'
  | 'unsafe-file';

export class ChartError extends PackpubError {
  readonly problem: ChartProblem;
  /** True when the problem is in a subchart inside the chart rather than the chart itself. */
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
  /**
   * `import-values` (Helm copies subchart values into the parent's), each entry as processImportValues reads
   * it: the short form's name, `child` and `parent` paths, or null for an entry other Helm versions read
   * otherwise (a `child` or `parent` that is no string: a panic up to 3.20, its `%v` text since).
   */
  imports?: ImportValue[];
}

export type ImportValue = string | { child: string; parent: string } | null;

export interface HelmChart {
  /** Chart.yaml `name`: the key under `charts:` in a pack's values.yaml, whatever the folder is called. */
  name: string;
  version?: string;
  appVersion?: string;
  /** Where the chart sits (the archive or folder, plus `charts/<sub>` for subcharts), for messages. */
  location: string;
  /** Parsed Chart.yaml. */
  metadata: Record<string, unknown>;
  /** The chart's values.yaml text exactly as written ('' when it has none). */
  valuesText: string;
  /** The chart's values.schema.json as written, when it has one: every install validates the values with it. */
  valuesSchemaText?: string;
  /** Declared dependencies (Chart.yaml, or requirements.yaml for apiVersion v1 charts). */
  dependencies: ChartDependency[];
  /** Vendored subcharts, in archive/directory order. */
  subcharts: HelmChart[];
  /**
   * `.Values` paths the chart's templates read (`templates/**`), e.g. `['image', 'tag']`: keys a chart
   * uses without listing a default in values.yaml are still valid settings. Empty when read with
   * `templates: false`.
   */
  templateValuePaths: string[][];
  /**
   * Entries of the archive (its subchart archives included) over Helm's per-file limit, at most five:
   * set on the chart readChart returns, when there are any.
   */
  oversizedFiles?: Array<{ name: string; size: number }>;
  /** The top chart's crds/ files holding an apiextensions.k8s.io/v1beta1 CRD, which Kubernetes 1.22+ do not serve. */
  removedApiCrdFiles?: string[];
  /**
   * Hard and symbolic link entries of the archive (its subchart archives included), at most five, and how many
   * there are: Go's tar reader gives a link no data, so Helm loads each as an empty file.
   */
  linkEntries?: { first: Array<{ name: string; hard: boolean; target: string }>; count: number };
  /**
   * A subchart's crds/ files Helm's install cannot apply (chart-manifests.ts crdRefusal), when it has any.
   * Helm applies a subchart's crds/ only when the subchart is enabled (pkg/action/install.go runs
   * ProcessDependencies, then CRDObjects): whether it is depends on the values, so the refusal is judged
   * there (values-schema.ts subchartCrdRefusals). The top chart's refuse the chart as it is read.
   */
  crdRefusals?: Array<CrdRefusal & { file: string }>;
  /**
   * A subchart's templates Go's template parser refuses (`file`: its path in the subchart, `templates/x.yaml`),
   * when it has any. Helm parses the templates of every subchart ProcessDependencies keeps (a library chart's
   * partials only: pkg/engine recAllTpls, isTemplateValid) before it renders any, and of no other: whether the
   * install fails depends on the values (values-schema.ts subchartTemplateFindings). The top chart's refuse the
   * chart as it is read (checkTemplateSyntax).
   */
  templateRefusals?: SubchartTemplateRefusal[];
  /**
   * A subchart's templates (not partials; not of a library chart) that fail every render whatever the
   * values, as the top chart's are refused (checkStaticTemplate, a wrong call: checkTemplateSyntax, or in a helper
   * run at the template's top level: markSubchartDefineCalls): `why` in words.
   * Once the subchart is enabled, every install stops there (values-schema.ts subchartTemplateFindings).
   */
  renderFailures?: Array<{ file: string; why: string }>;
  /**
   * A subchart's templates (not partials; not of a library chart, whose other templates Helm never
   * renders) that run, on every render, a template by a literal name no template of the whole chart defines (at
   * most five): once the subchart is enabled, every install stops there (values-schema.ts subchartTemplateFindings).
   * Set by the top chart's read, when every define of the chart is known (definesOf).
   */
  undefinedRuns?: Array<{ name: string; file: string; line: number }>;
  /**
   * Unquoted numbers and booleans in this chart's Chart.yaml (or requirements.yaml) string fields that Helm
   * reads as other text than written (`appVersion: 1.20` is "1.2"), when there are any.
   */
  readAsText?: Array<ReadAsText & { file: string }>;
  /**
   * What Helm 4 makes of this chart's values.yaml that Helm 3 does not (helm4ValuesDifference), when it
   * holds `---` separators: `refused` (Helm 4's words, from the opening quote's text on, then why), or
   * `merged` (how many later documents' values it reads).
   */
  helm4Values?: { refused: string } | { merged: number } | { utf16: true };
  /**
   * The `required` calls on `.Values` paths its templates (not partials) run on every render, at their top
   * level or in a define they run there with the root data (template-refs.ts requiredScan), at most 20, with
   * the path below `templates/` of the file holding the call.
   */
  requiredValues?: Array<RequiredValue & { file: string }>;
}

/** A subchart's template Go's template parser refuses: where, and Go's words (go-template.ts). */
export interface SubchartTemplateRefusal {
  file: string;
  line: number;
  message: string;
}

export interface ChartReadOptions {
  /** Largest Chart.yaml / values.yaml / requirements.yaml read (default 8 MiB). */
  maxTextBytes?: number;
  /** Most tar entries across nested archives (default MAX_CHART_ENTRIES). */
  maxEntries?: number;
  /**
   * Most bytes inflated across the archive and every subchart archive in it: packpub's guard against a
   * gzip bomb, above anything Helm loads. Default MAX_CHART_INFLATED_BYTES. Helm's own limit
   * (HELM_MAX_CHART_BYTES) is applied to each archive on its own, whatever this is.
   */
  maxBytes?: number;
  /** Deepest nesting of subcharts (default 6). */
  maxNesting?: number;
  /** Scan templates for `.Values` references (default true; validation without deep checks skips it). */
  templates?: boolean;
}

/**
 * Helm 3.17.3 and later refuse a chart archive whose files add up to 100 MiB or more (pkg/chart/loader/archive
 * MaxDecompressedChartSize, LoadArchiveFiles): the sizes in the tar headers of its files (not folders, not
 * the headers themselves) are summed, and the archive is refused once the sum reaches the limit. Each
 * archive is counted on its own: a subchart archive in charts/ counts in its parent by its compressed size,
 * and is loaded (LoadArchive) with a fresh 100 MiB of its own.
 */
export const HELM_MAX_CHART_BYTES = 100 * 1024 * 1024;
/**
 * packpub's bound on the bytes a chart archive inflates to, its subchart archives included (tar headers
 * too): an umbrella chart may pass 100 MiB in all, but not this. With the entry count, which no real
 * chart approaches, it makes a gzip bomb (nested or not) cost bounded time; memory is bounded anyway,
 * as archives are read as streams.
 */
export const MAX_CHART_INFLATED_BYTES = 1024 * 1024 * 1024;
export const MAX_CHART_ENTRIES = 20_000;
/**
 * Helm 3.17.3 and later refuse a chart archive holding a file over 5 MiB (pkg/chart/loader/archive
 * MaxDecompressedFileSize: "decompressed chart file ... is larger than the maximum file size").
 */
export const HELM_MAX_FILE_BYTES = 5 * 1024 * 1024;

const DEFAULTS: Required<ChartReadOptions> = {
  maxTextBytes: 8 * 1024 * 1024,
  maxEntries: MAX_CHART_ENTRIES,
  maxBytes: MAX_CHART_INFLATED_BYTES,
  maxNesting: 6,
  templates: true,
};

const HELM_HINT = 'Helm drops the first folder of every entry in a chart archive, so Chart.yaml must sit one folder deep (`mychart/Chart.yaml`, or `./Chart.yaml` as `tar -C mychart -czf mychart.tgz .` writes it); rebuild it with `helm package <chart-dir>`';

/**
 * What a chart archive's link entries do (`tar` of a folder holding symlinks, or of files hard-linked
 * together; `helm package` stores what a link points to): Go's archive/tar gives a link entry no data, so
 * Helm's loader (pkg/chart/loader/archive LoadArchiveFiles) loads each as an empty file: a linked template
 * installs nothing, a linked values.yaml leaves the chart without its defaults, a linked `templates`
 * folder without templates. `archive`: the label to leave out of the entry names (the archive's path).
 */
export function linkEntriesText(links: NonNullable<HelmChart['linkEntries']>, archive: string): string {
  const one = (link: (typeof links.first)[number]): string =>
    `${link.name.startsWith(`${archive}:`) ? link.name.slice(archive.length + 1) : link.name} (a ${link.hard ? 'hard' : 'symbolic'} link to ${link.target})`;
  const more = links.count > links.first.length ? ` and ${links.count - links.first.length} more` : '';
  const [first] = links.first;
  const single = links.count === 1 && first !== undefined;
  const which = single ? `${one(first)} is a link entry` : `${links.first.map(one).join(', ')}${more} are link entries`;
  return `${which} of the chart archive: Go's tar reader gives a link no content, so Helm loads ${single ? 'it' : 'each'} as an empty file and installs the chart without what ${single ? 'it points' : 'they point'} to`;
}

/** A `._<folder>` entry beside the chart's folder: macOS tar's AppleDouble file of the folder itself. */
const APPLE_DOUBLE_HINT =
  "it is the `._<name>` file macOS tar writes beside a folder or file with extended attributes (AppleDouble), here beside the chart's folder, where Helm takes it for a file outside the chart: rebuild the archive with `COPYFILE_DISABLE=1 tar -czf ...`, or with `helm package <chart-dir>`";

/** True for names `helm package` writes or users hand in. */
export function isChartArchiveName(name: string): boolean {
  return /\.(?:tgz|tar\.gz)$/i.test(name);
}

/** Read a chart from a `.tgz` or a directory. Throws PackpubError `PACK_FILE` when it is not a chart. */
export async function readChart(source: string, options: ChartReadOptions = {}): Promise<HelmChart> {
  let info;
  try {
    info = await statOf(source);
  } catch (err) {
    throw new PackpubError('NOT_FOUND', `chart ${source} does not exist`, { hint: 'give a chart .tgz (from `helm package`) or an unpacked chart directory', cause: err });
  }
  const budget: Budget = { ...DEFAULTS, ...options, entries: 0, bytes: 0, oversized: [], removedApiCrds: [], links: { first: [], count: 0 } };
  if (info.isDirectory()) return withOversized(await readChartDirectory(source, budget), budget);
  return withOversized(await readArchiveFile(source, budget, 0), budget);
}

/**
 * A chart archive on disk, read once with packpub's tar reader (chart-archive.ts); an archive using a tar
 * feature it leaves aside (GNU sparse files) is read again, whole, with tar-stream.
 */
async function readArchiveFile(path: string, budget: Budget, depth: number): Promise<HelmChart> {
  const start = {
    entries: budget.entries,
    bytes: budget.bytes,
    oversized: budget.oversized.length,
    removedApiCrds: budget.removedApiCrds.length,
    links: { first: budget.links.first.length, count: budget.links.count },
  };
  try {
    return await readArchive({ file: path }, path, budget, depth);
  } catch (err) {
    if (!(err instanceof UnusualTarError)) throw err;
    budget.entries = start.entries;
    budget.bytes = start.bytes;
    budget.oversized.length = start.oversized;
    budget.removedApiCrds.length = start.removedApiCrds;
    budget.links.first.length = start.links.first;
    budget.links.count = start.links.count;
    return readArchiveWithTarStream(() => createReadStream(path), path, budget, depth);
  }
}

type Budget = Required<ChartReadOptions> & {
  entries: number;
  bytes: number;
  oversized: Array<{ name: string; size: number }>;
  removedApiCrds: string[];
  links: NonNullable<HelmChart['linkEntries']>;
};

function withOversized(chart: HelmChart, budget: Budget): HelmChart {
  const withCrds = budget.removedApiCrds.length === 0 ? chart : { ...chart, removedApiCrdFiles: budget.removedApiCrds };
  const withLinks = budget.links.count === 0 ? withCrds : { ...withCrds, linkEntries: budget.links };
  return budget.oversized.length === 0 ? withLinks : { ...withLinks, oversizedFiles: budget.oversized };
}

interface ChartSlot {
  chartYaml?: string;
  values?: string;
  requirements?: string;
  /** Chart.lock and requirements.lock: Helm's loader reads each into its Lock struct. */
  chartLock?: string;
  requirementsLock?: string;
  /** values.schema.json (not YAML: any bytes, as text). */
  schema?: string;
  /**
   * Earlier entries of the same name (a tar appended to with `tar -r`): Helm's loader reads every one in
   * archive order, refusing the chart when any fails, and fills one Metadata from each Chart.yaml in turn.
   */
  earlier?: Array<{ field: TextField; text: string }>;
  /** Its templates that name `.Values`, in the order read: their paths are found when asked for (templateReferences). */
  pendingRefs?: PendingRefs[];
  requiredValues?: Array<RequiredValue & { file: string }>;
  /** The defines its templates (not partials) run at their top level with the root data (requiredScan). */
  requiredIncludes?: Set<string>;
  /** Per define of its templates that runs `required` or another define at its own top level (requiredScan). */
  requiredDefines?: Map<string, { required: Array<RequiredValue & { file: string }>; includes: string[] }>;
  /** This subchart's crds/ files Helm's install cannot apply (HelmChart.crdRefusals). */
  crdRefusals?: Array<CrdRefusal & { file: string }>;
  /** This subchart's templates Go's template parser refuses (HelmChart.templateRefusals). */
  templateRefusals?: SubchartTemplateRefusal[];
  /** This subchart's templates that fail every render (HelmChart.renderFailures). */
  renderFailures?: Array<{ file: string; why: string }>;
  /** Subchart archives found in this chart's charts/ folder, already read. */
  archives: HelmChart[];
  /** Its values.yaml (the last one) is UTF-16 that Helm 4 refuses (helm4RefusesUtf16). */
  valuesUtf16?: boolean;
  /** A link entry at charts/<name> (the symlinked library chart of a `tar` of a checkout), which Helm reads as this subchart. */
  strayLink?: NonNullable<TarEntry['link']>;
  /** The top chart's: the template names its templates define, and those they run whatever the values (checkTemplateRuns). */
  defineNames?: Set<string>;
  topRuns?: Array<{ name: string; file: string; line: number }>;
  /** Per name, each file of its templates defining it: what the define does at its own top level (goTemplateRead bodies). */
  defineBodies?: Map<string, DefineSite[]>;
  /** A template of the top chart was too large to be read: what it defines is not known. */
  unreadTemplate?: boolean;
}

/**
 * Inflated bytes handed on per zlib callback: a chart archive inflates to a few MB, and the default
 * 16 KiB costs one thread-pool round trip and one stream write per 16 KiB (issue 16).
 */
const INFLATE_CHUNK = 256 * 1024;

/** Largest template scanned for `.Values` references; bigger ones are skipped. */
const MAX_TEMPLATE_BYTES = 4 * 1024 * 1024;
/** Distinct template references kept per chart. */
const MAX_TEMPLATE_REFS = 20_000;
/** Deepest chain of `charts/<sub>/charts/<sub>/...` folders followed. */
const MAX_FOLDER_NESTING = 16;

/**
 * A template file whose `.Values` paths are found only when the deep checks ask for them (templateReferences): most
 * packs' values match their charts without them (deep-checks.ts checkCharts), and finding them was ~10 % of
 * validating a pack-central-shaped tree (issue 16). `text`: the text as the scan reads it, or how to make it again
 * from the file's bytes (the strings are not kept alive meanwhile, only the bytes); `file`: its path or entry label.
 * The positions of its actions (checkTemplateSyntax's) are not kept: they are a view of a list the next template's
 * check writes over, and the scan finds the same paths without them (test/unit/pack/pack.test.ts).
 */
interface PendingRefs {
  text: string | AsciiBytes | (() => string | AsciiBytes);
  file: string;
}

/**
 * Notes a template for its `.Values` paths (PendingRefs: found later, if at all) and runs its required scan now.
 * `given`: its text (a large ASCII one as its bytes); `later`: the same made again from its bytes, when they are
 * what is kept.
 */
function addTemplateRefs(slot: ChartSlot, given: string | AsciiBytes, file: string, actions?: Int32Array, later?: () => string | AsciiBytes): void {
  (slot.pendingRefs ??= []).push({ text: later ?? given, file });
  addRequiredScan(slot, given, file, actions);
}

/**
 * A template's text for its reference scan, made again from a copy of its bytes as templateText makes it. A copy: the
 * bytes are a view of the archive's inflated data, which a view kept alive would keep whole until a full GC (V8 frees
 * the memory of a buffer that outlived a scavenge only then; issue 16: 4 -> 7 full GCs on the bench tree).
 */
function templateTextLater(bytes: Buffer, what: string, nested: boolean): () => string | AsciiBytes {
  const kept = Buffer.from(bytes);
  return () => templateText(kept, what, nested);
}

/**
 * The distinct `.Values` paths the templates read (dotted), in the order found, at most MAX_TEMPLATE_REFS.
 * A file named `_*` is a partial, read only inside its defines (template-refs.ts), except `_*.tpl`: define
 * files by convention (924 of the 952 partials in the charts pack-central ever held; the others are
 * helm-create leftovers like `_deployment.yaml`), whose block structure cost as much again as the whole
 * reference scan adds: a reference outside their defines counts as read (one warning fewer at worst).
 */
function templateRefsOf(pending: readonly PendingRefs[]): string[] {
  const refs = new Set<string>();
  const add = (path: string) => {
    if (refs.size < MAX_TEMPLATE_REFS && !refs.has(path)) refs.add(detached(path));
  };
  for (const { text: made, file } of pending) {
    if (refs.size >= MAX_TEMPLATE_REFS) break;
    const given = typeof made === 'function' ? made() : made;
    // A large template that runs `required` is read as one string, as its required scan read it.
    const text = typeof given !== 'string' && given.ascii.includes('required') ? given.ascii.toString('latin1') : given;
    const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
    const partial = base.startsWith('_') && !base.endsWith('.tpl');
    if (typeof text === 'string') eachValuesReferencePath(text, add, undefined, partial);
    else eachValuesReferencePathOfAscii(text.ascii, add, undefined, partial);
  }
  return [...refs];
}

/**
 * What a template file runs `required` on whatever the values (template-refs.ts requiredScan): the calls at
 * its top level and the defines it runs there, unless it is a partial (`_*`: Helm renders no partial on its
 * own, only its defines, through the templates that include them); and, in every file, each define's own.
 */
function addRequiredScan(slot: ChartSlot, text: string | AsciiBytes, file: string, actions?: Int32Array): void {
  const has = (word: string): boolean => (typeof text === 'string' ? text.includes(word) : text.ascii.includes(word));
  // A large template read in pieces (AsciiBytes) is made one string only to read a `required` of its own.
  if (!has('required') && (typeof text !== 'string' || (!has('include') && !has('template')))) return;
  const slashed = file.replace(/\\/g, '/');
  const base = slashed.slice(slashed.lastIndexOf('/') + 1);
  const at = slashed.lastIndexOf('/templates/');
  const rel = at === -1 ? base : slashed.slice(at + '/templates/'.length);
  const scan = requiredScan(typeof text === 'string' ? text : text.ascii.toString('latin1'), actions);
  if (!base.startsWith('_')) {
    const found = (slot.requiredValues ??= []);
    for (const r of scan.top) if (found.length < 20) found.push({ ...r, file: rel });
    const includes = (slot.requiredIncludes ??= new Set());
    for (const name of scan.includes) if (includes.size < 1000) includes.add(name);
  }
  for (const [name, define] of scan.defines) {
    if (define.required.length === 0 && define.includes.length === 0) continue;
    const defines = (slot.requiredDefines ??= new Map());
    if (defines.size < 5000) defines.set(name, { required: define.required.map((r) => ({ ...r, file: rel })), includes: define.includes });
  }
}

/**
 * The `required` calls a chart's templates run on every install: at their top level, and in the defines they
 * run there with the root data, and the defines those run in turn (at most 8 deep), at most 20 in all.
 */
function requiredValuesOf(slot: Pick<ChartSlot, 'requiredValues' | 'requiredIncludes' | 'requiredDefines'>): Array<RequiredValue & { file: string }> {
  const found = [...(slot.requiredValues ?? [])];
  const defines = slot.requiredDefines;
  if (defines === undefined || slot.requiredIncludes === undefined) return found;
  const seen = new Set<string>();
  let next = [...slot.requiredIncludes];
  for (let depth = 0; depth < 8 && next.length > 0; depth++) {
    const later: string[] = [];
    for (const name of next) {
      const define = defines.get(name);
      if (seen.has(name) || define === undefined) continue;
      seen.add(name);
      for (const r of define.required) if (found.length < 20) found.push(r);
      later.push(...define.includes);
    }
    next = later;
  }
  return found;
}

/** A template's bytes known to be ASCII, read in pieces (eachValuesReferencePathOfAscii) rather than made one string. */
interface AsciiBytes {
  ascii: Buffer;
}

/**
 * `part` (a piece of a longer text) as a string of its own. V8 makes a substring of 13 characters or more a
 * view into the text it was cut from, which then lives as long as the piece: a chart's first `.Values.x.y`
 * kept the whole template it was found in alive until the pack's checks ended, so every template survived
 * the young generation and went on to old space (issue 16: on the bench tree, 86 MB promoted on one thread,
 * 54 MB with this). Joining it to one more character and cutting that off copies its characters alone.
 */
function detached(part: string): string {
  return `${part} `.slice(0, -1);
}

function refused(label: string, helmSays: string, nested: boolean, hint = HELM_HINT): ChartError {
  return new ChartError('PACK_FILE', 'helm-refuses', nested, `${label}: Helm refuses this chart archive ("${helmSays}")`, { hint });
}

/** Go's path.Clean for a relative, slash-separated path. */
function cleanPath(path: string): string {
  if (path === '') return '.';
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(seg);
  }
  return out.length === 0 ? '.' : out.join('/');
}

/**
 * Where Helm puts an archive entry: its name without the first path component, cleaned, or Helm's
 * own error for it (helm/helm pkg/chart/loader/archive.go, checked in the same order).
 */
export function helmEntryPath(name: string): { path: string } | { error: string } {
  // Nearly every entry is `<chart>/<path>` with no backslash and no segment empty or starting with a dot, not
  // below Chart.yaml/: Helm's path is then the name after its first component as it is (nothing to clean, no
  // error), found without splitting and joining it (once per entry of every chart archive: issue 16).
  const first = name.indexOf('/');
  if (first > 0 && name.charCodeAt(first + 2) !== 0x3a && !name.endsWith('/') && !name.includes('//') && !name.includes('/.') && !name.includes('\\') && !name.startsWith('Chart.yaml/')) {
    return { path: name.slice(first + 1) };
  }
  const delimiter = name.includes('\\') ? '\\' : '/';
  const parts = name.split(delimiter);
  const rest = parts.slice(1).join('/');
  if (rest.startsWith('/')) return { error: 'chart illegally contains absolute paths' };
  const path = cleanPath(rest);
  if (path === '.') return { error: `chart illegally contains content outside the base directory: ${JSON.stringify(name)}` };
  if (path.startsWith('..')) return { error: 'chart illegally references parent directory' };
  if (/^[a-zA-Z]:\//.test(path)) return { error: 'chart contains illegally named files' };
  if (parts[0] === 'Chart.yaml') return { error: 'chart yaml not in base directory' };
  return { path };
}

/**
 * Which chart of the tree a path belongs to (Helm's LoadFiles): `charts/<sub>/...` belongs to subchart
 * `<sub>`, recursively; `charts/<sub>.tgz` is a subchart archive; names starting with `_` or `.` under
 * charts/ are ignored, and `.prov` files stay with their chart.
 */
type Placement =
  | { kind: 'file'; chain: string[]; rel: string }
  | { kind: 'archive'; chain: string[]; name: string }
  | { kind: 'ignored' }
  | { kind: 'stray'; chain: string[]; name: string }
  /** A path below a charts/<name>.tgz/ folder: Helm unpacks the first entry named charts/<name>.tgz* as the archive. */
  | { kind: 'under-archive-name'; chain: string[]; name: string; rest: string };

function place(path: string): Placement {
  // Most entries are the top chart's own files (templates/, crds/, ...): not split and joined back (issue 16).
  if (!path.startsWith('charts/')) return { kind: 'file', chain: [], rel: path };
  const segs = path.split('/');
  const chain: string[] = [];
  let i = 0;
  while (segs[i] === 'charts' && i + 1 < segs.length && !path.endsWith('.prov')) {
    const sub = segs[i + 1] ?? '';
    if (sub.startsWith('_') || sub.startsWith('.')) return { kind: 'ignored' };
    if (i + 2 === segs.length) {
      return posix.extname(sub) === '.tgz' ? { kind: 'archive', chain, name: sub } : { kind: 'stray', chain, name: sub };
    }
    if (posix.extname(sub) === '.tgz') return { kind: 'under-archive-name', chain, name: sub, rest: segs.slice(i + 2).join('/') };
    chain.push(sub);
    if (chain.length > MAX_FOLDER_NESTING) return { kind: 'ignored' };
    i += 2;
  }
  return { kind: 'file', chain, rel: segs.slice(i).join('/') };
}

/**
 * A chart YAML file's bytes as text, as Helm's YAML reader (go-yaml, a libyaml port) decodes them: a
 * UTF-8 BOM is dropped (Helm's archive loader also trims it), UTF-16 with a BOM is decoded, and anything
 * else must be UTF-8, or Helm refuses the chart ("cannot load values.yaml: error converting YAML to JSON:
 * yaml: invalid leading UTF-8 octet"), even for a byte inside a comment. `yaml` false: any bytes (templates).
 */
function chartText(bytes: Buffer, what: string, nested: boolean, yaml: boolean): string {
  // ASCII (nearly every chart file) is valid UTF-8 without a BOM as it is: a plain copy, no checked decode.
  if (isAscii(bytes)) return bytes.toString('latin1');
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (yaml && !isUtf8(bytes)) {
    let line = 1;
    for (let start = 0; start < bytes.length; line++) {
      const end = bytes.indexOf(0x0a, start);
      if (!isUtf8(bytes.subarray(start, end === -1 ? bytes.length : end))) break;
      start = end === -1 ? bytes.length : end + 1;
    }
    const file = posix.basename(what.replaceAll(':', '/'));
    throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what}: Helm refuses this chart ("cannot load ${file}: error converting YAML to JSON: yaml: invalid UTF-8"): line ${line} is not UTF-8 text`, {
      hint: `save ${file} as UTF-8 (e.g. \`iconv -f latin1 -t utf-8\`), then rebuild the archive with \`helm package <chart-dir>\``,
    });
  }
  return bytes.toString('utf8').replace(/^\uFEFF/, '');
}

async function readText(stream: Readable, limit: number, what: string, nested: boolean, yaml = true): Promise<string> {
  return chartText(await streamBytes(stream, limit, what, nested), what, nested, yaml);
}

/** A stream's bytes, refused over `limit`. */
async function streamBytes(stream: Readable, limit: number, what: string, nested: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw tooLargeText(what, limit, nested);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLargeText(what: string, limit: number, nested: boolean): ChartError {
  return new ChartError('PACK_FILE', 'too-large', nested, `${what}: larger than ${limit} bytes`, { hint: 'chart metadata and values files are small text files; check the archive' });
}

function countInflated(budget: Budget, label: string, nested: boolean, bytes: number): void {
  budget.bytes += bytes;
  if (budget.bytes > budget.maxBytes) {
    throw new ChartError('UNSAFE_ARCHIVE', 'too-large', nested, `${label}: expands to more than ${budget.maxBytes} bytes with its subchart archives (packpub's guard against decompression bombs; Helm's own limit is 100 MiB per archive)`, {
      hint: 'the archive looks like a decompression bomb; rebuild it with `helm package`',
    });
  }
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
    try {
      countInflated(this.budget, this.label, this.nested, chunk.length);
    } catch (err) {
      done(err as Error);
      return;
    }
    done(null, chunk);
  }
}

function drain(entry: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    entry.once('end', resolve);
    entry.once('error', reject);
    entry.resume();
  });
}

/** The chart files read whole, as text. */
type TextField = 'chartYaml' | 'values' | 'requirements' | 'chartLock' | 'requirementsLock' | 'schema';

/** What the chart needs of an archive entry. */
type EntryUse =
  | { kind: 'skip' }
  | { kind: 'text'; slot: ChartSlot; field: TextField; label: string; nested: boolean }
  /**
   * `rel`, when the file is the top chart's own: its path in the chart, for the parse check (checkTemplateSyntax),
   * made with or without the deep checks; `sub`, when it is a subchart's: its path in the subchart, for the same
   * check, whose refusal is noted (HelmChart.templateRefusals); `refs`: also scanned for `.Values` references.
   */
  | { kind: 'template'; slot: ChartSlot; label: string; rel?: string; sub?: string; refs: boolean }
  /** A file the chart's install parses as YAML (chart-manifests.ts); `refs`: also scanned as a template. */
  | { kind: 'yaml'; file: HelmYamlFile; rel: string; slot: ChartSlot; label: string; refs: boolean }
  /** A crds/ file of a subchart: applied only when the subchart is enabled (HelmChart.crdRefusals). */
  | { kind: 'subchart-crd'; rel: string; slot: ChartSlot; label: string }
  | { kind: 'archive'; slot: ChartSlot; label: string };

/**
 * The chart being read from one archive's entries, whichever tar reader hands them over: Helm's path
 * rules, the limits, and where each entry goes.
 */
class ArchiveCollector {
  readonly nested: boolean;
  private readonly slots = new Map<string, ChartSlot>();
  /** Post-strip paths of Chart.yaml files that are not at the chart's top, to explain a missing one. */
  private readonly deeperChartYamls: string[] = [];
  /**
   * Per `<chain>/charts/<name>.tgz`, what came first: the archive itself, or a path below a folder of that
   * name, which Helm's LoadFiles (taking the first) refuses ("expected <name>, got <path>").
   */
  private readonly firstUnderArchiveName = new Map<string, { chain: string[]; got?: string }>();
  private files = 0;
  /** The sizes of this archive's files as their tar headers give them: Helm's count (HELM_MAX_CHART_BYTES). */
  private fileBytes = 0;

  constructor(
    readonly label: string,
    readonly budget: Budget,
    readonly depth: number,
  ) {
    this.nested = depth > 0;
    this.slotOf([]);
  }

  private slotOf(chain: string[]): ChartSlot {
    const key = chain.join('/');
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { archives: [] };
      this.slots.set(key, slot);
    }
    return slot;
  }

  /** An entry as the tar reader names it; directories (and pax global headers) are counted and skipped, as Helm skips them. */
  entry(name: string, size: number, skipped: boolean, link?: TarEntry['link']): EntryUse {
    const { budget, label, nested } = this;
    if (++budget.entries > budget.maxEntries) {
      throw new ChartError('UNSAFE_ARCHIVE', 'too-many-entries', nested, `${label}: more than ${budget.maxEntries} entries`, { hint: 'check the chart archive; real charts have a few hundred files' });
    }
    if (skipped) return { kind: 'skip' };
    this.files++;
    if (size > HELM_MAX_FILE_BYTES && budget.oversized.length < 5) budget.oversized.push({ name: `${label}:${name}`, size });
    const where = helmEntryPath(name);
    if ('error' in where) throw refused(label, where.error, nested, /^(?:\.\/)*\._[^/]*$/.test(name) ? APPLE_DOUBLE_HINT : HELM_HINT);
    // Helm: refused when a file is larger than what is left, or leaves nothing (the sum reaches the limit).
    this.fileBytes += size;
    if (this.fileBytes >= HELM_MAX_CHART_BYTES) {
      throw new ChartError('PACK_FILE', 'too-large', nested, `${label}: Helm refuses this chart archive ("decompressed chart is larger than the maximum size ${HELM_MAX_CHART_BYTES}"): its files add up to 100 MiB or more`, {
        hint: 'Helm 3.17.3 and later load less than 100 MiB of files per chart archive (each subchart archive counts on its own): ship large CRDs as a manifest in kubeManifests, or move big files into a subchart',
      });
    }
    const placed = place(where.path);
    const entryLabel = `${label}:${name}`;
    if (link !== undefined && placed.kind !== 'ignored' && budget.links.count++ < 5) budget.links.first.push({ name: entryLabel, ...link });
    if (placed.kind === 'file') {
      const slot = this.slotOf(placed.chain);
      const rel = placed.rel;
      const textNested = nested || placed.chain.length > 0;
      if (rel === 'Chart.yaml') return { kind: 'text', slot, field: 'chartYaml', label: entryLabel, nested: textNested };
      if (rel === 'values.yaml') return { kind: 'text', slot, field: 'values', label: entryLabel, nested: textNested };
      if (rel === 'requirements.yaml') return { kind: 'text', slot, field: 'requirements', label: entryLabel, nested: textNested };
      if (rel === 'Chart.lock') return { kind: 'text', slot, field: 'chartLock', label: entryLabel, nested: textNested };
      if (rel === 'requirements.lock') return { kind: 'text', slot, field: 'requirementsLock', label: entryLabel, nested: textNested };
      if (rel === 'values.schema.json') return { kind: 'text', slot, field: 'schema', label: entryLabel, nested: textNested };
      const refs = budget.templates && rel.startsWith('templates/') && size <= MAX_TEMPLATE_BYTES;
      // The top chart's own files only: a subchart's are installed only when its condition holds.
      const yaml = this.depth === 0 && placed.chain.length === 0 && size <= HELM_MAX_FILE_BYTES ? helmYamlFile(rel) : undefined;
      if (yaml !== undefined) return { kind: 'yaml', file: yaml, rel, slot, label: entryLabel, refs };
      // Templates are parse-checked (checkTemplateSyntax): the top chart's own, and a subchart's, judged once the values
      // tell whether Helm renders that subchart. One too large to read leaves its defines unknown.
      if (rel.startsWith('templates/')) {
        if (size > MAX_TEMPLATE_BYTES) slot.unreadTemplate = true;
        else if (this.depth === 0 && placed.chain.length === 0) return { kind: 'template', slot, label: entryLabel, rel, refs };
        else return { kind: 'template', slot, label: entryLabel, sub: rel, refs };
      }
      if (size <= HELM_MAX_FILE_BYTES && helmYamlFile(rel) === 'crd') return { kind: 'subchart-crd', rel, slot, label: entryLabel };
      if (rel.endsWith('/Chart.yaml') && this.deeperChartYamls.length < 5) this.deeperChartYamls.push(name);
    } else if (placed.kind === 'archive') {
      if (this.depth + 1 > budget.maxNesting) {
        throw new ChartError('UNSAFE_ARCHIVE', 'too-deep', true, `${label}: subchart archives nested more than ${budget.maxNesting} deep`);
      }
      const key = [...placed.chain, placed.name].join('/');
      if (this.firstUnderArchiveName.has(key)) return { kind: 'skip' }; // Helm reads the first entry of that name only
      this.firstUnderArchiveName.set(key, { chain: placed.chain });
      return { kind: 'archive', slot: this.slotOf(placed.chain), label: entryLabel };
    } else if (placed.kind === 'under-archive-name') {
      const key = [...placed.chain, placed.name].join('/');
      if (!this.firstUnderArchiveName.has(key)) this.firstUnderArchiveName.set(key, { chain: placed.chain, got: `${placed.name}/${placed.rest}` });
    } else if (placed.kind === 'stray') {
      // Helm reads charts/<name> (not a folder, not .tgz) as a subchart without a Chart.yaml.
      const slot = this.slotOf([...placed.chain, placed.name]);
      if (link !== undefined) slot.strayLink = link;
    }
    return { kind: 'skip' };
  }

  /** A text entry's bytes (as text, no BOM). */
  text(use: Extract<EntryUse, { kind: 'text' }>, text: string): void {
    const earlier = use.slot[use.field];
    if (earlier !== undefined) (use.slot.earlier ??= []).push({ field: use.field, text: earlier });
    use.slot[use.field] = text;
  }

  /** `kind`: what the file is instead, when its first bytes say (archiveKindOf). */
  fail(err: unknown, kind?: ArchiveKind): never {
    if (err instanceof PackpubError) throw err;
    const is = kind === undefined ? '' : `: it is ${kind.what}`;
    throw new ChartError('PACK_FILE', 'not-an-archive', this.nested, `${this.label}: not a gzip'd tar archive (${errorMessage(err)})${is}`, {
      hint: `a chart archive is a gzip-compressed tar as \`helm package\` writes it${kind === undefined ? '' : `: ${kind.fix}`}`,
      cause: err,
    });
  }

  finish(): HelmChart {
    const { label, nested } = this;
    if (this.files === 0) throw refused(label, 'no files in chart archive', nested, 'rebuild it with `helm package <chart-dir>`');
    if (this.slots.get('')?.chartYaml === undefined) {
      const found = this.deeperChartYamls.length === 0 ? '' : `; its Chart.yaml is one folder too deep (${this.deeperChartYamls.join(', ')})`;
      throw new ChartError('PACK_FILE', 'no-chart-yaml', nested, `${label}: Helm refuses this chart archive ("Chart.yaml file is missing")${found}`, { hint: HELM_HINT });
    }
    const mismatches = new Map<string, string>();
    for (const [key, first] of this.firstUnderArchiveName) {
      if (first.got !== undefined && !mismatches.has(first.chain.join('/'))) mismatches.set(first.chain.join('/'), `expected ${posix.basename(key)}, got ${first.got}`);
    }
    const chart = assemble(this.slots, label, nested, mismatches);
    const defines = definesOf(this.slots);
    if (defines !== undefined && this.depth > 0) archiveDefines.set(chart, defines);
    if (defines !== undefined && this.depth === 0) {
      checkTemplateRuns(this.slots.get('') ?? { archives: [] }, chart, defines, label);
      const space = new DefineSpace(chart);
      checkDefineCalls(chart, label, space);
      markUndefinedRuns(chart, defines);
      markSubchartDefineCalls(space);
    }
    return chart;
  }
}

/** Refuses a file of the top chart that Helm's install parses as YAML and cannot read, whatever the values. */
function checkHelmYaml(use: Extract<EntryUse, { kind: 'yaml' }>, why: string | undefined): void {
  if (why === undefined) return;
  const how = use.file === 'template' ? 'renders it and parses the result as Kubernetes YAML' : 'applies it as a CRD';
  throw new ChartError('PACK_FILE', 'helm-refuses', false, `${use.label}: Helm cannot install this chart: it ${how}, and Go's YAML reader refuses ${use.rel} (${why})`, {
    hint: 'delete that file from the chart and rebuild the archive (macOS tar writes a `._<name>` file beside each file with extended attributes: set COPYFILE_DISABLE=1, or use `helm package <chart-dir>`)',
  });
}

/**
 * Refuses a template of the top chart that Go's template parser refuses (go-template.ts): Helm parses every file of
 * templates/ before it renders any (pkg/engine/engine.go render), so every install fails. `rel`: its path in the
 * chart (`templates/x.yaml`). A file without `{{` holds no action. Returns, for the reference and required scans
 * (issue 16): `made`, the string it made of an ASCII template smaller than LARGE_TEMPLATE_BYTES (the one templateText
 * makes of it), for them to read rather than make the same string again (every top-chart template holding an action
 * was made a string twice); `actions`, where the actions of the text they read are (goTemplateRead's), when that is
 * the text it read (`given` as a string, or ASCII bytes: as `made`, or as templateText reads them) and Go's parser
 * does not refuse it.
 * `sub`: a subchart's template, whose refusal is noted on its slot (HelmChart.templateRefusals), not thrown.
 */
function checkTemplateSyntax(label: string, rel: string, given: Buffer | string | AsciiBytes, slot?: ChartSlot, sub = false): { made?: string; actions?: Int32Array } | undefined {
  const bytes = typeof given === 'string' ? undefined : 'ascii' in given ? given.ascii : given;
  if (bytes !== undefined && bytes.indexOf('{{') === -1) return undefined;
  if (bytes === undefined && !(given as string).includes('{{')) return undefined;
  // A large ASCII template is read as its bytes, an action at a time, never made one string (issue 16).
  const ascii = bytes !== undefined && isAscii(bytes);
  const text = bytes === undefined ? (given as string) : ascii && bytes.length >= LARGE_TEMPLATE_BYTES ? bytes : bytes.toString(ascii ? 'latin1' : 'utf8');
  const read = goTemplateRead(text, bytes === undefined || ascii);
  const refused = read.error;
  if (slot !== undefined) {
    const defines = (slot.defineNames ??= new Set());
    for (const name of read.defines) defines.add(name);
  }
  if (slot !== undefined && sub && refused !== undefined) (slot.templateRefusals ??= []).push({ file: rel, line: refused.line, message: refused.message });
  if (slot !== undefined && sub && read.miscall !== undefined && executed(rel)) (slot.renderFailures ??= []).push({ file: rel, why: `${wrongCall(read.miscall, ' on every render')}` });
  if (slot !== undefined && read.defines.length > 0) {
    // Every name defined, with actions or not, once per file (Go refuses a file defining a name twice, bar empty defines).
    const bodies = (slot.defineBodies ??= new Map());
    const empty = read.emptyDefines ?? [];
    for (const name of new Set(read.defines)) {
      const site = { ...(read.bodies?.get(name) ?? { runs: [] }), file: rel, empty: empty.includes(name) };
      const sites = bodies.get(name);
      if (sites === undefined) bodies.set(name, [site]);
      else sites.push(site);
    }
  }
  if (slot !== undefined && executed(rel)) for (const run of read.runs) if ((slot.topRuns ??= []).length < 1000) slot.topRuns.push({ ...run, file: rel });
  if (!sub && read.miscall !== undefined && executed(rel)) {
    const call = read.miscall;
    throw new ChartError('PACK_FILE', 'helm-refuses', false, `${label}: Helm cannot install this chart: ${rel} ${wrongCall(call, ' on every render')}, so every install stops there (Helm: "${call.want === -1 ? `execution error at (<chart>/${rel}:${call.line}): ...` : `executing \"<chart>/${rel}\" at <${call.name}>: ${goWrongArgs(call)}`}")`, {
      hint: callHint(call.name, 'template'),
    });
  }
  if (refused === undefined || sub) return { ...(ascii && typeof text === 'string' ? { made: text } : {}), ...(read.actions === undefined ? {} : { actions: read.actions }) };
  throw new ChartError('PACK_FILE', 'helm-refuses', false, `${label}: Helm cannot install this chart: Go's template parser refuses ${rel}, line ${refused.line}: ${refused.message} (Helm: "parse error at (<chart>/${rel}:${refused.line}): ..."), and Helm parses every template before it renders any`, {
    hint: 'fix the template (`helm lint` or `helm template` shows the same error), then package the chart again',
  });
}

/**
 * Refuses a chart whose template (not a partial; NOTES.txt too) runs at its top level, by a literal name, a define
 * that, at its own top level or through the defines it runs there, calls a function with the wrong number of arguments
 * (`{{ include "web.selectorLabels" }}` in the "web.labels" helper): every render stops there. The define a name
 * resolves to is the one Helm's render keeps (DefineSpace): judged only when that one is certain whatever the values.
 */
function checkDefineCalls(chart: HelmChart, label: string, space: DefineSpace): void {
  const top = space.copies[0];
  if (top === undefined) return;
  for (const run of chartRuns.get(chart) ?? []) {
    const found = miscallThrough(run.name, (name) => space.resolve(name, top));
    if (found === undefined) continue;
    const { name, site } = found;
    const call = site.miscall;
    const file = space.fileOf(site, top, found.copy);
    const where = name === run.name ? `it (${file})` : `"${name}" (${file}), which it runs,`;
    const helm = call.want === -1 ? 'execution error at (...): ...' : `... at <${call.name}>: ${goWrongArgs(call)}`;
    throw new ChartError('PACK_FILE', 'helm-refuses', false, `${label}: Helm cannot install this chart: ${run.file} runs the template "${run.name}" (line ${run.line}) on every render; ${where} ${wrongCall(call, '')}, so every install stops there (Helm: "${helm}")`, {
      hint: callHint(call.name, 'define'),
    });
  }
}

/** A file's define of a name (ChartSlot.defineBodies): what it does at its own top level, and whether it holds only space. */
type DefineSite = DefineBody & { file: string; empty: boolean };

type Resolved = { site: DefineSite; copy: ChartCopy };

/** The first define (`start`, or one it runs at its own top level, directly or through others) that makes a wrong call at its own top level. */
function miscallThrough(start: string, resolve: (name: string) => Resolved | undefined): { name: string; site: DefineSite & { miscall: WrongCall }; copy: ChartCopy } | undefined {
  const seen = new Set<string>([start]);
  const queue = [start];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const found = resolve(name);
    if (found === undefined) continue;
    const { site, copy } = found;
    if (site.miscall !== undefined) return { name, site: site as DefineSite & { miscall: WrongCall }, copy };
    for (const next of site.runs) if (!seen.has(next) && seen.size < 200) (seen.add(next), queue.push(next));
  }
  return undefined;
}

/**
 * A chart of Helm's render, under the name its parent's dependencies give it: `path` is its ChartFullPath (`web`,
 * `web/charts/redis`, an alias for a name), the start of its templates' names; `sure`: kept whenever its parent is (no
 * condition or tags on a dependency of its name: processDependencyEnabled removes a disabled one by that name).
 */
interface ChartCopy {
  chart: HelmChart;
  path: string;
  parent: ChartCopy | undefined;
  sure: boolean;
}

/**
 * The one namespace of Helm's render (pkg/engine render): every template file of the chart and of each subchart it
 * keeps (a library's partials only: isTemplateValid) is parsed into one text/template set, file after file, in
 * sortTemplates' order: most `/` in `<ChartFullPath>/<file>` first, then the larger name first. A file's define of a
 * name replaces the one before it unless it holds only space (text/template associate: parse.IsEmptyTree), so the
 * define kept is the last non-empty one: the fewest `/`, then the smallest name (bytes). It is certain for a template
 * of a chart when the chart holding it is kept whenever that chart is (every subchart between their common parent and
 * it kept unconditionally); whatever else is left out, it stays the last. Not judged: two subcharts of one name under a
 * parent, a chart copied under more than one alias holding the name, and more than 500 charts.
 */
class DefineSpace {
  readonly copies: ChartCopy[] = [];
  private unsure = false;

  constructor(chart: HelmChart) {
    const walk = (copy: ChartCopy, depth: number): void => {
      if (this.copies.length >= 500) return void (this.unsure = true);
      this.copies.push(copy);
      const { chart: c } = copy;
      const names = c.subcharts.map((sub) => sub.name);
      if (new Set(names).size !== names.length) this.unsure = true;
      if (depth >= 16) return void (this.unsure = this.unsure || c.subcharts.length > 0);
      for (const sub of c.subcharts) {
        // No dependencies in Chart.yaml: Helm keeps charts/ as it is (processDependencyEnabled returns at once).
        const keys = c.dependencies.length === 0 ? [sub.name] : subchartValueKeys(c, sub);
        for (const key of keys) {
          const sure = !c.dependencies.some((d) => (d.alias ?? d.name) === key && ((d.condition ?? '') !== '' || (d.tags ?? []).length > 0));
          walk({ chart: sub, path: `${copy.path}/charts/${key}`, parent: copy, sure }, depth + 1);
        }
      }
    };
    walk({ chart, path: chart.name, parent: undefined, sure: true }, 0);
  }

  /**
   * The define Helm's render keeps for `name`, when it is certain for a template of `from` and holds more than space;
   * undefined otherwise (none, only empty ones, or not certain).
   */
  resolve(name: string, from: ChartCopy): Resolved | undefined {
    if (this.unsure) return undefined;
    let kept = this.kept.get(name);
    if (kept === undefined) this.kept.set(name, (kept = this.keptDefine(name) ?? null));
    return kept === null || !this.keptWith(kept.copy, from) ? undefined : kept;
  }

  /** Per name, the define Helm's render keeps when every chart is kept (null: none holding more than space). */
  private readonly kept = new Map<string, Resolved | null>();

  private keptDefine(name: string): Resolved | undefined {
    let best: { site: DefineSite; copy: ChartCopy; key: Buffer; slashes: number } | undefined;
    for (const copy of this.copies) {
      const sites = chartBodies.get(copy.chart)?.get(name);
      if (sites === undefined) continue;
      const library = copy.chart.metadata['type'] === 'library';
      for (const site of sites) {
        if (site.empty || (library && !posix.basename(site.file).startsWith('_'))) continue;
        const path = `${copy.path}/${site.file}`;
        const slashes = path.split('/').length - 1;
        const key = Buffer.from(path);
        if (best === undefined || slashes < best.slashes || (slashes === best.slashes && Buffer.compare(key, best.key) < 0)) best = { site, copy, key, slashes };
      }
    }
    return best === undefined ? undefined : { site: best.site, copy: best.copy };
  }

  /** Whether `copy` is in every render `from` is in: each chart below their common parent down to it is kept unconditionally. */
  private keptWith(copy: ChartCopy, from: ChartCopy): boolean {
    const above = new Set<ChartCopy>();
    for (let c: ChartCopy | undefined = from; c !== undefined; c = c.parent) above.add(c);
    for (let c: ChartCopy | undefined = copy; c !== undefined && !above.has(c); c = c.parent) if (!c.sure) return false;
    return true;
  }

  /** A define's file as a message names it from `from`'s chart: `templates/_helpers.tpl`, or `... of <chart>` when another chart holds it. */
  fileOf(site: DefineSite, copy: ChartCopy, holder?: ChartCopy): string {
    return holder === undefined || holder.chart === copy.chart ? site.file : `${site.file} of ${holder.chart.name}`;
  }
}

/**
 * Adds to HelmChart.renderFailures of every subchart of `space`'s chart (not a library) whose template (not a partial) runs at
 * its top level, by a literal name, a define that makes a wrong call at its own top level or through the defines it
 * runs there (checkDefineCalls' rule for the top chart), the define each name resolves to being the one Helm's render
 * keeps, when certain (DefineSpace).
 */
function markSubchartDefineCalls(space: DefineSpace): void {
  for (const copy of space.copies.slice(1)) {
    const sub = copy.chart;
    if (sub.metadata['type'] === 'library') continue;
    for (const run of chartRuns.get(sub) ?? []) {
      if ((sub.renderFailures ?? []).length >= 5) break;
      if (sub.renderFailures?.some((f) => f.file === run.file) === true) continue;
      const found = miscallThrough(run.name, (name) => space.resolve(name, copy));
      if (found === undefined) continue;
      const file = space.fileOf(found.site, copy, found.copy);
      const where = found.name === run.name ? `it (${file})` : `"${found.name}" (${file}), which it runs,`;
      sub.renderFailures = [...(sub.renderFailures ?? []), { file: run.file, why: `runs the template "${run.name}" (line ${run.line}) on every render; ${where} ${wrongCall(found.site.miscall, '')}` }];
    }
  }
}

/** A call that stops every render, in words: a wrong number of arguments, or Helm's `fail` (want -1). */
function wrongCall(call: WrongCall, when: string): string {
  if (call.want === -1) return `calls fail (line ${call.line})${when}, which stops the render whatever it is given`;
  return `calls ${call.name} with ${call.got} argument${call.got === 1 ? '' : 's'} (${call.piped === true ? 'the value piped in; ' : ''}line ${call.line})${when}, and ${call.name} takes ${call.atLeast === true ? 'at least ' : ''}${call.want}`;
}

/** Go's words for a wrong number of arguments (text/template exec evalCall): a variadic function's got leaves out a value piped in. */
function goWrongArgs(call: WrongCall): string {
  if (call.atLeast !== true) return `wrong number of args for ${call.name}: want ${call.want} got ${call.got}`;
  return `wrong number of args for ${call.name}: want at least ${call.want} got ${call.got - (call.piped === true ? 1 : 0)}`;
}

/** How to fix such a call in a template or a define. */
function callHint(name: string, where: 'template' | 'define'): string {
  if (name === 'fail') return `Helm cannot install a chart that fails on every render (a chart retired on purpose does so): use a chart version that installs, or put the fail under the if it is meant for; then package the chart again`;
  const context = name === 'include' || name === 'tpl' ? `give ${name} its context too ({{ ${name} ${name === 'include' ? '"<name>"' : '.Values.x'} . }}); ` : '';
  return `${context}a value piped in (| ${name}) counts as the last argument; fix the ${where}, then package the chart again`;
}

/**
 * Whether Helm executes the template at `rel` on every render: every template but a `_` partial, NOTES.txt too
 * (pkg/engine render runs each one and fails the render on the first error; pkg/action renderResources only then
 * takes the NOTES.txt files out of what it installs, whether or not it shows them: --hide-notes, subchart notes).
 */
function executed(rel: string): boolean {
  return !rel.slice(rel.lastIndexOf('/') + 1).startsWith('_');
}

/** Whether Helm also installs what the template at `rel` outputs (executed, and not a NOTES.txt). */
function rendered(rel: string): boolean {
  return executed(rel) && !rel.endsWith('NOTES.txt');
}

/** The runs of each chart's templates (ChartSlot.topRuns), for the top chart's verdict on its subcharts' (markUndefinedRuns). */
const chartRuns = new WeakMap<HelmChart, ReadonlyArray<{ name: string; file: string; line: number }>>();
/** What each chart's defines do at their own top level (ChartSlot.defineBodies), for the same (markSubchartDefineCalls). */
const chartBodies = new WeakMap<HelmChart, ReadonlyMap<string, readonly DefineSite[]>>();

/**
 * Sets HelmChart.undefinedRuns on every subchart below `chart` whose templates run a template none of `defines` (every
 * define of the whole chart: definesOf) names; not on a library chart (Helm renders only its partials, isTemplateValid)
 * nor on one declaring a dependency its charts/ does not hold (that one's defines are not known).
 */
function markUndefinedRuns(chart: HelmChart, defines: ReadonlySet<string>): void {
  for (const sub of chart.subcharts) {
    markUndefinedRuns(sub, defines);
    if (sub.metadata['type'] === 'library' || sub.dependencies.some((d) => !sub.subcharts.some((s) => s.name === d.name))) continue;
    const missing = (chartRuns.get(sub) ?? []).filter((run) => !defines.has(run.name));
    if (missing.length > 0) sub.undefinedRuns = missing.slice(0, 5);
  }
}

/** The template names the charts of a subchart archive define (itself and every subchart in it), when all are known (definesOf). */
const archiveDefines = new WeakMap<HelmChart, ReadonlySet<string>>();

/**
 * The template names the templates of an archive's charts define, its subcharts' at every depth included (the
 * templates of Helm's one render share one namespace), or undefined when one is unknown: a template too large to
 * read, or one Go refuses, or an entry appended twice. Every subchart counts, enabled or not, and every template of
 * a library chart: more names than Helm's render may know, never fewer.
 */
function definesOf(slots: ReadonlyMap<string, ChartSlot>): Set<string> | undefined {
  const all = new Set<string>();
  for (const slot of slots.values()) {
    if (slot.unreadTemplate === true || slot.templateRefusals !== undefined || (slot.earlier ?? []).length > 0) return undefined;
    for (const name of slot.defineNames ?? []) all.add(name);
    for (const archive of slot.archives) {
      const inside = archiveDefines.get(archive);
      if (inside === undefined) return undefined;
      for (const name of inside) all.add(name);
    }
  }
  return all;
}

/**
 * Refuses a chart whose template (not a partial; NOTES.txt too) runs, at its top level and by a literal name, a
 * template neither its templates nor its subcharts' define (`defines`: definesOf) (`{{ include "web.fullname" . }}`
 * in a chart whose _helpers.tpl defines "webapp.fullname", as a chart renamed after `helm create` keeps): Helm
 * renders every such template on every install, and Go's text/template stops there (include: "error calling
 * include: template: no template ... associated with template "gotpl""; template: "template ... not defined").
 * A chart declaring a dependency it does not hold in charts/ is not judged (that one's defines are not known; the
 * missing dependency is chart-dependency-missing's to tell).
 */
function checkTemplateRuns(top: ChartSlot, chart: HelmChart, defines: ReadonlySet<string>, label: string): void {
  if (chart.dependencies.some((d) => !chart.subcharts.some((sub) => sub.name === d.name))) return;
  const missing = (top.topRuns ?? []).find((run) => !defines.has(run.name));
  if (missing === undefined) return;
  const near = [...defines].filter((d) => d.slice(d.lastIndexOf('.')) === missing.name.slice(missing.name.lastIndexOf('.'))).slice(0, 3);
  const whose = chart.subcharts.length === 0 ? 'the chart' : 'the chart or of its subcharts';
  throw new ChartError('PACK_FILE', 'helm-refuses', false, `${label}: Helm cannot install this chart: ${missing.file} runs the template "${missing.name}" (line ${missing.line}) on every render, and no template of ${whose} defines it, so every install stops there (Helm: "error calling include: template: no template \"${missing.name}\" associated with template \"gotpl\"")${near.length > 0 ? `; ${chart.subcharts.length === 0 ? 'the chart defines' : 'the chart and its subcharts define'} ${near.map((d) => `"${d}"`).join(', ')}` : ''}`, {
    hint: 'fix the name, or define it (`{{ define "<name>" }}...{{ end }}` in templates/_helpers.tpl), then rebuild the archive',
  });
}

/** Refuses a crds/ file of the top chart that Helm's install cannot apply, whatever the cluster holds (chart-manifests.ts crdRefusal). */
function checkCrd(use: Extract<EntryUse, { kind: 'yaml' }>, bytes: Buffer, budget: Budget): void {
  if (use.file !== 'crd') return;
  if (holdsRemovedCrdApi(bytes)) budget.removedApiCrds.push(use.rel);
  const refusal = crdRefusal(bytes, use.rel);
  if (refusal === undefined) return;
  throw new ChartError('PACK_FILE', 'helm-refuses', false, `${use.label}: Helm cannot install this chart: it applies ${use.rel} as it is, never rendered, and cannot read it ("failed to install CRD ${use.rel}"): ${refusal.why}`, {
    hint: refusal.hint,
  });
}

/**
 * Refuses a template of the top chart (not a partial, not NOTES.txt) that holds no action, so every render outputs it
 * as it is, when what it holds is no Kubernetes object: Helm reads every rendered template as YAML documents, each
 * into a resource head (pkg/releaseutil SortManifests: "YAML parse error on web/templates/README.md: ... cannot
 * unmarshal string into Go value of type releaseutil.SimpleHead"), then builds each as an object with a kind
 * (Kubernetes: "Object 'Kind' is missing"): a README.md, a text or JSON-less config file left among the templates.
 * Judged as a crds/ file is (chart-manifests.ts crdRefusal: the same reading, the same files left alone).
 */
function checkStaticTemplate(use: Extract<EntryUse, { kind: 'yaml' }>, bytes: Buffer): void {
  if (use.file !== 'template' || bytes.indexOf('{{') !== -1) return;
  const refusal = crdRefusal(bytes, use.rel);
  if (refusal === undefined) return;
  const helm = refusal.why.includes("'Kind' is missing") ? '' : ` (Helm: "YAML parse error on ${use.rel}")`;
  throw new ChartError('PACK_FILE', 'helm-refuses', false, `${use.label}: Helm cannot install this chart: ${use.rel} holds no template action, so every render outputs it as it is, and Helm reads that as Kubernetes objects: ${refusal.why}${helm}`, {
    hint: `fix it if it is meant as a Kubernetes manifest; else move it out of templates/ (the chart reads other files with .Files.Get from anywhere but templates/), or start its name with "_", which Helm never outputs; then rebuild the archive`,
  });
}

/** Notes a subchart's template without actions that is no Kubernetes object (checkStaticTemplate), should the subchart be enabled. */
function noteStaticSubchartTemplate(rel: string, content: Buffer | string, slot: ChartSlot): void {
  if (!rendered(rel) || content.indexOf('{{') !== -1) return;
  // A template read as text is made bytes again only when it holds no action (almost none do).
  const refusal = crdRefusal(typeof content === 'string' ? Buffer.from(content) : content, rel);
  if (refusal !== undefined) (slot.renderFailures ??= []).push({ file: rel, why: `holds no template action, so every render outputs it as it is, and Helm reads that as Kubernetes objects: ${refusal.why}` });
}

/** Notes a subchart's crds/ file that Helm's install cannot apply, should the subchart be enabled. */
function noteSubchartCrd(use: Extract<EntryUse, { kind: 'subchart-crd' }>, bytes: Buffer): void {
  const yaml = helmYamlRefusal(bytes, 'crd');
  const refusal = yaml !== undefined ? { why: `Go's YAML reader refuses it (${yaml})`, hint: CRD_FIX_HINT } : crdRefusal(bytes, use.rel);
  if (refusal !== undefined) (use.slot.crdRefusals ??= []).push({ file: use.rel, ...refusal });
}

const CRD_FIX_HINT = 'fix or remove that crds/ file of the subchart, then rebuild the archive';

/** Text of an entry as chartText reads it (`yaml` false for templates), refused over `limit` bytes. */
function entryText(bytes: Buffer, limit: number, what: string, nested: boolean, yaml = true): string {
  if (bytes.length > limit) throw tooLargeText(what, limit, nested);
  return chartText(bytes, what, nested, yaml);
}

/** Templates of this size or more that are ASCII are read in pieces (AsciiBytes), not made one string. */
const LARGE_TEMPLATE_BYTES = 128 * 1024;

/** A template entry's text for the reference scan, as entryText reads it; a large ASCII one as its bytes (the same characters). */
function templateText(bytes: Buffer, what: string, nested: boolean): string | AsciiBytes {
  if (bytes.length >= LARGE_TEMPLATE_BYTES && bytes.length <= MAX_TEMPLATE_BYTES && isAscii(bytes)) return { ascii: bytes };
  return entryText(bytes, MAX_TEMPLATE_BYTES, what, nested, false);
}

/** A chart archive read with packpub's tar reader (chart-archive.ts): from a file, or from the entry of an enclosing archive. */
async function readArchive(input: { file: string } | { chunks: NextChunk }, label: string, budget: Budget, depth: number): Promise<HelmChart> {
  const chart = new ArchiveCollector(label, budget, depth);
  const source = 'file' in input ? fileChunks(input.file, blockingReads()) : { next: input.chunks, close: async () => undefined };
  // A worker thread inflates in itself rather than waiting for libuv's thread pool (issue 16).
  const room = blockingReads() ? () => budget.maxBytes - budget.bytes : undefined;
  const inflated = gunzipChunks(new ByteReader(source.next), (bytes) => countInflated(budget, label, chart.nested, bytes), room);
  try {
    await readTar(new ByteReader(inflated.next), async (entry, data) => {
      const use = chart.entry(entry.name, entry.size, entry.directory || entry.globalHeader, entry.link);
      switch (use.kind) {
        case 'skip':
          return;
        case 'text': {
          if (entry.size > budget.maxTextBytes) throw tooLargeText(use.label, budget.maxTextBytes, use.nested);
          const bytes = await data.bytes();
          if (use.field === 'values') use.slot.valuesUtf16 = helm4RefusesUtf16(bytes);
          chart.text(use, use.field === 'schema' ? schemaText(bytes, () => entryText(bytes, budget.maxTextBytes, use.label, use.nested, false)) : entryText(bytes, budget.maxTextBytes, use.label, use.nested, true));
          return;
        }
        case 'template': {
          const bytes = await data.bytes();
          const checked = use.rel !== undefined ? checkTemplateSyntax(use.label, use.rel, bytes, use.slot) : use.sub !== undefined ? checkTemplateSyntax(use.label, use.sub, bytes, use.slot, true) : undefined;
          if (use.sub !== undefined) noteStaticSubchartTemplate(use.sub, bytes, use.slot);
          if (!use.refs) return;
          // A template that never names .Values has no reference to find: it is not even decoded, unless it runs a define.
          if (bytes.indexOf('.Values') !== -1) addTemplateRefs(use.slot, checked?.made ?? templateText(bytes, use.label, chart.nested), use.label, checked?.actions, templateTextLater(bytes, use.label, chart.nested));
          else if (bytes.indexOf('include') !== -1 || bytes.indexOf('template') !== -1) addRequiredScan(use.slot, checked?.made ?? templateText(bytes, use.label, chart.nested), use.label, checked?.actions);
          return;
        }
        case 'yaml': {
          if (!use.refs && use.file !== 'crd' && entry.size > MAX_TEMPLATE_BYTES) return checkHelmYaml(use, await helmYamlRefusalOfChunks(data.chunks(), use.file));
          const bytes = await data.bytes();
          checkHelmYaml(use, helmYamlRefusal(bytes, use.file));
          checkCrd(use, bytes, budget);
          checkStaticTemplate(use, bytes);
          const checked = use.file === 'template' ? checkTemplateSyntax(use.label, use.rel, bytes, use.slot) : undefined;
          if (!use.refs) return;
          if (bytes.indexOf('.Values') !== -1) addTemplateRefs(use.slot, checked?.made ?? templateText(bytes, use.label, chart.nested), use.label, checked?.actions, templateTextLater(bytes, use.label, chart.nested));
          else if (bytes.indexOf('include') !== -1 || bytes.indexOf('template') !== -1) addRequiredScan(use.slot, checked?.made ?? templateText(bytes, use.label, chart.nested), use.label, checked?.actions);
          return;
        }
        case 'subchart-crd':
          return noteSubchartCrd(use, await data.bytes());
        case 'archive':
          use.slot.archives.push(await readArchive({ chunks: data.chunks() }, use.label, budget, depth + 1));
      }
    });
  } catch (err) {
    if (err instanceof UnusualTarError) throw err;
    chart.fail(err, err instanceof PackpubError || !('file' in input) ? undefined : await archiveKindOf(input.file));
  } finally {
    inflated.close();
    await source.close().catch(() => undefined);
  }
  return chart.finish();
}

/** The same with tar-stream, for archives using a tar feature packpub's reader leaves aside. */
async function readArchiveWithTarStream(open: () => Readable, label: string, budget: Budget, depth: number): Promise<HelmChart> {
  const chart = new ArchiveCollector(label, budget, depth);
  const { extract: tarExtract } = await import('tar-stream');
  const input = open();
  // Go's archive/tar (Helm) also reads pre-POSIX V7 headers (no ustar magic); the checksum is still checked.
  // (@types/tar-stream does not list the option that tar-stream's extract takes.)
  const extract = tarExtract({ allowUnknownFormat: true } as Parameters<typeof tarExtract>[0]);
  const feeding = pipeline(input, createGunzip({ chunkSize: INFLATE_CHUNK }), new ByteCounter(budget, label, chart.nested), extract);
  feeding.catch(() => undefined);
  try {
    for await (const item of extract) {
      const entry = item as unknown as Readable & { header: tar.Header };
      const { name, size, type, linkname } = entry.header;
      const link = type === 'link' || type === 'symlink' ? { hard: type === 'link', target: linkname ?? '' } : undefined;
      const use = chart.entry(name, size ?? 0, type === 'directory', link);
      if (use.kind === 'text') chart.text(use, await readText(entry, budget.maxTextBytes, use.label, use.nested, use.field !== 'schema'));
      else if (use.kind === 'template') {
        const text = await readText(entry, MAX_TEMPLATE_BYTES, use.label, chart.nested, false);
        if (use.rel !== undefined) checkTemplateSyntax(use.label, use.rel, text, use.slot);
        else if (use.sub !== undefined) {
          checkTemplateSyntax(use.label, use.sub, text, use.slot, true);
          noteStaticSubchartTemplate(use.sub, text, use.slot);
        }
        if (use.refs) addTemplateRefs(use.slot, text, use.label);
      } else if (use.kind === 'yaml') {
        const bytes = await streamBytes(entry, HELM_MAX_FILE_BYTES, use.label, chart.nested);
        checkHelmYaml(use, helmYamlRefusal(bytes, use.file));
        checkCrd(use, bytes, budget);
        checkStaticTemplate(use, bytes);
        if (use.file === 'template' && bytes.length <= MAX_TEMPLATE_BYTES) checkTemplateSyntax(use.label, use.rel, bytes, use.slot);
        else if (use.file === 'template') use.slot.unreadTemplate = true;
        if (use.refs) addTemplateRefs(use.slot, templateText(bytes, use.label, chart.nested), use.label, undefined, templateTextLater(bytes, use.label, chart.nested));
      }
      else if (use.kind === 'subchart-crd') noteSubchartCrd(use, await streamBytes(entry, HELM_MAX_FILE_BYTES, use.label, true));
      else if (use.kind === 'archive') use.slot.archives.push(await readArchiveWithTarStream(() => entry, use.label, budget, depth + 1));
      else await drain(entry);
    }
    await feeding;
  } catch (err) {
    input.destroy();
    chart.fail(err);
  }
  return chart.finish();
}

/** `mismatches`: per chart (its chain key), Helm's complaint about a folder named like a subchart archive. */
function assemble(slots: Map<string, ChartSlot>, label: string, nested: boolean, mismatches: ReadonlyMap<string, string>): HelmChart {
  const build = (key: string, parentName: string | undefined): HelmChart => {
    const slot = slots.get(key) ?? { archives: [] };
    const location = key === '' ? label : `${label}:charts/${key.split('/').join('/charts/')}`;
    if (slot.chartYaml === undefined) {
      const sub = key.split('/').at(-1) ?? key;
      const link = slot.strayLink;
      const linked = link === undefined ? '' : `; charts/${sub} is a ${link.hard ? 'hard' : 'symbolic'} link to ${link.target} in the archive, which Helm reads as an empty file`;
      const fix = link === undefined ? '' : ' (`helm package <chart-dir>` stores what a link points to: rebuild the archive with it)';
      throw new ChartError('PACK_FILE', 'no-chart-yaml', true, `${label}: Helm refuses this chart ("error unpacking subchart ${sub} in ${parentName ?? 'the chart'}: Chart.yaml file is missing")${linked}`, {
        hint: `charts/ holds subcharts only (folders with a Chart.yaml, or .tgz archives): fix or remove charts/${sub} (Helm ignores names starting with "_" or ".")${fix}`,
      });
    }
    const earlierCharts = (slot.earlier ?? []).filter((e) => e.field === 'chartYaml').map((e) => e.text);
    const metadata = chartMetadata(slot.chartYaml, `${location}/Chart.yaml`, nested || key !== '', earlierCharts);
    const name = String(metadata['name']);
    const mismatch = mismatches.get(key);
    if (mismatch !== undefined) {
      throw new ChartError('PACK_FILE', 'helm-refuses', true, `${label}: Helm refuses this chart ("error unpacking subchart tar in ${name}: ${mismatch}")`, {
        hint: 'a folder under charts/ must not be named like a chart archive (<name>.tgz); rebuild the archive with `helm package <chart-dir>`',
      });
    }
    const subs: HelmChart[] = [];
    const prefix = key === '' ? '' : `${key}/`;
    for (const k of slots.keys()) {
      if (k !== key && k.startsWith(prefix) && !k.slice(prefix.length).includes('/')) subs.push(build(k, name));
    }
    subs.push(...slot.archives);
    return makeChart(location, metadata, slot, subs, nested || key !== '');
  };
  return build('', undefined);
}

/**
 * A subchart's templates Go refuses that Helm parses: a library chart's partials only (pkg/engine isTemplateValid,
 * the same in every Helm 3 and 4 version; a `type` other than "", application or library is refused on loading).
 */
function templateRefusalsOf(slot: Pick<ChartSlot, 'templateRefusals'>, metadata: Record<string, unknown>): Pick<HelmChart, 'templateRefusals'> {
  const library = metadata['type'] === 'library';
  const parsed = (slot.templateRefusals ?? []).filter((r) => !library || posix.basename(r.file).startsWith('_'));
  return parsed.length === 0 ? {} : { templateRefusals: parsed };
}

/** A chart YAML file as a mapping; empty files are empty, as Helm reads them. */
function parseYamlObject(text: string, what: string, nested: boolean): Record<string, unknown> {
  // Only its errors and values are read: a text the fast reader took is not walked for key positions and
  // duplicate-key warnings (issue 16).
  const check = checkYamlText(text, what, { errorsOnly: true });
  const first = check.findings.find((f) => f.severity === 'error');
  if (!check.ok || first !== undefined) {
    const at = first?.line === undefined ? '' : ` (line ${first.line}${first.column === undefined ? '' : `, column ${first.column}`})`;
    throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what}: not valid YAML${at}: ${first?.message ?? 'unreadable'}`, { hint: `fix ${what}` });
  }
  const parsed = check.documents[0];
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what}: not a YAML mapping`, { hint: `fix ${what}` });
  }
  // Numbers and booleans become text in Helm's string fields the way Go writes them (yaml-json-text.ts),
  // which needs their Go type and how they were written: read again, keeping both.
  if (holdsNumberOrBool(parsed)) return valuesWithGoScalars(text, isContentDocument) as Record<string, unknown>;
  return parsed as Record<string, unknown>;
}

/** What each decoded Chart.yaml or requirements.yaml read as text from numbers and booleans (helmDecoded). */
const textsRead = new WeakMap<Record<string, unknown>, ReadAsText[]>();

/**
 * Chart.yaml or requirements.yaml as Helm's Metadata struct receives it (chart-metadata.ts), or the
 * error Helm refuses the chart with.
 */
function helmDecoded(text: string, what: string, nested: boolean): Record<string, unknown> {
  const decoded = decodeChartMetadata(parseYamlObject(text, what, nested));
  if ('metadata' in decoded) {
    if (decoded.texts.length > 0) textsRead.set(decoded.metadata, decoded.texts);
    return decoded.metadata;
  }
  const file = posix.basename(what.replaceAll(':', '/'));
  throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what}: Helm refuses this chart ("cannot load ${file}: ${decoded.refused}")`, {
    hint: `fix ${file} (\`helm lint\` reports the same), then rebuild the archive with \`helm package <chart-dir>\``,
  });
}

/**
 * Refuse a Chart.lock or requirements.lock Helm cannot load: its loader reads each into the Lock struct
 * (`generated` a time.Time, RFC 3339), and any error stops the chart's load ("cannot load Chart.lock: ...").
 */
function helmLock(text: string, what: string, nested: boolean): void {
  const decoded = decodeChartLock(parseYamlObject(text, what, nested));
  if ('lock' in decoded) return;
  const file = posix.basename(what.replaceAll(':', '/'));
  throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what}: Helm refuses this chart ("cannot load ${file}: ${decoded.refused}")`, {
    hint: `fix ${file} (\`helm dependency update\` writes it anew), then rebuild the archive with \`helm package <chart-dir>\``,
  });
}

/**
 * Refuse a chart values.yaml Helm cannot load: Helm's loader reads it into a map with sigs.k8s.io/yaml
 * (chartutil.ReadValues: the first document only), so YAML Go refuses, or a first document that is a
 * list or a single value, stops every install ("cannot load values.yaml: ...").
 */
function helmValues(text: string, what: string, nested: boolean): YamlParse | undefined {
  const check = checkYamlText(text, what, { documents: false, errorsOnly: true });
  const first = check.findings.find((f) => f.severity === 'error');
  let problem: string | undefined;
  if (!check.ok || first !== undefined) {
    problem = `${first?.message.replace(/; fix the syntax at this position$/, '') ?? 'not valid YAML'}${first?.line === undefined ? '' : ` (line ${first.line}${first.column === undefined ? '' : `, column ${first.column}`})`}`;
  } else {
    const kind = firstDocumentKind(check.parsed);
    if (kind === 'seq' || kind === 'scalar') problem = `its top level is ${kind === 'seq' ? 'a list' : 'a single value'}, not a mapping of values`;
    else if (check.uint64Key !== undefined) {
      const { path, line, column } = check.uint64Key;
      problem = `error converting YAML to JSON: unsupported map key of type: uint64: the key ${path} (line ${line}, column ${column}) is an integer past the int64 range, which Go reads as a uint64; quote it`;
    } else if (kind === 'map' && mayHoldNonFinite(text)) {
      const at = nonFinitePath(checkYamlText(text, what).documents[0]);
      if (at !== undefined) problem = `error converting YAML to JSON: json: unsupported value: ${at} is .inf or .nan`;
    }
  }
  if (problem === undefined) return check.parsedAsRead ? check.parsed : undefined;
  throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what}: Helm refuses this chart ("cannot load values.yaml": ${problem})`, {
    hint: 'fix the chart\'s values.yaml (`helm lint` reports the same), then rebuild the archive with `helm package <chart-dir>`',
  });
}

/**
 * Whether a chart's values.yaml is UTF-16 text (with its byte-order mark, as PowerShell 5's `>` writes it)
 * that Helm 4 cannot read: Helm 3 decodes the file's bytes at once (go-yaml reads UTF-16), while Helm 4's
 * LoadValues reads it line by line (k8s.io/apimachinery util/yaml LineReader), which puts back a `\n` after
 * each piece up to a 0x0A byte, the last one too: a file not ending in that byte (UTF-16LE always ends with
 * a 0x00) gains one byte, and go-yaml refuses the odd length ("incomplete UTF-16 character").
 */
function helm4RefusesUtf16(bytes: Buffer): boolean {
  return hasUtf16Bom(bytes) && bytes[bytes.length - 1] !== 0x0a;
}

/**
 * How Helm 4 reads a chart's values.yaml where Helm 3 does not, or undefined when both read the same. Helm 3
 * (chartutil.ReadValues, sigs.k8s.io/yaml) reads the first YAML document only. Helm 4 (pkg/chart/v2/loader
 * LoadValues, since v4.0.0) splits the text at every line starting with `---` (k8s.io/apimachinery
 * util/yaml YAMLReader: anything but blanks or a comment after it is "invalid Yaml document separator"),
 * decodes each part into a map ("cannot unmarshal yaml document: ..." when one is no mapping or no YAML) and
 * merges them, later ones over earlier ones. Which Helm Palette runs is not public: a warning, never a refusal.
 */
export function helm4ValuesDifference(text: string): { refused: string } | { merged: number } | undefined {
  if (!/\n---/.test(text)) return undefined;
  // The parts Helm 4 decodes, each with whether a separator opened it (then Go counts it as a document even
  // when it holds nothing; a first part of comments only is none).
  const parts: Array<{ text: string; opened: boolean }> = [];
  let part: string[] = [];
  let opened = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('---')) {
      const rest = line.slice(3).trim();
      if (rest !== '' && !rest.startsWith('#')) return { refused: `error reading yaml document: invalid Yaml document separator: ${rest}", as a --- line holds more than a comment` };
      if (part.length > 0) parts.push({ text: part.join('\n'), opened });
      part = [];
      opened = true;
    } else part.push(line);
  }
  if (part.length > 0 || opened) parts.push({ text: part.join('\n'), opened });
  let merged = 0;
  let first = true;
  for (const { text: later, opened: explicit } of parts) {
    const check = checkYamlText(`${later}\n`, 'values.yaml', { documents: false, errorsOnly: true });
    const error = check.findings.find((f) => f.severity === 'error');
    const kind = !check.ok || error !== undefined ? undefined : firstDocumentKind(check.parsed);
    // The document Helm 3 reads too (the loader already judged it): the first one Go sees.
    if (first) {
      first = !(explicit || (kind !== 'none' && kind !== undefined));
      continue;
    }
    if (kind === undefined) return { refused: `cannot unmarshal yaml document: ...", as a document after the first is ${error?.message.replace(/; fix the syntax at this position$/, '') ?? 'not valid YAML'}` };
    if (kind === 'seq' || kind === 'scalar') return { refused: `cannot unmarshal yaml document: ... into Go value of type map[string]interface {}", as a document after the first is ${kind === 'seq' ? 'a list' : 'a single value'}, not a mapping` };
    if (kind === 'map') merged++;
  }
  return merged === 0 ? undefined : { merged };
}

/** `earlier`: Chart.yaml entries of the same archive before `text`, each decoded over the ones before it. */
function chartMetadata(text: string, what: string, nested: boolean, earlier: readonly string[] = []): Record<string, unknown> {
  let metadata: Record<string, unknown> | undefined;
  for (const copy of [...earlier, text]) {
    const decoded = helmDecoded(copy, what, nested);
    if (metadata !== undefined) {
      const texts = [...(textsRead.get(metadata) ?? []), ...(textsRead.get(decoded) ?? [])];
      metadata = decodedOver(metadata, decoded);
      if (texts.length > 0) textsRead.set(metadata, texts);
    } else metadata = decoded;
  }
  if (metadata === undefined) throw new Error('unreachable: no Chart.yaml text');
  const texts = textsRead.get(metadata);
  metadata = helmSanitizedMetadata(metadata);
  if (texts !== undefined) textsRead.set(metadata, texts);
  if (str(metadata['name']) === undefined) {
    throw new ChartError('PACK_FILE', 'bad-metadata', nested, `${what}: no name (Helm: "validation: chart.metadata.name is required")`, { hint: 'Helm requires `name:` in Chart.yaml' });
  }
  return metadata;
}

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `next` (a decoded Chart.yaml) unmarshaled over `into`, as encoding/json fills a struct that already holds
 * values: a key sets its field, a null leaves a string or bool field as it was (lists and maps become
 * null), `annotations` gets its keys added, and each maintainer or dependency is filled over the one at
 * the same place (Go reuses the *Maintainer, *Dependency already there).
 */
function decodedOver(into: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const out = { ...into };
  for (const [key, value] of Object.entries(next)) {
    const before = out[key];
    if (value === null) {
      if (before === undefined || typeof before === 'object') out[key] = null;
    } else if (key === 'annotations' && isMapping(value) && isMapping(before)) {
      out[key] = { ...before, ...value };
    } else if ((key === 'maintainers' || key === 'dependencies') && Array.isArray(value) && Array.isArray(before)) {
      out[key] = value.map((item: unknown, i) => (isMapping(item) && isMapping(before[i]) ? decodedOver(before[i], item) : item));
    } else out[key] = value;
  }
  return out;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** One `import-values` entry as processImportValues reads it (a string, a map, anything else skipped). */
function importValue(entry: unknown): ImportValue | undefined {
  if (typeof entry === 'string') return entry;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const { child, parent } = entry as Record<string, unknown>;
  return typeof child === 'string' && typeof parent === 'string' ? { child, parent } : null;
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
    const imports = d['import-values'];
    if (imports !== undefined && imports !== null && !(Array.isArray(imports) && imports.length === 0)) {
      dep.imports = Array.isArray(imports) ? imports.map(importValue).filter((v) => v !== undefined) : [null];
    }
    deps.push(dep);
  }
  return deps;
}

/**
 * What Helm's loader refuses in a chart's metadata (helm/helm pkg/chart/v2/metadata.go Metadata.Validate,
 * run by LoadFiles on every chart and subchart, so on every install), in Helm's words; undefined when
 * Helm loads it. `dependencies` is the list Helm validates: requirements.yaml's, else Chart.yaml's.
 * Scalars arrive as sigs.k8s.io/yaml hands them to string fields (`version: 1.0` is "1").
 */
function helmMetadataProblem(metadata: Record<string, unknown>, dependencies: unknown): string | undefined {
  const name = str(metadata['name']) ?? '';
  if (name === '.' || name === '..') return `chart.metadata.name ${JSON.stringify(name)} is not allowed`;
  if (name.includes('/')) return `chart.metadata.name ${JSON.stringify(name)} is invalid`;
  const version = str(metadata['version']);
  if (version === undefined) return 'chart.metadata.version is required';
  if (goSemverProblem(version) !== undefined) return `chart.metadata.version ${JSON.stringify(version)} is invalid`;
  const type = metadata['type'] ?? '';
  if (type !== '' && type !== 'application' && type !== 'library') return 'chart.metadata.type must be application or library';
  if (Array.isArray(metadata['maintainers']) && metadata['maintainers'].some((m) => m === null)) return 'maintainers must not contain empty or null nodes';
  if (!Array.isArray(dependencies)) return undefined;
  const keys = new Set<string>();
  for (const d of dependencies as unknown[]) {
    if (d === null) return 'dependencies must not contain empty or null nodes';
    if (typeof d !== 'object') continue;
    const dep = d as Record<string, unknown>;
    const alias = str(dep['alias']);
    if (alias !== undefined && !/^[a-zA-Z0-9_-]+$/.test(alias)) return `dependency ${JSON.stringify(str(dep['name']) ?? '')} has disallowed characters in the alias`;
    const key = alias ?? str(dep['name']) ?? '';
    if (keys.has(key)) return `more than one dependency with name or alias ${JSON.stringify(key)}`;
    keys.add(key);
  }
  return undefined;
}

function makeChart(location: string, metadata: Record<string, unknown>, slot: Omit<ChartSlot, 'archives' | 'chartYaml'>, subcharts: HelmChart[], nested: boolean): HelmChart {
  const decodedRequirements = slot.requirements === undefined ? {} : helmDecoded(slot.requirements, `${location}/requirements.yaml`, nested);
  const requirements = helmSanitizedMetadata(decodedRequirements);
  // Helm reads requirements.yaml over Chart.yaml: its `dependencies`, when present, replace Chart.yaml's.
  const dependencies = requirements['dependencies'] ?? metadata['dependencies'];
  const valuesParse = slot.values === undefined ? undefined : helmValues(slot.values, `${location}/values.yaml`, nested);
  if (slot.chartLock !== undefined) helmLock(slot.chartLock, `${location}/Chart.lock`, nested);
  // Earlier copies of a file (Chart.yaml: chartMetadata): Helm loads each, so each must load.
  for (const { field, text } of slot.earlier ?? []) {
    if (field === 'values') helmValues(text, `${location}/values.yaml`, nested);
    else if (field === 'requirements') helmDecoded(text, `${location}/requirements.yaml`, nested);
    else if (field === 'chartLock' || field === 'requirementsLock') helmLock(text, `${location}/${field === 'chartLock' ? 'Chart.lock' : 'requirements.lock'}`, nested);
  }
  if (slot.requirementsLock !== undefined) helmLock(slot.requirementsLock, `${location}/requirements.lock`, nested);
  const refused = helmMetadataProblem(metadata, dependencies);
  const texts = [...(textsRead.get(metadata) ?? []).map((t) => ({ ...t, file: 'Chart.yaml' })), ...(textsRead.get(decodedRequirements) ?? []).map((t) => ({ ...t, file: 'requirements.yaml' }))];
  if (refused !== undefined) {
    // A version written as a YAML number: say what Helm made of it.
    const number = refused.startsWith('chart.metadata.version ') ? texts.find((t) => t.file === 'Chart.yaml' && t.at.toLowerCase() === 'version' && t.read === metadata['version']) : undefined;
    throw new ChartError(
      'PACK_FILE',
      'bad-metadata',
      nested,
      `${location}/Chart.yaml: Helm refuses this chart ("validation: ${refused}")${number === undefined ? '' : `: ${number.at}: ${number.written} is a YAML ${number.kind}, which Helm reads as ${number.read}: quote it (${number.at}: "${number.written}")`}`,
      { hint: `${number === undefined ? 'fix Chart.yaml' : 'quote the version in Chart.yaml'} (\`helm lint\` reports the same), then rebuild the archive with \`helm package <chart-dir>\`` },
    );
  }
  // Every install checks the top chart's kubeVersion against the cluster (pkg/action renderResources,
  // chartutil.IsCompatibleRange): one Masterminds semver cannot read matches no cluster.
  const kubeVersion = str(metadata['kubeVersion']);
  const kubeProblem = nested || kubeVersion === undefined ? undefined : goSemverConstraintProblem(kubeVersion);
  if (kubeVersion !== undefined && kubeProblem !== undefined) {
    throw new ChartError(
      'PACK_FILE',
      'helm-refuses',
      false,
      `${location}/Chart.yaml: Helm cannot install this chart: its kubeVersion ${JSON.stringify(kubeVersion)} is no version constraint Helm reads (${kubeProblem}), so it matches no cluster and every install fails ("chart requires kubeVersion: ${kubeVersion} which is incompatible with Kubernetes ...")`,
      { hint: 'write kubeVersion as a semver constraint, such as ">= 1.21.0-0" (comma or space between the parts of a range, || between alternatives), then rebuild the archive with `helm package <chart-dir>`' },
    );
  }
  let pending = slot.pendingRefs;
  let refs: string[] | undefined;
  const dotted = (): string[] => {
    if (refs === undefined) {
      refs = pending === undefined ? [] : templateRefsOf(pending);
      pending = undefined;
    }
    return refs;
  };
  const required = requiredValuesOf(slot);
  let paths: string[][] | undefined;
  const chart: HelmChart = {
    name: String(metadata['name']),
    location,
    metadata,
    valuesText: (slot.values ?? '').replace(/^\uFEFF/, ''),
    ...(slot.schema === undefined ? {} : { valuesSchemaText: slot.schema }),
    ...(slot.crdRefusals === undefined ? {} : { crdRefusals: slot.crdRefusals }),
    ...templateRefusalsOf(slot, metadata),
    ...(slot.renderFailures === undefined || metadata['type'] === 'library' ? {} : { renderFailures: slot.renderFailures.slice(0, 5) }),
    ...(required.length === 0 ? {} : { requiredValues: required }),
    dependencies: parseDependencies(dependencies),
    subcharts,
    // Split only when asked for: the deep checks read the dotted paths (templateReferences).
    get templateValuePaths(): string[][] {
      return (paths ??= dotted().map((p) => p.split('.')));
    },
  };
  dottedReferences.set(chart, dotted);
  if (slot.topRuns !== undefined) chartRuns.set(chart, slot.topRuns);
  if (slot.defineBodies !== undefined) chartBodies.set(chart, slot.defineBodies);
  if (valuesParse !== undefined && chart.valuesText === slot.values) valuesParses.set(chart, valuesParse);
  const helm4 = slot.values === undefined ? undefined : helm4ValuesDifference(chart.valuesText);
  if (helm4 !== undefined) chart.helm4Values = helm4;
  if (slot.valuesUtf16 === true) chart.helm4Values = { utf16: true };
  const version = str(metadata['version']);
  if (version !== undefined) chart.version = version;
  const appVersion = str(metadata['appVersion']);
  if (appVersion !== undefined) chart.appVersion = appVersion;
  const changed = texts.filter((t) => t.read !== t.written);
  if (changed.length > 0) chart.readAsText = changed;
  return chart;
}

/** The dotted `.Values` paths of a chart's templates, as read (templateValuePaths without splitting them). */
const dottedReferences = new WeakMap<HelmChart, () => readonly string[]>();

/** A chart's values.yaml as parseYaml read it when the chart was loaded (parseYaml(chart.valuesText)), when kept. */
const valuesParses = new WeakMap<HelmChart, YamlParse>();

/**
 * The parse of chart.valuesText the reader already made (Helm's loader check reads every chart's
 * values.yaml), so the deep checks build its tree without parsing it again; undefined when not kept.
 */
export function chartValuesParse(chart: HelmChart): YamlParse | undefined {
  return valuesParses.get(chart);
}

/** The `.Values` paths a chart's templates read, dotted (`image.tag`), in the order they were found. */
export function templateReferences(chart: HelmChart): readonly string[] {
  return dottedReferences.get(chart)?.() ?? chart.templateValuePaths.map((p) => p.join('.'));
}

/**
 * Read a small file, or undefined when it does not exist (or is a folder: Helm finds no such file then);
 * `yaml`: a chart YAML file (chartText). A named pipe or device is refused, not read: reading a pipe
 * waits for a writer for ever.
 */
export async function readOptionalText(path: string, limit: number, yaml: boolean | 'json' = false): Promise<string | undefined> {
  let info: Stats;
  try {
    info = await statOf(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadableChartEntry(path, err, false);
  }
  if (info.isDirectory()) return undefined;
  if (!info.isFile()) throw irregularChartFile(path, false);
  if (info.size > limit) throw new ChartError('PACK_FILE', 'too-large', false, `${path}: larger than ${limit} bytes`);
  const bytes = await readFileOf(path);
  return yaml === 'json' ? schemaText(bytes, () => chartText(bytes, path, false, false)) : chartText(bytes, path, false, yaml);
}

/**
 * values.schema.json's text as Go's JSON reader (Helm's schema check) meets it: UTF-16 is not decoded, as
 * YAML's reader would: its bytes as they are (latin1), byte-order mark first, which the JSON check refuses
 * (values-schema.ts jsonProblem). Else `decoded()`.
 */
function schemaText(bytes: Buffer, decoded: () => string): string {
  return hasUtf16Bom(bytes) ? bytes.toString('latin1') : decoded();
}

/** Helm's directory loader refuses what is neither a folder nor a regular file (directory.go). */
function irregularChartFile(path: string, nested: boolean): ChartError {
  return new ChartError('PACK_FILE', 'helm-refuses', nested, `${path} is not a regular file (a named pipe, device or socket), so Helm refuses the chart ("cannot load irregular file ... as it has file mode type bits set")`, {
    hint: "remove it from the chart folder, or list it in the chart's .helmignore",
  });
}

/** A name stat cannot follow: a link to itself (ELOOP) or to nothing; Helm's walk fails on both ("error evaluating symlink"). */
function unreadableChartEntry(path: string, err: unknown, nested: boolean): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') {
    return new ChartError('PACK_FILE', 'helm-refuses', nested, `${path} is a symlink loop (it leads back to itself), so Helm refuses the chart ("error evaluating symlink")`, {
      hint: "replace the symlink with a copy of what it should hold, or remove it",
    });
  }
  if (code === 'ENOENT') {
    return new ChartError('PACK_FILE', 'helm-refuses', nested, `${path} is a symlink to something that does not exist, so Helm refuses the chart ("error evaluating symlink")`, {
      hint: 'replace the symlink with the file it should point to, or remove it',
    });
  }
  return err;
}

/**
 * Helm's directory loader reads every file of the chart folder that .helmignore does not list, following
 * links (sympath Walk), while readChart reads only Chart.yaml, values, templates/ and charts/: so the whole
 * folder is checked once, from the top, for what makes Helm's walk fail or never end, what links outside
 * the folder reach included. A link back to a folder above it (folderEntered), a link to itself or to
 * nothing (refused even when .helmignore lists it: Helm follows a link before it asks .helmignore), a
 * named pipe, device or socket. Names count against the
 * entry limit as the reader's own walk does; the count is given back afterwards, so the reader's walk
 * still has the whole budget.
 */
async function checkChartFolder(dir: string, scope: FolderScope, budget: Budget, depth = 0): Promise<void> {
  const nested = scope.prefix.startsWith('charts/');
  const names = depth === 0 ? await folderNames(dir, budget, nested) : await readableFolderNames(dir, budget, nested);
  for (const name of names ?? []) {
    const path = join(dir, name);
    const rel = `${scope.prefix}${name}`;
    let info: Stats;
    try {
      info = await statOf(path);
    } catch (err) {
      throw unreadableChartEntry(path, err, nested);
    }
    if (scope.ignore.ignores(rel, info.isDirectory())) continue;
    if (info.isDirectory()) {
      // A folder outside the chart reached through a link too: Helm's walk follows it, and the packer packs it.
      if (depth < MAX_FOLDER_NESTING) await checkChartFolder(path, { ignore: scope.ignore, prefix: `${rel}/`, chain: await folderEntered(path, scope.chain, nested) }, budget, depth + 1);
    } else if (!info.isFile()) throw irregularChartFile(path, nested);
  }
}

/** Where a chart folder sits below the top chart folder, and the top folder's .helmignore (helmignore.ts). */
interface FolderScope {
  ignore: HelmIgnore;
  /** The folder's path from the top chart folder, `/`-ended (`charts/db/`), or '' for the top. */
  prefix: string;
  /** Real paths of the folders it sits in and its own (folderEntered). */
  chain: readonly string[];
}

/**
 * The real paths of `chain` (the folders a folder of the chart sits in, its own last) and `path`'s, when
 * the reader goes down into `path`; refused when `path` leads back to one of them. Helm's directory
 * loader (internal/sympath Walk) follows links to folders without such a check: it goes round until the
 * path fails ("too many levels of symbolic links"), or for ever when a folder holds several such links.
 */
export async function folderEntered(path: string, chain: readonly string[], nested: boolean): Promise<string[]> {
  const real = await realPathOf(path);
  if (chain.includes(real)) {
    throw new ChartError('PACK_FILE', 'helm-refuses', nested, `${path} is a symlink loop (it points back to a folder that contains it), so Helm's walk of the chart folder never ends`, {
      hint: "replace the symlink with a copy of what it should hold, or list it in the chart's .helmignore",
    });
  }
  return [...chain, real];
}

/** The names in a chart folder, sorted, counted against the entry limit (links followed: a fan-out of links stops there). */
async function folderNames(dir: string, budget: Budget, nested: boolean): Promise<string[]> {
  const names = (await readdirOf(dir)).sort();
  budget.entries += names.length;
  if (budget.entries > budget.maxEntries) {
    throw new ChartError('PACK_FILE', 'too-many-entries', nested, `${dir}: more than ${budget.maxEntries} files and folders read in the chart folder (symlinks followed)`, {
      hint: 'real charts have a few hundred files; check the symlinks in the chart folder, or list what Helm should not load in .helmignore',
    });
  }
  return names;
}

/** folderNames, or undefined when the folder cannot be listed (gone, not a folder, unreadable); limits still throw. */
async function readableFolderNames(dir: string, budget: Budget, nested: boolean): Promise<string[] | undefined> {
  try {
    return await folderNames(dir, budget, nested);
  } catch (err) {
    if (err instanceof ChartError) throw err;
    return undefined;
  }
}

/** The top folder's .helmignore, read and parsed as Helm's directory loader does; what Helm refuses is refused. */
async function helmIgnoreOf(dir: string, budget: Budget): Promise<HelmIgnore> {
  const text = await readOptionalText(join(dir, '.helmignore'), budget.maxTextBytes);
  try {
    return parseHelmIgnore(text);
  } catch (err) {
    if (!(err instanceof HelmIgnoreError)) throw err;
    throw new ChartError('PACK_FILE', 'helm-refuses', false, `${join(dir, '.helmignore')}: ${err.message}, so Helm refuses to load the chart`, {
      hint: 'write the rule as Helm reads it (no **; Go filepath.Match patterns), or remove it',
    });
  }
}

async function readChartDirectory(dir: string, budget: Budget, depth = 0, scope?: FolderScope): Promise<HelmChart> {
  const { ignore, prefix, chain } = scope ?? { ignore: await helmIgnoreOf(dir, budget), prefix: '', chain: [await realPathOf(dir)] };
  if (scope === undefined) {
    const counted = budget.entries;
    await checkChartFolder(dir, { ignore, prefix, chain }, budget);
    budget.entries = counted;
  }
  // A file .helmignore lists is not loaded by Helm: neither read nor checked here.
  const read = (name: string) => (ignore.ignores(`${prefix}${name}`, false) ? Promise.resolve(undefined) : readOptionalText(join(dir, name), budget.maxTextBytes, true));
  const chartYaml = await read('Chart.yaml');
  if (chartYaml === undefined && ignore.ignores(`${prefix}Chart.yaml`, false) && (await statOf(join(dir, 'Chart.yaml')).catch(() => undefined)) !== undefined) {
    throw new ChartError('PACK_FILE', 'no-chart-yaml', depth > 0, `${dir}: Chart.yaml is listed in .helmignore, so Helm does not load it (Helm: "Chart.yaml file is missing")`, {
      hint: 'take the rule matching Chart.yaml out of .helmignore',
    });
  }
  if (chartYaml === undefined) {
    throw new ChartError('PACK_FILE', 'no-chart-yaml', depth > 0, `${dir}: no Chart.yaml (Helm: "Chart.yaml file is missing")`, { hint: 'give the chart folder (the one holding Chart.yaml), or a chart .tgz' });
  }
  const slot: ChartSlot = { chartYaml, archives: [] };
  const values = await read('values.yaml');
  if (values !== undefined) slot.values = values;
  const requirements = await read('requirements.yaml');
  if (requirements !== undefined) slot.requirements = requirements;
  const chartLock = await read('Chart.lock');
  if (chartLock !== undefined) slot.chartLock = chartLock;
  const requirementsLock = await read('requirements.lock');
  if (requirementsLock !== undefined) slot.requirementsLock = requirementsLock;
  const schema = ignore.ignores(`${prefix}values.schema.json`, false) ? undefined : await readOptionalText(join(dir, 'values.schema.json'), budget.maxTextBytes, 'json');
  if (schema !== undefined) slot.schema = schema;
  const templates = join(dir, 'templates');
  if (budget.templates && !ignore.ignores(`${prefix}templates`, true) && (await statOf(templates).catch(() => undefined))?.isDirectory() === true) {
    await readTemplateDirectory(templates, slot, 0, { ignore, prefix: `${prefix}templates/`, chain: await folderEntered(templates, chain, depth > 0) }, budget, depth === 0);
  }
  const crds = join(dir, 'crds');
  if (!ignore.ignores(`${prefix}crds`, true) && (await statOf(crds).catch(() => undefined))?.isDirectory() === true) {
    // The top chart's are refused as the archive reader refuses them (checkHelmYaml, checkCrd); a subchart's noted.
    const visit =
      depth > 0
        ? (rel: string, path: string, bytes: Buffer) => noteSubchartCrd({ kind: 'subchart-crd', rel, slot, label: path }, bytes)
        : (rel: string, path: string, bytes: Buffer) => {
            const use = { kind: 'yaml', file: 'crd', rel, slot, label: path, refs: false } as const;
            checkHelmYaml(use, helmYamlRefusal(bytes, 'crd'));
            checkCrd(use, bytes, budget);
          };
    await eachCrdFile(crds, { ignore, prefix: `${prefix}crds/`, chain: await folderEntered(crds, chain, depth > 0) }, budget, depth > 0, visit);
  }
  const metadata = chartMetadata(chartYaml, join(dir, 'Chart.yaml'), depth > 0);
  const subcharts: HelmChart[] = [];
  let entries: string[] = [];
  try {
    entries = ignore.ignores(`${prefix}charts`, true) ? [] : await folderNames(join(dir, 'charts'), budget, true);
  } catch (err) {
    if (err instanceof ChartError) throw err;
    entries = [];
  }
  // Helm's LoadFiles: every file Helm loads under charts/<name>/ (not ignored, not a .prov) makes <name> a
  // subchart, which must then have a Chart.yaml; a file charts/<name> is an archive only when named *.tgz.
  const unpacking = (sub: string, helmSays: string): ChartError =>
    new ChartError('PACK_FILE', 'no-chart-yaml', true, `${dir}: Helm refuses this chart ("error unpacking subchart ${sub} in ${String(metadata['name'])}: ${helmSays}")`, {
      hint: `charts/ holds subcharts only (folders with a Chart.yaml, or .tgz archives): fix or remove ${join(dir, 'charts', sub)} (Helm ignores names starting with "_" or ".")`,
    });
  for (const name of entries) {
    if (name.startsWith('_') || name.startsWith('.')) continue;
    const path = join(dir, 'charts', name);
    const info = await statOf(path).catch(() => undefined);
    if (info === undefined) continue;
    const rel = `${prefix}charts/${name}`;
    if (ignore.ignores(rel, info.isDirectory())) continue;
    if (info.isDirectory()) {
      const scope = { ignore, prefix: `${rel}/`, chain: await folderEntered(path, chain, true) };
      const first = await firstLoadedFile(path, scope, budget);
      if (first === undefined) continue; // nothing Helm loads: no subchart
      if (posix.extname(name) === '.tgz') {
        throw new ChartError('PACK_FILE', 'helm-refuses', true, `${dir}: Helm refuses this chart ("error unpacking subchart tar in ${String(metadata['name'])}: expected ${name}, got ${name}/${first}")`, {
          hint: `a folder under charts/ must not be named like a chart archive: rename ${path}`,
        });
      }
      const chartYaml = ignore.ignores(`${rel}/Chart.yaml`, false) ? undefined : await statOf(join(path, 'Chart.yaml')).catch(() => undefined);
      if (chartYaml === undefined) throw unpacking(name, 'Chart.yaml file is missing');
      if (depth < budget.maxNesting) subcharts.push(await readChartDirectory(path, budget, depth + 1, scope));
    } else if (posix.extname(name) === '.tgz') {
      subcharts.push(await readArchiveFile(path, budget, depth + 1));
    } else if (posix.extname(name) !== '.prov') {
      throw unpacking(name, 'Chart.yaml file is missing');
    }
  }
  const chart = makeChart(dir, metadata, slot, subcharts, depth > 0);
  // The define checks of the archive reader (ArchiveCollector.finish), over the folder's charts.
  const defines = definesOf(new Map([['', { ...slot, archives: subcharts }]]));
  if (defines !== undefined && depth > 0) archiveDefines.set(chart, defines);
  if (defines !== undefined && depth === 0) {
    checkTemplateRuns(slot, chart, defines, dir);
    const space = new DefineSpace(chart);
    checkDefineCalls(chart, dir, space);
    markUndefinedRuns(chart, defines);
    markSubchartDefineCalls(space);
  }
  return chart;
}

/**
 * The first file (in Go's walk order) below a charts/<name>/ folder that Helm's directory loader hands
 * to LoadFiles for subchart <name>, relative to that folder: not ignored by .helmignore, not a `.prov`
 * (those stay with the parent chart); links are followed, as Helm's walk follows them. Undefined: none.
 */
async function firstLoadedFile(dir: string, scope: FolderScope, budget: Budget, depth = 0): Promise<string | undefined> {
  const { ignore, prefix, chain } = scope;
  for (const name of (await readableFolderNames(dir, budget, true)) ?? []) {
    const path = join(dir, name);
    const info = await statOf(path).catch(() => undefined);
    if (info === undefined || ignore.ignores(`${prefix}${name}`, info.isDirectory())) continue;
    if (!info.isDirectory()) {
      if (posix.extname(name) !== '.prov') return name;
    } else if (depth < MAX_FOLDER_NESTING) {
      const below = await firstLoadedFile(path, { ignore, prefix: `${prefix}${name}/`, chain: await folderEntered(path, chain, true) }, budget, depth + 1);
      if (below !== undefined) return `${name}/${below}`;
    }
  }
  return undefined;
}

/**
 * Hands `visit` each crds/ file of a chart folder Helm's install applies, as the archive reader hands them over: every
 * .yaml/.yml/.json file below crds/ (Helm's CRDObjects), up to Helm's file size, with its path in its chart (`rel`).
 * `nested`: a subchart's folder. `inChart`: the folder's path in its chart.
 */
async function eachCrdFile(dir: string, scope: FolderScope, budget: Budget, nested: boolean, visit: (rel: string, path: string, bytes: Buffer) => void, depth = 0, inChart = 'crds/'): Promise<void> {
  const { ignore, prefix, chain } = scope;
  for (const name of (await readableFolderNames(dir, budget, nested)) ?? []) {
    const path = join(dir, name);
    const info = await statOf(path).catch(() => undefined);
    if (info === undefined || ignore.ignores(`${prefix}${name}`, info.isDirectory())) continue;
    const rel = `${inChart}${name}`;
    if (info.isDirectory() && depth < 8) await eachCrdFile(path, { ignore, prefix: `${prefix}${name}/`, chain: await folderEntered(path, chain, nested) }, budget, nested, visit, depth + 1, `${rel}/`);
    else if (info.isFile() && info.size <= HELM_MAX_FILE_BYTES && helmYamlFile(rel) === 'crd') visit(rel, path, await readFileOf(path));
  }
}

/**
 * Templates checked as Go's template parser reads them (checkTemplateSyntax): `top`, the top chart's, refused;
 * a subchart's noted (HelmChart.templateRefusals). `inChart`: the folder's path in its chart.
 */
async function readTemplateDirectory(dir: string, slot: ChartSlot, depth: number, scope: FolderScope, budget: Budget, top = false, inChart = 'templates/'): Promise<void> {
  const { ignore, prefix, chain } = scope;
  for (const name of (await readableFolderNames(dir, budget, false)) ?? []) {
    const path = join(dir, name);
    const info = await statOf(path).catch(() => undefined);
    if (info === undefined || ignore.ignores(`${prefix}${name}`, info.isDirectory())) continue;
    if (info.isDirectory() && depth < 8) await readTemplateDirectory(path, slot, depth + 1, { ignore, prefix: `${prefix}${name}/`, chain: await folderEntered(path, chain, false) }, budget, top, `${inChart}${name}/`);
    else if (info.isFile() && info.size > MAX_TEMPLATE_BYTES) slot.unreadTemplate = true;
    else if (info.isFile()) {
      const bytes = await readFileOf(path);
      const rel = `${inChart}${name}`;
      // The top chart's: what the archive reader refuses (checkHelmYaml, checkStaticTemplate) refused the same way.
      const yaml = top && info.size <= HELM_MAX_FILE_BYTES ? helmYamlFile(rel) : undefined;
      if (yaml !== undefined) {
        const use = { kind: 'yaml', file: yaml, rel, slot, label: path, refs: false } as const;
        checkHelmYaml(use, helmYamlRefusal(bytes, yaml));
        checkStaticTemplate(use, bytes);
      }
      const checked = checkTemplateSyntax(path, rel, bytes, slot, !top);
      if (!top) noteStaticSubchartTemplate(rel, bytes, slot);
      addTemplateRefs(slot, checked?.made ?? bytes.toString('utf8'), path, checked?.actions, () => bytes.toString('utf8'));
    }
  }
}

/**
 * The keys a subchart's values sit under in its parent's values, as Helm's processDependencyEnabled makes
 * them: the alias (else the name) of each dependency of that name whose version constraint the subchart's
 * version matches (chartutil.IsCompatibleRange); its own name when none matches, as Helm then keeps the
 * subchart as it is and drops the dependency's alias ("Alias field in dependencies").
 */
export function subchartValueKeys(parent: HelmChart, sub: HelmChart): string[] {
  const keys = new Set<string>();
  for (const d of parent.dependencies) if (d.name === sub.name && dependencyMatches(d, sub)) keys.add(d.alias ?? d.name);
  if (keys.size === 0) keys.add(sub.name);
  return [...keys];
}

/** Whether Helm pairs `dep` with the vendored `sub` (same name, its version within the constraint); a constraint too long to judge counts as a match. */
export function dependencyMatches(dep: ChartDependency, sub: HelmChart): boolean {
  return dep.name === sub.name && sub.version !== undefined && goSemverMatches(dep.version ?? '', sub.version) !== false;
}

/**
 * Dependencies with an alias whose vendored subchart (by name) matches none of their version constraints:
 * Helm installs that subchart under its own name, from the values under its name, and ignores the alias,
 * and the condition or tags that would leave it out.
 */
export function ignoredAliases(chart: HelmChart): Array<{ dep: ChartDependency; sub: HelmChart }> {
  const out: Array<{ dep: ChartDependency; sub: HelmChart }> = [];
  for (const dep of chart.dependencies) {
    if (dep.alias === undefined) continue;
    const subs = chart.subcharts.filter((s) => s.name === dep.name);
    const sub = subs[0];
    if (sub !== undefined && !subs.some((s) => dependencyMatches(dep, s))) out.push({ dep, sub });
  }
  return out;
}

/** Dependencies declared in Chart.yaml that are not vendored under charts/ (`helm dependency build` not run). */
export function missingDependencies(chart: HelmChart): ChartDependency[] {
  const vendored = new Set(chart.subcharts.map((s) => s.name));
  return chart.dependencies.filter((d) => !vendored.has(d.name));
}

