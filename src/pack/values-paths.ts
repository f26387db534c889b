import { formatPath as formatJsonPath } from './json-source.js';
import { isNullScalar, mapEntry, mapKeys, resolveAlias, type YEntry, type YMap, type YNode } from './yaml-tree.js';

/*
 * Key paths in values trees: formatting, dotted lookups (schema.yaml and presets.yaml name values as
 * `a.b.c`), and the comparison of a pack's values against the values a chart or manifest expects,
 * with a suggestion when a key sits at the wrong depth (Palette silently ignores misplaced keys).
 */

/** A tree to look keys up in, with the anchors its aliases refer to. */
export interface RefRoot {
  node: YNode;
  anchors: Map<string, YNode>;
}

/** Show a key path as the validator does: `charts.foo.image`, odd keys quoted: `pack["a.b/c"]`. */
export function formatPath(segments: ReadonlyArray<string | number>): string {
  return formatJsonPath(segments);
}

/**
 * True when the chart leaves everything below this value to the user: an empty map or list, a list
 * (its items are examples, not a schema), or null (the usual "set your own map here" default).
 */
export function isOpenValue(node: YNode | undefined): boolean {
  if (node === undefined) return false;
  if (node.kind === 'seq') return true;
  if (node.kind === 'map') return node.entries.length === 0;
  return isNullScalar(node);
}

const MAX_DOTTED_STEPS = 10_000;

/**
 * Look up a dotted path such as `manifests.hello-universe.images.app`; keys that contain dots
 * themselves (`spectrocloud.com/install-priority`) are matched by trying the longer key first.
 */
