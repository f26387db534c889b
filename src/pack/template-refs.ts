import { LineIndex } from './yaml-tree.js';

/*
 * `.Values` references in Go templates: Palette renders pack manifests with them, and Helm charts read
 * their values through them. Used to check a manifest's references against values.yaml, and to accept
 * keys a chart's templates read even when its values.yaml does not list a default for them.
 */

export interface ValuesReference {
  /** Key path after `.Values`, e.g. `['image', 'tag']`. */
  path: string[];
  line: number;
  column: number;
}

/**
 * `.Values.a.b` and `$.Values.a.b` inside `{{ ... }}` actions. Comment actions (`{{/* ... *\/}}`) are
 * skipped; keys with dashes need `index` in Go templates and are not field references, so they are
 * not found here.
 */
export function valuesReferences(text: string, limit = 10_000): ValuesReference[] {
  const refs: ValuesReference[] = [];
  let lines: LineIndex | undefined;
  scanReferences(text, limit, (dotted, offset) => {
    lines ??= new LineIndex(text);
    refs.push({ path: dotted.split('.'), ...lines.position(offset) });
  });
  return refs;
}

/** The same references as dotted paths (`image.tag`), without positions: cheaper, no line index, no path arrays. */
export function valuesReferencePaths(text: string, limit = 10_000): string[] {
  const paths: string[] = [];
  scanReferences(text, limit, (dotted) => paths.push(dotted));
  return paths;
}

/**
 * What a chart's template reads from its values, as dotted paths handed to `found` (chart.ts; no position is
 * ever shown): the references valuesReferencePaths finds, then the reads it does not (IndirectReads). Only
 * ever more keys a chart is known to read, so only ever fewer "not a value of the chart" warnings.
 * `partial`: the file's name starts with `_`. Helm never renders such a file, only the templates it defines
 * (pkg/engine/engine.go: "Don't render partials"), so only what is inside `define` blocks is read.
 */
export function eachValuesReferencePath(text: string, found: (dotted: string) => void, limit = 10_000, partial = false, actions?: Int32Array): void {
  referencePathsOfPieces([{ text, at: 0 }], () => text, found, limit, partial, actions);
}

/** Pieces an ASCII template's bytes are made strings in (asciiPieces): well below the size V8 gives a string pages of its own. */
const PIECE_BYTES = 64 * 1024;

/**
 * eachValuesReferencePath for an ASCII template given as its bytes: the same paths, in the same order, the text
 * made a string a piece at a time, each cut right after an action (asciiPieces). A string of a whole template
 * of 128 KB or more cost about five times the CPU per byte of a smaller one (V8 gives it pages of its own,
 * each touched afresh: page faults); on the bench tree 41 such templates are 19 MB of the 42 MB of template
 * bytes (issue 16). A partial, or a template that sets a variable to .Values, is also made one string (for
 * its define bodies, for the regular expressions that follow the variable).
 */
export function eachValuesReferencePathOfAscii(bytes: Buffer, found: (dotted: string) => void, limit = 10_000, partial = false, pieceBytes = PIECE_BYTES, actions?: Int32Array): void {
  if (partial || bytes.length <= pieceBytes) {
    eachValuesReferencePath(bytes.toString('latin1'), found, limit, partial, actions);
    return;
  }
  referencePathsOfPieces(asciiPieces(bytes, pieceBytes), () => bytes.toString('latin1'), found, limit, false, actions);
}

/**
 * The text's pieces from its start, each a string and where it starts. A piece ends right after a `}}`: an
 * action is `{{` up to the first `}}` after it (scanReferences), so none spans a piece's end, and every
 * character the scan looks at around a `.Values` is inside its action or back to the `}}` before it.
 */
function* asciiPieces(bytes: Buffer, size: number): Generator<{ text: string; at: number }> {
  let at = 0;
  while (bytes.length - at > size) {
    const cut = cutAfterAction(bytes, at, at + size);
    if (cut === -1) break;
    yield { text: bytes.toString('latin1', at, cut), at };
    at = cut;
  }
  yield { text: bytes.toString('latin1', at), at };
}

