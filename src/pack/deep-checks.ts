import { posix } from 'node:path';
import { errorMessage, isPackpubError } from '../errors.js';
import { ChartError, chartValuesParse, readChart, subchartValueKeys, templateReferences, type HelmChart } from './chart.js';
import { crdRefusal } from './chart-manifests.js';
import { readTextLimited, realPathOf, statInPack, unicodeForm } from './files.js';
import type { Finding } from './findings.js';
import { PACK_FILES } from './model.js';
import { foreignTemplateField, valuesReferencePaths, valuesReferences } from './template-refs.js';
import {
  compareToScope,
  describeMismatch,
  editDistance,
  formatPath,
  isOpenValue,
  lookupDotted,
  lookupPath,
  pathAllowed,
  type RefRoot,
  type ValuesScope,
} from './values-paths.js';
import { parseYaml, type YamlParse } from './yaml-go.js';
import { isNullScalar, mapEntry, mapKeys, parseYamlTree, resolveAlias, yamlTreeOf, type YamlTree, type YEntry, type YMap, type YNode, type YScalar } from './yaml-tree.js';

export interface DeepCheckInput {
  /** Absolute pack folder. */
  dir: string;
  /** True when `dir` is already the folder's real path (resolvePackDir's answer): it is not resolved again. */
  dirIsReal?: boolean;
  /** Parsed pack.json (already schema-checked). */
  packJson: Record<string, unknown>;
  /** values.yaml text ('' when missing). */
  valuesText: string;
  /**
   * The pack's charts, already read by the validator (which reports the ones that cannot be read).
   * When absent, the charts listed in pack.json are read here.
   */
  charts?: ReadChart[];
  /**
   * values.yaml, presets.yaml and schema.yaml as the validator already read and parsed them, by file
   * name; `undefined` when it found no usable text there. Files not in the map are read and parsed here.
   */
  yaml?: ReadonlyMap<string, ParsedYamlFile | undefined>;
}

/** A pack YAML file's text and its parse (yaml-source.ts checkYamlText keeps it). */
export interface ParsedYamlFile {
  text: string;
  parsed: YamlParse;
}

/** A chart archive of the pack (path as in pack.json) and what the chart reader made of it. */
export interface ReadChart {
  rel: string;
  chart: HelmChart;
}

/** Mismatches reported per chart or manifest before the rest are summarised. */
const MAX_PER_SOURCE = 50;
/** Manifests can be large (argo-rollouts ships 800 KB); reading one for `.Values` references is bounded. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * Checks of values.yaml against the pack's charts and manifests, schema.yaml and presets.yaml shapes,
 * duplicate keys (the authoring issue). Findings are warnings unless they are errors by nature.
 * Problems the validator already reports (missing files, YAML syntax, charts without Chart.yaml) are
 * skipped here rather than reported twice.
 */
export async function deepCheckPack(given: DeepCheckInput): Promise<Finding[]> {
  // Files are checked to stay inside the pack by their real paths: the folder must be real too.
  const input: DeepCheckInput = given.dirIsReal === true ? given : { ...given, dir: await realPathOf(given.dir) };
  const findings: Finding[] = [];
  const values = await valuesTree(input, findings);
  const presets = await readOptionalYaml(input, PACK_FILES.presets);
  const presetAdds = presets === undefined ? [] : presetAddRoots(presets);

  if (values !== undefined) {
    const charts = stringList(input.packJson['charts']);
    const read = input.charts ?? (charts.length > 0 ? await readCharts(input.dir, charts, findings) : []);
    // A listed chart missing or refused (the validator says so) may be what a `charts.<key>` is for.
    const allRead = new Set(read.map((c) => c.rel)).size >= new Set(charts).size;
    if (read.length > 0) checkCharts(read, values, findings, allRead);
    const manifests = stringList(input.packJson['kubeManifests']);
    if (manifests.length > 0) await checkManifests(input.dir, manifests, values, presetAdds, findings);
  }
  if (presets !== undefined) checkPresets(presets, values, presetAdds, input.valuesText, findings);
  const schema = await readOptionalYaml(input, PACK_FILES.schema);
  if (schema !== undefined) checkSchema(schema, values, presetAdds, findings);
  return findings;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : [];
}

/** values.yaml as a tree, or undefined when it is missing or broken (the validator reports that). */
async function valuesTree(input: DeepCheckInput, findings: Finding[]): Promise<YamlTree | undefined> {
  if (input.valuesText.trim() === '') {
    // '' also stands for "missing" or "did not parse": only an existing, empty file is checked as empty.
    const existing = await readPackFile(input.dir, PACK_FILES.values);
    if (existing === undefined || existing.trim() !== '') return undefined;
  }
  let tree: YamlTree;
  try {
    const known = input.yaml?.get(PACK_FILES.values);
    tree = known !== undefined && known.text === input.valuesText ? yamlTreeOf(known.parsed) : parseYamlTree(input.valuesText);
  } catch {
    return undefined;
  }
  // Duplicate keys are reported by the validator's YAML check (yaml-duplicate-key).
  if (tree.truncated) {
    findings.push({
      severity: 'warning',
      rule: 'deep-values-too-large',
      file: PACK_FILES.values,
      message: `values.yaml has more than ${tree.nodes - 1} nodes; only the first ones were checked against charts and manifests. Split the values or trim unused defaults`,
    });
  }
  return tree;
}

async function readPackFile(dir: string, rel: string, limit?: number): Promise<string | undefined> {
  try {
    const status = await statInPack(dir, rel);
    if (status.kind !== 'file') return undefined;
    const read = await readTextLimited(status.realPath, limit);
    return read.ok ? read.text : undefined;
  } catch {
    return undefined;
  }
}

async function readOptionalYaml(input: DeepCheckInput, rel: string): Promise<YamlTree | undefined> {
  let parsed: YamlParse;
  if (input.yaml?.has(rel) === true) {
    const known = input.yaml.get(rel);
    if (known === undefined) return undefined;
    parsed = known.parsed;
  } else {
    const text = await readPackFile(input.dir, rel);
    if (text === undefined) return undefined;
    parsed = parseYaml(text);
  }
  try {
    return yamlTreeOf(parsed);
  } catch {
    return undefined; // the validator reports the syntax error
  }
}

