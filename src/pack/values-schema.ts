import type { ErrorObject } from 'ajv';
import { chartValuesParse, type ChartDependency, type HelmChart, type ImportValue } from './chart.js';
import type { ReadChart } from './deep-checks.js';
import type { Finding } from './findings.js';
import { goSemverMatches } from './go-semver.js';
import { formatPath } from './json-source.js';
import { PACK_FILES } from './model.js';
import { FastYamlUnsupported, fastValue } from './yaml-fast.js';
import { checkYamlText } from './yaml-source.js';

/*
 * A chart's values.schema.json, as Helm enforces it on every install and upgrade (helm/helm pkg/chartutil
 * values.go ToRenderValues: CoalesceValues, then ValidateAgainstSchema on the top chart and, under each
 * subchart's key, on every subchart with a schema): values that fail it stop the install ("values don't
 * meet the specifications of the schema(s) in the following chart(s)"). The values are the chart's own
 * values.yaml with the ones Palette passes over it (the pack's `charts.<chart name>`), coalesced as Helm does
 * (coalesce.go: a null removes a default, maps merge, anything else replaces; each subchart gets its own
 * defaults and the parent's `global`).
 *
 * Only a failure every Helm 3 would report refuses the pack: the schema is judged with the draft its
 * `$schema` names and, as Helm up to 3.17 (gojsonschema, drafts 4 to 7 mixed) read it, with draft 7 too;
 * without `$schema`, Helm 3.18 and later read draft 2020-12. Nothing is judged when the schema cannot be
 * compiled here (a `$ref` to a URL Helm would download, a draft-04 or unknown `$schema`, a pattern JavaScript
 * reads otherwise); `format` and `multipleOf` (float rounding) are never judged; a string holding `{{` (a
 * Palette macro, replaced before Helm sees it) fails nothing. Subcharts are the ones ProcessDependencies
 * keeps, under the names it gives them (conditions and tags read in the coalesced values, an alias kept
 * only when the subchart's version matches the dependency's); a chart's import-values copy its subcharts'
 * tables into its values as each Helm version does (processImportValues: the parent's own values win, but
 * for a short-form import up to 3.8 and every import in 3.13.0); an entry whose `child` or `parent` is no
 * string (a panic up to 3.20, its `%v` text since) leaves the chart unjudged.
 */

type Values = Record<string, unknown>;

const isMap = (value: unknown): value is Values => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sets `key` as an own property, `__proto__` included (a YAML key like any other). */
function put(into: Values, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
}

/** A deep copy: YAML aliases share one value, and coalescing changes the copies it works on. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (!isMap(value)) return value;
  const out: Values = {};
  for (const [k, v] of Object.entries(value)) put(out, k, copy(v));
  return out;
}

/**
 * How one range of Helm 3 versions coalesces (pkg/chartutil coalesce.go, dependencies.go); where they
 * disagree, only a failure every one of them reports is reported.
 */
interface Era {
  /** When a null in the given table deletes a key the defaults hold: 3.0-3.1 never, 3.2-3.12 always, 3.13-3.19 unless merging, 3.20+ also only over a non-null default. */
  nested: 'never' | 'always' | 'merge' | 'default';
  /** A subchart's table merges, so its nulls survive to the subchart (childChartMergeTrue, 3.18+). */
  childMerge: boolean;
  /** ProcessDependencies merges (ProcessDependenciesWithMerge, 3.13+) rather than coalesces. */
  premerge: boolean;
  /** Every chart with subcharts declares dependencies (`dependencies: []` reads as none here, not to Helm). */
  allDeclare?: boolean;
  /**
   * processImportValues: `3.0` (3.0-3.8: a map entry fills the parent's values, a short one overrides them),
   * `3.9` (3.9-3.12: the parent's values win), `3.13.0` (merged, the imports win), `3.13.1` (merged, the
   * parent's values win).
   */
  imports: '3.0' | '3.9' | '3.13.0' | '3.13.1';
  /** Read only for a chart that imports values (otherwise the same as another era). */
  importsOnly?: boolean;
}

/** The newest first: its failures are the ones shown. */
const ERAS: readonly Era[] = [
  { nested: 'default', childMerge: true, premerge: true, imports: '3.13.1' },
  { nested: 'merge', childMerge: true, premerge: true, imports: '3.13.1' },
  { nested: 'merge', childMerge: false, premerge: true, imports: '3.13.1' },
  { nested: 'always', childMerge: false, premerge: false, imports: '3.9' },
  { nested: 'never', childMerge: false, premerge: false, imports: '3.0' },
  { nested: 'default', childMerge: true, premerge: true, allDeclare: true, imports: '3.13.1' },
  { nested: 'merge', childMerge: false, premerge: true, imports: '3.13.0', importsOnly: true },
  { nested: 'always', childMerge: false, premerge: false, imports: '3.0', importsOnly: true },
];

/** Helm's coalesceTablesFullKey: `dst` (the values given) over `src` (a copy of the defaults). */
function coalesceTables(dst: Values, src: Values, merge: boolean, era: Era): Values {
  // Up to 3.12, a map-form import makes Helm coalesce a chart's values into themselves (`dst` is `src`).
  const srcNonNull = new Set(Object.keys(src).filter((k) => src[k] !== null));
  // 3.20 and later first copy the given nulls into the defaults (earlier ones leave a null given over no default).
  if (era.nested === 'default') for (const [k, v] of Object.entries(dst)) if (v === null) put(src, k, null);
  for (const [k, val] of Object.entries(src)) {
    const has = Object.hasOwn(dst, k);
    const dv = dst[k];
    const drop = era.nested === 'always' || (!merge && (era.nested === 'merge' || (era.nested === 'default' && srcNonNull.has(k))));
    if (has && dv === null && drop) delete dst[k];
    else if (!has) put(dst, k, val);
    else if (isMap(val) && isMap(dv)) coalesceTables(dv, val, merge, era);
  }
  return dst;
}

/** Why a chart's values cannot be judged (Helm would do something this model does not). */
class NotJudged extends Error {}

/** A chart as read: its values.yaml and its vendored subcharts (Helm's `c.Dependencies()` as loaded). */
interface Node {
  chart: HelmChart;
  defaults: Values;
  vendored: Node[];
}

/**
 * A chart as one Helm install holds it once ProcessDependencies ran: the name it goes by (a dependency's
 * alias), the subcharts kept (conditions and tags applied), whether it still declares dependencies.
 */
interface Tree {
  node: Node;
  name: string;
  subs: Tree[];
  /** Metadata.Dependencies is not nil: processImportValues replaces its values (valuesOf). */
  declares: boolean;
  /** The dependencies processImportValues reads (Metadata.Dependencies then), by the name it reads them under. */
  deps: ReadonlyArray<{ name: string; imports?: ImportValue[] }>;
  /** valuesOf, once computed. */
  processed?: Values;
}

function chartDefaults(chart: HelmChart): Values {
  if (chart.valuesText.trim() === '') return {};
  // The parse the chart reader kept, when the fast reader took the text: no second parse (issue 16).
  const kept = chartValuesParse(chart);
  if (kept !== undefined && 'fast' in kept) {
    try {
      const root = kept.docs.find((d) => d !== undefined);
      const value = root === undefined ? undefined : fastValue(root);
      return isMap(value) ? value : {};
    } catch (err) {
      if (!(err instanceof FastYamlUnsupported)) throw err;
    }
  }
  const check = checkYamlText(chart.valuesText, 'values.yaml');
  const first = check.documents[0];
  if (!check.ok) throw new NotJudged('values.yaml');
  return isMap(first) ? first : {};
}

function nodeOf(chart: HelmChart, depth = 0): Node {
  if (depth > 8) throw new NotJudged('nesting');
  return { chart, defaults: chartDefaults(chart), vendored: chart.subcharts.map((sub) => nodeOf(sub, depth + 1)) };
}

/** Whether a chart or one below it imports values. */
const importsAny = (node: Node): boolean => node.chart.dependencies.some((d) => d.imports !== undefined) || node.vendored.some(importsAny);

/** Whether Helm pairs a dependency with a vendored subchart (chartutil.IsCompatibleRange). */
function compatible(dep: ChartDependency, sub: Node): boolean {
  const version = sub.chart.version;
  if (version === undefined) return false;
  const matches = goSemverMatches(dep.version ?? '', version);
  if (matches === undefined) throw new NotJudged('constraint');
  return matches;
}

/** Whether Helm leaves a chart's metadata dependencies as nil (ProcessDependencies then leaves it as it is). */
const declaresAny = (node: Node, era: Era): boolean => node.chart.dependencies.length > 0 || (era.allDeclare === true && node.vendored.length > 0);

/** A chart ProcessDependencies does not reach: every vendored subchart under its own name. */
function unprocessed(node: Node, name: string, era: Era): Tree {
  return { node, name, subs: node.vendored.map((sub) => unprocessed(sub, sub.chart.name, era)), declares: declaresAny(node, era), deps: node.chart.dependencies };
}

