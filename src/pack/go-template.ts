/*
 * What Go's text/template parser refuses in a chart template, whatever the values: Helm parses every file under a
 * chart's templates/ (partials and NOTES.txt too) before it renders any (pkg/engine/engine.go render: `t.New(filename)
 * .Parse(...)`, with its function map set first), so one such file stops every install ("parse error at
 * (web/templates/x.yaml:12): ...").
 *
 * Read as Go's text/template/parse lexer and parser read a template (lex.go, parse.go; Go 1.23: newlines inside
 * actions, `break`/`continue`, `else with`), judging only what is refused by every Go version Helm 3 and 4 were built
 * with and every Helm function map: an unclosed action, comment, string or parenthesis; a character no token starts
 * with; a number followed by letters (`default 10Gi`); a field name holding `-` (`.Values.my-key`); an invalid escape
 * in a double-quoted string (`"\d"`); `{{end}}`/`{{else}}` with nothing to end; a block never ended; `{{define}}`
 * inside another block; an empty action or command; a pipeline stage after the first starting with a value
 * (`{{ .x | "y" }}`); an undefined `$variable`; a second define or block of a name in one file, both holding more
 * than space (parse.go add: "multiple definition of template"); a function no Helm version defines
 * (Helm removes sprig's `env` and `expandenv`). Anything else is left alone (no false refusal): an extra `,`, `=` or
 * operand order that Go also refuses is not looked at.
 */

/** Go's text/template builtins, sprig v3's functions (every release), Helm 3's and 4's own; less `env`, `expandenv`. */
const FUNCTIONS = new Set(
  [
    'and call html index slice js len not or print printf println urlquery eq ge gt le lt ne',
    'abbrev abbrevboth add add1 add1f addf adler32sum ago all any append atoi b32dec b32enc b64dec b64enc base',
    'bcrypt biggest buildCustomCert camelcase cat ceil chunk clean coalesce compact concat contains date',
    'dateInZone dateModify date_in_zone date_modify decryptAES deepCopy deepEqual default derivePassword dict',
    'dig dir div divf duration durationDays durationHours durationMicroseconds durationMilliseconds',
    'durationMinutes durationNanoseconds durationRound durationRoundTo durationSeconds durationTruncateTo',
    'durationWeeks empty encryptAES ext fail first float64 floor fromJson fromJsonArray fromToml fromYaml',
    'fromYamlArray genCA genCAWithKey genPrivateKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert',
    'genSignedCertWithKey get getHostByName has hasKey hasPrefix hasSuffix hello htmlDate htmlDateInZone',
    'htpasswd include indent initial initials int int64 isAbs join kebabcase keys kindIs kindOf last list',
    'lookup lower max maxf merge mergeOverwrite min minf mod mul mulf mustAppend mustChunk mustCompact',
    'mustDateModify mustDeepCopy mustFirst mustFromJson mustHas mustInitial mustLast mustMerge',
    'mustMergeOverwrite mustPrepend mustRegexFind mustRegexFindAll mustRegexMatch mustRegexReplaceAll',
    'mustRegexReplaceAllLiteral mustRegexSplit mustRest mustReverse mustSlice mustToDate mustToDuration',
    'mustToJson mustToPrettyJson mustToRawJson mustToToml mustToYaml mustUniq mustWithout must_date_modify',
    'nindent nospace now omit osBase osClean osDir osExt osIsAbs pick pluck plural prepend quote randAlpha',
    'randAlphaNum randAscii randBytes randInt randNumeric regexFind regexFindAll regexMatch regexQuoteMeta',
    'regexReplaceAll regexReplaceAllLiteral regexSplit repeat replace required rest reverse round semver',
    'semverCompare seq set sha1sum sha256sum sha512sum shuffle slice snakecase sortAlpha split splitList',
    'splitn squote sub subf substr swapcase ternary title toDate toDecimal toJson toPrettyJson toRawJson',
    'toString toStrings toToml toYaml toYamlPretty tpl trim trimAll trimPrefix trimSuffix trimall trunc',
    'tuple typeIs typeIsLike typeOf uniq unixEpoch unset until untilStep untitle upper urlJoin urlParse',
    'uuidv4 values without wrap wrapWith',
  ].join(' ').split(' '),
);

/**
 * Functions of a fixed number of arguments, the same in every Go, sprig v3 and Helm 3/4 function map (Go's builtins,
 * Helm's include/tpl/required/toYaml/lookup, sprig's string functions): a call with another number stops the render
 * (text/template exec evalCall: "wrong number of args for include: want 2 got 1"). Variadic functions: AT_LEAST.
 * Helm's `fail` (-1) stops it whatever it is given ("execution error at (...): <its message>").
 */
const ARITY = new Map<string, number>([
  ...(['len', 'not', 'toYaml', 'toJson', 'fromYaml', 'fromJson', 'toToml', 'b64enc', 'b64dec', 'sha256sum', 'upper', 'lower', 'trim', 'title'] as const).map((f) => [f, 1] as const),
  ...(['include', 'tpl', 'required', 'nindent', 'indent', 'trunc', 'trimSuffix', 'trimPrefix', 'contains', 'hasPrefix', 'hasSuffix', 'ne', 'lt', 'le', 'gt', 'ge'] as const).map((f) => [f, 2] as const),
  ['replace', 3],
  ['lookup', 4],
  ['fail', -1],
  // sprig's of a fixed number of parameters, the same in sprig v3.0.0 (Helm 3.0) and v3.3.0 (Helm 3.16+ and 4).
  ...(
    ['toString', 'toStrings', 'int', 'int64', 'float64', 'atoi', 'add1', 'empty', 'first', 'last', 'rest', 'initial', 'uniq', 'compact', 'sortAlpha', 'reverse', 'typeOf', 'kindOf', 'base', 'dir', 'ext', 'clean', 'nospace', 'snakecase', 'kebabcase', 'sha1sum', 'adler32sum', 'toPrettyJson', 'toRawJson', 'genPrivateKey', 'randAlphaNum', 'randAlpha', 'randNumeric', 'until', 'semver', 'b32enc', 'b32dec', 'urlParse'] as const
  ).map((f) => [f, 1] as const),
  ...(
    ['split', 'splitList', 'join', 'hasKey', 'get', 'unset', 'sub', 'div', 'mod', 'kindIs', 'typeIs', 'repeat', 'trimAll', 'regexMatch', 'regexFind', 'semverCompare', 'has', 'prepend', 'abbrev', 'wrap', 'date', 'deepEqual'] as const
  ).map((f) => [f, 2] as const),
  ...(['ternary', 'set', 'substr', 'regexReplaceAll', 'regexReplaceAllLiteral', 'regexSplit', 'splitn', 'untilStep', 'abbrevboth', 'wrapWith', 'dateInZone'] as const).map((f) => [f, 3] as const),
  ['derivePassword', 5],
]);