function rootMap(tree: YamlTree | undefined): YMap | undefined {
  const root = resolveAlias(tree?.root, tree?.anchors ?? new Map());
  return root?.kind === 'map' ? root : undefined;
}

function childMap(tree: YamlTree, map: YMap | undefined, key: string): { map?: YMap; line?: number; present: boolean } {
  if (map === undefined) return { present: false };
  const entry = mapEntry(map, key, tree.anchors);
  if (entry === undefined) return { present: false };
  const value = resolveAlias(entry.value, tree.anchors);
  return value?.kind === 'map' ? { map: value, line: entry.keyLine, present: true } : { line: entry.keyLine, present: true };
}

/* ---------- Helm packs ---------- */

function syntheticMap(): YMap {
  return { kind: 'map', entries: [], line: 0, column: 0 };
}

/** Entries of synthetic maps by key, while they are built (template references can number thousands). */
const syntheticIndex = new WeakMap<YMap, Map<string, YEntry>>();

function syntheticLeaf(open: boolean): YNode {
  const leaf: YNode = { kind: 'scalar', value: open ? '' : 'true', plain: true, line: 0, column: 0 };
  if (!open) conditionLeaves.add(leaf);
  return leaf;
}

/**
 * The plain leaves of synthetic trees (dependency conditions, tags): a chart's templates reading a path below one
 * make it a map in the scope built with them (addSyntheticPath keeps what is there), so a scope built without them
 * accepts a single value there that the full scope may not (checkCharts).
 */
const conditionLeaves = new WeakSet<YNode>();

/**
 * Add `segments` to a synthetic tree; the leaf is open (anything below it is allowed, as for a value a
 * template passes to toYaml) or a plain value (a dependency condition). An open leaf is never narrowed.
 */
function addSyntheticPath(map: YMap, segments: readonly string[], open: boolean): void {
  let current = map;
  for (const [i, key] of segments.entries()) {
    let index = syntheticIndex.get(current);
    if (index === undefined) {
      index = new Map(current.entries.map((e) => [e.key, e]));
      syntheticIndex.set(current, index);
    }
    let entry = index.get(key);
    if (entry !== undefined && isOpenValue(entry.value)) return;
    if (i === segments.length - 1) {
      if (entry === undefined) {
        entry = { key, keyLine: 0, keyColumn: 0, value: syntheticLeaf(open) };
        current.entries.push(entry);
        index.set(key, entry);
      } else if (open) entry.value = syntheticLeaf(true);
      return;
    }
    if (entry === undefined) {
      entry = { key, keyLine: 0, keyColumn: 0, value: syntheticMap() };
      current.entries.push(entry);
      index.set(key, entry);
    } else if (entry.value.kind !== 'map') entry.value = syntheticMap();
    current = entry.value as YMap;
  }
}

/**
 * A synthetic map whose entries are the next keys of dotted paths that all start with the same keys
 * (`from` is where their next key starts), made only when something reads them: a chart's templates
 * can read thousands of paths (issue 16), and the checks look at the few levels the user's values reach.
 * Its entries, once made, are those addSyntheticPath would have made for the same paths, in order: each
 * key where it first appears, open where any path ends at it (anything below is allowed), else a map.
 */
class LazyPathMap implements YMap {
  readonly kind = 'map';
  readonly line = 0;
  readonly column = 0;
  private made: YEntry[] | undefined;

  constructor(
    private paths: readonly string[] | undefined,
    private readonly from: number,
  ) {}

  get entries(): YEntry[] {
    if (this.made === undefined) {
      this.made = pathEntries(this.paths ?? [], this.from, undefined);
      this.paths = undefined;
    }
    return this.made;
  }
}

/** The entries for the next key of each dotted path from `from` on, skipping keys `existing` holds as open values. */
function pathEntries(paths: readonly string[], from: number, existing: Map<string, YEntry> | undefined): YEntry[] {
  /** Per key: `true` when a path ends there (open), else the paths that go on below it. */
  const next = new Map<string, string[] | true>();
  for (const path of paths) {
    const dot = path.indexOf('.', from);
    const key = dot === -1 ? path.slice(from) : path.slice(from, dot);
    const child = next.get(key);
    if (child === true) continue;
    if (dot === -1) next.set(key, true);
    else if (child === undefined) next.set(key, [path]);
    else child.push(path);
  }
  const entries: YEntry[] = [];
  for (const [key, child] of next) {
    if (existing?.has(key) === true) continue;
    entries.push({ key, keyLine: 0, keyColumn: 0, value: child === true ? syntheticLeaf(true) : new LazyPathMap(child, key.length + 1 + from) });
  }
  return entries;
}

/**
 * addSyntheticPath(map, path.split('.'), true) for every dotted path, in order, with the same result
 * (an open leaf wins over anything below it; keys keep the order they first appeared in): the keys
 * below the top level are made when first read (LazyPathMap).
 */
function addOpenPaths(map: YMap, dotted: readonly string[]): void {
  if (dotted.length === 0) return;
  const existing = new Map(map.entries.map((e) => [e.key, e]));
  // Only open leaves (`global`) are there before the templates' paths: paths below them change nothing.
  for (const entry of existing.values()) {
    if (!isOpenValue(entry.value)) throw new Error(`synthetic key ${entry.key} is not open`);
  }
  for (const entry of pathEntries(dotted, 0, existing)) map.entries.push(entry);
  syntheticIndex.delete(map);
}

/**
 * The synthetic tree of a chart scope before its dependency conditions and tags are added: `global`
 * (free-form) and every `.Values` path the chart's templates read (dotted), each open.
 */
export function templatePathTree(dotted: readonly string[]): YMap {
  const synthetic = syntheticMap();
  addSyntheticPath(synthetic, ['global'], true);
  addOpenPaths(synthetic, dotted);
  return synthetic;
}

/**
 * `.Values` paths the chart's library subcharts (`type: library`, and theirs) read in their defines: a
 * define runs with the context its caller passes, which is the chart's own (`{{ include "common.all" . }}`,
 * bjw-s' and k8s-at-home's charts), so those are the chart's values. Helm docs: "Library Charts".
 */
function libraryReferences(chart: HelmChart, depth = 0): string[] {
  const paths: string[] = [];
  for (const sub of chart.subcharts) {
    if (sub.metadata['type'] !== 'library') continue;
    paths.push(...templateReferences(sub));
    if (depth < 8) paths.push(...libraryReferences(sub, depth + 1));
  }
  return paths;
}