export function lookupDotted(root: RefRoot, path: string): YEntry | undefined {
  const segments = path.split('.');
  let steps = 0;
  const walk = (node: YNode | undefined, from: number): YEntry | undefined => {
    const map = resolveAlias(node, root.anchors);
    if (map?.kind !== 'map') return undefined;
    for (let end = segments.length; end > from; end--) {
      if (++steps > MAX_DOTTED_STEPS) return undefined;
      const entry = mapEntry(map, segments.slice(from, end).join('.'), root.anchors);
      if (entry === undefined) continue;
      if (end === segments.length) return entry;
      const found = walk(entry.value, end);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(root.node, 0);
}

/** The value at `segments` (exact keys), or undefined. */
export function lookupPath(root: RefRoot, segments: readonly string[]): YNode | undefined {
  let node: YNode | undefined = root.node;
  for (const key of segments) {
    const map = resolveAlias(node, root.anchors);
    if (map?.kind !== 'map') return undefined;
    node = mapEntry(map, key, root.anchors)?.value;
    if (node === undefined) return undefined;
  }
  return resolveAlias(node, root.anchors);
}

/**
 * Whether `segments` is allowed by any of `roots`: it exists, or a prefix of it ends at an open
 * value (see isOpenValue), below which anything goes.
 */
export function pathAllowed(roots: readonly RefRoot[], segments: readonly string[]): boolean {
  return roots.some((root) => {
    let node: YNode | undefined = resolveAlias(root.node, root.anchors);
    for (const key of segments) {
      if (node === undefined) return false;
      if (isOpenValue(node)) return true;
      if (node.kind !== 'map') return false;
      node = resolveAlias(mapEntry(node, key, root.anchors)?.value, root.anchors);
    }
    return node !== undefined;
  });
}

/** Levenshtein distance, for "did you mean" on short names (bounded: both strings cut at 64). */
export function editDistance(a: string, b: string): number {
  const x = a.slice(0, 64);
  const y = b.slice(0, 64);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length] ?? 0;
}

/** Where a misplaced key probably belongs. */
export interface NestingSuggestion {
  /**
   * too-deep: the key belongs higher up; wrapper-too-deep: the key is an extra level around keys that
   * belong higher up (`charts.foo.foo.image`); too-shallow: the key belongs deeper.
   */
  kind: 'too-deep' | 'wrapper-too-deep' | 'too-shallow';
  /** How many levels off. */
  levels: number;
  /** The path(s) the key should have, relative to the same base as the mismatch. */
  paths: string[][];
}

export interface PathMismatch {
  /**
   * unknown-key: the key does not exist here; misplaced-keys: the key exists, but most keys below it
   * belong at the scope root (`keys` names some), i.e. the whole block is nested too deep.
   */
  kind: 'unknown-key' | 'misplaced-keys' | 'map-over-scalar' | 'scalar-over-map';
  /** Path relative to the compared base. */
  path: string[];
  keys?: string[];
  line: number;
  column: number;
  suggestion?: NestingSuggestion;
}

/**
 * What a level of a values tree may hold: keys from reference trees (the chart's own values, a parent
 * chart's overrides, synthetic trees for `global` and dependency conditions), and keys that open a
 * nested scope (subcharts, checked against their own values).
 */
export interface ValuesScope {
  roots: RefRoot[];
  children: Map<string, ValuesScope>;
  /** Nothing is checked at or below this scope (e.g. the chart's own values did not parse). */
  open?: boolean;
  /** The chart's name: a block under it named so is the chart's values written once more (`charts.foo.foo`). */
  name?: string;
}

export interface CompareOptions {
  /** Stop after this many mismatches (default 50). */
  maxMismatches?: number;
  /** Stop after visiting this many user nodes (default 200 000). */
  maxVisits?: number;
  /**
   * Plain values of the reference trees that a fuller scope may hold as maps: a single value of the user's
   * accepted only because one of them is there is not a mismatch here, but the result says `uncertain` (also
   * when a key's only values here are aliases to no anchor). Set when the scope is a part of a fuller one
   * (deep-checks.ts checkCharts): without a mismatch and not `uncertain`, the fuller scope has none either.
   */
  provisional?: { has(node: YNode): boolean };
}

interface Hit {
  node: YNode;
  anchors: Map<string, YNode>;
}

const SUGGEST_DEPTH = 3;
const SUGGEST_VISITS = 5_000;

/**
 * Compare the user's mapping against a scope. Aliases in the user's tree are not expanded (bounded
 * work on hostile input); merge keys in the reference trees are followed, as Helm would.
 */
export function compareToScope(
  user: YMap,
  userAnchors: Map<string, YNode>,
  scope: ValuesScope,
  options: CompareOptions = {},
): { mismatches: PathMismatch[]; truncated: boolean; uncertain?: true } {
  const max = options.maxMismatches ?? 50;
  const provisional = options.provisional;
  let uncertain = false;
  let visitsLeft = options.maxVisits ?? 200_000;
  const mismatches: PathMismatch[] = [];
  let truncated = false;

  const report = (m: PathMismatch): boolean => {
    if (mismatches.length >= max) {
      truncated = true;
      return false;
    }
    mismatches.push(m);
    return true;
  };

  const hitsFor = (roots: readonly Hit[], key: string): Hit[] => {
    const hits: Hit[] = [];
    for (const r of roots) {
      const map = resolveAlias(r.node, r.anchors);
      if (map?.kind !== 'map') continue;
      const entry = mapEntry(map, key, r.anchors);
      if (entry !== undefined) hits.push({ node: entry.value, anchors: r.anchors });
    }
    return hits;
  };

  const compareMap = (u: YMap, levelRefs: Hit[], children: Map<string, ValuesScope> | undefined, path: string[], scopeRoot: Hit[], scopeName?: string): void => {
    for (const entry of u.entries) {
      if (truncated || --visitsLeft < 0) {
        truncated = true;
        return;
      }
      if (entry.key === '<<') continue;
      const child = children?.get(entry.key);
      const entryPath = [...path, entry.key];
      if (child !== undefined) {
        if (child.open === true) continue;
        const value = entry.value;
        if (value.kind === 'map') compareMap(value, child.roots, child.children, entryPath, child.roots, child.name);
        else if (value.kind === 'scalar' && !isNullScalar(value)) {
          report({ kind: 'scalar-over-map', path: entryPath, line: entry.keyLine, column: entry.keyColumn });
        }
        continue;
      }
      const hits = hitsFor(levelRefs, entry.key);
      if (hits.length === 0) {
        const suggestion = suggestNesting(entry, levelRefs, scopeRoot, path, levelRefs === scopeRoot && entry.key === scopeName, children);
        report({ kind: 'unknown-key', path: entryPath, line: entry.keyLine, column: entry.keyColumn, ...(suggestion ? { suggestion } : {}) });
        continue;
      }
      compareValue(entry, hits, entryPath, scopeRoot);
    }
  };

  const compareValue = (entry: YEntry, hits: Hit[], path: string[], scopeRoot: Hit[]): void => {
    const refs = hits.map((h) => ({ node: resolveAlias(h.node, h.anchors), anchors: h.anchors })).filter((h): h is Hit => h.node !== undefined);
    if (refs.length === 0) {
      // Only aliases to no anchor here: a fuller scope may add a value that is there.
      if (provisional !== undefined) uncertain = true;
      return;
    }
    if (refs.some((r) => isOpenValue(r.node))) return;
    const u = entry.value;
    if (u.kind === 'map') {
      const maps = refs.filter((r) => r.node.kind === 'map');
      if (maps.length === 0) {
        report({ kind: 'map-over-scalar', path, line: entry.keyLine, column: entry.keyColumn });
        return;
      }
      if (!reportMisplacedBlock(entry, u, maps, path, scopeRoot)) compareMap(u, maps, undefined, path, scopeRoot);
    } else if (u.kind === 'scalar' && !isNullScalar(u)) {
      // Helm: "cannot overwrite table with non table"; the chart's templates then read a string.
      if (refs.every((r) => r.node.kind === 'map')) report({ kind: 'scalar-over-map', path, line: entry.keyLine, column: entry.keyColumn });
      else if (provisional !== undefined && refs.every((r) => r.node.kind === 'map' || provisional.has(r.node))) uncertain = true;
    }
  };

  /**
   * A block whose keys mostly belong at the scope root, under a key the chart also has (the trivy
   * chart has a `trivy:` key, so `charts.trivy.trivy.<everything>` is not an unknown key): one finding
   * for the block instead of one per key.
   */
  const reportMisplacedBlock = (entry: YEntry, u: YMap, levelRefs: Hit[], path: string[], scopeRoot: Hit[]): boolean => {
    const misplaced = u.entries.filter((e) => e.key !== '<<' && hitsFor(levelRefs, e.key).length === 0 && hitsFor(scopeRoot, e.key).length > 0);
    if (misplaced.length < 2 || misplaced.length * 2 < u.entries.length) return false;
    report({
      kind: 'misplaced-keys',
      path,
      line: entry.keyLine,
      column: entry.keyColumn,
      keys: misplaced.map((e) => e.key),
      suggestion: { kind: 'wrapper-too-deep', levels: path.length, paths: [[]] },
    });
    return true;
  };

  /** `chartName`: the key is the chart's own name, at the top of its values (`charts.foo.foo`). */
  const suggestNesting = (entry: YEntry, levelRefs: Hit[], scopeRoot: Hit[], parent: string[], chartName: boolean, children: ReadonlyMap<string, ValuesScope> | undefined): NestingSuggestion | undefined => {
    // An extra wrapper level: the keys under it are ones this level (or the scope root) has. One such key
    // (`image`, which every chart has) is no sign of it, only under the chart's own name: `kamaji.cfssl.image`
    // is cfssl's image, and moved up it would set kamaji's (pack-central's nvidia-dpf-prereqs).
    const wrapped = entry.value;
    if (wrapped.kind === 'map' && wrapped.entries.length > 0) {
      for (const [refs, base] of [
        [levelRefs, parent],
        [scopeRoot, []],
      ] as const) {
        const known = wrapped.entries.filter((e) => hitsFor(refs, e.key).length > 0).length;
        if ((known >= 2 || (known === 1 && chartName)) && known * 2 >= wrapped.entries.length) {
          return { kind: 'wrapper-too-deep', levels: parent.length + 1 - base.length, paths: [[...base]] };
        }
      }
    }
    // The key exists further down from this level, in this chart: a path through a subchart's block is
    // another chart's value (k10's `fullnameOverride` is no typo of `prometheus.server.fullnameOverride`).
    const deeper = findKeyBelow(levelRefs, entry.key, children);
    if (deeper.length > 0) {
      return { kind: 'too-shallow', levels: (deeper[0]?.length ?? 1) - 1, paths: deeper.map((p) => [...parent, ...p]) };
    }
    // The key exists at the scope root: nested too deep under a wrong parent.
    if (parent.length > 0 && hitsFor(scopeRoot, entry.key).length > 0) {
      return { kind: 'too-deep', levels: parent.length, paths: [[entry.key]] };
    }
    return undefined;
  };

  if (scope.open !== true) compareMap(user, scope.roots, scope.children, [], scope.roots, scope.name);
  return uncertain ? { mismatches, truncated, uncertain } : { mismatches, truncated };
}

/**
 * Paths (relative to the refs, shortest first, at most 3) at which `key` exists 2..SUGGEST_DEPTH levels down,
 * none through a key of `subcharts` (the blocks a parent chart passes to its subcharts).
 */
function findKeyBelow(refs: readonly Hit[], key: string, subcharts?: ReadonlyMap<string, unknown>): string[][] {
  const found: string[][] = [];
  let visits = 0;
  let frontier: Array<{ node: YNode | undefined; anchors: Map<string, YNode>; path: string[] }> = refs.map((r) => ({ ...r, path: [] }));
  for (let depth = 1; depth <= SUGGEST_DEPTH && found.length === 0; depth++) {
    const next: typeof frontier = [];
    for (const item of frontier) {
      const map = resolveAlias(item.node, item.anchors);
      if (map?.kind !== 'map') continue;
      for (const k of mapKeys(map, item.anchors)) {
        if (++visits > SUGGEST_VISITS) return found;
        if (depth === 1 && subcharts?.has(k) === true) continue;
        const path = [...item.path, k];
        if (depth > 1 && k === key) found.push(path);
        else next.push({ node: mapEntry(map, k, item.anchors)?.value, anchors: item.anchors, path });
      }
    }
    frontier = next;
  }
  const unique = [...new Map(found.map((p) => [p.join('\u0000'), p])).values()];
  return unique.slice(0, 3);
}

/**
 * Describe a mismatch for a finding message; `prefix` is the path of the compared base (e.g.
 * `charts.foo`), `what` names the reference (e.g. `chart "foo" 1.2.0`).
 */
export function describeMismatch(m: PathMismatch, prefix: readonly string[], what: string): string {
  const full = formatPath([...prefix, ...m.path]);
  switch (m.kind) {
    case 'map-over-scalar':
      return `${full} is a map here, but ${what} takes a single value at this path, so the keys below it are not read: set ${full} to a plain value, or move the keys to where they belong`;
    case 'scalar-over-map':
      return `${full} is a single value here, but ${what} takes a map of settings at this path: write the individual keys under ${full} instead of one value`;
    case 'misplaced-keys': {
      const keys = m.keys ?? [];
      const sample = keys.slice(0, 3).join(', ') + (keys.length > 3 ? ', ...' : '');
      const levels = (m.suggestion?.levels ?? 1) === 1 ? 'one level' : `${m.suggestion?.levels ?? 1} levels`;
      const target = formatPath(prefix) || '(the top level)';
      return `${keys.length} keys below ${full} (${sample}) are values ${what} reads at ${target}, not there: they are nested ${levels} too deep; move them up to ${target}`;
    }
    case 'unknown-key': {
      const s = m.suggestion;
      const base = `${full} is not a value of ${what}`;
      if (s === undefined) return `${base} (neither its values.yaml nor its templates use it): check the spelling and nesting, or remove it; Palette passes misplaced keys on without a word`;
      const target = [...new Set(s.paths.map((p) => formatPath([...prefix, ...p]) || '(the top level)'))].join(' or ');
      const levels = s.levels === 1 ? 'one level' : `${s.levels} levels`;
      switch (s.kind) {
        case 'wrapper-too-deep':
          return `${base}: the keys below it are nested ${levels} too deep; move them up to ${target} and remove ${full}`;
        case 'too-deep':
          return `${base}: it is nested ${levels} too deep; move it to ${target}`;
        case 'too-shallow':
          return `${base}: it is nested ${levels} too shallow; did you mean ${target}?`;
      }
    }
  }
}
