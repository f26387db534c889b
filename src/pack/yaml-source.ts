import {
  CORE_SCHEMA,
  EVENT_ID,
  SCALAR_STYLE,
  YAMLException,
  constructFromEvents,
  getScalarValue,
  mergeTag,
  parseEvents,
  type Event,
  type ScalarEvent,
  type Schema,
} from 'js-yaml';
import type { Finding } from './findings.js';
import { formatPath, lineStarts, positionAt, type PathSegment, type SourcePosition } from './json-source.js';

/**
 * Hostile-YAML bounds. js-yaml keeps aliases as shared references, so loading a "billion laughs"
 * document is cheap, but anything that later walks the tree (deep checks, JSON rendering, a merge)
 * would expand it. We measure the expansion on the event stream, before constructing anything, and
 * refuse documents past these limits.
 */
/** Deepest nesting accepted (js-yaml's own default; real values.yaml files stay under 20). */
export const MAX_YAML_DEPTH = 100;
/** Most alias uses (`*name`) per file. */
export const MAX_YAML_ALIASES = 10_000;
/** Most nodes that alias uses may add once expanded; a bomb blows past this in a few levels. */
export const MAX_YAML_ALIAS_EXPANSION = 100_000;
/** Most keys merged with `<<` per file (js-yaml's default, made explicit). */
export const MAX_YAML_MERGE_KEYS = 10_000;

const MAX_RECORDED_KEYS = 50_000;
const MAX_RECORDED_DEPTH = 16;

export interface YamlCheck {
  /** True when the text parsed and passed every bound; `documents` is then set. */
  ok: boolean;
  /** Constructed documents (an empty file has none). */
  documents: unknown[];
  /** Position of each mapping key by formatted path, e.g. `pack.content.images`. */
  keyPositions: Map<string, SourcePosition>;
  /** 1-based lines that lie inside a scalar's content (block scalars, multi-line strings). */
  scalarContentLines: Set<number>;
  /** Errors found (syntax, duplicate keys, bombs, depth); empty when ok. */
  findings: Finding[];
}

let schema: Schema | undefined;
/** Helm reads values with merge keys enabled, so `<<: *base` is legal in values.yaml. */
function yamlSchema(): Schema {
  schema ??= CORE_SCHEMA.withTags(mergeTag);
  return schema;
}

interface Frame {
  kind: 'doc' | 'map' | 'seq';
  path: PathSegment[];
  /** Expanded node count so far, aliases included. */
  size: number;
  anchor: string | undefined;
  /** map: the next node is a key; seq: the next index. */
  expectKey: boolean;
  index: number;
  key: PathSegment;
}

class BombError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * Parse YAML text with the bounds above. Never throws for bad input: every problem is a finding in
 * `file`, with a line and column when the parser gives one.
 */
export function checkYamlText(text: string, file: string): YamlCheck {
  const starts = lineStarts(text);
  const result: YamlCheck = { ok: false, documents: [], keyPositions: new Map(), scalarContentLines: new Set(), findings: [] };
  const at = (offset: number): SourcePosition => positionAt(starts, Math.max(0, Math.min(offset, text.length)));

  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: MAX_YAML_DEPTH, filename: file });
  } catch (err) {
    result.findings.push(yamlErrorFinding(err, file));
    return result;
  }

  try {
    walkEvents(text, events, at, result);
  } catch (err) {
    if (!(err instanceof BombError)) throw err;
    const { line, column } = at(err.offset);
    result.findings.push({ severity: 'error', rule: 'yaml-alias-bomb', file, line, column, message: err.message });
    return result;
  }

  try {
    result.documents = constructFromEvents(events, {
      source: text,
      filename: file,
      schema: yamlSchema(),
      maxAliases: MAX_YAML_ALIASES,
      maxTotalMergeKeys: MAX_YAML_MERGE_KEYS,
    });
  } catch (err) {
    result.findings.push(yamlErrorFinding(err, file, text, events));
    return result;
  }
  result.ok = true;
  return result;
}