/**
 * Variadic functions with fixed parameters before the `...` one, the same in every Go, sprig v3 (v3.0.0 to v3.3.0) and
 * Helm 3/4 function map: a call with fewer arguments (a value piped in counts) stops the render (text/template exec
 * evalCall: "wrong number of args for printf: want at least 1 got 0", the got counting the written arguments only).
 * Go's printf, index, slice (sprig's too), call, eq; sprig's mul, max, min, biggest, default, pluck, pick, omit, merge,
 * mergeOverwrite, mustMerge, mustMergeOverwrite, without, mustWithout, mustSlice; round takes two. `and`/`or` (one)
 * are left out with the rest of an action holding them.
 */
const AT_LEAST = new Map<string, number>([
  ...(
    ['printf', 'index', 'slice', 'call', 'eq', 'mul', 'max', 'min', 'biggest', 'default', 'pluck', 'pick', 'omit', 'merge', 'mergeOverwrite', 'mustMerge', 'mustMergeOverwrite', 'without', 'mustWithout', 'mustSlice'] as const
  ).map((f) => [f, 1] as const),
  ['round', 2],
]);

/**
 * A call that stops every render: `want` arguments (at least `want` when `atLeast`; -1: Helm's fail) and `got` (a value
 * piped in counted, `piped`).
 */
export interface WrongCall {
  name: string;
  want: number;
  got: number;
  line: number;
  atLeast?: true;
  piped?: true;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

export interface TemplateParseError {
  /** 1-based line of the action (or comment) at fault. */
  line: number;
  message: string;
}

class Refused extends Error {
  readonly at: number;
  /** Where the action began, when Go names its first line if it is not the error's (`unclosed action started at`). */
  readonly from: number | undefined;
  constructor(at: number, message: string, from?: number) {
    super(message);
    this.at = at;
    this.from = from;
  }
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

/** A code point at `i` (a surrogate pair as one). */
function charAt(text: string, i: number): string {
  const code = text.charCodeAt(i);
  return code >= 0xd800 && code < 0xdc00 && i + 1 < text.length ? text.slice(i, i + 2) : text.charAt(i);
}

/** Why Go's strconv.Unquote refuses a double-quoted string's body (escapes), or undefined. */
function badEscape(body: string): string | undefined {
  for (let i = body.indexOf('\\'); i !== -1; i = body.indexOf('\\', i)) {
    const c = body[i + 1] ?? '';
    const hex = (n: number): boolean => /^[0-9a-fA-F]+$/.test(body.slice(i + 2, i + 2 + n)) && body.slice(i + 2, i + 2 + n).length === n;
    let next = i + 2;
    if ('abfnrtv\\"'.includes(c)) next = i + 2;
    else if (c === 'x' && hex(2)) next = i + 4;
    else if ((c === 'u' && hex(4)) || (c === 'U' && hex(8))) {
      const n = c === 'u' ? 4 : 8;
      const code = Number.parseInt(body.slice(i + 2, i + 2 + n), 16);
      if (code > 0x10ffff || (code >= 0xd800 && code < 0xe000)) return `\\${c}${body.slice(i + 2, i + 2 + n)}`;
      next = i + 2 + n;
    } else if (c >= '0' && c <= '7' && /^[0-7]{3}$/.test(body.slice(i + 1, i + 4)) && Number.parseInt(body.slice(i + 1, i + 4), 8) <= 255) next = i + 4;
    else return `\\${c}`;
    i = next;
  }
  return undefined;
}

// Token kinds, and the tokens of the action being read (blanks left out): kept in arrays reused from action to
// action, as a template holds thousands of actions (issue 16: validate's CPU).
const VAR = 1;
const IDENT = 2;
const KW = 3;
const FIELD = 4;
const STRING = 5;
const OPERAND = 6;
const CHAR = 7;
const PIPE = 8;
const LPAREN = 9;
const RPAREN = 10;
const DECLARE = 11;
const ASSIGN = 12;

/**
 * The text's actions and comments as this reads them (goTemplateRead's `actions`): the index of each one's `{{`, then of
 * the `}}` that ends it; and whether a `}}` was found inside a string or comment of one (it then ends after the first
 * `}}` after its `{{`, where template-refs.ts ends it).
 */
let actionList = new Int32Array(1024);
let actionCount = 0;
let closeHidden = false;

/** Notes a `}}` in text[from, to) (a string's or comment's body). */
function hiddenClose(text: string, from: number, to: number): void {
  const at = text.indexOf('}}', from);
  if (at !== -1 && at + 1 < to) closeHidden = true;
}

let kinds = new Uint8Array(256);
let starts = new Int32Array(256);
/** The text of a VAR, IDENT, KW or CHAR token, and the name a STRING token gives a template (naming); others keep ''. */
let words: string[] = [];
/** Words of identifiers and keywords lexed lately, by first character and length, and their kinds (lexAction). */
const seenWords: string[] = new Array<string>(256).fill('');
const seenKinds = new Uint8Array(256);
/** How many tokens the action holds; -1 for a comment. */
let count = 0;

/** `array` twice as long, its values kept. */
function doubled<A extends Uint8Array | Int32Array>(array: A): A {
  const more = new (array.constructor as new (length: number) => A)(array.length * 2);
  more.set(array);
  return more;
}

function push(kind: number, at: number, word = ''): void {
  if (count === kinds.length) {
    kinds = doubled(kinds);
    starts = doubled(starts);
  }
  kinds[count] = kind;
  starts[count] = at;
  words[count++] = word;
}

const kindAt = (i: number): number => (i < count ? (kinds[i] as number) : 0);
/**
 * Where token `i` of the action being read starts, or `close` (its `}}`) past the last one: the token Go's parser
 * stands on. A function of the module, not a closure made per action (issue 16: ~22 MB of closures per pass over the
 * bench tree's templates).
 */
const tokenAt = (i: number, close: number): number => (i < count ? (starts[i] as number) : close);

/** Whether a string read now names a template: after define, template, block or include (its name is kept then). */
const naming = (): boolean => count > 0 && (kinds[count - 1] === KW || (kinds[count - 1] === IDENT && words[count - 1] === 'include'));

/**
 * Token `i` of `text` as Go's messages show it (lex.go item.String): `<if>` for a keyword, `<.>`, `<nil>`, else its
 * text quoted, cut to 10 characters and `...` when longer. Only on the way to an error.
 */
function shown(text: string | Buffer, i: number): string {
  const kind = kindAt(i);
  if (kind === KW) return `<${words[i] as string}>`;
  const at = starts[i] as number;
  const piece = typeof text === 'string' ? text.slice(at, at + 200) : text.toString('latin1', at, at + 200);
  let token = ['', '', '', '', '.', '', '', '', '|', '(', ')', ':=', '='][kind] ?? '';
  if (kind === VAR || kind === IDENT || kind === CHAR) token = words[i] as string;
  else if (kind === FIELD) token = piece.slice(0, alnumEnd(piece, 1));
  else if (kind === STRING && piece.startsWith('`')) token = piece.slice(0, piece.indexOf('`', 1) + 1 || piece.length);
  else if (kind === STRING || piece.startsWith("'")) {
    let j = 1;
    while (j < piece.length && piece[j] !== piece[0]) j += piece[j] === '\\' ? 2 : 1;
    token = piece.slice(0, j + 1);
  } else if (kind === OPERAND) token = /^(true|false|nil)\b/.exec(piece)?.[0] ?? piece.slice(0, scanNumber(piece, 0));
  if (token === '.' || token === 'nil') return `<${token}>`;
  const runes = [...token];
  return Buffer.byteLength(token) > 10 ? `${JSON.stringify(runes.slice(0, 10).join(''))}...` : JSON.stringify(token);
}

const SPACE = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
/** ASCII letters, digits, `_`; beyond ASCII, Go's unicode.IsLetter / IsDigit. */
function alnumAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) return 1;
  if (c < 0x80 || Number.isNaN(c)) return 0;
  const ch = charAt(text, i);
  return ALNUM.test(ch) ? ch.length : 0;
}
/** The index after the run of letters, digits and `_` at `i`. */
function alnumEnd(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) i++;
    else if (c >= 0x80 && alnumAt(text, i) > 0) i += alnumAt(text, i);
    else return i;
  }
}
/** At a right delimiter: `}}`, or a blank then `-}}` (Go's trim marker). */
function atRightDelim(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === 0x7d) return text.charCodeAt(i + 1) === 0x7d;
  return SPACE(c) && text.charCodeAt(i + 1) === 0x2d && text.charCodeAt(i + 2) === 0x7d && text.charCodeAt(i + 3) === 0x7d;
}
/** Go's lexer atTerminator: what may follow a field, variable or identifier. */
function terminator(text: string, j: number): boolean {
  const c = text.charCodeAt(j);
  return Number.isNaN(c) || SPACE(c) || c === 0x2e || c === 0x2c || c === 0x7c || c === 0x3a || c === 0x29 || c === 0x28 || (c === 0x7d && text.charCodeAt(j + 1) === 0x7d);
}