/** The value at a dotted path, as Values.PathValue finds it (a table there is no value). */
function pathValue(values: Values, path: string): unknown {
  const keys = path.split('.');
  let table: Values = values;
  for (const key of keys.slice(0, -1)) {
    const next = table[key];
    if (!Object.hasOwn(table, key) || !isMap(next)) return undefined;
    table = next;
  }
  const last = keys[keys.length - 1] as string;
  return Object.hasOwn(table, last) && !isMap(table[last]) ? table[last] : undefined;
}

/** Whether tags and conditions keep a dependency (processDependencyTags, then processDependencyConditions). */
function dependencyEnabled(dep: ChartDependency, values: Values, path: string): boolean {
  let enabled = true;
  const tags = Object.hasOwn(values, 'tags') ? values['tags'] : undefined;
  if (isMap(tags)) {
    const set = (dep.tags ?? []).filter((t) => Object.hasOwn(tags, t)).map((t) => macro(tags[t]));
    enabled = set.includes(true) || !set.includes(false);
  }
  // Helm trims the whole condition, not each path in it.
  for (const condition of (dep.condition ?? '').trim().split(',')) {
    if (condition === '') continue;
    const value = macro(pathValue(values, path + condition));
    if (typeof value === 'boolean') return value;
  }
  return enabled;
}

/** A value, unless it holds a Palette macro (`{{ ... }}`, replaced before Helm reads it: maybe by a boolean). */
function macro(value: unknown): unknown {
  if (typeof value === 'string' && value.includes('{{')) throw new NotJudged('a condition or tag set by a macro');
  return value;
}

/**
 * processDependencyEnabled: the subcharts Helm keeps for `node` (under `name`), given the values `given`
 * (the parent's coalesced values below the top chart; `path` the dotted names down to this chart), and
 * recursively theirs. `seen` counts the times each chart is reached: Helm renames the dependencies of a
 * chart in place, shared by every copy an alias made, so a second pass reads them renamed (not modelled).
 */
function enabledTree(node: Node, name: string, given: () => Values, path: string, era: Era, seen: Map<Node, number>): Tree {
  const count = (seen.get(node) ?? 0) + 1;
  seen.set(node, count);
  const deps = node.chart.dependencies;
  if (count > 1 && deps.some((d) => d.alias !== undefined)) throw new NotJudged('aliased dependencies of a chart used twice');
  if (!declaresAny(node, era)) return unprocessed(node, name, era);
  const kept: Array<{ node: Node; name: string }> = [];
  for (const sub of node.vendored) if (!deps.some((d) => d.name === sub.chart.name && compatible(d, sub))) kept.push({ node: sub, name: sub.chart.name });
  for (const d of deps) {
    const sub = node.vendored.find((s) => s.chart.name === d.name && compatible(d, s));
    if (sub !== undefined) kept.push({ node: sub, name: d.alias ?? d.name });
  }
  // Conditions and tags are read in the values coalesced with every chart's own values.yaml (no imports
  // yet), made only when a dependency here or below has some (issue 16: a copy of every value per level).
  let values: Values | undefined;
  const valuesHere = (): Values => {
    const partial: Tree = { node, name, subs: kept.map((k) => unprocessed(k.node, k.name, era)), declares: false, deps: [] };
    values ??= coalesce(partial, copy(given()) as Values, false, era, (t) => t.node.defaults);
    return values;
  };
  const off = new Set(deps.filter((d) => ((d.condition ?? '').trim() !== '' || (d.tags ?? []).length > 0) && !dependencyEnabled(d, valuesHere(), path)).map((d) => d.alias ?? d.name));
  const subs = kept.filter((k) => !off.has(k.name)).map((k) => enabledTree(k.node, k.name, valuesHere, `${path}${k.name}.`, era, seen));
  // Helm 3.2 and later keep only the enabled dependencies in the metadata (none left: nil).
  const declares = era.nested === 'never' || deps.some((d) => !off.has(d.alias ?? d.name));
  // Renamed to their aliases; disabled ones dropped from the metadata since 3.2.
  const named = deps.map((d) => ({ name: d.alias ?? d.name, ...(d.imports === undefined ? {} : { imports: d.imports }) }));
  return { node, name, subs, declares, deps: era.nested === 'never' ? named : named.filter((d) => !off.has(d.name)) };
}

/**
 * A chart's values as Helm holds them when installing: a chart that declares dependencies has them
 * replaced by its values coalesced (merged since 3.13) with its subcharts' and what its import-values copy
 * from theirs (processImportValues), so the install's coalesce meets a subchart's null defaults as given
 * values and deletes them.
 */
function valuesOf(tree: Tree, era: Era): Values {
  if (!tree.declares) return tree.node.defaults;
  tree.processed ??= withImports(tree.deps, coalesce(tree, {}, era.premerge, era, (t) => valuesOf(t, era), tree.node.defaults), era);
  return tree.processed;
}

/**
 * processImportValues over a chart's coalesced values `cvals`, transcribed so that its tables are shared
 * and changed in place as Helm's maps are (an import's table is the subchart's own, not a copy).
 */
function withImports(deps: Tree['deps'], cvals: Values, era: Era): Values {
  if (!deps.some((d) => d.imports !== undefined)) return cvals;
  boundShared(cvals);
  const merge = era.imports === '3.13.0' || era.imports === '3.13.1';
  let b: Values = {};
  for (const dep of deps) {
    for (const entry of dep.imports ?? []) {
      if (entry === null) throw new NotJudged('an import-values entry Helm versions read differently');
      const short = typeof entry === 'string';
      const found = table(cvals, `${dep.name}.${short ? `exports.${entry}` : entry.child}`);
      if (found === undefined) continue; // Helm logs "ImportValues missing table" and goes on.
      const src = short ? found : pathToMap(entry.parent, found);
      // Up to 3.12 a map entry coalesces into cvals itself (b becomes cvals).
      b = coalesceTables(merge || short ? b : cvals, src, merge, era);
    }
  }
  boundShared(cvals);
  boundShared(b);
  if (era.imports === '3.0') return coalesceTables(b, cvals, false, era);
  if (era.imports === '3.9') return coalesceTables(cvals, b, false, era);
  const copied = copy(cvals) as Values;
  return era.imports === '3.13.0' ? coalesceTables(b, copied, true, era) : coalesceTables(copied, b, true, era);
}

/**
 * Values nodes as copies, the schema check and the report walk them: a table import-values shared counted each
 * time it is reached. Sharing nests (a chart imports its child's table into ten keys, that child did the same):
 * a few KB of charts made values of 10^levels nodes (minutes, then the heap) where Helm itself would stall too;
 * past this bound the chart is not judged.
 */
export const MAX_SHARED_VALUE_NODES = 1_000_000;

function boundShared(values: Values): void {
  if (sharedSize(values, new Map()) > MAX_SHARED_VALUE_NODES) throw new NotJudged('values import-values share too many times');
}

/** Nodes of `value`, a shared table counted each time it is reached (memoised by table; a cycle counts as unbounded). */
function sharedSize(value: unknown, seen: Map<object, number>): number {
  if (!Array.isArray(value) && !isMap(value)) return 1;
  const known = seen.get(value);
  if (known !== undefined) return known;
  seen.set(value, Infinity); // reached again before its size is known: a cycle
  let n = 1;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    n += sharedSize(v, seen);
    if (n > MAX_SHARED_VALUE_NODES) break;
  }
  seen.set(value, n);
  return n;
}

/** Values.Table(path).AsMap(): the table at a dotted path, undefined when a step is missing or no table. */
function table(values: Values, path: string): Values | undefined {
  let at = values;
  for (const key of path.split('.')) {
    const next = Object.hasOwn(at, key) ? at[key] : undefined;
    if (!isMap(next)) return undefined;
    at = next;
  }
  return Object.keys(at).length === 0 ? {} : at;
}

/** pathToMap: `data` under the dotted path (`.`: itself). */
function pathToMap(path: string, data: Values): Values {
  if (path === '.') return data;
  let out = data;
  for (const key of path.split('.').reverse()) {
    const next: Values = {};
    put(next, key, out);
    out = next;
  }
  return out;
}

/** Helm's coalesce (coalesceValues, then coalesceDeps) of `tree`'s chart (values `own`) into `dest`. */
function coalesce(tree: Tree, dest: Values, merge: boolean, era: Era, ownOf: (t: Tree) => Values, own = ownOf(tree)): Values {
  const subNames = new Set(tree.subs.map((s) => s.name));
  for (const [k, val] of Object.entries(copy(own) as Values)) {
    if (!Object.hasOwn(dest, k)) put(dest, k, val);
    else if (dest[k] === null && !merge) delete dest[k];
    else if (isMap(dest[k]) && isMap(val)) coalesceTables(dest[k] as Values, val, merge || (era.childMerge && subNames.has(k)), era);
  }
  for (const sub of tree.subs) {
    if (!Object.hasOwn(dest, sub.name)) put(dest, sub.name, {});
    const values = dest[sub.name];
    if (!isMap(values)) throw new NotJudged('subchart values not a map');
    coalesceGlobals(values, dest, era);
    put(dest, sub.name, coalesce(sub, values, merge, era, ownOf));
  }
  return dest;
}

