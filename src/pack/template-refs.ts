import { isAscii } from 'node:buffer';
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
  const bytes = Buffer.from(text, 'utf8');
  const refs: ValuesReference[] = [];
  let lines: LineIndex | undefined;
  // References come in order: each byte offset becomes a character offset from the one before.
  let byteAt = 0;
  let charAt = 0;
  scanReferences(bytes, limit, (dotted, offset) => {
    const between = bytes.subarray(byteAt, offset);
    charAt += isAscii(between) ? between.length : between.toString('utf8').length;
    byteAt = offset;
    lines ??= new LineIndex(text);
    refs.push({ path: dotted.split('.'), ...lines.position(charAt) });
  });
  return refs;
}

/**
 * The same references as dotted paths (`image.tag`), without positions: what a chart's templates read
 * (chart.ts), where no position is ever shown. Read from the template's UTF-8 bytes, never decoded
 * (issue 16: a tree's chart archives hold ~40 MB of templates): every character the scan looks at is
 * ASCII, and in UTF-8 an ASCII byte is always that character, so the bytes give the references decoding
 * would give, even where they are not valid UTF-8 (a decoder replaces bad bytes, never an ASCII one).
 */
export function valuesReferencePaths(bytes: Buffer, limit = 10_000): string[] {
  const paths: string[] = [];
  scanReferences(bytes, limit, (dotted) => paths.push(dotted));
  return paths;
}

const VALUES = Buffer.from('.Values');
const OPEN = Buffer.from('{{');
const CLOSE = Buffer.from('}}');

/** Calls `found` with each reference's dotted path and the byte offset of its `.Values` / `$.Values`, at most `limit` times. */
function scanReferences(text: Buffer, limit: number, found: (dotted: string, offset: number) => void): void {
  let count = 0;
  // Actions are `{{` up to the first `}}` after it, scanned from the start; only those holding `.Values`
  // are looked at (issue 16: templates hold thousands of actions, few read values). No action holds a
  // `}}`, so the scan can start again right after any `}}` before a `.Values` and find the same actions.
  // Everything before `from` is done.
  let from = 0;
  while (count < limit) {
    const at = text.indexOf(VALUES, from);
    if (at === -1) return;
    const lastClose = at >= 2 ? text.lastIndexOf(CLOSE, at - 2) : -1;
    const start = lastClose !== -1 && lastClose + 2 > from ? lastClose + 2 : from;
    const open = text.indexOf(OPEN, start);
    if (open === -1 || open + 2 > at) {
      from = at + 7; // outside every action
      continue;
    }
    // Found with indexOf, not one regex over the file: an unclosed `{{` must not make it quadratic.
    const close = text.indexOf(CLOSE, open + 2);
    if (close === -1) return;
    if (!isComment(text, open + 2, close)) count = actionReferences(text, open + 2, close, at, count, limit, found);
    from = close + 2;
  }
}

/** A comment action's body: `/^-?\s*\/\*\/` (JavaScript's `\s`, Unicode spaces included) matches at `body`. */
function isComment(text: Buffer, body: number, end: number): boolean {
  let i = body;
  if (text[i] === 0x2d) i++;
  for (;;) {
    const c = text[i];
    if (c === undefined) return false;
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) i++;
    else if (c >= 0x80) {
      // Rare: a non-ASCII character right at the start of an action; the regex decides, on the decoded body.
      return /^-?\s*\/\*/.test(text.toString('utf8', body, Math.min(end + 2, text.length)));
    } else return c === 0x2f && text[i + 1] === 0x2a;
  }
}

/**
 * The references in one action's body, text[bodyStart, bodyEnd), whose first `.Values` is at `at`:
 * what the regular expression
 *   /(^|[^\w$.)\]]|\b(?:if|with|range|else))\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g
 * finds in the body (test/unit/pack/deep-checks-helpers.test.ts holds it as the reference), checked
 * byte by byte at each `.Values` instead of run over a sliced copy of every action (issue 16:
 * a chart's templates hold hundreds of thousands of references). After a keyword Go's lexer needs no
 * space (`{{if.Values.x}}` is `if .Values.x`); after any other word (`$root.Values`, a function:
 * `not.Values` chains on its result) it is not a root reference. Returns the new count.
 */
function actionReferences(text: Buffer, bodyStart: number, bodyEnd: number, at: number, count: number, limit: number, found: (dotted: string, offset: number) => void): number {
  // End of the last reference found: the next one starts at or after it (matches do not overlap).
  let done = bodyStart;
  while (at !== -1 && at + 7 <= bodyEnd && count < limit) {
    // The field chain: one or more `.name` after `.Values`.
    let end = at + 7;
    while (end + 1 < bodyEnd && text[end] === 0x2e && isIdentStart(text[end + 1] as number)) {
      end += 2;
      while (end < bodyEnd && isWord(text[end] as number)) end++;
    }
    const ref = end > at + 7 && at - 1 >= done && text[at - 1] === 0x24 ? at - 1 : at;
    if (end > at + 7 && rootAt(text, bodyStart, done, ref)) {
      count++;
      found(text.toString('latin1', at + 8, end), ref);
      done = end;
      at = text.indexOf(VALUES, end);
    } else {
      at = text.indexOf(VALUES, at + 1);
    }
  }
  return count;
}

/** Whether `$?.Values` at `ref` is a root reference: at the body's start, after a non-word character or after a keyword. */
function rootAt(text: Buffer, bodyStart: number, done: number, ref: number): boolean {
  if (ref === bodyStart) return done === bodyStart;
  const before = text[ref - 1] as number;
  if (!isWord(before)) return ref - 1 >= done && before !== 0x24 && before !== 0x2e && before !== 0x29 && before !== 0x5d;
  let word = ref - 1;
  while (word > bodyStart && isWord(text[word - 1] as number)) word--;
  if (word < done) return false;
  return isKeyword(text, word, ref);
}

/** text[from, to) is `if`, `with`, `range` or `else`. */
function isKeyword(text: Buffer, from: number, to: number): boolean {
  switch (to - from) {
    case 2:
      return text[from] === 0x69 && text[from + 1] === 0x66; // if
    case 4:
      return text.toString('latin1', from, to) === 'with' || text.toString('latin1', from, to) === 'else';
    case 5:
      return text.toString('latin1', from, to) === 'range';
    default:
      return false;
  }
}

/** `\w` of a regular expression without the `u` flag. */
function isWord(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}