/** Lexes the action whose body starts at `from` into the token arrays; the index after its `}}`. */
function lexAction(text: string, from: number): number {
  let i = from;
  let depth = 0;
  count = 0;
  for (;;) {
    const code = text.charCodeAt(i);
    if (SPACE(code)) {
      if (atRightDelim(text, i)) {
        if (depth !== 0) throw new Refused(i, 'unclosed left paren');
        return i + 4;
      }
      i++;
      continue;
    }
    const at = i;
    switch (code) {
      case 0x7d: // }
        if (text.charCodeAt(i + 1) === 0x7d) {
          if (depth !== 0) throw new Refused(i, 'unclosed left paren');
          return i + 2;
        }
        break;
      case 0x2e: {
        // .Field (a chain of them read as one), or a number such as .5
        const next = text.charCodeAt(i + 1);
        if (next >= 0x30 && next <= 0x39) break;
        i = alnumEnd(text, i + 1);
        while (text.charCodeAt(i) === 0x2e && !(text.charCodeAt(i + 1) >= 0x30 && text.charCodeAt(i + 1) <= 0x39)) i = alnumEnd(text, i + 1);
        if (!terminator(text, i)) {
          const key = text.charCodeAt(i) === 0x2d ? ' (a key holding "-" is read with index: {{ index .Values "my-key" }})' : '';
          throw new Refused(i, `bad character ${goRune(charAt(text, i))}${key}`);
        }
        push(FIELD, at);
        continue;
      }
      case 0x24: // $variable
        i = alnumEnd(text, i + 1);
        if (!terminator(text, i)) throw new Refused(i, `bad character ${goRune(charAt(text, i))}`);
        push(VAR, at, text.slice(at, i));
        continue;
      case 0x3d: // =
        push(ASSIGN, at);
        i++;
        continue;
      case 0x3a: // :
        if (text.charCodeAt(i + 1) !== 0x3d) throw new Refused(at, 'expected :=');
        push(DECLARE, at);
        i += 2;
        continue;
      case 0x7c: // |
        push(PIPE, at);
        i++;
        continue;
      case 0x28: // (
        depth++;
        push(LPAREN, at);
        i++;
        continue;
      case 0x29: // )
        if (--depth < 0) throw new Refused(at, 'unexpected right paren');
        push(RPAREN, at);
        i++;
        continue;
      case 0x22: // "
      case 0x27: {
        // '
        let escaped = false;
        // Whether a `}` was read in it (of each `}}` in it, one is): then whether a `}}` is (hiddenClose).
        let brace = false;
        for (i++; ; ) {
          const d = text.charCodeAt(i++);
          if (d === code) break;
          if (d === 0x5c && !Number.isNaN(text.charCodeAt(i)) && text.charCodeAt(i) !== 0x0a) {
            escaped = true;
            i++;
          } else if (Number.isNaN(d) || d === 0x0a || d === 0x5c) throw new Refused(at, code === 0x22 ? 'unterminated quoted string' : 'unterminated character constant');
          else if (d === 0x7d) brace = true;
        }
        if (brace) hiddenClose(text, at + 1, i - 1);
        if (code === 0x22 && escaped) {
          const bad = badEscape(text.slice(at + 1, i - 1));
          if (bad !== undefined) throw new Refused(at, `invalid syntax: the string ${text.slice(at, i)} holds the escape ${bad}, which Go does not read (write \\\\ for a backslash, or quote it with \`...\`)`);
        }
        push(code === 0x22 ? STRING : OPERAND, at, code === 0x22 && !escaped && naming() ? text.slice(at + 1, i - 1) : '');
        continue;
      }
      case 0x60: {
        // `raw`
        const close = text.indexOf('`', i + 1);
        if (close === -1) throw new Refused(at, 'unterminated raw quoted string');
        hiddenClose(text, at + 1, close);
        i = close + 1;
        push(STRING, at, naming() ? text.slice(at + 1, i - 1) : '');
        continue;
      }
      default:
    }
    // Go tells it at the text's end, naming the action's first line when it is another.
    if (Number.isNaN(code)) throw new Refused(i, 'unclosed action');
    if (code === 0x2b || code === 0x2d || code === 0x2e || (code >= 0x30 && code <= 0x39)) {
      i = scanNumber(text, at);
      const after = alnumAt(text, i);
      if (after > 0) {
        const word = /^[\p{L}\p{Nd}_.+-]*/u.exec(text.slice(at, at + 40))?.[0] ?? '';
        throw new Refused(at, `bad number syntax: "${text.slice(at, i + after)}"${/^[0-9.]+[A-Za-z]/.test(word) ? ` (${word} is read as a number: quote it, "${word}")` : ''}`);
      }
      if (i === at + 1 && (code === 0x2b || code === 0x2d)) throw new Refused(at, `illegal number syntax: "${text[at] as string}"`);
      push(OPERAND, at);
      continue;
    }
    const n = alnumAt(text, i);
    if (n > 0) {
      i = alnumEnd(text, i + n);
      if (!terminator(text, i)) throw new Refused(i, `bad character ${goRune(charAt(text, i))}`);
      // A word seen before (function names repeat all through a template) is taken from the table, its kind with it:
      // neither cut from the text again nor looked up (issue 16).
      const slot = (code * 31 + i - at) & 255;
      const seen = seenWords[slot] as string;
      if (seen.length === i - at && text.startsWith(seen, at)) {
        const kind = seenKinds[slot] as number;
        push(kind, at, kind === OPERAND ? '' : seen);
        continue;
      }
      const word = text.slice(at, i);
      const kind = KEYWORDS.has(word) ? KW : word === 'true' || word === 'false' || word === 'nil' ? OPERAND : IDENT;
      // Only short words: a longer slice is a view that would keep the whole text alive (chart.ts detached).
      if (word.length < 13) {
        seenWords[slot] = word;
        seenKinds[slot] = kind;
      }
      push(kind, at, kind === OPERAND ? '' : word);
      continue;
    }
    if (code >= 0x20 && code < 0x7f) {
      push(CHAR, at, text[at] as string);
      i++;
      continue;
    }
    throw new Refused(at, `unrecognized character in action: ${goRune(charAt(text, at))}`);
  }
}