function coalesceGlobals(dest: Values, src: Values, era: Era): void {
  const dg = Object.hasOwn(dest, 'global') ? dest['global'] : {};
  const sg = Object.hasOwn(src, 'global') ? src['global'] : {};
  if (!isMap(dg) || !isMap(sg)) return;
  for (const [k, val] of Object.entries(sg)) {
    if (isMap(val)) {
      const vv: Values = { ...val };
      if (!Object.hasOwn(dg, k)) put(dg, k, vv);
      else if (isMap(dg[k])) {
        coalesceTables(vv, dg[k] as Values, true, era);
        put(dg, k, vv);
      }
    } else if (!(Object.hasOwn(dg, k) && isMap(dg[k]))) put(dg, k, val);
  }
  put(dest, 'global', dg);
}

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
type AjvClass = new (options: Record<string, unknown>) => { compile(schema: unknown): Validate; removeSchema(schema: unknown): unknown; getKeyword(keyword: string): unknown };

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-0[67]\/schema#?$/;
const DRAFT_2019 = /^https?:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/;
const DRAFT_2020 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;
/** "The latest draft": 2020-12 for Helm 3.18 and later, drafts 4 to 7 for gojsonschema. */
const LATEST = /^https?:\/\/json-schema\.org\/schema#?$/;

/** The drafts ajv reads a schema as: its classes Ajv (draft 7), Ajv2019 and Ajv2020. */
type Draft = 'draft7' | 'draft2019' | 'draft2020';
type AjvClasses = Record<Draft, AjvClass>;

let classes: Promise<AjvClasses> | undefined;
/** ajv's classes once loaded: a schema's readings compile with them (Readings.load). */
let loaded: AjvClasses | undefined;

function ajvClasses(): Promise<AjvClasses> {
  classes ??= Promise.all([import('ajv'), import('ajv/dist/2019.js'), import('ajv/dist/2020.js')]).then(([a, b, c]) => {
    loaded = {
      draft7: a.default as unknown as AjvClass,
      draft2019: b.default as unknown as AjvClass,
      draft2020: c.default as unknown as AjvClass,
    };
    return loaded;
  });
  return classes;
}

/**
 * The keywords an instance of each draft's class knows with OPTIONS (its RULES.all: what getKeyword tells),
 * for the quick reading, which needs no more of ajv: a tree whose values pass their schemas certainly loads
 * no part of ajv (its modules and an instance per draft cost each validation thread ~10-40 ms of CPU before
 * its first chart with a schema, on the bench tree for nothing: issue 16). getKeyword reads a plain object, so
 * a name Object.prototype has ("constructor", "toString", ...) is known too. test/unit/pack/values-schema-keywords.test.ts
 * checks these lists against ajv's instances.
 */
export const AJV_KEYWORDS: Readonly<Record<Draft, ReadonlySet<string>>> = (() => {
  const draft7 = ['$comment', '$ref', 'additionalItems', 'additionalProperties', 'allOf', 'anyOf', 'const', 'contains', 'dependencies', 'else', 'enum', 'exclusiveMaximum', 'exclusiveMinimum', 'format', 'id', 'if', 'items', 'maxItems', 'maxLength', 'maxProperties', 'maximum', 'minItems', 'minLength', 'minProperties', 'minimum', 'multipleOf', 'not', 'nullable', 'oneOf', 'pattern', 'patternProperties', 'properties', 'propertyNames', 'required', 'then', 'type', 'uniqueItems'];
  const later = ['$dynamicAnchor', '$dynamicRef', '$recursiveAnchor', '$recursiveRef', 'dependentRequired', 'dependentSchemas', 'maxContains', 'minContains', 'unevaluatedItems', 'unevaluatedProperties'];
  return {
    draft7: new Set(draft7),
    draft2019: new Set([...draft7, ...later]),
    draft2020: new Set([...draft7.filter((k) => k !== 'additionalItems'), ...later, 'prefixItems']),
  };
})();

/** Whether an instance of `draft`'s class knows `keyword` (its getKeyword is not false). */
export function ajvKnows(draft: Draft, keyword: string): boolean {
  return AJV_KEYWORDS[draft].has(keyword) || keyword in Object.prototype;
}

/** What a schema's pattern risks in a backtracking engine (Go's RE2, which Helm uses, is linear). */
export function regexRisk(pattern: string): { unbounded: number; unsafe: boolean } {
  const groups: boolean[] = [false];
  let unbounded = 0;
  let unsafe = false;
  let closedGroupHeld = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    let held = false;
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) unsafe = true; // a backreference
      i++;
    } else if (c === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
    } else if (c === '(') {
      groups.push(false);
    } else if (c === ')') {
      held = groups.pop() === true;
      if (held) groups[groups.length - 1] = true;
    } else if (c === '|') {
      groups[groups.length - 1] = true;
    } else if (c === '*' || c === '+' || c === '{') {
      const braces = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i)) : null;
      if (c !== '{' || (braces !== null && braces[2] !== undefined && (braces[3] === '' || Number(braces[3]) > 1))) {
        unbounded++;
        if (closedGroupHeld) unsafe = true; // a repeated group that repeats or alternates inside: exponential
        groups[groups.length - 1] = true;
      } else if (closedGroupHeld && braces !== null && braces[2] === undefined && Number(braces[1]) > 1) {
        unsafe = true; // {n} of a group that repeats or alternates inside: n-fold ambiguity (^(a+){8}$: n^7 steps)
      }
      if (braces !== null) i += braces[0].length - 1;
      if (pattern[i + 1] === '?') i++;
    }
    closedGroupHeld = held;
  }
  return { unbounded, unsafe };
}

/**
 * The pattern, as JavaScript (the u flag) reads it, with Go's meaning (Helm's regexp, RE2 syntax): `.` is
 * anything but \n (JavaScript's also leaves out \r, U+2028 and U+2029), `\s` only [\t\n\f\r ] (JavaScript's:
 * \v and every Unicode space). Undefined when the meanings differ in a way not rewritten here: `\S` in a
 * class, `\p{..}` (other names, other Unicode versions), `(?` groups other than `(?:` (flags,
 * lookarounds, named groups). `\d`, `\w`, `\b`, `^` and `$` (end of text only, without m) agree.
 */
function goMeaning(pattern: string): string | undefined {
  const space = '\\t\\n\\f\\r ';
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      i++;
      if (next === 'p' || next === 'P' || (next === 'S' && inClass)) return undefined;
      if (next === 's') out += inClass ? space : `[${space}]`;
      else if (next === 'S') out += `[^${space}]`;
      else out += c + next;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') out += pattern[++i] as string;
    } else if (c === '.') out += '[^\\n]';
    else if (c === '(' && pattern[i + 1] === '?' && pattern[i + 2] !== ':') return undefined;
    else out += c;
  }
  return out;
}

/** Tests a pattern left untested in the validation running now: its verdict is then not judged. */
let patternsSkipped = 0;

/**
 * ajv's regular expressions, bounded: JavaScript's engine backtracks, so a pattern with a repeated group
 * (`{n}` with n >= 2 included) that itself repeats or alternates, or a backreference, is never tried, and one with k repeats only on strings of up
 * to 1e7^(1/(k+1)) characters (at most 1e7 steps); an untried pattern makes the whole validation unjudged.
 */
function boundedRegExp(pattern: string, flags: string): { test(text: string): boolean; toString(): string } {
  let re = new RegExp(pattern, flags);
  let go = goMeaning(pattern);
  try {
    if (go !== undefined) re = new RegExp(go, flags);
  } catch {
    go = undefined;
  }
  const { unbounded, unsafe: risky } = regexRisk(pattern);
  const unsafe = risky || go === undefined;
  const longest = unsafe ? -1 : unbounded === 0 ? Infinity : Math.floor(10_000_000 ** (1 / (unbounded + 1)));
  return {
    test(text: string): boolean {
      if (text.length <= longest) return re.test(text);
      patternsSkipped++;
      return true;
    },
    // ajv keeps one compiled pattern per toString(): each must be its own.
    toString: () => re.toString(),
  };
}
boundedRegExp.code = 'boundedRegExp';

/** ajv's settings: unknown keywords ignored, formats not asserted; no optimizing pass (compiling is most of the cost). */
export const OPTIONS = { strict: false, validateSchema: false, validateFormats: false, allErrors: true, logger: false, addUsedSchema: false, code: { optimize: false, regExp: boundedRegExp } };

/** Compiles made on one ajv instance before a new one is made (each compile leaves values in its scope). */
const COMPILES_PER_INSTANCE = 32;
const instances = new Map<AjvClass, { ajv: InstanceType<AjvClass>; compiles: number }>();

/** The shared instance of `Kind`. */
function ajvOf(Kind: AjvClass): InstanceType<AjvClass> {
  let held = instances.get(Kind);
  if (held === undefined || held.compiles >= COMPILES_PER_INSTANCE) {
    held = { ajv: new Kind(OPTIONS), compiles: 0 };
    instances.set(Kind, held);
  }
  return held.ajv;
}

/**
 * `schema` compiled by an instance of `Kind`: one instance for many schemas (making one costs some 2 ms of
 * CPU, issue 16), a fresh one for a schema that names its parts (a `$id` or `$anchor` below the top: ajv
 * would remember those names for the next schema).
 */