/**
 * `.Values` paths named in `{{ ... }}` inside the strings of a values tree (`url: "http://{{ .Values.domain }}"`),
 * not below the top-level `skip` keys (the subcharts' blocks, read in their own scope): a chart that renders
 * such a value with `tpl` reads them (prometheus-blackbox-exporter's serviceMonitor targets).
 */
function tplStringReferences(node: YNode | undefined, skip: ReadonlySet<string>, out: string[] = []): string[] {
  let budget = 20_000;
  const walk = (n: YNode | undefined, top: boolean): void => {
    if (n === undefined || --budget < 0) return;
    if (n.kind === 'scalar') {
      if (n.value.includes('.Values')) out.push(...valuesReferencePaths(n.value));
    } else if (n.kind === 'seq') {
      for (const item of n.items) walk(item, false);
    } else if (n.kind === 'map') {
      for (const e of n.entries) if (!(top && skip.has(e.key))) walk(e.value, false);
    }
  };
  walk(node, true);
  return out;
}

/** The synthetic tree (global, conditions, tags) of each scope, for adding paths after it is built. */
const syntheticRoots = new WeakMap<ValuesScope, YMap>();

interface ScopeBuild {
  scope: ValuesScope;
  /** Charts whose own values.yaml did not parse, for one warning each. */
  unreadable: Array<{ chart: HelmChart; reason: string }>;
}

/**
 * What `charts.<chart>` may hold: the chart's own values, `global` (free-form, shared with subcharts),
 * dependency conditions and tags, and one nested scope per vendored subchart (its values, plus what the
 * parent's values set under its key). Helm docs: "Subcharts and Global Values", "Chart Dependencies".
 */
function chartScope(chart: HelmChart, overrides: RefRoot[], build: ScopeBuild['unreadable'], depth = 0, user?: RefRoot, templates = true): ValuesScope {
  const values = chart.valuesText.trim() === '' ? undefined : chartValues(chart);
  // `templates` false (checkCharts' first comparison): none of the paths read, the `{{ .Values.x }}` in string values
  // (rendered with tpl) included: like the templates' paths they only add keys.
  let synthetic = templatePathTree([]);
  if (templates) {
    const subKeys = new Set(chart.subcharts.flatMap((sub) => subchartValueKeys(chart, sub)));
    const tplRefs = tplStringReferences(values !== undefined && 'tree' in values ? values.tree.root : undefined, subKeys);
    tplStringReferences(user?.node, subKeys, tplRefs);
    synthetic = templatePathTree([...templateReferences(chart), ...libraryReferences(chart), ...tplRefs]);
  }
  const scope: ValuesScope = { roots: [...overrides, { node: synthetic, anchors: new Map() }], children: new Map(), name: chart.name };
  syntheticRoots.set(scope, synthetic);
  let own: RefRoot | undefined;
  if (values !== undefined) {
    if ('tree' in values) {
      if (values.tree.root !== undefined) own = { node: values.tree.root, anchors: values.tree.anchors };
      if (values.tree.truncated) scope.open = true;
    } else {
      build.push({ chart, reason: errorMessage(values.error).split('\n')[0] ?? '' });
      scope.open = true;
    }
  }
  if (own !== undefined) scope.roots.unshift(own);
  if (depth < 8) {
    for (const sub of chart.subcharts) {
      for (const key of subchartValueKeys(chart, sub)) {
        const subOverrides: RefRoot[] = [];
        for (const root of [own, ...overrides]) {
          if (root === undefined) continue;
          const node = lookupPath(root, [key]);
          if (node?.kind === 'map') subOverrides.push({ node, anchors: root.anchors });
        }
        const userNode = user === undefined ? undefined : lookupPath(user, [key]);
        scope.children.set(key, chartScope(sub, subOverrides, build, depth + 1, userNode === undefined || user === undefined ? undefined : { node: userNode, anchors: user.anchors }, templates));
      }
    }
  }
  // A dependency not vendored (chart-dependency-missing says so): what the pack sets under its key is that
  // subchart's values, unknown here, not the chart's own misplaced ones. (A vendored one whose alias Helm
  // drops for a version mismatch is not missing: values under the alias reach nothing.)
  for (const dep of chart.dependencies) {
    const key = dep.alias ?? dep.name;
    if (key !== '' && !chart.subcharts.some((sub) => sub.name === dep.name)) addSyntheticPath(synthetic, [key], true);
  }
  for (const dep of chart.dependencies) {
    for (const condition of (dep.condition ?? '').split(',').map((c) => c.trim()).filter((c) => c !== '')) {
      const segments = condition.split('.');
      const child = scope.children.get(segments[0] ?? '');
      if (child !== undefined && segments.length > 1) {
        const target = syntheticRoots.get(child);
        if (target !== undefined) addSyntheticPath(target, segments.slice(1), false);
      } else addSyntheticPath(synthetic, segments, false);
    }
    for (const tag of dep.tags ?? []) addSyntheticPath(synthetic, ['tags', tag], false);
  }
  return scope;
}

type ParsedText = { tree: YamlTree } | { error: unknown };

/**
 * YAML text several checks read (a chart's values, a preset's `add`), parsed once per text: the same
 * chart often sits in several packs or versions of a tree, and the trees are only read. Bounded by the
 * text held, oldest out first, so a worker validating a whole tree keeps a few MB of trees at most.
 * `known`: the text's parse already made (parseYaml(text)), turned into a tree without parsing again.
 */
const parsedTexts = new Map<string, ParsedText>();
let parsedTextChars = 0;
const MAX_PARSED_TEXT_CHARS = 2 * 1024 * 1024;

function parseOnce(text: string, known?: YamlParse): ParsedText {
  let parsed = parsedTexts.get(text);
  if (parsed === undefined) {
    try {
      parsed = { tree: known === undefined ? parseYamlTree(text) : yamlTreeOf(known) };
    } catch (error) {
      parsed = { error };
    }
    if (text.length <= MAX_PARSED_TEXT_CHARS) {
      parsedTexts.set(text, parsed);
      parsedTextChars += text.length;
      for (const [old] of parsedTexts) {
        if (parsedTextChars <= MAX_PARSED_TEXT_CHARS) break;
        parsedTexts.delete(old);
        parsedTextChars -= old.length;
      }
    }
  }
  return parsed;
}