/** Go's %#U of a character: `U+00A0 ' '`. */
function goRune(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0) ? `${hex} '${c}'` : hex;
}

/** scanNumber of Go's lexer: the index after the number that starts at `at`. */
function scanNumber(text: string, at: number): number {
  let i = at;
  const accept = (set: string): boolean => {
    if (text[i] !== undefined && set.includes(text[i] as string)) {
      i++;
      return true;
    }
    return false;
  };
  const run = (set: string): void => {
    while (accept(set));
  };
  accept('+-');
  let digits = '0123456789_';
  if (accept('0')) {
    if (accept('xX')) digits = '0123456789abcdefABCDEF_';
    else if (accept('oO')) digits = '01234567_';
    else if (accept('bB')) digits = '01_';
  }
  run(digits);
  if (accept('.')) run(digits);
  if (digits.length === 11 && accept('eE')) {
    accept('+-');
    run('0123456789_');
  }
  if (digits.length === 23 && accept('pP')) {
    accept('+-');
    run('0123456789_');
  }
  accept('i');
  return i;
}

interface Block {
  kind: string;
  at: number;
  /** Where its opening action's `}}` is. */
  close: number;
  sawElse: boolean;
  /** How many variables were in scope when it opened (if/range/with), or the scope to restore (define/block). */
  mark: number;
  saved?: { vars: string[]; ranges: number };
  /** A define's name (a block's too). */
  name?: string;
  /** A define or block whose body holds more than space: an action, or other text (parse.IsEmptyTree false). */
  filled?: boolean;
}

/** What the actions at a define's own top level do whatever the values: the first wrong call, the templates run. */
export interface DefineBody {
  miscall?: WrongCall;
  runs: string[];
}

/**
 * The first thing Go's template parser refuses in `text` (a template's whole text, or its bytes when they are all
 * ASCII), as far as this reads it, or undefined. Never throws.
 */
export function goTemplateParseError(text: string | Buffer): TemplateParseError | undefined {
  return goTemplateRead(text).error;
}