function walkEvents(text: string, events: Event[], at: (offset: number) => SourcePosition, result: YamlCheck): void {
  const anchorSizes = new Map<string, number>();
  const stack: Frame[] = [];
  let aliases = 0;
  let expansion = 0;

  const slice = (start: number, end: number): string | undefined => (start >= 0 && end >= start ? text.slice(start, end) : undefined);

  /** Where the next node goes: its path segment, and whether it is a mapping key. */
  const place = (): { parent: Frame | undefined; isKey: boolean; segment: PathSegment | undefined } => {
    const parent = stack[stack.length - 1];
    if (parent === undefined || parent.kind === 'doc') return { parent, isKey: false, segment: undefined };
    if (parent.kind === 'seq') return { parent, isKey: false, segment: parent.index };
    return { parent, isKey: parent.expectKey, segment: parent.key };
  };

  /** A node finished: add its expanded size to the parent and advance the parent's position. */
  const complete = (parent: Frame | undefined, size: number, isKey: boolean, keyText?: string): void => {
    if (parent === undefined) return;
    parent.size += size;
    if (parent.kind === 'seq') parent.index++;
    else if (parent.kind === 'map') {
      if (isKey) {
        parent.expectKey = false;
        parent.key = keyText ?? '?';
      } else parent.expectKey = true;
    }
  };

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        stack.push({ kind: 'doc', path: [], size: 0, anchor: undefined, expectKey: false, index: 0, key: '' });
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const { parent, isKey, segment } = place();
        let path: PathSegment[];
        if (parent === undefined) path = [];
        else if (isKey) path = [...parent.path, '?']; // a complex key: nothing useful to name
        else if (segment === undefined) path = parent.path; // the document root
        else path = [...parent.path, segment];
        stack.push({
          kind: ev.type === EVENT_ID.MAPPING ? 'map' : 'seq',
          path,
          size: 1,
          anchor: slice(ev.anchorStart, ev.anchorEnd),
          expectKey: true,
          index: 0,
          key: '',
        });
        break;
      }
      case EVENT_ID.SCALAR: {
        const { parent, isKey } = place();
        markScalarLines(ev, at, result.scalarContentLines);
        const anchor = slice(ev.anchorStart, ev.anchorEnd);
        if (anchor !== undefined) anchorSizes.set(anchor, 1);
        let keyText: string | undefined;
        if (isKey && parent !== undefined) {
          keyText = getScalarValue(text, ev);
          if (parent.path.length < MAX_RECORDED_DEPTH && result.keyPositions.size < MAX_RECORDED_KEYS) {
            const path = formatPath([...parent.path, keyText]);
            if (!result.keyPositions.has(path)) result.keyPositions.set(path, at(ev.valueStart));
          }
        }
        complete(parent, 1, isKey, keyText);
        break;
      }
      case EVENT_ID.ALIAS: {
        const { parent, isKey } = place();
        aliases++;
        const name = slice(ev.anchorStart, ev.anchorEnd) ?? '';
        if (aliases > MAX_YAML_ALIASES) {
          throw new BombError(`more than ${MAX_YAML_ALIASES} aliases (*name); refusing the file as a possible alias bomb. Write the values out instead of repeating aliases`, ev.anchorStart);
        }
        const size = anchorSizes.get(name) ?? 1;
        expansion += size;
        if (expansion > MAX_YAML_ALIAS_EXPANSION) {
          throw new BombError(
            `aliases expand to more than ${MAX_YAML_ALIAS_EXPANSION} nodes (a "billion laughs" alias bomb?); refusing the file. Replace nested aliases (*${name}) with the values they stand for`,
            ev.anchorStart,
          );
        }
        complete(parent, size, isKey, isKey ? '?' : undefined);
        break;
      }
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (frame === undefined || frame.kind === 'doc') break;
        if (frame.anchor !== undefined) anchorSizes.set(frame.anchor, frame.size);
        const parent = stack[stack.length - 1];
        // The popped container was a key when its parent map still expects a key.
        const wasKey = parent?.kind === 'map' && parent.expectKey;
        complete(parent, frame.size, wasKey, wasKey ? '?' : undefined);
        break;
      }
    }
  }
}

/** Lines inside a scalar's content, where indentation and tabs are the value's own business. */
function markScalarLines(ev: ScalarEvent, at: (offset: number) => SourcePosition, lines: Set<number>): void {
  if (ev.valueEnd <= ev.valueStart) return;
  const first = at(ev.valueStart).line;
  const last = at(ev.valueEnd - 1).line;
  if (last === first && ev.style !== SCALAR_STYLE.LITERAL_BLOCK && ev.style !== SCALAR_STYLE.FOLDED_BLOCK) return;
  // Block scalar content starts on its own line; a multi-line flow scalar's first line holds its key.
  const from = ev.style === SCALAR_STYLE.LITERAL_BLOCK || ev.style === SCALAR_STYLE.FOLDED_BLOCK ? first : first + 1;
  for (let line = from; line <= last && lines.size < 1_000_000; line++) lines.add(line);
}

function yamlErrorFinding(err: unknown, file: string, text?: string, events?: Event[]): Finding {
  if (!(err instanceof YAMLException)) {
    return { severity: 'error', rule: 'yaml-syntax', file, message: `could not be parsed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const reason = err.reason;
  const loc = err.mark === undefined ? {} : { line: err.mark.line + 1, column: err.mark.column + 1 };
  if (reason.startsWith('duplicated mapping key')) {
    const key = text !== undefined && events !== undefined && err.mark !== undefined ? keyAt(text, events, err.mark.position) : undefined;
    const what = key === undefined ? 'a key' : `key "${key}"`;
    return {
      severity: 'error',
      rule: 'yaml-duplicate-key',
      file,
      ...loc,
      message: `${what} appears twice in the same mapping; keep one (tools disagree on which one wins)`,
    };
  }
  if (reason.startsWith('nesting exceeded maxDepth')) {
    return { severity: 'error', rule: 'yaml-too-deep', file, ...loc, message: `nesting deeper than ${MAX_YAML_DEPTH} levels; refusing the file. Flatten the structure` };
  }
  if (reason.includes('maxAliases') || reason.includes('maxTotalMergeKeys')) {
    return {
      severity: 'error',
      rule: 'yaml-alias-bomb',
      file,
      ...loc,
      message: `${reason}; refusing the file as a possible alias bomb. Write the values out instead of merging or repeating aliases`,
    };
  }
  return { severity: 'error', rule: 'yaml-syntax', file, ...loc, message: `not valid YAML: ${reason}; fix the syntax at this position` };
}

function keyAt(text: string, events: Event[], position: number): string | undefined {
  for (const ev of events) {
    if (ev.type === EVENT_ID.SCALAR && ev.valueStart <= position && position <= ev.valueEnd) return getScalarValue(text, ev);
  }
  return undefined;
}