/** A chart's values.yaml: the scope, the nesting hints and holdsOwnValue all read it. */
function chartValues(chart: HelmChart): ParsedText {
  return parseOnce(chart.valuesText, chartValuesParse(chart));
}

/**
 * Warns of a key the pack's values set to null (`image: ~`, or nothing after the colon) where the chart's default is
 * a table whose keys the chart's own templates read (`.Values.image.repository`): Helm's coalescing deletes a key given
 * null (coalesceValues: "When the YAML value is null ... we remove the value's key"), the chart's defaults with it,
 * and Go's text/template stops a render that reads below the missing key outside an if/with on it ("nil pointer
 * evaluating interface {}.repository"). At most one finding per key, naming the first path read below it. Not for a
 * subchart's key: Helm makes it again from the subchart's defaults (coalesceDeps).
 */
function nulledTables(user: YMap, anchors: Map<string, YNode>, chart: HelmChart, prefix: readonly string[], findings: Finding[]): void {
  // The nulls over tables first: the chart's template paths are read only when there is one (most packs have none).
  const nulled: Array<{ at: string[]; entry: YEntry }> = [];
  const subchartKeys = new Set(chart.subcharts.flatMap((sub) => subchartValueKeys(chart, sub)));
  let defaults: ParsedText | undefined;
  const walk = (given: YMap, dflt: YNode | undefined, path: readonly string[], depth: number): void => {
    if (defaults === undefined || !('tree' in defaults)) return;
    const { anchors: own } = defaults.tree;
    const table = resolveAlias(dflt, own);
    if (table?.kind !== 'map') return;
    for (const e of decodedEntries(given, anchors)) {
      const value = resolveAlias(e.value, anchors);
      if (value === undefined || (value.kind !== 'map' && !(value.kind === 'scalar' && isNullScalar(value)))) continue;
      // A subchart's key is made again from the subchart's own defaults (coalesceDeps), whatever the null deleted.
      if (depth === 0 && subchartKeys.has(e.key)) continue;
      const below = resolveAlias(mapEntry(table, e.key, own)?.value, own);
      if (below?.kind !== 'map' || below.entries.length === 0) continue;
      if (value.kind === 'map') {
        if (depth < 32) walk(value, below, [...path, e.key], depth + 1);
      } else nulled.push({ at: [...path, e.key], entry: e });
    }
  };
  const hasNull = (map: YMap, depth: number): boolean =>
    map.entries.some((e) => {
      const v = resolveAlias(e.value, anchors);
      return v !== undefined && ((v.kind === 'scalar' && isNullScalar(v)) || (v.kind === 'map' && depth < 32 && hasNull(v, depth + 1)));
    });
  if (!hasNull(user, 0)) return;
  defaults = chartValues(chart);
  if (!('tree' in defaults)) return;
  walk(user, defaults.tree.root, [], 0);
  if (nulled.length === 0) return;
  const refs = templateReferences(chart);
  for (const { at, entry } of nulled) {
    const below = refs.find((r) => r.startsWith(`${at.join('.')}.`));
    if (below === undefined) continue;
    const next = below.slice(at.join('.').length + 1).split('.')[0] ?? '';
    findings.push({
      severity: 'warning',
      rule: 'deep-values-null-table',
      file: PACK_FILES.values,
      path: formatPath([...prefix, ...at]),
      line: entry.keyLine,
      column: entry.keyColumn,
      message: `${formatPath([...prefix, ...at])} is null, so Helm deletes chart "${chart.name}"'s default table there (a null in given values removes the key), while the chart's templates read .Values.${below} below it: a template reading it outside an if or with on .Values.${at.join('.')} stops every install ("nil pointer evaluating interface {}.${next}"); remove the line to keep the chart's defaults, or give the keys the chart needs`,
    });
  }
}

function topLevelKeys(chart: HelmChart): Set<string> {
  const values = chartValues(chart);
  if (!('tree' in values)) return new Set();
  const root = resolveAlias(values.tree.root, values.tree.anchors);
  return new Set(root?.kind === 'map' ? mapKeys(root, values.tree.anchors) : []);
}

async function readCharts(dir: string, chartPaths: string[], findings: Finding[]): Promise<ReadChart[]> {
  const charts: ReadChart[] = [];
  for (const rel of chartPaths) {
    let status;
    try {
      status = await statInPack(dir, rel);
    } catch {
      continue;
    }
    if (status.kind !== 'file') continue; // missing, outside or a directory: the validator reports it
    try {
      charts.push({ rel, chart: await readChart(status.realPath) });
    } catch (err) {
      // No Chart.yaml / not a gzip'd tar: the validator's chart checks already say so.
      if (err instanceof ChartError && !err.nested && (err.problem === 'no-chart-yaml' || err.problem === 'not-an-archive')) continue;
      findings.push({
        severity: 'warning',
        rule: 'deep-chart-unreadable',
        file: rel,
        message: `the chart could not be read for the values checks (${errorMessage(err)}); ${isPackpubError(err) && err.hint !== undefined ? err.hint : 'rebuild it with `helm package`'}`,
      });
    }
  }
  return charts;
}