export interface TemplateRead {
  /** What Go's parser refuses, if anything (the rest is then empty). */
  error?: TemplateParseError;
  /**
   * The first call, in an action at its top level whose pipeline holds no `and` / `or` (as `runs`), of a function of
   * a fixed number of arguments (ARITY) with another number (a value piped in counts as the last): every render of
   * the file stops there.
   */
  miscall?: WrongCall;
  /** Per define of the text: the first such call and the templates run (by literal name) at the define's own top level. */
  bodies?: Map<string, DefineBody>;
  /** The names its define and block actions give templates (literal names without escapes). */
  defines: string[];
  /**
   * The names whose defines (and blocks) in the text all hold nothing but space (Go's parse.IsEmptyTree: no action,
   * comments aside, and only space as text): text/template's AddParseTree keeps an earlier file's define of such a name
   * over it.
   */
  emptyDefines?: string[];
  /**
   * The templates it runs by a literal name (`include "x" ...`, `{{ template "x" }}`) in actions at its top level
   * (outside every if/range/with/define/block body; an if/range/with's own pipeline there counts), whose pipeline holds
   * no `and` / `or` (which may skip an argument):
   * every render of the file runs them. A name holding `/` (a file's own template name) is left out.
   */
  runs: Array<{ name: string; line: number }>;
  /**
   * Asked for (`withActions`) and without an error: where its actions and comments are, in order, the index of each
   * one's `{{` then that of the `}}` ending it (of ` -}}`: the `}}`), when each ends at the first `}}` after its `{{`
   * (none holds one in a string or comment), as template-refs.ts's scans read actions: they read these instead of
   * looking for every action's delimiters again (issue 16). Valid until the next goTemplateRead (it is a view of a list
   * the next one writes over).
   */
  actions?: Int32Array;
}

/** goTemplateParseError, with the templates the text defines and runs whatever the values. */
export function goTemplateRead(text: string | Buffer, withActions = false): TemplateRead {
  const read: TemplateRead = { defines: [], runs: [] };
  const runsAt: Array<{ name: string; at: number }> = [];
  const miscalls: Found[] = [];
  actionCount = withActions ? 0 : -1;
  closeHidden = false;
  try {
    const bodies = new Map<string, DefineBody>();
    const empty = check(text, read.defines, runsAt, miscalls, bodies);
    if (bodies.size > 0) read.bodies = bodies;
    if (empty.length > 0) read.emptyDefines = empty;
  } catch (err) {
    if (!(err instanceof Refused)) return { defines: [], runs: [] };
    const line = lineOf(text, err.at);
    const started = err.from === undefined ? line : lineOf(text, err.from);
    let message = err.message;
    if (started !== line) {
      // After Go's words, before packpub's own (a hint in parentheses); "unclosed action" says it once.
      const words = message.indexOf(' (') === -1 ? message.length : message.indexOf(' (');
      const where = message === 'unclosed action' ? ' started at' : ' in action started at';
      message = `${message.slice(0, words)}${where} line ${started}${message.slice(words)}`;
    }
    return { error: { line, message }, defines: [], runs: [] };
  }
  const miscall = miscalls[0];
  if (miscall !== undefined) read.miscall = wrongCallAt(text, miscall);
  // The runs come in the text's order: their lines are counted in one pass (a lineOf each, from the text's start,
  // made a template of many includes quadratic: issue 16).
  let line = 1;
  let next = text.indexOf('\n');
  for (const run of runsAt) {
    for (; next !== -1 && next < run.at; next = text.indexOf('\n', next + 1)) line++;
    read.runs.push({ name: run.name, line });
  }
  // A view of the list this module keeps, not a copy (a typed array's own memory costs V8 more than the list: issue
  // 16): read before the next goTemplateRead.
  if (withActions && !closeHidden) read.actions = actionList.subarray(0, actionCount);
  return read;
}

/** A wrong call found (check's), where it is in the text. */
type Found = Omit<WrongCall, 'line'> & { at: number };

function wrongCallAt(text: string | Buffer, found: Found): WrongCall {
  const { at, ...call } = found;
  return { ...call, line: lineOf(text, at) };
}