function compileWith(Kind: AjvClass, schema: unknown, names: boolean): Validate {
  if (names) return new Kind(OPTIONS).compile(schema);
  ajvOf(Kind);
  const held = instances.get(Kind) as { ajv: InstanceType<AjvClass>; compiles: number };
  held.compiles++;
  try {
    return held.ajv.compile(schema);
  } finally {
    held.ajv.removeSchema(schema);
  }
}

/**
 * Keywords ajv's draft 7 reads otherwise than its drafts 2019-09 and 2020-12 (or knows only in one of them),
 * and keys that name a schema or its parts.
 */
const DRAFT_DEPENDENT = new Set(['$schema', '$id', '$anchor', '$dynamicAnchor', '$dynamicRef', '$recursiveAnchor', '$recursiveRef', '$vocabulary', 'additionalItems', 'prefixItems', 'minContains', 'maxContains', 'dependentRequired', 'dependentSchemas', 'unevaluatedProperties', 'unevaluatedItems']);
const NAMING = new Set(['$id', '$anchor', '$dynamicAnchor', '$recursiveAnchor']);
/** A top `$id` every draft reads alike, as the base of the schema's references: an absolute URI, no fragment. */
const BASE_ID = /^[a-z][a-z\d+.-]*:[^#]*#?$/i;

/**
 * Whether draft 7's reading of `schema` (a `$ref` hiding its siblings) is the later drafts' one, so one
 * compile answers for both; and whether it names itself or its parts. Every object in the schema is looked
 * at, data (`default`, `enum`) too: a key there only costs a second compile.
 */
function schemaTraits(schema: unknown): { sameInDraft7: boolean; names: boolean } {
  let sameInDraft7 = true;
  let names = false;
  const walk = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null) return;
    if (depth > 200) {
      sameInDraft7 = false;
      names = true;
      return;
    }
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    const map = node as Values;
    const keys = Object.keys(map);
    if (typeof map['$ref'] === 'string' && keys.some((k) => !KEPT_BESIDE_REF.has(k))) sameInDraft7 = false;
    for (const k of keys) {
      if (depth > 0 || (k !== '$schema' && !(k === '$id' && typeof map[k] === 'string' && BASE_ID.test(map[k])))) {
        if (DRAFT_DEPENDENT.has(k)) sameInDraft7 = false;
        if (NAMING.has(k)) names = true;
      }
      if (k === 'items' && Array.isArray(map[k])) sameInDraft7 = false;
      walk(map[k], depth + 1);
    }
  };
  walk(schema, 0);
  return { sameInDraft7, names };
}

/**
 * The readings every Helm 3 makes of this schema, each compiled when first asked for (the second only
 * when the first fails the values); undefined when it cannot be judged here.
 */
interface Readings {
  /** True when the first reading certainly accepts the values (then nothing is compiled: issue 16). */
  accepts: (data: Values) => boolean;
  /** Loads ajv (once per thread): needed before any reading is asked for. */
  load: () => Promise<unknown>;
  readings: Array<() => Validate | undefined>;
}

async function readingsOf(text: string): Promise<Readings | undefined> {
  let schema: unknown;
  try {
    schema = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  if (!isMap(schema)) return undefined;
  const declared = schema['$schema'];
  let kinds: Draft[];
  if (declared === undefined || (typeof declared === 'string' && LATEST.test(declared))) kinds = ['draft2020', 'draft7'];
  else if (typeof declared !== 'string') return undefined;
  else if (DRAFT_07.test(declared)) kinds = ['draft7'];
  else if (DRAFT_2019.test(declared)) kinds = ['draft2019', 'draft7'];
  else if (DRAFT_2020.test(declared)) kinds = ['draft2020', 'draft7'];
  else return undefined;
  const { sameInDraft7, names } = schemaTraits(schema);
  // Draft 7 reads it as the later draft does: its verdict and failures would be the first reading's (issue 16).
  if (sameInDraft7 && kinds.length === 2) kinds = kinds.slice(0, 1);
  const first = kinds[0] as Draft;
  const firstSchema = first === 'draft7' ? refSiblingsDropped(schema) : schema;
  const known = (keyword: string): boolean => ajvKnows(first, keyword);
  // A schema naming its parts resolves references otherwise than the quick reading: ajv decides. The last
  // answer is kept: the caller asks for the same values before failures() does (whether to load ajv).
  let last: { data: Values; ok: boolean } | undefined;
  const accepts = (data: Values): boolean => {
    if (last?.data !== data) last = { data, ok: !names && quickReading(firstSchema, data, known) === VALID };
    return last.ok;
  };
  const readings = kinds.map((draft) => {
    let compiled: Validate | undefined | null = null;
    return () => {
      if (compiled === null) {
        if (loaded === undefined) throw new Error('values-schema: a reading asked for before ajv was loaded');
        try {
          compiled = compileWith(loaded[draft], draft === 'draft7' ? refSiblingsDropped(schema) : schema, names);
        } catch {
          compiled = undefined;
        }
      }
      return compiled;
    };
  });
  return { accepts, load: ajvClasses, readings };
}

/*
 * A quick reading of a schema, without compiling it (issue 16): most charts' values pass their schema, and
 * compiling is most of the check's cost. It answers VALID only where ajv's compiled reading certainly accepts
 * the values too, INVALID only where ajv certainly refuses them, and UNSURE for anything else (a keyword
 * ajv asserts that is not read here, a pattern ajv would leave untried, a `$ref` outside the schema, a number
 * that is not finite...); then ajv decides, as before. Keywords ajv does not know assert nothing in either.
 */
const VALID = 1;
const INVALID = 2;
const UNSURE = 3;
type Quick = typeof VALID | typeof INVALID | typeof UNSURE;

/** Keywords ajv knows that assert nothing here: annotations, formats (not asserted), schema containers. */
const NOT_ASSERTING = new Set(['title', 'description', 'default', 'examples', '$comment', 'deprecated', 'readOnly', 'writeOnly', 'contentMediaType', 'contentEncoding', 'format', 'definitions', '$defs']);
const JSON_TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']);
/** Most schemas and values the quick reading visits before it gives up. */
const QUICK_STEPS = 200_000;

/** Length as ajv counts it (runtime/ucs2length: a surrogate pair is one character). */
function ucs2length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    length++;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return length;
}

function typeMatches(type: string, data: unknown): boolean {
  switch (type) {
    case 'null':
      return data === null;
    case 'boolean':
      return typeof data === 'boolean';
    case 'object':
      return isMap(data);
    case 'array':
      return Array.isArray(data);
    case 'number':
      return typeof data === 'number';
    case 'integer':
      return typeof data === 'number' && data % 1 === 0;
    default:
      return typeof data === 'string';
  }
}

const isScalar = (value: unknown): boolean => value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** Whether `data` is what YAML gives and ajv reads plainly: maps, lists, strings, finite numbers, booleans, null. */
function plainData(data: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (typeof data === 'number') return Number.isFinite(data);
  if (isScalar(data)) return true;
  if (Array.isArray(data)) return data.every((item) => plainData(item, depth + 1));
  if (!isMap(data) || Object.getPrototypeOf(data) !== Object.prototype) return false;
  return Object.values(data).every((value) => plainData(value, depth + 1));
}

/** A pattern tested as ajv's bounded one is (boundedRegExp: Go's meaning), or UNSURE where that one leaves it untried. */
function patternTest(pattern: string, text: string): Quick {
  let regExp: { test(text: string): boolean };
  try {
    regExp = boundedRegExp(pattern, 'u');
  } catch {
    return UNSURE;
  }
  const skipped = patternsSkipped;
  const matches = regExp.test(text);
  if (patternsSkipped === skipped) return matches ? VALID : INVALID;
  patternsSkipped = skipped;
  return UNSURE;
}

/** VALID if every result is, INVALID if one is, else UNSURE. */
function all(results: Iterable<Quick>): Quick {
  let out: Quick = VALID;
  for (const r of results) {
    if (r === INVALID) return INVALID;
    if (r === UNSURE) out = UNSURE;
  }
  return out;
}