/** `allRead`: every chart pack.json lists was read; else keys under `charts:` naming no chart read are left alone. */
function checkCharts(charts: ReadChart[], values: YamlTree, findings: Finding[], allRead: boolean): void {

  const root = rootMap(values);
  const chartsKey = childMap(values, root, 'charts');
  const names = new Set(charts.map((c) => c.chart.name));

  for (const { rel, chart } of charts) {
    const prefix = ['charts', chart.name];
    const entry = chartsKey.map === undefined ? undefined : mapEntry(chartsKey.map, chart.name, values.anchors);
    if (entry === undefined) {
      findings.push({
        severity: 'warning',
        rule: 'deep-values-chart-missing',
        file: PACK_FILES.values,
        path: formatPath(prefix),
        ...(chartsKey.line === undefined ? {} : { line: chartsKey.line }),
        message: `values.yaml has no ${formatPath(prefix)} for chart "${chart.name}" (${rel}), so users cannot see or change its settings in Palette: add \`charts:\` > \`${chart.name}:\` holding the chart's values (its name in Chart.yaml, not the archive or folder name)`,
      });
      continue;
    }
    const user = resolveAlias(entry.value, values.anchors);
    if (user === undefined || isNullScalar(user) || user.kind !== 'map') {
      if (user !== undefined && user.kind === 'scalar' && !isNullScalar(user)) {
        findings.push({
          severity: 'warning',
          rule: 'deep-values-type',
          file: PACK_FILES.values,
          path: formatPath(prefix),
          line: entry.keyLine,
          column: entry.keyColumn,
          message: `${formatPath(prefix)} must be a map of the chart's values, not a single value`,
        });
      }
      continue;
    }
    const unreadable: ScopeBuild['unreadable'] = [];
    const userRoot = { node: user, anchors: values.anchors };
    // First without the paths the charts' templates (and tpl strings) read: they only add keys a value may set (and turn a
    // condition's plain leaf into a map where a template reads below it), so when the values match without them
    // they match with them, and the templates' paths are not needed (issue 16: finding them was ~10 % of
    // validating a pack-central-shaped tree). Otherwise the scope is built again with them.
    const bare = compareToScope(user, values.anchors, chartScope(chart, [], unreadable, 0, userRoot, false), { maxMismatches: MAX_PER_SOURCE, provisional: conditionLeaves });
    const result = bare.mismatches.length === 0 && !bare.truncated && bare.uncertain !== true ? bare : compareToScope(user, values.anchors, chartScope(chart, [], [], 0, userRoot), { maxMismatches: MAX_PER_SOURCE });
    for (const u of unreadable) {
      findings.push({
        severity: 'warning',
        rule: 'deep-chart-values-unreadable',
        file: rel,
        message: `values.yaml of chart "${u.chart.name}" (${u.chart.location}) does not parse (${u.reason}), so the pack's values for it were not checked; fix the chart`,
      });
    }
    const what = `chart "${chart.name}"${chart.version === undefined ? '' : ` ${chart.version}`}`;
    for (const m of result.mismatches) {
      findings.push({
        severity: 'warning',
        rule: m.kind === 'unknown-key' || m.kind === 'misplaced-keys' ? 'deep-values-nesting' : 'deep-values-type',
        file: PACK_FILES.values,
        path: formatPath([...prefix, ...m.path]),
        line: m.line,
        column: m.column,
        message: describeMismatch(m, prefix, what),
      });
    }
    nulledTables(user, values.anchors, chart, prefix, findings);
    if (result.truncated) {
      findings.push({
        severity: 'warning',
        rule: 'deep-values-nesting',
        file: PACK_FILES.values,
        path: formatPath(prefix),
        message: `more keys under ${formatPath(prefix)} do not match ${what}; fix the ones above first`,
      });
    }
  }

  // Keys under `charts:` that name no chart, and chart keys written at the top level.
  // The charts' top-level keys, computed on the first key that needs them (most packs have none).
  let topKeys: Map<string, Set<string>> | undefined;
  const owners = (key: string): string[] => {
    topKeys ??= new Map(charts.map(({ chart }) => [chart.name, topLevelKeys(chart)]));
    return [...topKeys].filter(([, keys]) => keys.has(key)).map(([name]) => name);
  };
  if (chartsKey.map !== undefined && allRead) {
    for (const e of decodedEntries(chartsKey.map, values.anchors)) {
      if (names.has(e.key)) continue;
      const owner = owners(e.key);
      const known = [...names].map((n) => formatPath(['charts', n])).join(', ');
      const close = [...names].filter((n) => !mapHas(chartsKey.map, n, values) && (editDistance(n, e.key) <= 2 || n.includes(e.key) || e.key.includes(n)));
      findings.push({
        severity: 'warning',
        rule: owner.length > 0 ? 'deep-values-nesting' : 'deep-values-unknown-chart',
        file: PACK_FILES.values,
        path: formatPath(['charts', e.key]),
        line: e.keyLine,
        column: e.keyColumn,
        message:
          owner.length > 0
            ? `${formatPath(['charts', e.key])} is not a chart of this pack: it is nested one level too shallow; did you mean ${owner.map((o) => formatPath(['charts', o, e.key])).join(' or ')}?`
            : close.length > 0
              ? `${formatPath(['charts', e.key])} does not match any chart of this pack, so Palette ignores it: did you mean ${close.map((n) => formatPath(['charts', n])).join(' or ')}? (the key is the chart's name in its Chart.yaml)`
              : `${formatPath(['charts', e.key])} does not match any chart of this pack, so Palette ignores it: values for a chart go under charts.<name in its Chart.yaml> (${known})`,
      });
    }
  }
  if (root !== undefined) {
    const byName = new Map(charts.map(({ chart }) => [chart.name, chart]));
    for (const e of decodedEntries(root, values.anchors)) {
      if (e.key === 'pack' || e.key === 'charts' || e.key === 'manifests') continue;
      const owned = owners(e.key).map((o) => formatPath(['charts', o, e.key]));
      const chart = byName.get(e.key);
      let target = owned;
      // A key named like a chart is that chart's values, unless the chart has a value of its own name
      // (chart spegel, value spegel:) and the entry holds what that value holds.
      if (chart !== undefined && !(owners(e.key).includes(e.key) && holdsOwnValue(chart, resolveAlias(e.value, values.anchors), values.anchors))) {
        target = [formatPath(['charts', e.key])];
      }
      if (target.length === 0) continue;
      findings.push({
        severity: 'warning',
        rule: 'deep-values-nesting',
        file: PACK_FILES.values,
        path: formatPath([e.key]),
        line: e.keyLine,
        column: e.keyColumn,
        message: `${e.key} is at the top level of values.yaml, where Palette does not pass it to the chart: it is nested too shallow; move it to ${target.join(' or ')}`,
      });
    }
  }
}

/**
 * True when `node` looks like the value `<chart>.<chart-name>` (a chart with a value named like
 * itself) rather than the chart's whole values: more of its keys are keys of that value than of the
 * chart's top level, or it is a single value where the chart has one.
 */