/** Where a piece from `from` may end, `end` at the most (asciiPieces); -1 where it cannot. */
function cutAfterAction(bytes: Buffer, from: number, end: number): number {
  const close = bytes.lastIndexOf('}}', end - 2);
  return close > from ? close + 2 : -1;
}

/** The reference scan of a text given as pieces (`at`: where a piece starts in it); `whole`: the text as one string. */
function referencePathsOfPieces(pieces: Iterable<{ text: string; at: number }>, whole: () => string, found: (dotted: string) => void, limit: number, partial: boolean, actions?: Int32Array): void {
  const spans = partial ? defineSpans(whole()) : undefined;
  if (spans !== undefined && spans.length === 0) return;
  const read = spans === undefined ? () => true : (offset: number) => inSpans(spans, offset);
  // References handed on (read), and found by the scan (its limit).
  let count = 0;
  let scanned = 0;
  const reads = new IndirectReads(read);
  // The action of `actions` the scan stands in (actionsScan), kept from piece to piece.
  const cursor = { k: 0 };
  for (const piece of pieces) {
    if (scanned >= limit) break;
    const onReference = (dotted: string, offset: number) => {
      scanned++;
      if (!read(piece.at + offset)) return;
      count++;
      found(dotted);
    };
    const onValues = (at: number) => {
      if (read(piece.at + at)) reads.at(piece.text, at);
    };
    if (actions === undefined) scanReferences(piece.text, limit - scanned, onReference, onValues);
    else actionsScan(piece.text, piece.at, actions, cursor, limit - scanned, onReference, onValues);
  }
  reads.finish(limit - count, found, whole);
}