/** The quick reading of `schema` (the one ajv is given) for `data`; `known` tells the keywords ajv knows. */
function quickReading(schema: unknown, data: unknown, known: (keyword: string) => boolean): Quick {
  if (!plainData(data)) return UNSURE;
  let steps = 0;
  const read = (node: unknown, value: unknown, depth: number): Quick => {
    if (++steps > QUICK_STEPS || depth > 64) return UNSURE;
    if (node === true) return VALID;
    if (node === false) return INVALID;
    if (!isMap(node)) return UNSURE;
    const results: Quick[] = [];
    for (const [keyword, arg] of Object.entries(node)) {
      const r = keywordReading(keyword, arg, node, value, depth);
      if (r === INVALID) return INVALID;
      results.push(r);
    }
    return all(results);
  };
  const keywordReading = (keyword: string, arg: unknown, node: Values, value: unknown, depth: number): Quick => {
    const sub = (s: unknown, v: unknown): Quick => read(s, v, depth + 1);
    const num = typeof arg === 'number';
    switch (keyword) {
      case '$schema':
      case '$id':
        return depth === 0 ? VALID : UNSURE;
      case 'type': {
        const types = typeof arg === 'string' ? [arg] : Array.isArray(arg) ? arg : [];
        if (types.length === 0 || !types.every((t) => typeof t === 'string' && JSON_TYPES.has(t))) return UNSURE;
        return types.some((t) => typeMatches(t as string, value)) ? VALID : INVALID;
      }
      case 'enum':
      case 'const': {
        const options = keyword === 'enum' ? arg : [arg];
        if (!Array.isArray(options) || !isScalar(value)) return UNSURE;
        return options.some((o) => o === value) ? VALID : options.every(isScalar) || value !== null ? INVALID : UNSURE;
      }
      case 'required': {
        if (!Array.isArray(arg) || !arg.every((k) => typeof k === 'string' && !(k in Object.prototype) && k !== '__proto__')) return UNSURE;
        if (!isMap(value)) return VALID;
        return arg.every((k) => value[k as string] !== undefined) ? VALID : INVALID;
      }
      case 'properties':
      case 'patternProperties':
      case 'additionalProperties':
        if (keyword !== 'additionalProperties' && !isMap(arg)) return UNSURE;
        if (keyword === 'properties' && Object.keys(arg as Values).some((k) => k in Object.prototype || k === '__proto__')) return UNSURE;
        if (!isMap(value)) return VALID;
        return objectReading(keyword, arg, node, value, sub);
      case 'items':
        if (Array.isArray(arg)) return UNSURE;
        return Array.isArray(value) ? all(value.map((item) => sub(arg, item))) : VALID;
      case 'minItems':
      case 'maxItems':
        if (!num) return UNSURE;
        return !Array.isArray(value) || (keyword === 'minItems' ? value.length >= arg : value.length <= arg) ? VALID : INVALID;
      case 'minLength':
      case 'maxLength':
        if (!num) return UNSURE;
        return typeof value !== 'string' || (keyword === 'minLength' ? ucs2length(value) >= arg : ucs2length(value) <= arg) ? VALID : INVALID;
      case 'minProperties':
      case 'maxProperties':
        if (!num) return UNSURE;
        return !isMap(value) || (keyword === 'minProperties' ? Object.keys(value).length >= arg : Object.keys(value).length <= arg) ? VALID : INVALID;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        if (!num) return UNSURE;
        if (typeof value !== 'number') return VALID;
        const ok = keyword === 'minimum' ? value >= arg : keyword === 'maximum' ? value <= arg : keyword === 'exclusiveMinimum' ? value > arg : value < arg;
        return ok ? VALID : INVALID;
      }
      case 'pattern':
        if (typeof arg !== 'string') return UNSURE;
        return typeof value === 'string' ? patternTest(arg, value) : VALID;
      case 'allOf':
      case 'anyOf':
      case 'oneOf': {
        if (!Array.isArray(arg) || arg.length === 0) return UNSURE;
        const results = arg.map((s) => sub(s, value));
        if (keyword === 'allOf') return all(results);
        if (keyword === 'anyOf') return results.includes(VALID) ? VALID : results.includes(UNSURE) ? UNSURE : INVALID;
        if (results.includes(UNSURE)) return UNSURE;
        return results.filter((r) => r === VALID).length === 1 ? VALID : INVALID;
      }
      case 'not': {
        const r = sub(arg, value);
        return r === VALID ? INVALID : r === INVALID ? VALID : UNSURE;
      }
      case 'if': {
        const r = sub(arg, value);
        if (r === UNSURE) return UNSURE;
        const then = r === VALID ? 'then' : 'else';
        return Object.hasOwn(node, then) ? sub(node[then], value) : VALID;
      }
      case 'then':
      case 'else':
        return Object.hasOwn(node, 'if') ? VALID : known(keyword) ? UNSURE : VALID;
      case '$ref': {
        if (typeof arg !== 'string' || !arg.startsWith('#') || arg.includes('%')) return UNSURE;
        let target: unknown = schema;
        for (const key of arg === '#' ? [] : arg.startsWith('#/') ? pointerKeys(arg.slice(1)) : [undefined]) {
          if (key === undefined || !isMap(target) || !Object.hasOwn(target, key)) return UNSURE;
          target = target[key];
        }
        return sub(target, value);
      }
      default:
        return NOT_ASSERTING.has(keyword) || !known(keyword) ? VALID : UNSURE;
    }
  };
  return read(schema, data, 0);
}

/** properties, patternProperties and additionalProperties of one schema, for an object value. */
function objectReading(keyword: string, arg: unknown, node: Values, value: Values, sub: (s: unknown, v: unknown) => Quick): Quick {
  if (keyword === 'properties') return all(Object.entries(arg as Values).map(([k, s]) => (value[k] === undefined ? VALID : sub(s, value[k]))));
  const patterns = isMap(node['patternProperties']) ? Object.keys(node['patternProperties']) : [];
  const results: Quick[] = [];
  if (keyword === 'patternProperties') {
    for (const p of patterns) {
      for (const k of Object.keys(value)) {
        const m = patternTest(p, k);
        if (m === UNSURE) return UNSURE;
        if (m === VALID) results.push(sub((arg as Values)[p], value[k]));
      }
    }
    return all(results);
  }
  const named = isMap(node['properties']) ? node['properties'] : {};
  for (const k of Object.keys(value)) {
    if (Object.hasOwn(named, k)) continue;
    let matched = false;
    for (const p of patterns) {
      const m = patternTest(p, k);
      if (m === UNSURE) return UNSURE;
      if (m === VALID) matched = true;
    }
    if (!matched) results.push(sub(arg, value[k]));
  }
  return all(results);
}

/** Keywords whose values are data, not schemas: never walked. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);
/** Keywords kept beside a `$ref`: they assert nothing, and refs may point into them. */
const KEPT_BESIDE_REF = new Set(['$ref', '$id', 'id', '$schema', 'definitions', '$defs']);

/**
 * The schema as gojsonschema (Helm up to 3.17) reads it: a `$ref` makes it ignore the assertions beside it
 * (schema.go parseSchema returns once it parsed the reference), as drafts 4 to 7 say.
 */
function refSiblingsDropped(node: unknown, depth = 0): unknown {
  if (depth > 200 || typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) return node.map((n) => refSiblingsDropped(n, depth + 1));
  const map = node as Values;
  const hasRef = typeof map['$ref'] === 'string';
  const out: Values = {};
  for (const [k, v] of Object.entries(map)) {
    if (hasRef && !KEPT_BESIDE_REF.has(k)) continue;
    put(out, k, DATA_KEYWORDS.has(k) ? v : refSiblingsDropped(v, depth + 1));
  }
  return out;
}

/** Schemas read before, by text (charts of one vendor share subcharts and their schemas), at most CACHED. */
const readings = new Map<string, Promise<Readings | undefined>>();
const CACHED = 32;

function cachedReadings(text: string): Promise<Readings | undefined> {
  let got = readings.get(text);
  if (got === undefined) {
    got = readingsOf(text);
    if (readings.size >= CACHED) readings.delete(readings.keys().next().value as string);
    readings.set(text, got);
  }
  return got;
}

/**
 * The failures every reading reports of every era's values (those of the first), or [] when one accepts or
 * cannot judge; `others` gives the other eras' values (undefined: not judged), asked only when the first fail.
 */
function failures(readings: Readings | undefined, data: Values, others: () => unknown[]): SchemaFailure[] {
  const first = readingsFail(readings, data);
  if (first.length === 0) return [];
  const seen = new Set([JSON.stringify(data)]);
  for (const other of others()) {
    if (!isMap(other)) return [];
    const text = JSON.stringify(other);
    if (seen.has(text)) continue;
    seen.add(text);
    if (readingsFail(readings, other).length === 0) return [];
  }
  return first;
}

/** The failures every reading reports (those of the first), or [] when one accepts or cannot judge. */
function readingsFail(schema: Readings | undefined, data: Values): SchemaFailure[] {
  if (schema === undefined || schema.accepts(data)) return [];
  let first: SchemaFailure[] | undefined;
  for (const read of schema.readings) {
    const validate = read();
    patternsSkipped = 0;
    if (validate === undefined || validate(data) || patternsSkipped > 0) return [];
    const sure = sureErrors(validate.errors ?? [], data);
    if (sure.length === 0) return [];
    first ??= sure;
  }
  return first ?? [];
}

const NOT_JUDGED_KEYWORDS = new Set(['format', 'multipleOf']);

