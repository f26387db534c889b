/**
 * A strict RFC 8259 JSON parser that remembers where every value sits, so a finding can say
 * `pack.json:12:5 constraints.dependencies[0].layer`. It accepts exactly what JSON.parse accepts
 * (a property test checks that), and adds what a pack author needs and JSON.parse hides: line and
 * column of a syntax error, duplicate keys, numbers that cannot be represented, and a depth bound so a
 * hostile file cannot exhaust the stack.
 */

/** 1-based line and column (column counts UTF-16 code units, as editors mostly do). */
export interface SourcePosition {
  line: number;
  column: number;
}

export type PathSegment = string | number;

export class JsonSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  readonly kind: 'syntax' | 'too-deep';
  /** The message without the position. */
  readonly reason: string;

  constructor(reason: string, position: SourcePosition, kind: 'syntax' | 'too-deep' = 'syntax') {
    super(`${reason} (line ${position.line}, column ${position.column})`);
    this.name = 'JsonSyntaxError';
    this.reason = reason;
    this.line = position.line;
    this.column = position.column;
    this.kind = kind;
  }
}

/** Not fatal to parsing, but worth a finding. */
export interface JsonProblem {
  /** `imprecise-number`: an integer past 2^53-1 but within Go's int64, which Go's readers take (a float64 rounds it). */
  kind: 'duplicate-key' | 'huge-number' | 'imprecise-number';
  /** Formatted path of the offending member (see formatPath). */
  path: string;
  position: SourcePosition;
  message: string;
}

export interface LocatedJson {
  value: unknown;
  /** Start of each value by formatted path ('' is the root); bounded, see MAX_RECORDED_POSITIONS. */
  positions: Map<string, SourcePosition>;
  problems: JsonProblem[];
}

export interface JsonParseOptions {
  /** Deepest nesting of arrays/objects accepted; default MAX_JSON_DEPTH. */
  maxDepth?: number;
}

/** Real pack.json files nest 5 deep; 64 leaves room and keeps recursion far from the stack limit. */
export const MAX_JSON_DEPTH = 64;
/** Positions are kept for the first this many values (a 4 MiB file could hold a million). */
const MAX_RECORDED_POSITIONS = 50_000;
const MAX_PROBLEMS = 50;

const IDENTIFIER_RE = /^[A-Za-z_$][\w$-]*$/;

/** `constraints.dependencies[0].layer`; odd keys are quoted: `annotations["a.b"]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) out = appendPath(out, segment);
  return out;
}

/** `formatPath([...segments, segment])` given `formatPath(segments)`: for walkers that format every key's path. */
export function appendPath(formatted: string, segment: PathSegment): string {
  if (typeof segment === 'number') return `${formatted}[${segment}]`;
  if (IDENTIFIER_RE.test(segment)) return formatted === '' ? segment : `${formatted}.${segment}`;
  return `${formatted}[${JSON.stringify(segment)}]`;
}

/** Offsets of line starts, for turning an offset into a line and column. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function positionAt(starts: readonly number[], offset: number): SourcePosition {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** The two-character escapes of RFC 8259 section 7 and what they stand for (`\uXXXX` is handled apart). */
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

class Parser {
  private i = 0;
  private readonly starts: number[];
  readonly positions = new Map<string, SourcePosition>();
  readonly problems: JsonProblem[] = [];
  private readonly path: PathSegment[] = [];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {
    this.starts = lineStarts(text);
  }

  parseDocument(): unknown {
    this.skipWs();
    if (this.i >= this.text.length) this.fail('the file is empty; it must hold a JSON object such as {"name": "...", ...}');
    const value = this.parseValue(0);
    this.skipWs();
    if (this.i < this.text.length) this.fail(`unexpected ${this.describeChar()} after the end of the JSON value; remove it`);
    return value;
  }

  private pos(offset = this.i): SourcePosition {
    return positionAt(this.starts, offset);
  }

  private fail(message: string, offset = this.i, kind: 'syntax' | 'too-deep' = 'syntax'): never {
    throw new JsonSyntaxError(message, this.pos(offset), kind);
  }

  private describeChar(): string {
    if (this.i >= this.text.length) return 'end of file';
    const c = this.text[this.i] ?? '';
    const code = c.charCodeAt(0);
    if (code < 0x20) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
    return `'${c}'`;
  }