function lineOf(text: string | Buffer, at: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The action or comment opening at `open` of `w`, its tokens lexed (none for a comment): the index after its `}}`. */
function lexOne(w: string, open: number): number {
  let body = open + 2;
  const trim = w.charCodeAt(body) === 0x2d && SPACE(w.charCodeAt(body + 1));
  if (w.startsWith('/*', body + (trim ? 2 : 0))) {
    count = -1;
    const close = w.indexOf('*/', body + (trim ? 4 : 2));
    if (close === -1) throw new Refused(open, 'unclosed comment');
    const after = close + 2;
    if (w.startsWith('}}', after)) {
      hiddenClose(w, open + 2, close);
      return after + 2;
    }
    if (atRightDelim(w, after)) {
      hiddenClose(w, open + 2, close);
      return after + 4;
    }
    throw new Refused(open, 'comment ends before closing delimiter');
  }
  try {
    return lexAction(w, trim ? body + 2 : body);
  } catch (err) {
    // Go names the line of the action's {{ after a lexer error on another line ("... in action started at x:2").
    if (err instanceof Refused && !err.message.startsWith('invalid syntax')) throw new Refused(err.at, err.message, open);
    throw err;
  }
}

/** Bytes of a large ASCII template made a string at a time (lexWindow): at most this many, unless one action is longer. */
const WINDOW_BYTES = 64 * 1024;

/** The window lexWindow lexes in: the bytes it was made of, where it starts in them, and its text. */
let windowOf: Buffer | undefined;
let windowAt = 0;
let windowText = '';

/**
 * lexOne for a large ASCII template given as its bytes: the action at `open` lexed in a window of the bytes made a
 * string (WINDOW_BYTES from an action's `{{`), kept for the actions after it, never the whole template (chart.ts:
 * such strings cost five times the CPU per byte). A window that cuts an action short always ends in an error (only
 * `}}` ends one): the action is then lexed again in a window from its `{{`, eight times larger each time, up to the
 * template's end, where an error is the template's. (A window per action cost a string and a search of the bytes
 * per action: issue 16.)
 */
function lexWindow(bytes: Buffer, open: number): number {
  if (windowOf !== bytes || open < windowAt || open >= windowAt + windowText.length) setWindow(bytes, open, WINDOW_BYTES, true);
  for (;;) {
    try {
      const after = lexOne(windowText, open - windowAt);
      for (let i = 0; i < count; i++) starts[i] = (starts[i] as number) + windowAt; // none for a comment (count -1)
      return after + windowAt;
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      if (windowAt + windowText.length >= bytes.length) {
        for (let i = 0; i < count; i++) starts[i] = (starts[i] as number) + windowAt;
        throw new Refused(err.at + windowAt, err.message, err.from === undefined ? undefined : err.from + windowAt);
      }
      setWindow(bytes, open, Math.max(WINDOW_BYTES, (windowAt + windowText.length - open) * 8), false);
    }
  }
}

/**
 * The window of `bytes` from `at`, `size` bytes at most, ending right after the last `}}` in it when it ends before the
 * bytes do: an action ends at its first `}}` (bar one inside a string or comment), so the lexer seldom reads past the
 * window's end, which costs more than the cut (V8 throws away the code it optimised the lexer to: "out of bounds").
 * Not cut (`cut` false) when the action at `at` did not end in the window before: it holds a `}}` of its own.
 */
function setWindow(bytes: Buffer, at: number, size: number, cut: boolean): void {
  let end = Math.min(bytes.length, at + size);
  if (cut && end < bytes.length) {
    const close = bytes.lastIndexOf('}}', end - 2);
    if (close > at) end = close + 2;
  }
  windowOf = bytes;
  windowAt = at;
  windowText = bytes.toString('latin1', at, end);
}

/** The next `{{` of a large template's bytes from `from` (the end of an action lexWindow read): found in its window first. */
function nextOpen(bytes: Buffer, from: number): number {
  const inWindow = windowText.indexOf('{{', from - windowAt);
  return inWindow !== -1 ? inWindow + windowAt : bytes.indexOf('{{', Math.max(from, windowAt + windowText.length - 1));
}

/** Whether text[from, to) holds more than space (Go's bytes.TrimSpace: unicode.IsSpace, which is White_Space). */
function holdsText(text: string | Buffer, from: number, to: number): boolean {
  if (typeof text === 'string') return from < to && NOT_SPACE.test(text.slice(from, to));
  for (let i = from; i < to; i++) {
    const c = text[i] as number;
    if (c !== 0x20 && (c < 0x09 || c > 0x0d)) return true;
  }
  return false;
}

const NOT_SPACE = /[^\p{White_Space}]/u;

/** Reads the text (goTemplateRead); returns the names whose every define or block holds nothing but space. */
function check(text: string | Buffer, defines: string[], runs: Array<{ name: string; at: number }>, miscalls: Found[] = [], inDefine?: Map<string, DefineBody>): string[] {
  const stack: Block[] = [];
  // Per name its define or block holding more than space, where it opened: Go's parser refuses a second one in the
  // same text (parse.go add: "template: multiple definition of template"); the names of the empty ones.
  const filled = new Map<string, Block>();
  const empty = new Set<string>();
  let after = 0;
  let vars = ['$'];
  let ranges = 0;
  // Per pipeline level (the action's, then each parenthesized one): the commands so far, and whether the current
  // one has an operand yet.
  let cmds = new Int32Array(16);
  let current = new Uint8Array(16);
  // Per level: the first stage after the first (2, 3, ...) that starts with a value (a string, number, boolean, nil or
  // `.`), which Go cannot run with the value piped in (parse.go checkPipeline, Go 1.6 to today: "non executable
  // command in pipeline stage 2"), told at the `)` or `}}` that ends the pipeline, where Go checks it; 0 if none.
  let idle = new Int32Array(16);
  try {
    for (let open = text.indexOf('{{'); open !== -1; ) {
      let end: number;
      try {
        end = typeof text === 'string' ? lexOne(text, open) : lexWindow(text, open);
      } catch (err) {
        // Go parses an action's tokens as they are lexed: what it refuses among those before the lexer's error is told
        // first (`{{ foo .a-b }}`: function "foo" not defined). What is known only at the `}}` is not reached.
        if (count > 0) {
          try {
            action(open, Number.MAX_SAFE_INTEGER);
          } catch (earlier) {
            if (earlier instanceof Refused && earlier.at !== Number.MAX_SAFE_INTEGER) throw earlier;
          }
        }
        throw err;
      }
      if (stack.length > 0) {
        const body = innermostDefine();
        if (body !== undefined && body.filled !== true && holdsText(text, after, open)) body.filled = true;
      }
      after = end;
      if (actionCount >= 0) {
        if (actionCount + 2 > actionList.length) actionList = doubled(actionList);
        actionList[actionCount++] = open;
        actionList[actionCount++] = end - 2;
      }
      if (count >= 0) action(open, end - 2);
      open = typeof text === 'string' ? text.indexOf('{{', end) : nextOpen(text, end);
    }
  } finally {
    // The window's string is not kept past the template.
    windowOf = undefined;
    windowText = '';
  }
  if (stack.length > 0) {
    const last = stack[stack.length - 1] as Block;
    // Go names the line the text ends on (its EOF token's); the opening line is told after its words.
    throw new Refused(text.length, `unexpected EOF: the {{${last.kind}}} of line ${lineOf(text, last.at)} is never closed with {{end}}`);
  }
  return [...empty].filter((name) => !filled.has(name));

  /** The define or block whose body the next node would be in, if any. */
  function innermostDefine(): Block | undefined {
    for (let i = stack.length - 1; i >= 0; i--) if ((stack[i] as Block).saved !== undefined) return stack[i];
    return undefined;
  }

  /** A node is added to the body it is in. */
  function fill(): void {
    const body = stack.length === 0 ? undefined : innermostDefine();
    if (body !== undefined) body.filled = true;
  }

  /** A define or block ended at `close`: a second one holding more than space of a name in this text is refused, as Go refuses it. */
  function defined(block: Block, close: number): void {
    const name = block.name;
    if (name === undefined || name === '') return;
    if (block.filled !== true) {
      empty.add(name);
      return;
    }
    const first = filled.get(name);
    if (first !== undefined) throw new Refused(close, `multiple definition of template "${name}" (the {{${first.kind}}} of line ${lineOf(text, first.at)} defines it too: one file may define a name once, bar defines holding only space)`);
    filled.set(name, block);
  }

  /**
   * The action opening at `at` whose `}}` is at `close`. Errors are told at the token Go's parser stands on when it
   * refuses (its line is the one Helm prints): the token at fault, or the `}}` for what is known only at the end.
   */
  function action(at: number, close: number): void {
    const word = count > 0 && kinds[0] === KW ? (words[0] as string) : undefined;
    switch (word) {
      case 'end': {
        if (count > 1) throw new Refused(tokenAt(1, close), `unexpected ${shown(text, 1)} in end`);
        const block = stack.pop();
        if (block === undefined) throw new Refused(close, 'unexpected {{end}}');
        if (block.saved !== undefined) defined(block, close);
        if (block.saved !== undefined) ({ vars, ranges } = block.saved);
        else {
          vars.length = block.mark;
          if (block.kind === 'range') ranges--;
        }
        return;
      }
      case 'else': {
        const block = stack[stack.length - 1];
        if (block === undefined) throw new Refused(close, 'unexpected {{else}}');
        // Go reads a block's body as a template of its own and tells the error at the line of the block's `}}`.
        if (block.saved !== undefined) throw new Refused(block.kind === 'block' ? block.close : close, `unexpected {{else}} in ${block.kind} clause`);
        if (block.sawElse) throw new Refused(close, 'expected end; found {{else}}');
        const chained = kindAt(1) === KW && (words[1] === 'if' || words[1] === 'with');
        if (chained) pipeline(2, close, words[1] as string);
        else if (count > 1) throw new Refused(tokenAt(1, close), `unexpected ${shown(text, 1)} in else`);
        else block.sawElse = true;
        return;
      }
      case 'if':
      case 'range':
      case 'with': {
        fill();
        stack.push({ kind: word, at, close, sawElse: false, mark: vars.length });
        if (word === 'range') ranges++;
        pipeline(1, close, word);
        // Its pipeline is evaluated whenever the action is reached, as a command's is (not an else if's).
        everyRun(stack.length - 1);
        return;
      }
      case 'define':
      case 'block': {
        if (word === 'define' && stack.length > 0) throw new Refused(tokenAt(0, close), `unexpected <define> in command: {{define}} inside {{${(stack[stack.length - 1] as Block).kind}}}`);
        if (kindAt(1) !== STRING) throw new Refused(tokenAt(1, close), `unexpected ${count > 1 ? shown(text, 1) : '"}}"'} in ${word} clause: the name must be a quoted string`);
        if (word === 'define' && count > 2) throw new Refused(tokenAt(2, close), `unexpected ${shown(text, 2)} in define clause`);
        if (word === 'block') pipeline(2, close, 'block clause');
        if (words[1] !== '') defines.push(words[1] as string);
        if (word === 'block') fill();
        stack.push({ kind: word, at, close, sawElse: false, mark: 0, saved: { vars, ranges }, name: words[1] as string });
        vars = ['$'];
        ranges = 0;
        return;
      }
      case 'template': {
        if (kindAt(1) !== STRING) throw new Refused(tokenAt(1, close), `unexpected ${count > 1 ? shown(text, 1) : '"}}"'} in template clause: the name must be a quoted string`);
        if (count > 2) pipeline(2, close, 'template clause');
        fill();
        if (stack.length === 0 && words[1] !== '' && !(words[1] as string).includes('/')) runs.push({ name: words[1] as string, at });
        else if (stack.length === 1 && inDefine !== undefined && words[1] !== '') bodyOf(stack[0] as Block)?.runs.push(words[1] as string);
        return;
      }
      case 'break':
      case 'continue': {
        if (count > 1) throw new Refused(tokenAt(1, close), `unexpected ${shown(text, 1)} in {{${word}}}`);
        if (ranges === 0) throw new Refused(close, `{{${word}}} outside {{range}}`);
        fill();
        return;
      }
      default:
        pipeline(0, close, 'command');
        fill();
        everyRun(stack.length);
    }
  }

  /**
   * The action's pipeline, evaluated whenever its context runs, `depth` blocks deep: at the text's top level, its runs
   * and first wrong call; at a define's own, the define's.
   */
  function everyRun(depth: number): void {
    if (depth === 0) topRuns();
    if (depth === 0 && miscalls.length === 0) miscall(miscalls);
    else if (depth === 1 && inDefine !== undefined) {
      const body = bodyOf(stack[0] as Block);
      if (body === undefined || andOr()) return;
      for (let i = 0; i + 1 < count; i++) if (kinds[i] === IDENT && words[i] === 'include' && kinds[i + 1] === STRING && words[i + 1] !== '') body.runs.push(words[i + 1] as string);
      if (body.miscall === undefined) {
        const found: Found[] = [];
        miscall(found);
        const first = found[0];
        if (first !== undefined) body.miscall = wrongCallAt(text, first);
      }
    }
  }

  /** The body record of the define `block` is (of a define with a name), kept in `inDefine`. */
  function bodyOf(block: Block): DefineBody | undefined {
    if (block.kind !== 'define' || block.name === undefined || block.name === '' || inDefine === undefined) return undefined;
    let body = inDefine.get(block.name);
    if (body === undefined) inDefine.set(block.name, (body = { runs: [] }));
    return body;
  }

  /** Whether the action holds `and` / `or`, which may skip some of it. */
  function andOr(): boolean {
    for (let i = 0; i < count; i++) if (kinds[i] === IDENT && (words[i] === 'and' || words[i] === 'or')) return true;
    return false;
  }

  /**
   * The first call in this top-level action of an ARITY function with another number of arguments (a parenthesized
   * pipeline is one; a value piped in is the last; a function named as an argument is called with none), unless
   * `and`/`or` may skip some of it.
   */
  function miscall(out: Found[]): void {
    let listed = false;
    for (let i = 0; i < count; i++) {
      if (kinds[i] !== IDENT) continue;
      if (words[i] === 'and' || words[i] === 'or') return;
      if (ARITY.has(words[i] as string) || AT_LEAST.has(words[i] as string)) listed = true;
    }
    if (!listed) return;
    // Per level: the token calling a function (-1: none), its arguments so far, and whether a value is piped in.
    const fn = [-1];
    const args = [0];
    const piped = [false];
    let level = 0;
    let commandStart = true;
    const wrong = (f: number, got: number, pipedIn = false): boolean => {
      if (f === -1) return false;
      const least = AT_LEAST.get(words[f] as string);
      if (least !== undefined) {
        if (got >= least) return false;
        out.push({ name: words[f] as string, want: least, got, atLeast: true, ...(pipedIn ? { piped: true as const } : {}), at: starts[f] as number });
        return true;
      }
      const want = ARITY.get(words[f] as string);
      if (want === undefined || (want === got && want !== -1)) return false;
      out.push({ name: words[f] as string, want, got, at: starts[f] as number });
      return true;
    };
    const ended = (): boolean => wrong(fn[level] as number, (args[level] as number) + (piped[level] === true ? 1 : 0), piped[level] === true);
    for (let i = 0; i < count; i++) {
      const kind = kinds[i];
      if (kind === PIPE) {
        if (ended()) return;
        fn[level] = -1;
        args[level] = 0;
        piped[level] = true;
        commandStart = true;
      } else if (kind === LPAREN) {
        if (commandStart) fn[level] = -1;
        else args[level] = (args[level] as number) + 1;
        level++;
        fn[level] = -1;
        args[level] = 0;
        piped[level] = false;
        commandStart = true;
      } else if (kind === RPAREN) {
        if (ended()) return;
        level--;
        commandStart = false;
      } else if (kind === VAR || kind === IDENT || kind === FIELD || kind === STRING || kind === OPERAND) {
        if ((kind === VAR && declared(i)) || ((kind === FIELD || kind === VAR) && chained(starts[i] as number))) continue;
        if (commandStart) {
          fn[level] = kind === IDENT ? i : -1;
          commandStart = false;
        } else {
          args[level] = (args[level] as number) + 1;
          if (kind === IDENT && wrong(i, 0)) return;
        }
      }
    }
    ended();
  }

  /** Whether the token at `at` continues the operand before it (`(index .a 0).b`, `$x.y`, `$.Values`): no space before it. */
  function chained(at: number): boolean {
    const before = typeof text === 'string' ? text.charCodeAt(at - 1) : (text[at - 1] ?? 0x20);
    return before === 0x29 || before === 0x5f || before === 0x24 || (before >= 0x30 && before <= 0x39) || ((before | 0x20) >= 0x61 && (before | 0x20) <= 0x7a);
  }

  /** The templates a top-level action runs by literal name (`include "x"`), unless `and`/`or` may skip them. */
  function topRuns(): void {
    for (let i = 0; i < count; i++) if (kinds[i] === IDENT && (words[i] === 'and' || words[i] === 'or')) return;
    for (let i = 0; i + 1 < count; i++) {
      const name = words[i + 1] as string;
      if (kinds[i] === IDENT && words[i] === 'include' && kinds[i + 1] === STRING && name !== '' && !name.includes('/')) runs.push({ name, at: starts[i] as number });
    }
  }

  /** A declaration's variable: followed by `:=`, `=`, or `,` (range's two). */
  function declared(i: number): boolean {
    const next = kindAt(i + 1);
    return next === DECLARE || next === ASSIGN || (next === CHAR && words[i + 1] === ',');
  }

  /**
   * The pipeline of tokens `from` on: its declarations, then commands separated by `|`, each with an operand (a
   * trailing `|` is accepted, as Go's parser accepts it), and at least one command.
   */
  function pipeline(from: number, close: number, context: string): void {
    // Declarations first (`$x :=`, `$i, $v :=`, `$x =`): Go adds them before it reads the commands.
    for (let i = from; i < count; i++) if (kinds[i] === VAR && declared(i)) vars.push(words[i] as string);
    let level = 0;
    cmds[0] = 0;
    current[0] = 0;
    idle[0] = 0;
    for (let i = from; i < count; i++) {
      switch (kinds[i]) {
        case VAR:
          if (declared(i)) break;
          if (!vars.includes(words[i] as string)) throw new Refused(starts[i] as number, `undefined variable "${words[i] as string}"`);
          current[level] = 1;
          break;
        case IDENT:
          if (!FUNCTIONS.has(words[i] as string)) throw new Refused(starts[i] as number, `function "${words[i] as string}" not defined`);
          current[level] = 1;
          break;
        case KW:
          throw new Refused(starts[i] as number, `unexpected <${words[i] as string}> in operand`);
        case FIELD:
        case STRING:
        case OPERAND:
          if (current[level] === 0 && cmds[level] !== 0 && idle[level] === 0 && (kinds[i] !== FIELD || loneDot(starts[i] as number))) idle[level] = (cmds[level] as number) + 1;
          current[level] = 1;
          break;
        case LPAREN:
          current[level] = 1;
          if (++level === cmds.length) {
            cmds = doubled(cmds);
            current = doubled(current);
            idle = doubled(idle);
          }
          cmds[level] = 0;
          current[level] = 0;
          idle[level] = 0;
          break;
        case RPAREN:
          if ((cmds[level] as number) + (current[level] as number) === 0) throw new Refused(starts[i] as number, 'missing value for parenthesized pipeline');
          if (idle[level] !== 0) throw new Refused(starts[i] as number, nonExecutable(idle[level] as number));
          level--;
          break;
        case PIPE:
          if (current[level] !== 1) throw new Refused(starts[i] as number, `unexpected "|" in ${level > 0 ? 'parenthesized pipeline' : context}`);
          cmds[level] = (cmds[level] as number) + 1;
          current[level] = 0;
          break;
        default:
      }
    }
    if ((cmds[0] as number) + (current[0] as number) === 0) throw new Refused(close, `missing value for ${context}`);
    if (idle[0] !== 0) throw new Refused(close, nonExecutable(idle[0] as number));
  }

  /** Whether the FIELD token at `at` is `.` alone (not `.Values`, nor a chain). */
  function loneDot(at: number): boolean {
    const next = typeof text === 'string' ? text.charCodeAt(at + 1) : (text[at + 1] ?? Number.NaN);
    return next !== 0x2e && (typeof text === 'string' ? alnumAt(text, at + 1) === 0 : !(next === 0x5f || (next >= 0x30 && next <= 0x39) || ((next | 0x20) >= 0x61 && (next | 0x20) <= 0x7a)));
  }
}

/** Go's words for a pipeline stage after the first that starts with a value, and what was meant. */
function nonExecutable(stage: number): string {
  return `non executable command in pipeline stage ${stage} (after a "|" comes a function, which gets the value before it as its last argument: {{ .Values.x | default "y" }}, not {{ .Values.x | "y" }})`;
}