/** The keys of a JSON pointer (`/a/0` -> ['a', '0']). */
export function pointerKeys(pointer: string): string[] {
  return pointer.split('/').slice(1).map((raw) => raw.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The value at `keys` in `data`, undefined when there is none. */
export function valueAt(data: unknown, keys: readonly string[]): unknown {
  let at = data;
  for (const key of keys) {
    if (Array.isArray(at)) at = at[Number(key)];
    else if (isMap(at) && Object.hasOwn(at, key)) at = at[key];
    else return undefined;
  }
  return at;
}

/** One failure: where in the chart's values (a JSON pointer, '' for the whole), and what. */
export interface SchemaFailure {
  pointer: string;
  message: string;
  /** The JSON schema keyword that failed (`type`, `required`, ...). */
  keyword: string;
  /** The key `required` misses, or `additionalProperties` refuses. */
  missing?: string;
  named?: string;
}

/** The errors of one validation Helm would also report. */
function sureErrors(errors: readonly ErrorObject[], data: unknown): SchemaFailure[] {
  const out: SchemaFailure[] = [];
  for (const e of errors) {
    if (NOT_JUDGED_KEYWORDS.has(e.keyword)) continue;
    const keys = pointerKeys(e.instancePath);
    const value = valueAt(data, keys);
    if (typeof value === 'string' && value.includes('{{')) continue;
    const params = e.params as Record<string, unknown>;
    const named = params['missingProperty'] ?? params['additionalProperty'] ?? params['propertyName'];
    out.push({
      pointer: e.instancePath,
      keyword: e.keyword,
      message: `${e.message ?? e.keyword}${typeof named === 'string' && e.keyword !== 'required' ? ` ("${named}")` : ''}`,
      ...(e.keyword === 'required' && typeof named === 'string' ? { missing: named } : {}),
      ...(typeof named === 'string' ? { named } : {}),
    });
  }
  return out;
}

/**
 * Why Helm cannot read a values.schema.json as JSON, or undefined when it can: every Helm 3 decodes it
 * (gojsonschema up to 3.17, santhosh-tekuri/jsonschema's UnmarshalJSON since) and stops the install on
 * an error. Text after the first JSON value is left alone (gojsonschema never reads it).
 */
function notJson(text: string): string | undefined {
  if (jsonTexts.has(text)) return jsonTexts.get(text);
  const found = jsonProblem(text);
  if (jsonTexts.size >= CACHED) jsonTexts.delete(jsonTexts.keys().next().value as string);
  jsonTexts.set(text, found);
  return found;
}

/** notJson's answers, by text (a subchart's schema is met once per pack that vendors it). */
const jsonTexts = new Map<string, string | undefined>();

function jsonProblem(text: string): string | undefined {
  // UTF-16, kept as its bytes (chart.ts schemaText): Go's JSON reader stops at the byte-order mark.
  if (text.startsWith('\u00ff\u00fe') || text.startsWith('\u00fe\u00ff')) {
    return `it is UTF-16 text (it starts with a UTF-16 byte-order mark, as Windows PowerShell 5's \`>\` writes it), whose first byte Go's JSON reader refuses: "invalid character '${text.charAt(0)}' looking for beginning of value"; save it as UTF-8`;
  }
  try {
    JSON.parse(text.replace(/^\uFEFF/, ''));
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return /after JSON/i.test(message) ? undefined : message;
  }
}

/** One chart whose schema Helm would refuse the values with. */
export interface SchemaRefusal {
  /** The chart's name, with its parents' (`web`, `web/redis`). */
  chart: string;
  /** Path of the values from the top chart's values to this chart's (`''`, `redis`). */
  at: string[];
  /** The failures, at most five. */
  errors: SchemaFailure[];
  /** Why the schema is no JSON Helm reads (every install fails, whatever the values); `errors` is then empty. */
  notJson?: string;
}

/**
 * The schema failures Helm would refuse an install of `chart` with, given the values Palette passes it
 * (`given`, the pack's `charts.<name>`; undefined: none); [] when it installs, or cannot be judged here.
 */
export async function valuesSchemaRefusals(chart: HelmChart, given: unknown): Promise<SchemaRefusal[]> {
  if (!holdsSchema(chart)) return [];
  let root: Node;
  try {
    root = nodeOf(chart);
  } catch (err) {
    if (err instanceof NotJudged) return [];
    throw err;
  }
  const start = isMap(given) ? given : {};
  // Each era's subcharts (conditions, tags, aliases applied) and coalesced values; undefined: not judged.
  const valuesIn = (era: Era): { tree: Tree; values: Values } | undefined => {
    try {
      const tree = enabledTree(root, chart.name, () => start, '', era, new Map());
      return { tree, values: coalesce(tree, copy(start) as Values, false, era, (t) => valuesOf(t, era)) };
    } catch (err) {
      if (err instanceof NotJudged) return undefined;
      throw err;
    }
  };
  const first = valuesIn(ERAS[0] as Era);
  if (first === undefined) return [];
  let others: Array<{ tree: Tree; values: Values } | undefined> | undefined;
  // Another era's values for the chart at `at`: undefined (not judged) when that era does not install it there.
  const othersAt = (node: Node, at: readonly string[]): unknown[] =>
    (others ??= ERAS.slice(1).filter((era) => era.importsOnly !== true || importsAny(root)).map(valuesIn)).map((other) => {
      let tree = other?.tree;
      for (const name of at) tree = tree?.subs.find((s) => s.name === name);
      return other === undefined || tree?.node !== node ? undefined : valueAt(other.values, at);
    });
  const out: SchemaRefusal[] = [];
  const visit = async (tree: Tree, data: Values, names: string[], at: string[]): Promise<void> => {
    const text = tree.node.chart.valuesSchemaText;
    if (text !== undefined && text.trim() !== '') {
      const chart = [...names, tree.name].join('/');
      const broken = notJson(text);
      const schema = broken === undefined ? await cachedReadings(text) : undefined;
      // ajv is loaded only for values the quick reading does not certainly accept (failures compiles then).
      if (schema !== undefined && !schema.accepts(data)) await schema.load();
      const found = broken === undefined ? failures(schema, data, () => othersAt(tree.node, at)) : [];
      if (broken !== undefined) out.push({ chart, at, errors: [], notJson: broken });
      else if (found.length > 0) out.push({ chart, at, errors: found.slice(0, 5) });
    }
    for (const sub of tree.subs) {
      const own = data[sub.name];
      if (isMap(own)) await visit(sub, own, [...names, tree.name], [...at, sub.name]);
    }
  };
  await visit(first.tree, first.values, [], []);
  return out;
}

function holdsSchema(chart: HelmChart): boolean {
  return chart.valuesSchemaText !== undefined || chart.subcharts.some(holdsSchema);
}

/** A values.yaml path with the line and column of its key, when known. */
function located(path: string, positions: ReadonlyMap<string, { line: number; column: number }> | undefined): Pick<Finding, 'path' | 'line' | 'column'> {
  const at = positions?.get(path);
  return at === undefined ? { path } : { path, line: at.line, column: at.column };
}

/** The keys of the pack's schema.yaml (`charts.<chart>.<path>`): values Palette asks the user for. */
function userInputs(schemaText: string | undefined): string[] {
  if (schemaText === undefined || schemaText.trim() === '') return [];
  const check = checkYamlText(schemaText, PACK_FILES.schema);
  const doc = check.ok ? check.documents[0] : undefined;
  return isMap(doc) ? Object.keys(doc) : [];
}

/** A keyword no placeholder explains: a value of the wrong kind, or a key the schema does not allow. */
const AUTHOR_MISTAKES = new Set(['type', 'additionalProperties', 'unevaluatedProperties']);

/**
 * Keywords no placeholder explains when the value the pack sets is a number or a boolean: a bound or a list
 * of allowed values it is outside of (`replicas: 0` where the schema says minimum 1). A text failing `enum`,
 * `pattern` or a length is often one the user is to replace (`<your-domain>`), so it stays a warning.
 */
const NUMBER_MISTAKES = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'enum', 'const']);

/** Whether the pack setting `set` where the schema keyword `keyword` fails is a mistake, not a placeholder. */
function authorMistake(keyword: string, set: unknown): boolean {
  if (set === undefined || set === null || set === '') return false;
  return AUTHOR_MISTAKES.has(keyword) || (NUMBER_MISTAKES.has(keyword) && (typeof set === 'number' || typeof set === 'boolean'));
}

/** The pack's values.yaml as read, and the values it gives a chart (its `charts.<chart name>`; undefined: none). */
function packValuesOf(valuesText: string): { check: ReturnType<typeof checkYamlText> | undefined; given: (chart: HelmChart) => unknown } {
  const check = valuesText.trim() === '' ? undefined : checkYamlText(valuesText, PACK_FILES.values);
  const packValues = check?.ok === true ? check.documents[0] : undefined;
  return { check, given: (chart) => (isMap(packValues) && isMap(packValues['charts']) ? packValues['charts'][chart.name] : undefined) };
}

/**
 * Findings for the charts pack.json lists whose values.schema.json Helm would refuse the install with,
 * given the pack's values.yaml text (`charts.<chart name>` is what Palette passes the chart) and its
 * schema.yaml text. A failure at a value schema.yaml lists is left out (Palette asks the user for it: a
 * real pack-central pack publishes empty required passwords so); an error when the pack itself sets a
 * value of the wrong kind, a key the schema forbids, or a number or boolean outside the schema's bounds or
 * allowed values (no user input fixes what the pack gives), a warning otherwise (an empty or missing value
 * the user is to fill in, a placeholder text failing a pattern or an enum).
 */