  private skipWs(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private record(): void {
    if (this.positions.size < MAX_RECORDED_POSITIONS) this.positions.set(formatPath(this.path), this.pos());
  }

  private problem(kind: JsonProblem['kind'], message: string, offset: number): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ kind, path: formatPath(this.path), position: this.pos(offset), message });
  }

  private parseValue(depth: number): unknown {
    this.skipWs();
    this.record();
    const c = this.text[this.i];
    switch (c) {
      case '{':
        return this.parseObject(depth + 1);
      case '[':
        return this.parseArray(depth + 1);
      case '"':
        return this.parseString();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case "'":
        return this.fail('strings must use double quotes (") in JSON');
      case '/':
        return this.fail('JSON does not allow comments; remove it');
      case undefined:
        return this.fail("unexpected end of file: a value, '}' or ']' is missing");
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
        return this.fail(`unexpected ${this.describeChar()}; expected a value (string in double quotes, number, true, false, null, object or array)`);
    }
  }

  private literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.i)) {
      this.i += word.length;
      return value;
    }
    return this.fail(`unexpected ${this.describeChar()}; did you mean ${word}? (text values need double quotes)`);
  }

  private parseNumber(): number {
    const start = this.i;
    NUMBER_RE.lastIndex = start;
    const m = NUMBER_RE.exec(this.text);
    if (m === null) return this.fail('invalid number');
    const literal = m[0];
    this.i = start + literal.length;
    const next = this.text[this.i];
    if (next !== undefined && /[0-9A-Za-z.+]/.test(next)) this.fail(`invalid number "${literal}${next}"`);
    const value = Number(literal);
    if (!Number.isFinite(value)) {
      this.problem('huge-number', `number ${abbreviate(literal)} is too large to represent; use a smaller value`, start);
    } else if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(value)) {
      // Go's encoding/json (Palette's) refuses an integer past int64 for an integer field ("cannot unmarshal number").
      const int64 = BigInt(literal) <= 9223372036854775807n && BigInt(literal) >= -9223372036854775808n;
      this.problem(
        int64 ? 'imprecise-number' : 'huge-number',
        int64
          ? `integer ${abbreviate(literal)} is beyond 2^53-1: a reader that keeps numbers as float64 (JavaScript, Go's JSON reader into an untyped value) rounds it; use a smaller value or a string`
          : `integer ${abbreviate(literal)} is beyond the 64-bit integers Go's JSON reader (Palette's) reads into an integer field; use a smaller value or a string`,
        start,
      );
    }
    return value;
  }

  private parseString(): string {
    const t = this.text;
    const start = this.i;
    this.i++; // opening quote
    let out = '';
    let chunkStart = this.i;
    for (;;) {
      if (this.i >= t.length) this.fail('unterminated string: a closing " is missing', start);
      const c = t.charCodeAt(this.i);
      if (c === 0x22) {
        out += t.slice(chunkStart, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail(c === 0x0a ? 'line break inside a string: close the string or write \\n' : `${this.describeChar()} inside a string; escape it`);
      if (c === 0x5c) {
        out += t.slice(chunkStart, this.i);
        const e = t[this.i + 1];
        const simple = e === undefined ? undefined : SIMPLE_ESCAPES.get(e);
        if (simple !== undefined) {
          out += simple;
          this.i += 2;
        } else if (e === 'u') {
          const hex = t.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape: it needs four hex digits');
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 6;
        } else {
          this.fail(`invalid escape "\\${e ?? ''}" in a string; write "\\\\" for a backslash`);
        }
        chunkStart = this.i;
        continue;
      }
      this.i++;
    }
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels; pack.json is never that deep`, this.i, 'too-deep');
  }

  private parseArray(depth: number): unknown[] {
    this.enter(depth);
    this.i++; // [
    const out: unknown[] = [];
    this.skipWs();
    if (this.text[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.path.push(out.length);
      out.push(this.parseValue(depth));
      this.path.pop();
      if (this.closedOrComma(']', () => `unexpected ${this.describeChar()}; expected ',' or ']' (is a comma missing?)`)) return out;
    }
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.enter(depth);
    this.i++; // {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.skipWs();
    if (this.text[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.skipWs();
      const keyStart = this.i;
      const c = this.text[this.i];
      if (c !== '"') {
        if (c === undefined) this.fail("unexpected end of file: a '}' is missing");
        if (c === "'") this.fail('property names must use double quotes (") in JSON');
        if (c === '/') this.fail('JSON does not allow comments; remove it');
        this.fail(`unexpected ${this.describeChar()}; expected a property name in double quotes`);
      }
      const key = this.parseString();
      this.skipWs();
      if (this.text[this.i] !== ':') this.fail(`unexpected ${this.describeChar()}; expected ':' after the property name "${key}"`);
      this.i++;
      this.path.push(key);
      if (seen.has(key)) this.problem('duplicate-key', `"${key}" appears more than once in the same object; keep one (readers disagree on which wins)`, keyStart);
      seen.add(key);
      const value = this.parseValue(depth);
      // defineProperty, not assignment: a "__proto__" key must stay data, as with JSON.parse.
      Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      this.path.pop();
      const closed = this.closedOrComma('}', (next) =>
        next === '"' ? "expected ',' between properties (a comma is missing)" : `unexpected ${this.describeChar()}; expected ',' or '}'`,
      );
      if (closed) return out;
    }
  }

  /**
   * After a member of an array or object: true at the closing bracket (consumed), else false past the comma.
   * A missing comma fails with `unexpected(the character there)`; a trailing comma before `close` fails too.
   */
  private closedOrComma(close: ']' | '}', unexpected: (c: string) => string): boolean {
    this.skipWs();
    const c = this.text[this.i];
    if (c === close) {
      this.i++;
      return true;
    }
    if (c === undefined) this.fail(`unexpected end of file: a '${close}' is missing`);
    if (c !== ',') this.fail(unexpected(c));
    const comma = this.i;
    this.i++;
    this.skipWs();
    if (this.text[this.i] === close) this.fail(`trailing comma before '${close}'; remove it`, comma);
    return false;
  }
}

function abbreviate(literal: string): string {
  return literal.length > 24 ? `${literal.slice(0, 12)}…(${literal.length} characters)` : literal;
}

/** Parse JSON text, keeping positions; throws JsonSyntaxError with line and column. */
export function parseLocatedJson(text: string, options: JsonParseOptions = {}): LocatedJson {
  const parser = new Parser(text, options.maxDepth ?? MAX_JSON_DEPTH);
  const value = parser.parseDocument();
  return { value, positions: parser.positions, problems: parser.problems };
}