/** Where the bodies of the text's `{{ define }}` (and `{{ block }}`: a define used in place) are: [start, end) pairs in order. */
function defineSpans(text: string): number[] {
  const spans: number[] = [];
  // Per open block: where its body starts when it is a define, else -1.
  const blocks: number[] = [];
  for (let open = text.indexOf('{{'); open !== -1; open = text.indexOf('{{', open + 2)) {
    const close = text.indexOf('}}', open + 2);
    if (close === -1) break;
    let i = open + 2;
    if (text.charCodeAt(i) === 0x2d) i++;
    while (isSpace(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    // Only the keywords matter: end, define, block, if, with, range (an action starting otherwise opens nothing).
    if (c === 0x65 && text.startsWith('end', i) && !isWord(text.charCodeAt(i + 3))) {
      const start = blocks.pop();
      if (start !== undefined && start !== -1) spans.push(start, open);
    } else if ((c === 0x64 && keywordAt(text, i, 'define')) || (c === 0x62 && keywordAt(text, i, 'block'))) blocks.push(close + 2);
    else if ((c === 0x69 && keywordAt(text, i, 'if')) || (c === 0x77 && keywordAt(text, i, 'with')) || (c === 0x72 && keywordAt(text, i, 'range'))) blocks.push(-1);
    open = close;
  }
  return spans;
}

function keywordAt(text: string, i: number, word: string): boolean {
  return text.startsWith(word, i) && !isWord(text.charCodeAt(i + word.length));
}

/** Whether `offset` is in one of the [start, end) pairs of `spans` (in order, apart): a binary search. */
function inSpans(spans: number[], offset: number): boolean {
  let low = 0;
  let high = spans.length / 2 - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (offset < (spans[2 * mid] as number)) high = mid - 1;
    else if (offset >= (spans[2 * mid + 1] as number)) low = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Reads of values a chart's templates make other than as `.Values.a.b` (Go text/template: a variable holds
 * what it was set to; sprig's `get` and Go's `index` read a map's key by name). Seen in real charts: NVIDIA's
 * subcharts start `{{- $topValues := .Values }}` and read `$topValues.extraPodVolumes`; `$root := .` then
 * `$root.Values.x` is common; keys with a dash need `index .Values "my-key"`.
 * - `$var.Values.a.b` (any variable: `$root`, `$top`, `$ctx`...) reads a.b;
 * - `$v := .Values` (or `$.Values`, `$x.Values`, `=` for `:=`), then `$v.a.b` in the same text, reads a.b;
 * - `index X "a" "b"`, `get X "a"`, `hasKey X "a"` with X one of those, or `$v`, reads a.b (only quoted
 *   keys: a key held in a variable is not known).
 * Not followed: `with .Values` (dot is then .Values), `toYaml .Values`, `.Values` handed to a function:
 * what is read below them is not known (in 300 chart archives of pack-central's history, 3 do so).
 * Found at each `.Values` the reference scan meets in an action (not in a comment), by looking at the
 * characters around it: regular expressions over every template cost three times the whole reference
 * scan, and a second pass over the text half of it (issue 16). Only a text that sets a variable to .Values
 * is searched again, with regular expressions for that variable (anywhere in it).
 */
class IndirectReads {
  private readonly paths: string[] = [];
  private variables: Set<string> | undefined;

  /** `read`: whether what is at an offset of the text is read at all (partials: inside a define). */
  constructor(private readonly read: (offset: number) => boolean = () => true) {}

  /** The `.Values` at `at` of `text` (the text, or the piece of it that holds the action), inside an action. */
  at(text: string, at: number): void {
    if (isWord(text.charCodeAt(at + 7))) return; // `.ValuesX`
    // What is before: `$name.Values` (a variable), `$.Values` or `.Values`, and where that starts.
    let start = at;
    while (start > 0 && isWord(text.charCodeAt(start - 1))) start--;
    const named = start < at;
    if (start > 0 && text.charCodeAt(start - 1) === 0x24) start--;
    else if (named) return; // `x.Values`: a field of something else
    if (text.charCodeAt(at + 7) === 0x2e && isIdentStart(text.charCodeAt(at + 8))) {
      // `$var.Values.a.b` (`$.Values.a.b` and `.Values.a.b` are scanReferences').
      if (named) this.paths.push(text.slice(at + 8, fieldsEnd(text, at + 7)));
      return;
    }
    // `.Values` alone: set to a variable, or read by index/get/hasKey.
    const variable = assignedTo(text, start, at + 7);
    if (variable !== undefined) (this.variables ??= new Set()).add(variable);
    else {
      const keys = keyRead(text, start, at + 7);
      if (keys !== undefined) this.paths.push(keys);
    }
  }

  /** Hand on what was found, then what is read through the variables set to .Values (in `whole`, the text): at most `limit` paths. */
  finish(limit: number, found: (dotted: string) => void, whole: () => string): void {
    const { paths } = this;
    const variables = this.variables;
    if (variables !== undefined) {
      const text = whole();
      // One pass for all the variables (a pass per variable made a template of many assignments quadratic):
      // `$name` followed by fields, the whole name taken (`$top` is not read by `$topKey.x`).
      for (const m of text.matchAll(/\$([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)/g)) if (variables.has(m[1] as string) && this.read(m.index)) paths.push((m[2] as string).slice(1));
      for (const m of text.matchAll(/\b(?:index|get|hasKey)\s+\$([A-Za-z_]\w*)((?:\s+"[^"\\{}]*")+)/g)) {
        if (!variables.has(m[1] as string) || !this.read(m.index)) continue;
        const keys = quotedKeys(m[2] as string);
        if (keys !== undefined) paths.push(keys);
      }
    }
    for (const path of paths.slice(0, Math.max(limit, 0))) found(path);
  }
}

/** The end of the `.name.name...` chain starting at `i` (i itself when there is none). */
function fieldsEnd(text: string, i: number): number {
  while (text.charCodeAt(i) === 0x2e && isIdentStart(text.charCodeAt(i + 1))) {
    i += 2;
    while (isWord(text.charCodeAt(i))) i++;
  }
  return i;
}

/** The variable in `$name := X` / `$name = X`, X at [start, end) and followed by `}}`, `-}}` or `)`. */
function assignedTo(text: string, start: number, end: number): string | undefined {
  let i = end;
  while (isSpace(text.charCodeAt(i))) i++;
  const c = text.charCodeAt(i);
  if (!(c === 0x29 || (c === 0x7d && text.charCodeAt(i + 1) === 0x7d) || (c === 0x2d && text.charCodeAt(i + 1) === 0x7d && text.charCodeAt(i + 2) === 0x7d))) return undefined;
  let j = start - 1;
  while (j >= 0 && isSpace(text.charCodeAt(j))) j--;
  if (text.charCodeAt(j) !== 0x3d) return undefined;
  j--;
  if (text.charCodeAt(j) === 0x3a) j--;
  while (j >= 0 && isSpace(text.charCodeAt(j))) j--;
  const nameEnd = j + 1;
  while (j >= 0 && isWord(text.charCodeAt(j))) j--;
  if (j + 1 === nameEnd || text.charCodeAt(j) !== 0x24 || !isIdentStart(text.charCodeAt(j + 1))) return undefined;
  return text.slice(j + 1, nameEnd);
}

/** The dotted keys of `index X "a" "b"` / `get X "a"` / `hasKey X "a"`, X at [start, end). */
function keyRead(text: string, start: number, end: number): string | undefined {
  let j = start - 1;
  if (!isSpace(text.charCodeAt(j))) return undefined;
  while (j >= 0 && isSpace(text.charCodeAt(j))) j--;
  const wordEnd = j + 1;
  while (j >= 0 && isWord(text.charCodeAt(j))) j--;
  const word = text.slice(j + 1, wordEnd);
  if (word !== 'index' && word !== 'get' && word !== 'hasKey') return undefined;
  const args = /^(?:\s+"[^"\\{}]*")+/.exec(text.slice(end, end + 512));
  return args === null ? undefined : quotedKeys(args[0]);
}

/** `"a" "b"` as `a.b`; undefined when a key is empty or holds a dot (not to be told apart from a path then). */
function quotedKeys(args: string): string | undefined {
  const keys = [...args.matchAll(/"([^"\\{}]*)"/g)].map((k) => k[1] as string);
  return keys.some((k) => k === '' || k.includes('.')) ? undefined : keys.join('.');
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Calls `found` with each reference's dotted path and the offset of its `.Values` / `$.Values`, at most `limit` times. */
function scanReferences(text: string, limit: number, found: (dotted: string, offset: number) => void, visit?: (at: number) => void): void {
  let count = 0;
  // Actions are `{{` up to the first `}}` after it, scanned from the start; only those holding `.Values`
  // are looked at (issue 16: templates hold thousands of actions, few read values). No action holds a
  // `}}`, so the scan can start again right after any `}}` before a `.Values` and find the same actions.
  // Everything before `from` is done.
  let from = 0;
  while (count < limit) {
    const at = text.indexOf('.Values', from);
    if (at === -1) return;
    // After the last `}}` that ends before `at`, when that is past `from`: text.lastIndexOf('}}', at - 2),
    // looked for only down to `from` (V8's lastIndexOf is a runtime call, not a fast builtin: issue 16).
    // Every second character is read: one of a pair's two `}` is at an index read, and a `}` read is checked
    // with the character after it first (the later pair), then the one before it.
    let start = from;
    const low = Math.max(from - 1, 0);
    for (let j = at - 2; j >= low; j -= 2) {
      if (text.charCodeAt(j) !== 0x7d) continue;
      if (text.charCodeAt(j + 1) === 0x7d) {
        start = j + 2;
        break;
      }
      if (j - 1 >= low && text.charCodeAt(j - 1) === 0x7d) {
        start = j + 1;
        break;
      }
    }
    const open = text.indexOf('{{', start);
    if (open === -1 || open + 2 > at) {
      from = at + 7; // outside every action
      continue;
    }
    // Found with indexOf, not one regex over the file: an unclosed `{{` must not make it quadratic.
    const close = text.indexOf('}}', open + 2);
    if (close === -1) return;
    if (!commentAt(text, open + 2)) count = actionReferences(text, open + 2, close, at, count, limit, found, visit);
    from = close + 2;
  }
}

/**
 * scanReferences given where the text's actions are (go-template.ts goTemplateRead's `actions`, each ending at the first
 * `}}` after its `{{`, as this scan ends them): the action holding each `.Values` is found by walking that list rather
 * than by looking back for a `}}` and on for the `{{` and `}}` around it (issue 16). The same calls, in the same order.
 * `text` starts at `base` of the text the list is of (a piece of it, asciiPieces: no action spans a piece's end);
 * `cursor.k`: the first action not yet passed (its `{{` at actions[2k]).
 */
function actionsScan(text: string, base: number, actions: Int32Array, cursor: { k: number }, limit: number, found: (dotted: string, offset: number) => void, visit: (at: number) => void): void {
  let count = 0;
  let from = 0;
  let k = cursor.k;
  const n = actions.length;
  while (count < limit) {
    const at = text.indexOf('.Values', from);
    if (at === -1) break;
    // Past the actions that end before it: it is in the next one, or outside every action.
    while (k < n && (actions[k + 1] as number) - base < at) k += 2;
    const open = k < n ? (actions[k] as number) - base : -1;
    if (open === -1 || open + 2 > at) {
      from = at + 7;
      continue;
    }
    const close = (actions[k + 1] as number) - base;
    if (!commentAt(text, open + 2)) count = actionReferences(text, open + 2, close, at, count, limit, found, visit);
    from = close + 2;
  }
  cursor.k = k;
}

/**
 * Whether a comment starts the action body at `i` (`{{/*`, `{{- /*`): what the sticky regular
 * expression `-?\s*\/\*` matches there, checked without one (one per action holding `.Values`).
 */
function commentAt(text: string, i: number): boolean {
  if (text.charCodeAt(i) === 0x2d) i++;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c > 0x7f && SPACE.test(text[i] as string))) i++;
    else break;
  }
  return text.charCodeAt(i) === 0x2f && text.charCodeAt(i + 1) === 0x2a;
}

/** One character of `\s` beyond ASCII. */
const SPACE = /^\s$/;

/**
 * The references in one action's body, text[bodyStart, bodyEnd), whose first `.Values` is at `at`:
 * what the regular expression
 *   /(^|[^\w$.)\]]|\b(?:if|with|range|else))\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g
 * finds in the body (test/unit/pack/pack.test.ts, deep-checks-helpers, holds it as the reference), checked
 * character by character at each `.Values` instead of run over a sliced copy of every action (issue 16:
 * a chart's templates hold hundreds of thousands of references). After a keyword Go's lexer needs no
 * space (`{{if.Values.x}}` is `if .Values.x`); after any other word (`$root.Values`, a function:
 * `not.Values` chains on its result) it is not a root reference. Returns the new count.
 */
function actionReferences(text: string, bodyStart: number, bodyEnd: number, at: number, count: number, limit: number, found: (dotted: string, offset: number) => void, visit?: (at: number) => void): number {
  // End of the last reference found: the next one starts at or after it (matches do not overlap).
  let done = bodyStart;
  while (at !== -1 && at + 7 <= bodyEnd && count < limit) {
    visit?.(at);
    // The field chain: one or more `.name` after `.Values`.
    let end = at + 7;
    while (end + 1 < bodyEnd && text.charCodeAt(end) === 0x2e && isIdentStart(text.charCodeAt(end + 1))) {
      end += 2;
      while (end < bodyEnd && isWord(text.charCodeAt(end))) end++;
    }
    const ref = end > at + 7 && at - 1 >= done && text.charCodeAt(at - 1) === 0x24 ? at - 1 : at;
    if (end > at + 7 && rootAt(text, bodyStart, done, ref)) {
      count++;
      found(text.slice(at + 8, end), ref);
      done = end;
      at = text.indexOf('.Values', end);
    } else {
      at = text.indexOf('.Values', at + 1);
    }
  }
  return count;
}

/** Whether `$?.Values` at `ref` is a root reference: at the body's start, after a non-word character or after a keyword. */
function rootAt(text: string, bodyStart: number, done: number, ref: number): boolean {
  if (ref === bodyStart) return done === bodyStart;
  const before = text.charCodeAt(ref - 1);
  if (!isWord(before)) return ref - 1 >= done && before !== 0x24 && before !== 0x2e && before !== 0x29 && before !== 0x5d;
  let word = ref - 1;
  while (word > bodyStart && isWord(text.charCodeAt(word - 1))) word--;
  if (word < done) return false;
  const keyword = text.slice(word, ref);
  return keyword === 'if' || keyword === 'with' || keyword === 'range' || keyword === 'else';
}

/** `\w` of a regular expression without the `u` flag. */
function isWord(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** The fields of the data Palette renders a pack's manifests with: `{{ .Values.x }}`, `{{ .Spectro.cluster }}` (pack-central's twistlock and permission-manager packs). */
const PALETTE_FIELDS = new Set(['Values', 'Spectro']);
/** Actions that start a block whose body sees another dot (a with's or range's value, a define's argument). */
const REBINDING = new Set(['with', 'range', 'define', 'block']);
const BLOCK = new Set(['if', 'with', 'range', 'define', 'block']);

/**
 * The first field of the template's data that an action of `text` reads and Palette's data does not have
 * (`.ObjectMeta`, `.Spec`: Istio's sidecar injector template, which kubeflow packs ship inside a ConfigMap),
 * or undefined. Only where dot is still the data the file is rendered with: outside the bodies of with, range,
 * define and block (their own action reads the outer dot); exported (capitalised) fields only, as Go reads
 * struct fields. Such a file holds another engine's templates, whose `.Values` are not the pack's.
 */
export function foreignTemplateField(text: string): string | undefined {
  // Per open block: whether its body sees another dot.
  const blocks: boolean[] = [];
  let rebound = 0;
  for (let open = text.indexOf('{{'); open !== -1; open = text.indexOf('{{', open + 2)) {
    const close = text.indexOf('}}', open + 2);
    if (close === -1) return undefined;
    let body = text.slice(open + 2, close).trim();
    if (body.startsWith('-')) body = body.slice(1).trim();
    if (body.endsWith('-')) body = body.slice(0, -1).trim();
    if (body.startsWith('/*')) {
      open = close;
      continue;
    }
    const keyword = /^[a-z]+/.exec(body)?.[0] ?? '';
    if (keyword === 'end') {
      if (blocks.pop() === true) rebound--;
    } else {
      if (keyword === 'else' && blocks.length > 0) {
        // `else` runs with the outer dot, `else with X` with X's.
        const rebinds = /^else\s+(?:with|range)\b/.test(body);
        const was = blocks[blocks.length - 1] as boolean;
        if (was !== rebinds) rebound += rebinds ? 1 : -1;
        blocks[blocks.length - 1] = rebinds;
      }
      if (rebound === 0) {
        for (const m of body.matchAll(/(?:^|[\s(|,])\.([A-Z][A-Za-z0-9_]*)/g)) {
          const field = m[1] as string;
          if (!PALETTE_FIELDS.has(field)) return field;
        }
      }
      if (BLOCK.has(keyword)) {
        const rebinds = REBINDING.has(keyword);
        blocks.push(rebinds);
        if (rebinds) rebound++;
      }
    }
    open = close;
  }
  return undefined;
}

/** A `required` call on a `.Values` path that a template runs on every render (unconditionalRequired). */
export interface RequiredValue {
  /** Key path after `.Values`. */
  path: string[];
  /** The message `required` fails with, as written in the template (its quotes removed). */
  message: string;
  line: number;
  column: number;
}

/** A Go string or raw string literal, as a template writes `required`'s message. */
const GO_STRING = '("(?:[^"\\\\\\n]|\\\\.)*"|`[^`]*`)';
const VALUES_PATH = '\\$?\\.Values((?:\\.[A-Za-z_][A-Za-z0-9_]*)+)';
/** Where the path ends: the action's end, a blank, `)` or `|` (a `.` or another character would make it another path). */
const PATH_END = '(?=\\s|\\)|\\||$)';
/** `required "msg" .Values.a.b`: the call, wherever it stands in the action (Go evaluates every argument of a function). */
const REQUIRED_CALL = new RegExp(`(?:^|[\\s(|])required\\s+${GO_STRING}\\s+${VALUES_PATH}${PATH_END}`, 'g');
/** `.Values.a.b | required "msg"`: the path as the whole first command of a pipeline (at the action's start, after `(` or `:=`/`=`). */
const REQUIRED_PIPE = new RegExp(`(?:^|\\(|:?=)\\s*${VALUES_PATH}\\s*\\|\\s*required\\s+${GO_STRING}${PATH_END}`, 'g');

/** `include "name" .` / `template "name" $`: a define run with the data the action sees (the root data at a file's top level). */
const INCLUDE_CALL = /(?:^|[\s(|=])(?:include|template)\s+"([^"\\\n]+)"\s+[.$](?=\s|\)|\||$)/g;

/** What requiredScan finds in one template file. */
export interface RequiredScan {
  /** `required` calls at the file's top level (unconditionalRequired). */
  top: RequiredValue[];
  /** The defines the file runs at its top level, with the root data. */
  includes: string[];
  /** Per define of the file: the `required` calls at its own top level, and the defines it runs there with its own data. */
  defines: Map<string, { required: RequiredValue[]; includes: string[] }>;
}

/**
 * The `required` calls on `.Values` paths that a template runs whenever it is rendered: in an action at its
 * top level, outside every `if`, `with`, `range`, `define` and `block` body (so no condition decides it), in
 * an action holding no `and`/`or` (which stop evaluating their arguments early since Go 1.18). Helm renders
 * every template of a chart that is not a partial (pkg/engine: a `_` file only through its defines), and
 * `required` fails on a nil value or an empty string (pkg/engine/funcs.go), so such a call whose value is
 * unset or empty fails every install ("execution error at (chart/templates/x.yaml:L:C): <message>").
 * Also, read the same way, each define's own top level, and the defines run with `include`/`template` and
 * the data as it is (`.` or `$`) at the file's or a define's top level: a `required` in
 * `define "x.validate"` that a template runs with `{{ include "x.validate" . }}` runs on every install, and
 * Helm names the define's file and line ("execution error at (chart/templates/_helpers.tpl:L:C): ...").
 */
export function requiredScan(text: string, actions?: Int32Array): RequiredScan {
  const scan: RequiredScan = { top: [], includes: [], defines: new Map() };
  // The open blocks; `inDefine`: the define the outermost one is, if it is one.
  let depth = 0;
  let inDefine: { required: RequiredValue[]; includes: string[] } | undefined;
  let lines: LineIndex | undefined;
  let nextInclude = -1;
  let nextTemplate = -1;
  let nextRequired = -1;
  // With `actions` (go-template.ts goTemplateRead's: each action ends at the first `}}` after its `{{`, as here), the
  // actions are read from that list rather than looked for (issue 16): k is the one at hand.
  let k = 0;
  for (let open = actions === undefined ? text.indexOf('{{') : firstOf(actions); open !== -1; open = actions === undefined ? text.indexOf('{{', open + 2) : nextOf(actions, (k += 2))) {
    const close = actions === undefined ? text.indexOf('}}', open + 2) : (actions[k + 1] as number);
    if (close === -1) break;
    // The action's first word, read in place: most actions are neither at a top level nor a block's edge,
    // and are not cut out of the text (every template of a chart is scanned: issue 16).
    let at = open + 2;
    if (text.charCodeAt(at) === 0x2d /* - */) at++;
    while (at < close && isBlank(text.charCodeAt(at))) at++;
    if (text.startsWith('/*', at)) {
      const end = text.indexOf('*/', open + 2);
      // What this reads as a comment ending past the action's `}}` (Go reads no comment there): read without the list.
      if (actions !== undefined && end > close) return requiredScan(text);
      open = end === -1 ? close : Math.max(close, end);
      continue;
    }
    let wordEnd = at;
    while (wordEnd < close && text.charCodeAt(wordEnd) >= 0x61 && text.charCodeAt(wordEnd) <= 0x7a) wordEnd++;
    const keyword = wordEnd - at > 1 && wordEnd - at < 7 ? blockWord(text, at, wordEnd - at) : '';
    const level = depth === 0 || (depth === 1 && inDefine !== undefined);
    // (keyword is '' or one of BLOCK_WORDS: not 'end' nor a block's is '' or 'else'.)
    if ((keyword === '' && !level) || keyword === 'else') {
      open = close;
      continue;
    }
    // An action that is neither a block's edge nor names include, template or required does nothing here: it is not
    // cut out of the text (issue 16). Where each of those words is next found is kept, each looked for again only once
    // passed.
    if (keyword === '') {
      if (nextInclude < open + 2) nextInclude = after(text, 'include', open + 2);
      if (nextTemplate < open + 2) nextTemplate = after(text, 'template', open + 2);
      if (nextRequired < open + 2) nextRequired = after(text, 'required', open + 2);
      if (nextInclude + 7 > close && nextTemplate + 8 > close && nextRequired + 8 > close) {
        open = close;
        continue;
      }
    }
    let body = text.slice(open + 2, close).trim();
    if (body.startsWith('-')) body = body.slice(1).trim();
    if (body.endsWith('-')) body = body.slice(0, -1).trim();
    if (keyword === 'end') {
      depth = Math.max(0, depth - 1);
      if (depth === 0) inDefine = undefined;
    } else if (keyword !== '') {
      if (depth === 0 && keyword === 'define') {
        const name = /^define\s+"([^"\\\n]+)"/.exec(body)?.[1];
        if (name !== undefined) {
          inDefine = { required: [], includes: [] };
          scan.defines.set(name, inDefine);
        }
      }
      depth++;
    } else if (!/(?:^|[\s(])(?:and|or)\s/.test(body)) {
      const into = depth === 0 ? { required: scan.top, includes: scan.includes } : (inDefine as { required: RequiredValue[]; includes: string[] });
      if (body.includes('include') || body.includes('template')) {
        INCLUDE_CALL.lastIndex = 0;
        for (let m = INCLUDE_CALL.exec(body); m !== null; m = INCLUDE_CALL.exec(body)) into.includes.push(m[1] ?? '');
      }
      if (body.includes('required')) {
        const start = text.indexOf(body, open);
        for (const [re, pathAt, messageAt] of [[REQUIRED_CALL, 2, 1], [REQUIRED_PIPE, 1, 2]] as const) {
          re.lastIndex = 0;
          for (let m = re.exec(body); m !== null; m = re.exec(body)) {
            const literal = m[messageAt] ?? '';
            lines ??= new LineIndex(text);
            into.required.push({
              path: (m[pathAt] ?? '').slice(1).split('.'),
              message: literal.startsWith('`') ? literal.slice(1, -1) : literal.slice(1, -1).replace(/\\(.)/g, '$1'),
              ...lines.position(start + m.index + m[0].indexOf('required')),
            });
          }
        }
      }
    }
    open = close;
  }
  return scan;
}

/** The first action's `{{` in an action list (requiredScan), or -1. */
function firstOf(actions: Int32Array): number {
  return actions.length === 0 ? -1 : (actions[0] as number);
}

/** The `{{` of the action at `k` of an action list, or -1 past its end. */
function nextOf(actions: Int32Array, k: number): number {
  return k < actions.length ? (actions[k] as number) : -1;
}

/** Where `word` is next in `text` from `from`, or the text's length when it is not. */
function after(text: string, word: string, from: number): number {
  const at = text.indexOf(word, from);
  return at === -1 ? text.length : at;
}

/** The word of `length` letters at `at` when it is one requiredScan acts on (end, else, a block's), else ''; not cut out of the text. */
function blockWord(text: string, at: number, length: number): string {
  for (const word of BLOCK_WORDS) if (word.length === length && text.startsWith(word, at)) return word;
  return '';
}
const BLOCK_WORDS = ['end', 'else', 'if', 'with', 'range', 'define', 'block'];

/** Go's template lexer's blanks around an action's words. */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