export async function valuesSchemaFindings(charts: readonly ReadChart[], valuesText: string, schemaText: string | undefined): Promise<Finding[]> {
  const judged = charts.filter((c) => holdsSchema(c.chart));
  if (judged.length === 0) return [];
  const { check, given: givenTo } = packValuesOf(valuesText);
  const inputs = userInputs(schemaText);
  const findings: Finding[] = [];
  for (const { rel, chart } of judged) {
    const given = givenTo(chart);
    const asked = (keys: readonly string[]): boolean => {
      const dotted = ['charts', chart.name, ...keys].join('.');
      return inputs.some((k) => k === dotted || k.startsWith(`${dotted}.`) || dotted.startsWith(`${k}.`));
    };
    for (const refusal of await valuesSchemaRefusals(chart, given)) {
      if (refusal.notJson !== undefined) {
        findings.push({
          severity: 'error',
          rule: 'chart-values-schema',
          file: rel,
          message: `chart "${refusal.chart}" of ${rel} has a values.schema.json that is not JSON (${refusal.notJson}): Helm reads it on every install and upgrade and stops there, whatever the values; fix the file (\`helm lint\` reports it), then package the chart again`,
        });
        continue;
      }
      const failures = refusal.errors
        .map((e) => {
          const inChart = [...pointerKeys(e.pointer), ...(e.missing !== undefined ? [e.missing] : e.keyword !== 'type' && e.named !== undefined ? [e.named] : [])];
          // A subchart's `global` is the top chart's, copied down (coalesceGlobals).
          return { ...e, keys: inChart[0] === 'global' ? inChart : [...refusal.at, ...inChart] };
        })
        .filter((e) => !asked(e.keys));
      const first = failures[0];
      if (first === undefined) continue;
      const mistake = given === undefined ? undefined : failures.find((e) => authorMistake(e.keyword, valueAt(given, e.keys)));
      const shown = mistake ?? first;
      const inPack = given !== undefined && valueAt(given, shown.keys) !== undefined;
      const list = failures.map((e) => `${e.pointer === '' ? '(top)' : e.pointer}: ${e.message}`).join('; ');
      const over = given === undefined ? "the chart's values.yaml; the pack's values.yaml gives it none" : `the chart's values.yaml with the pack's charts.${chart.name} over it`;
      findings.push({
        severity: mistake === undefined ? 'warning' : 'error',
        rule: 'chart-values-schema',
        file: inPack ? PACK_FILES.values : rel,
        ...(inPack ? located(formatPath(['charts', chart.name, ...shown.keys]), check?.keyPositions) : {}),
        message: `chart "${refusal.chart}" of ${rel} has a values.schema.json that the values as published fail (${over}), so Helm refuses to install it with them ("values don't meet the specifications of the schema(s) in the following chart(s): ${refusal.chart.split('/').at(-1) ?? ''}"): ${list}; ${mistake === undefined ? `set these under charts.${chart.name} in values.yaml, or list them in schema.yaml for Palette to ask the user` : 'fix the value in values.yaml to match the schema'}`,
      });
    }
  }
  return findings;
}

/** A crds/ file of a subchart the values as published enable, which Helm's install cannot apply. */
export interface SubchartCrdRefusal {
  /** The subchart's name, with its parents' (`web/redis`), as ProcessDependencies names it (an alias). */
  chart: string;
  /** The subchart as read. */
  subchart: HelmChart;
  file: string;
  why: string;
  hint: string;
}

const crdRefused = (chart: HelmChart): boolean => chart.crdRefusals !== undefined;
const templateRefused = (chart: HelmChart): boolean => chart.templateRefusals !== undefined || chart.undefinedRuns !== undefined || chart.renderFailures !== undefined;

/** Whether `chart` or a subchart below it is what `holds` picks. */
function holding(chart: HelmChart, holds: (c: HelmChart) => boolean): boolean {
  return holds(chart) || chart.subcharts.some((sub) => holding(sub, holds));
}

/**
 * The subcharts below `chart` that `holds` picks and every Helm 3 era keeps given the values Palette passes it
 * (`given`, the pack's `charts.<name>`; conditions and tags read in the coalesced values), by their names with
 * their parents' (`web/redis`, as ProcessDependencies names them: an alias); none when a condition cannot be
 * judged here (a Palette macro, a constraint Helm reads otherwise).
 */
function keptSubcharts(chart: HelmChart, given: unknown, holds: (c: HelmChart) => boolean): Array<{ at: string; subchart: HelmChart }> {
  if (!chart.subcharts.some((sub) => holding(sub, holds))) return [];
  const start = isMap(given) ? given : {};
  let kept: Map<string, Node> | undefined;
  try {
    const root = nodeOf(chart);
    for (const era of ERAS) {
      if (era.importsOnly === true) continue; // import-values decide nothing about which subcharts install
      const here = new Map<string, Node>();
      const walk = (tree: Tree, names: string[]): void => {
        for (const sub of tree.subs) {
          const at = [...names, sub.name];
          if (holds(sub.node.chart)) here.set(at.join('/'), sub.node);
          walk(sub, at);
        }
      };
      walk(enabledTree(root, chart.name, () => start, '', era, new Map()), [chart.name]);
      kept = kept === undefined ? here : new Map([...kept].filter(([at, node]) => here.get(at) === node));
    }
  } catch (err) {
    if (err instanceof NotJudged) return [];
    throw err;
  }
  return [...(kept ?? [])].map(([at, node]) => ({ at, subchart: node.chart }));
}

/**
 * The crds/ files Helm's install of `chart` cannot apply (HelmChart.crdRefusals), given the values Palette
 * passes it (`given`, the pack's `charts.<name>`): Helm installs the CRDs of every subchart
 * ProcessDependencies keeps (helm/helm pkg/action/install.go: ProcessDependencies, then chrt.CRDObjects(),
 * which walks the chart's dependencies) and fails on the first it cannot read ("failed to install CRD ...").
 * A subchart counts only when every Helm 3 era keeps it (conditions and tags read in the coalesced values);
 * none when a condition cannot be judged here (a Palette macro, a constraint Helm reads otherwise).
 */
export function subchartCrdRefusals(chart: HelmChart, given: unknown): SubchartCrdRefusal[] {
  return keptSubcharts(chart, given, crdRefused).flatMap(({ at, subchart }) => (subchart.crdRefusals ?? []).map((r) => ({ chart: at, subchart, ...r })));
}

/** Every subchart below `chart` that `holds` picks, named by its chart names (`redis`, `a/b`). */
function subchartsHolding(chart: HelmChart, holds: (c: HelmChart) => boolean, names: string[] = []): Array<{ at: string[]; sub: HelmChart }> {
  return chart.subcharts.flatMap((sub) => {
    const at = [...names, sub.name];
    return [...(holds(sub) ? [{ at, sub }] : []), ...subchartsHolding(sub, holds, at)];
  });
}

/** How a user turns on the subchart at `at` (below `chart`) in Palette's values editor: its condition, when it has one. */
function turnOn(chart: HelmChart, at: string[], sub: HelmChart): string {
  const dep = at.length === 1 ? chart.dependencies.find((d) => d.name === sub.name && (d.condition ?? '').trim() !== '') : undefined;
  return dep === undefined ? 'its condition or tags' : `charts.${chart.name}.${(dep.condition ?? '').trim().split(',')[0]}`;
}

/**
 * Errors for the charts pack.json lists whose install fails on a subchart's crds/ file, the subchart being
 * enabled by the chart's values with the pack's `charts.<chart name>` over them (subchartCrdRefusals).
 * Warnings for such a subchart the values as published leave out (or whose condition a Palette macro sets):
 * Palette's values editor lets a user turn it on, and the install then fails on that file.
 */
export function subchartCrdFindings(charts: readonly ReadChart[], valuesText: string): Finding[] {
  const judged = charts.filter((c) => holding(c.chart, crdRefused));
  if (judged.length === 0) return [];
  const { check, given: givenTo } = packValuesOf(valuesText);
  const findings: Finding[] = [];
  for (const { rel, chart } of judged) {
    const given = givenTo(chart);
    const refusals = subchartCrdRefusals(chart, given);
    for (const r of refusals) {
      const sub = r.chart.split('/').slice(1).join('/');
      findings.push({
        severity: 'error',
        rule: 'chart-refused-by-helm',
        file: rel,
        message: `Helm cannot install this chart with the values as published: its subchart ${sub} is enabled (no condition or tag in the chart's values with the pack's charts.${chart.name} over them leaves it out), and Helm applies the subchart's ${r.file} as it is, never rendered, and cannot read it ("failed to install CRD ${r.file}"): ${r.why}; ${r.hint}; or, if the pack does not need subchart ${sub}, turn it off in values.yaml (its condition)`,
      });
    }
    const refused = new Set(refusals.map((r) => r.subchart));
    for (const { at, sub } of subchartsHolding(chart, crdRefused)) {
      if (refused.has(sub)) continue;
      const name = at.join('/');
      for (const r of sub.crdRefusals ?? []) {
        findings.push({
          severity: 'warning',
          rule: 'chart-subchart-crd-unreadable',
          file: rel,
          message: `Helm cannot install this chart once its subchart ${name} is enabled: Helm then applies the subchart's ${r.file} as it is, never rendered, and cannot read it ("failed to install CRD ${r.file}"): ${r.why}; ${r.hint}. The values as published leave the subchart out (or a Palette macro decides), but a user can turn it on (${turnOn(chart, at, sub)}) in Palette's values editor`,
        });
      }
    }
  }
  return findings;
}