function holdsOwnValue(chart: HelmChart, node: YNode | undefined, anchors: Map<string, YNode>): boolean {
  const values = chartValues(chart);
  if (!('tree' in values)) return false;
  const tree = values.tree;
  const top = resolveAlias(tree.root, tree.anchors);
  if (top?.kind !== 'map') return false;
  const own = resolveAlias(mapEntry(top, chart.name, tree.anchors)?.value, tree.anchors);
  if (node?.kind !== 'map') return own !== undefined && own.kind !== 'map';
  if (own?.kind !== 'map') return false;
  const keys = mapKeys(node, anchors);
  const ownKeys = new Set(mapKeys(own, tree.anchors));
  const topKeys = new Set(mapKeys(top, tree.anchors));
  return keys.filter((k) => ownKeys.has(k)).length > keys.filter((k) => topKeys.has(k)).length;
}

function mapHas(map: YMap | undefined, key: string, tree: YamlTree): boolean {
  return map !== undefined && mapEntry(map, key, tree.anchors) !== undefined;
}

/* ---------- manifest packs ---------- */

/** `manifests/hello-universe.yaml` -> `hello-universe` (palette-packs.md, values.yaml shape). */
export function manifestValuesKey(path: string): string {
  const base = posix.basename(path.replace(/\\/g, '/'));
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

async function checkManifests(dir: string, manifests: string[], values: YamlTree, presetAdds: RefRoot[], findings: Finding[]): Promise<void> {
  const root = rootMap(values);
  const manifestsKey = childMap(values, root, 'manifests');
  const keys = new Set<string>();
  for (const rel of manifests) {
    const key = manifestValuesKey(rel);
    keys.add(key);
    const prefix = ['manifests', key];
    const text = await readPackFile(dir, rel, MAX_MANIFEST_BYTES);
    const unusable = text === undefined || text.includes('{{') ? undefined : crdRefusal(Buffer.from(text), rel);
    if (unusable !== undefined) {
      // Read as Helm reads a crds/ file (never rendered): a manifest without a template action renders as it is.
      findings.push({
        severity: 'warning',
        rule: 'manifest-not-kubernetes',
        file: rel,
        ...(/\bline (\d+)/.test(unusable.why) ? { line: Number(/\bline (\d+)/.exec(unusable.why)?.[1]) } : {}),
        message: `${rel} is not a file of Kubernetes objects: ${unusable.why.replace('(Helm: ', '(')}; Palette applies each document of a manifest to the cluster, so the pack fails when it is deployed: fix the file, or leave it out of kubeManifests`,
      });
    }
    // A manifest holding another engine's templates (foreignTemplateField) reads that engine's .Values, not the pack's.
    const refs = text === undefined || foreignTemplateField(text) !== undefined ? [] : valuesReferences(text);
    const entry = manifestsKey.map === undefined ? undefined : mapEntry(manifestsKey.map, key, values.anchors);
    const roots: RefRoot[] = [];
    if (entry !== undefined) roots.push({ node: entry.value, anchors: values.anchors });
    for (const add of presetAdds) {
      const node = lookupPath(add, prefix);
      if (node !== undefined) roots.push({ node, anchors: add.anchors });
    }
    if (entry === undefined) {
      // A manifest that reads no .Values needs no entry: most manifest packs are plain YAML.
      if (refs.length === 0) continue;
      const used = [...new Set(refs.map((r) => r.path.join('.')))];
      findings.push({
        severity: 'warning',
        rule: 'deep-manifest-values-missing',
        file: PACK_FILES.values,
        path: formatPath(prefix),
        ...(manifestsKey.line === undefined ? {} : { line: manifestsKey.line }),
        message:
          `values.yaml has no ${formatPath(prefix)} for ${rel}; Palette passes that entry to the manifest as .Values: add \`manifests:\` > \`${key}:\`` +
          ` with the values it uses (${used.slice(0, 5).join(', ')}${used.length > 5 ? ', ...' : ''})`,
      });
      if (roots.length === 0) continue;
    }
    const seen = new Set<string>();
    let reported = 0;
    for (const ref of refs) {
      const id = ref.path.join('.');
      if (seen.has(id)) continue;
      seen.add(id);
      if (pathAllowed(roots, ref.path)) continue;
      if (++reported > MAX_PER_SOURCE) {
        findings.push({ severity: 'warning', rule: 'deep-manifest-value-missing', file: rel, message: `more .Values references in ${rel} are missing from ${formatPath(prefix)}; fix the ones above first` });
        break;
      }
      const full = formatPath([...prefix, ...ref.path]);
      const hint = manifestSuggestion(roots, ref.path, prefix);
      findings.push({
        severity: 'warning',
        rule: 'deep-manifest-value-missing',
        file: rel,
        path: full,
        line: ref.line,
        column: ref.column,
        message: `${rel} uses .Values.${id}, but values.yaml has no ${full}${hint === undefined ? `: add it under ${formatPath(prefix)} (a default, even empty), or fix the reference` : `: ${hint}`}`,
      });
    }
  }
  if (manifestsKey.map !== undefined) {
    for (const e of decodedEntries(manifestsKey.map, values.anchors)) {
      if (keys.has(e.key)) continue;
      const twin = [...keys].find((k) => k.normalize('NFC') === e.key.normalize('NFC'));
      const fix =
        twin === undefined
          ? "rename it to the manifest's file name without extension"
          : `it is ${formatPath(['manifests', twin])} written with other Unicode characters (${unicodeForm(e.key)} here, ${unicodeForm(twin)} in the file name; macOS tools write names decomposed), another key to Palette: write it as the file name has it`;
      findings.push({
        severity: 'warning',
        rule: 'deep-values-unknown-manifest',
        file: PACK_FILES.values,
        path: formatPath(['manifests', e.key]),
        line: e.keyLine,
        column: e.keyColumn,
        message: `${formatPath(['manifests', e.key])} matches no manifest in pack.json kubeManifests (${[...keys].map((k) => formatPath(['manifests', k])).join(', ')}), so no manifest sees these values: ${fix}`,
      });
    }
  }
}

/** Where values.yaml has a reference's key instead, for the message. */
function manifestSuggestion(roots: RefRoot[], path: string[], prefix: string[]): string | undefined {
  for (const root of roots) {
    const node = resolveAlias(root.node, root.anchors);
    if (node?.kind !== 'map') continue;
    // Nested one level too deep in values.yaml: manifests.x.<k>.<path>.
    for (const k of mapKeys(node, root.anchors)) {
      const inner = mapEntry(node, k, root.anchors)?.value;
      if (inner !== undefined && lookupPath({ node: inner, anchors: root.anchors }, path) !== undefined) {
        return `values.yaml has it one level too deep, at ${formatPath([...prefix, k, ...path])}; move it up to ${formatPath([...prefix, ...path])}`;
      }
    }
    // Nested too shallow in values.yaml: the path without its leading keys.
    for (let drop = 1; drop < path.length; drop++) {
      if (lookupPath(root, path.slice(drop)) !== undefined) {
        return `values.yaml has it ${drop === 1 ? 'one level' : `${drop} levels`} too shallow, at ${formatPath([...prefix, ...path.slice(drop)])}; move it to ${formatPath([...prefix, ...path])}`;
      }
    }
  }
  return undefined;
}

/**
 * A mapping's entries as Go's YAML readers decode it (go-yaml v2 decode.go merge): the entries written, without a
 * plain `<<` merge key, then each key only a `<<` brings in (mapKeys/mapEntry), with the entry it comes from.
 */
function decodedEntries(map: YMap, anchors: Map<string, YNode>): YEntry[] {
  const written = map.entries.filter((e) => !(e.key === '<<' && e.keyPlain !== false));
  const writtenKeys = new Set(written.map((e) => e.key));
  const merged = mapKeys(map, anchors)
    .filter((key) => !writtenKeys.has(key))
    .map((key) => mapEntry(map, key, anchors))
    .filter((e): e is YEntry => e !== undefined);
  return [...written, ...merged];
}

/* ---------- presets.yaml and schema.yaml ---------- */

/** The `add` blocks of presets.yaml parsed as values trees: values a preset adds count as defined. */
function presetAddRoots(presets: YamlTree): RefRoot[] {
  const roots: RefRoot[] = [];
  for (const item of presetItems(presets)) {
    const add = mapEntry(item, 'add', presets.anchors)?.value;
    if (add?.kind !== 'scalar' || add.value.trim() === '') continue;
    const parsed = presetAdd(add);
    // A syntax error is reported by checkPresets.
    if ('tree' in parsed && parsed.tree.root !== undefined) roots.push({ node: parsed.tree.root, anchors: parsed.tree.anchors });
  }
  return roots;
}

/** A preset's `add` text: presetAddRoots and checkPresets both read it. */
function presetAdd(add: YScalar): ParsedText {
  return parseOnce(add.value);
}

function presetItems(presets: YamlTree): YMap[] {
  const list = resolveAlias(mapEntry(rootMap(presets) ?? syntheticMap(), 'presets', presets.anchors)?.value, presets.anchors);
  if (list?.kind !== 'seq') return [];
  return list.items.map((i) => resolveAlias(i, presets.anchors)).filter((i): i is YMap => i?.kind === 'map');
}

function scalarText(node: YNode | undefined): string | undefined {
  return node?.kind === 'scalar' && !isNullScalar(node) ? node.value : undefined;
}

/*
 * presets.yaml shape (Palette API V1PackPreset; pack-central's hello-universe 1.2.0): a top-level
 * `presets:` list of {name, displayName, group, add: YAML text merged into values, remove: [dotted paths]}.
 * values.yaml may select presets in a `# spectrocloud.com/enabled-presets: Group:name` comment.
 * Only one preset of a group is selected at a time (Palette docs, "Pack Presets"), so a preset's
 * `remove` usually lists what the other presets of its group `add`: a remove path is missing only when
 * neither values.yaml nor any preset's `add` holds it.
 */
function checkPresets(presets: YamlTree, values: YamlTree | undefined, presetAdds: RefRoot[], valuesText: string, findings: Finding[]): void {
  const shape = (message: string, line?: number, path?: string): void => {
    findings.push({ severity: 'warning', rule: 'deep-presets-shape', file: PACK_FILES.presets, ...(path === undefined ? {} : { path }), ...(line === undefined ? {} : { line }), message });
  };
  // An empty (or comment-only) presets.yaml offers no presets, as a missing one (pack-central's kyverno-1.12.2).
  if (presets.root === undefined || isNullScalar(presets.root)) return;
  const root = rootMap(presets);
  const listEntry = root === undefined ? undefined : mapEntry(root, 'presets', presets.anchors);
  const list = resolveAlias(listEntry?.value, presets.anchors);
  if (list?.kind !== 'seq') {
    shape('presets.yaml must hold a top-level `presets:` list of {name, displayName, group, add, remove} entries', listEntry?.keyLine ?? 1, 'presets');
    return;
  }
  const names = new Map<string, number>();
  // An empty values.yaml has no keys: every remove path is then missing.
  const valuesRoot: RefRoot | undefined = values === undefined ? undefined : { node: values.root ?? syntheticMap(), anchors: values.anchors };
  const removable: RefRoot[] = valuesRoot === undefined ? [] : [valuesRoot, ...presetAdds];
  const declared = new Set<string>();
  list.items.forEach((raw, i) => {
    const item = resolveAlias(raw, presets.anchors);
    const at = `presets[${i}]`;
    if (item?.kind !== 'map') {
      shape(`${at} must be a map with name, displayName, group, add and remove`, raw.line, at);
      return;
    }
    const field = (key: string) => mapEntry(item, key, presets.anchors);
    // A field written as an alias (`group: *ingress`) reads as the node it names, as Go's YAML readers do.
    const fieldValue = (key: string) => resolveAlias(field(key)?.value, presets.anchors);
    const name = scalarText(fieldValue('name'));
    if (name === undefined || name.trim() === '') {
      shape(`${at} has no name; give every preset a unique \`name:\``, item.line, `${at}.name`);
    } else {
      const first = names.get(name);
      if (first !== undefined) {
        findings.push({
          severity: 'warning',
          rule: 'deep-presets-duplicate-name',
          file: PACK_FILES.presets,
          path: `${at}.name`,
          line: field('name')?.keyLine ?? item.line,
          message: `preset name "${name}" is used twice (first on line ${first}); Palette tells presets apart by name, so rename one`,
        });
      } else names.set(name, field('name')?.keyLine ?? item.line);
      const group = scalarText(fieldValue('group'));
      declared.add(`${group ?? ''}:${name}`);
    }
    for (const key of ['displayName', 'group'] as const) {
      const entry = field(key);
      if (key === 'displayName' && entry === undefined) shape(`${at} has no displayName; add the label Palette shows for the preset`, item.line, `${at}.displayName`);
      else if (entry !== undefined && fieldValue(key)?.kind !== 'scalar') shape(`${at}.${key} must be a string`, entry.keyLine, `${at}.${key}`);
    }
    const add = field('add');
    if (add !== undefined) {
      const value = resolveAlias(add.value, presets.anchors);
      if (value?.kind !== 'scalar') {
        shape(`${at}.add must be YAML text (write \`add: |\` followed by the indented values), not a ${value?.kind === 'seq' ? 'list' : 'map'}`, add.keyLine, `${at}.add`);
      } else if (value.value.trim() !== '') {
        const parsed = presetAdd(value);
        if ('tree' in parsed) {
          const r = resolveAlias(parsed.tree.root, parsed.tree.anchors);
          if (r !== undefined && r.kind !== 'map' && !isNullScalar(r)) shape(`${at}.add must be a map of values (like values.yaml), not a single value or list`, add.keyLine, `${at}.add`);
        } else {
          const err = parsed.error;
          const mark = (err as { mark?: { line?: number } }).mark;
          // Block scalar content starts on the line after `add: |`.
          const line = mark?.line === undefined ? add.keyLine : add.keyLine + 1 + mark.line;
          findings.push({
            severity: 'warning',
            rule: 'deep-presets-add-invalid',
            file: PACK_FILES.presets,
            path: `${at}.add`,
            line,
            message: `${at}.add is not valid YAML (${(err as { reason?: string }).reason ?? errorMessage(err).split('\n')[0]}); Palette merges it into values.yaml, so fix its indentation and syntax`,
          });
        }
      }
    }
    const remove = field('remove');
    if (remove !== undefined) {
      const value = resolveAlias(remove.value, presets.anchors);
      if (value?.kind !== 'seq' && !(value !== undefined && isNullScalar(value))) {
        shape(`${at}.remove must be a list of dotted value paths, e.g. \`- charts.foo.ingress\``, remove.keyLine, `${at}.remove`);
      } else if (value.kind === 'seq') {
        value.items.forEach((p, j) => {
          const path = scalarText(resolveAlias(p, presets.anchors));
          if (path === undefined) {
            shape(`${at}.remove[${j}] must be a dotted value path string`, p.line, `${at}.remove[${j}]`);
            return;
          }
          if (valuesRoot !== undefined && !removable.some((r) => lookupDotted(r, path) !== undefined)) {
            findings.push({
              severity: 'warning',
              rule: 'deep-presets-remove-missing',
              file: PACK_FILES.presets,
              path: `${at}.remove[${j}]`,
              line: p.line,
              message: `${at}.remove names ${path}, which neither values.yaml nor any preset's \`add\` has, so removing it does nothing; fix the path (dotted, from the top of values.yaml)`,
            });
          }
        });
      }
    }
  });

  // `# spectrocloud.com/enabled-presets: Group:name[,Group:name]` in values.yaml selects presets.
  const lines = valuesText.split('\n');
  lines.forEach((text, i) => {
    const m = /^\s*#\s*spectrocloud\.com\/enabled-presets\s*:\s*(.*)$/.exec(text);
    if (m === null) return;
    for (const selected of (m[1] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const colon = selected.lastIndexOf(':');
      const id = colon === -1 ? `:${selected}` : selected;
      if (declared.has(id) || (colon === -1 && [...declared].some((d) => d.endsWith(`:${selected}`)))) continue;
      findings.push({
        severity: 'warning',
        rule: 'deep-presets-enabled-unknown',
        file: PACK_FILES.values,
        line: i + 1,
        message: `the enabled-presets comment selects "${selected}", but presets.yaml has no preset with that group and name (${[...declared].join(', ') || 'none'}); write it as Group:name`,
      });
    }
  });
}

/*
 * schema.yaml shape (pack-central's hello-universe 1.2.0): top-level keys are dotted values paths,
 * each a map with `schema: '{{ required | format "${string}" | hints "..." }}'`.
 */
function checkSchema(schema: YamlTree, values: YamlTree | undefined, presetAdds: RefRoot[], findings: Finding[]): void {
  const root = rootMap(schema);
  if (root === undefined) {
    if (schema.root !== undefined && !isOpenValue(schema.root)) {
      findings.push({ severity: 'warning', rule: 'deep-schema-shape', file: PACK_FILES.schema, line: 1, message: 'schema.yaml must be a map of dotted value paths (e.g. `charts.foo.replicas:`), each with a `schema:` string' });
    }
    return;
  }
  const roots: RefRoot[] = [...(values === undefined ? [] : [{ node: values.root ?? syntheticMap(), anchors: values.anchors }]), ...presetAdds];
  for (const e of decodedEntries(root, schema.anchors)) {
    const value = resolveAlias(e.value, schema.anchors);
    const spec = value?.kind === 'map' ? resolveAlias(mapEntry(value, 'schema', schema.anchors)?.value, schema.anchors) : undefined;
    if (spec?.kind !== 'scalar' || isNullScalar(spec)) {
      findings.push({
        severity: 'warning',
        rule: 'deep-schema-shape',
        file: PACK_FILES.schema,
        path: formatPath([e.key]),
        line: e.keyLine,
        message: `${e.key} must be a map with a \`schema:\` string, e.g. \`schema: '{{ required | format "\${string}" }}'\``,
      });
      continue;
    }
    if (!/^\s*\{\{[\s\S]*\}\}\s*$/.test(spec.value)) {
      findings.push({
        severity: 'warning',
        rule: 'deep-schema-shape',
        file: PACK_FILES.schema,
        path: formatPath([e.key, 'schema']),
        line: spec.line,
        message: `${e.key}.schema must be a template in {{ ... }}, e.g. '{{ required | format "\${number}" | hints "..." }}'`,
      });
    }
    if (roots.length > 0 && !roots.some((r) => lookupDotted(r, e.key) !== undefined)) {
      findings.push({
        severity: 'warning',
        rule: 'deep-schema-path-missing',
        file: PACK_FILES.schema,
        path: formatPath([e.key]),
        line: e.keyLine,
        message: `schema.yaml describes ${e.key}, which neither values.yaml nor a preset's \`add\` defines; fix the dotted path or add the value`,
      });
    }
  }
}