/** Helm's words when a template runs one no template defines. */
const noTemplate = (name: string): string => `Helm: "error calling include: template: no template \"${name}\" associated with template \"gotpl\""`;

/**
 * Errors for the charts pack.json lists holding a subchart template Go's template parser refuses
 * (HelmChart.templateRefusals), or that runs on every render a template no template of the chart defines
 * (HelmChart.undefinedRuns: Helm renders every template of an enabled subchart, not partials), the subchart being enabled by the chart's values with the pack's
 * `charts.<chart name>` over them: Helm parses the templates of every subchart ProcessDependencies keeps, with the
 * chart's own, before it renders any (pkg/engine render, recAllTpls), so every install fails. Warnings for such a
 * subchart the values as published leave out, or whose condition a Palette macro sets: Helm never parses a
 * disabled subchart's templates, so the pack installs, until a user turns the subchart on in Palette's values editor.
 */
export function subchartTemplateFindings(charts: readonly ReadChart[], valuesText: string): Finding[] {
  const judged = charts.filter((c) => holding(c.chart, templateRefused));
  if (judged.length === 0) return [];
  const { given: givenTo } = packValuesOf(valuesText);
  const findings: Finding[] = [];
  for (const { rel, chart } of judged) {
    const kept = keptSubcharts(chart, givenTo(chart), templateRefused);
    for (const { at, subchart } of kept) {
      const sub = at.split('/').slice(1).join('/');
      for (const r of subchart.templateRefusals ?? []) {
        findings.push({
          severity: 'error',
          rule: 'chart-refused-by-helm',
          file: rel,
          message: `Helm cannot install this chart with the values as published: its subchart ${sub} is enabled (no condition or tag in the chart's values with the pack's charts.${chart.name} over them leaves it out), and Go's template parser refuses the subchart's ${r.file}, line ${r.line}: ${r.message} (Helm: "parse error at (${at.split('/').join('/charts/')}/${r.file}:${r.line}): ..."); Helm parses the templates of every enabled subchart before it renders any. Fix the template in the subchart (\`helm lint\` shows the same error), then package the chart again; or, if the pack does not need subchart ${sub}, turn it off in values.yaml (its condition)`,
        });
      }
      for (const r of subchart.renderFailures ?? []) {
        findings.push({
          severity: 'error',
          rule: 'chart-refused-by-helm',
          file: rel,
          message: `Helm cannot install this chart with the values as published: its subchart ${sub} is enabled (no condition or tag in the chart's values with the pack's charts.${chart.name} over them leaves it out), and the subchart's ${r.file} ${r.why}, so every install stops there. Fix the template in the subchart, then package the chart again; or, if the pack does not need subchart ${sub}, turn it off in values.yaml (its condition)`,
        });
      }
      for (const r of subchart.undefinedRuns ?? []) {
        findings.push({
          severity: 'error',
          rule: 'chart-refused-by-helm',
          file: rel,
          message: `Helm cannot install this chart with the values as published: its subchart ${sub} is enabled (no condition or tag in the chart's values with the pack's charts.${chart.name} over them leaves it out), and the subchart's ${r.file} runs the template "${r.name}" (line ${r.line}) on every render, which no template of the chart or of its subcharts defines, so every install stops there (${noTemplate(r.name)}). Fix the name in the subchart, or define it, then package the chart again; or, if the pack does not need subchart ${sub}, turn it off in values.yaml (its condition)`,
        });
      }
    }
    const refused = new Set(kept.map((k) => k.subchart));
    for (const { at, sub } of subchartsHolding(chart, templateRefused)) {
      if (refused.has(sub)) continue;
      for (const r of sub.templateRefusals ?? []) {
        findings.push({
          severity: 'warning',
          rule: 'chart-subchart-template-unparsable',
          file: rel,
          message: `Helm cannot install this chart once its subchart ${at.join('/')} is enabled: Go's template parser refuses the subchart's ${r.file}, line ${r.line}: ${r.message}, and Helm parses the templates of every enabled subchart before it renders any. The values as published leave the subchart out (or a Palette macro decides), so Helm never parses them, but a user can turn it on (${turnOn(chart, at, sub)}) in Palette's values editor; fix the template in the subchart (\`helm lint\` with the subchart enabled shows the error), then package the chart again`,
        });
      }
      for (const r of sub.renderFailures ?? []) {
        findings.push({
          severity: 'warning',
          rule: 'chart-subchart-template-fails',
          file: rel,
          message: `Helm cannot install this chart once its subchart ${at.join('/')} is enabled: the subchart's ${r.file} ${r.why}. The values as published leave the subchart out (or a Palette macro decides), so Helm never renders it, but a user can turn it on (${turnOn(chart, at, sub)}) in Palette's values editor; fix the template in the subchart, then package the chart again`,
        });
      }
      for (const r of sub.undefinedRuns ?? []) {
        findings.push({
          severity: 'warning',
          rule: 'chart-subchart-template-undefined',
          file: rel,
          message: `Helm cannot install this chart once its subchart ${at.join('/')} is enabled: the subchart's ${r.file} runs the template "${r.name}" (line ${r.line}) on every render, which no template of the chart or of its subcharts defines (${noTemplate(r.name)}). The values as published leave the subchart out (or a Palette macro decides), so Helm never renders it, but a user can turn it on (${turnOn(chart, at, sub)}) in Palette's values editor; fix the name in the subchart, or define it, then package the chart again`,
        });
      }
    }
  }
  return findings;
}

/**
 * The top chart's values as Helm renders its templates with them, in each Helm 3 era (the chart's values.yaml
 * with `given` over it, coalesced, subcharts and imports applied); undefined when they cannot be judged here.
 */
function renderedValues(chart: HelmChart, given: unknown): Values[] | undefined {
  const start = isMap(given) ? given : {};
  try {
    const root = nodeOf(chart);
    return ERAS.filter((era) => era.importsOnly !== true || importsAny(root)).map((era) => {
      const tree = enabledTree(root, chart.name, () => start, '', era, new Map());
      return coalesce(tree, copy(start) as Values, false, era, (t) => valuesOf(t, era));
    });
  } catch (err) {
    if (err instanceof NotJudged) return undefined;
    throw err;
  }
}

/**
 * Warnings for the charts pack.json lists whose templates run `required` on a value, whatever the values
 * (HelmChart.requiredValues), that the values as published leave unset, null or empty in every Helm 3 era:
 * Helm's install then stops (`execution error at (<chart>/templates/<file>:<line>:<col>): <message>`), as
 * `required` fails on nil or "" (pkg/engine/funcs.go). A warning, as the chart-values-schema rule says of a
 * value the user is to fill in (a password, a cluster name); nothing for a value the pack's schema.yaml lists
 * (Palette asks the user for it) or a Palette macro (a `{{` text is not empty).
 */
export function requiredValueFindings(charts: readonly ReadChart[], valuesText: string, schemaText: string | undefined): Finding[] {
  if (!charts.some((c) => c.chart.requiredValues !== undefined)) return [];
  const pack = packValuesOf(valuesText);
  const inputs = userInputs(schemaText);
  return charts.flatMap(({ rel, chart }) => requiredValueFindingsOf(rel, chart, pack, inputs));
}

function requiredValueFindingsOf(rel: string, chart: HelmChart, pack: ReturnType<typeof packValuesOf>, inputs: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  const { check } = pack;
  const given = pack.given(chart);
  const eras = chart.requiredValues === undefined ? undefined : renderedValues(chart, given);
  if (eras !== undefined) {
    const seen = new Set<string>();
    for (const r of chart.requiredValues ?? []) {
      const dotted = ['charts', chart.name, ...r.path].join('.');
      if (seen.has(dotted) || inputs.some((k) => k === dotted || dotted.startsWith(`${k}.`))) continue;
      if (!eras.every((values) => { const v = valueAt(values, r.path); return v === undefined || v === null || v === ''; })) continue;
      seen.add(dotted);
      const set = given === undefined ? undefined : valueAt(given, r.path);
      const now = valueAt(eras[0], r.path);
      const state = now === undefined ? 'unset' : now === null ? 'null' : 'empty';
      findings.push({
        severity: 'warning',
        rule: 'chart-required-value',
        file: set === undefined ? rel : PACK_FILES.values,
        ...(set === undefined ? {} : located(formatPath(['charts', chart.name, ...r.path]), check?.keyPositions)),
        message: `chart "${chart.name}" of ${rel} requires .Values.${r.path.join('.')} on every install (templates/${r.file} line ${r.line}: required "${r.message}"), and the values as published leave it ${state}, so Helm's install fails ("execution error at (${chart.name}/templates/${r.file}:${r.line}:${r.column - 1}): ${r.message}"): set ${dotted} in values.yaml, or list it in schema.yaml for Palette to ask the user`,
      });
    }
  }
  return findings;
}
