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
 * inside another block; an empty action or command; an undefined `$variable`; a function no Helm version defines
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

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

export interface TemplateParseError {
  /** 1-based line of the action (or comment) at fault. */
  line: number;
  message: string;
}

type Token =
  /** `at`: where it starts in the template (its line in messages). */
  | { t: 'var' | 'ident' | 'kw' | 'field' | 'string' | 'operand' | 'char'; v: string; at: number }
  | { t: 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign'; v: string; at: number };

class Refused extends Error {
  readonly at: number;
  constructor(at: number, message: string) {
    super(message);
    this.at = at;
  }
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
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

const SPACE = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
/** ASCII letters, digits, `_`; beyond ASCII, Go's unicode.IsLetter / IsDigit. */
function alnumAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) return 1;
  if (c < 0x80 || Number.isNaN(c)) return 0;
  const ch = charAt(text, i);
  return ALNUM.test(ch) ? ch.length : 0;
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

/** The tokens of the action whose body starts at `from` (blanks left out), and the index after its `}}`. */
function lexAction(text: string, from: number, tokens: Token[]): number {
  let i = from;
  let depth = 0;
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
    if (code === 0x7d && text.charCodeAt(i + 1) === 0x7d) {
      if (depth !== 0) throw new Refused(i, 'unclosed left paren');
      return i + 2;
    }
    const at = i;
    if (Number.isNaN(code)) throw new Refused(from, 'unclosed action');
    const n = alnumAt(text, i);
    if (n > 0 && !(code >= 0x30 && code <= 0x39)) {
      i += n;
      for (let m = alnumAt(text, i); m > 0; m = alnumAt(text, i)) i += m;
      if (!terminator(text, i)) throw new Refused(i, `bad character ${goRune(charAt(text, i))}`);
      const word = text.slice(at, i);
      tokens.push({ t: KEYWORDS.has(word) ? 'kw' : word === 'true' || word === 'false' || word === 'nil' ? 'operand' : 'ident', v: word, at });
      continue;
    }
    i++;
    switch (code) {
      case 0x3d: // =
        tokens.push({ t: 'assign', v: '=', at });
        continue;
      case 0x3a: // :
        if (text.charCodeAt(i) !== 0x3d) throw new Refused(at, 'expected :=');
        i++;
        tokens.push({ t: 'declare', v: ':=', at });
        continue;
      case 0x7c: // |
        tokens.push({ t: 'pipe', v: '|', at });
        continue;
      case 0x28: // (
        depth++;
        tokens.push({ t: 'lparen', v: '(', at });
        continue;
      case 0x29: // )
        if (--depth < 0) throw new Refused(at, 'unexpected right paren');
        tokens.push({ t: 'rparen', v: ')', at });
        continue;
      case 0x22: // "
      case 0x27: {
        // '
        for (;;) {
          const d = text.charCodeAt(i++);
          if (d === 0x5c && !Number.isNaN(text.charCodeAt(i)) && text.charCodeAt(i) !== 0x0a) i++;
          else if (Number.isNaN(d) || d === 0x0a || d === 0x5c) throw new Refused(at, code === 0x22 ? 'unterminated quoted string' : 'unterminated character constant');
          else if (d === code) break;
        }
        const v = text.slice(at, i);
        if (code === 0x22 && v.includes('\\')) {
          const bad = badEscape(v.slice(1, -1));
          if (bad !== undefined) throw new Refused(at, `invalid syntax: the string ${v} holds the escape ${bad}, which Go does not read (write \\\\ for a backslash, or quote it with \`...\`)`);
        }
        tokens.push({ t: code === 0x22 ? 'string' : 'operand', v, at });
        continue;
      }
      case 0x60: {
        // `
        const close = text.indexOf('`', i);
        if (close === -1) throw new Refused(at, 'unterminated raw quoted string');
        i = close + 1;
        tokens.push({ t: 'string', v: '`', at });
        continue;
      }
      default:
    }
    const next = text.charCodeAt(i);
    if (code === 0x24 || (code === 0x2e && !(next >= 0x30 && next <= 0x39))) {
      // $variable, .Field
      for (let m = alnumAt(text, i); m > 0; m = alnumAt(text, i)) i += m;
      if (!terminator(text, i)) {
        const key = code === 0x2e && text.charCodeAt(i) === 0x2d ? ' (a key holding "-" is read with index: {{ index .Values "my-key" }})' : '';
        throw new Refused(i, `bad character ${goRune(charAt(text, i))}${key}`);
      }
      tokens.push({ t: code === 0x24 ? 'var' : 'field', v: text.slice(at, i), at });
    } else if (code === 0x2b || code === 0x2d || code === 0x2e || (code >= 0x30 && code <= 0x39)) {
      i = scanNumber(text, at);
      const after = alnumAt(text, i);
      if (after > 0) {
        const word = /^[\p{L}\p{Nd}_.+-]*/u.exec(text.slice(at, at + 40))?.[0] ?? '';
        throw new Refused(at, `bad number syntax: "${text.slice(at, i + after)}"${/^[0-9.]+[A-Za-z]/.test(word) ? ` (${word} is read as a number: quote it, "${word}")` : ''}`);
      }
      if (i === at + 1 && (code === 0x2b || code === 0x2d)) throw new Refused(at, `illegal number syntax: "${text[at]}"`);
      tokens.push({ t: 'operand', v: '0', at });
    } else if (code >= 0x20 && code < 0x7f) tokens.push({ t: 'char', v: text[at] as string, at });
    else throw new Refused(at, `unrecognized character in action: ${goRune(charAt(text, at))}`);
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
  sawElse: boolean;
  /** How many variables were in scope when it opened (if/range/with), or the scope to restore (define/block). */
  mark: number;
  saved?: { vars: string[]; ranges: number };
}

/**
 * The first thing Go's template parser refuses in `text` (a template's whole text, or its bytes when they are all
 * ASCII), as far as this reads it, or undefined. Never throws.
 */
export function goTemplateParseError(text: string | Buffer): TemplateParseError | undefined {
  try {
    check(text);
    return undefined;
  } catch (err) {
    if (!(err instanceof Refused)) return undefined;
    return { line: lineOf(text, err.at), message: err.message };
  }
}

function lineOf(text: string | Buffer, at: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The action or comment opening at `open` of `w`: its tokens into `tokens` (none for a comment), and the index after its `}}`. */
function lexOne(w: string, open: number, tokens: Token[]): { end: number; comment: boolean } {
  let body = open + 2;
  const trim = w[body] === '-' && isSpace(w[body + 1] ?? '');
  if (w.startsWith('/*', body + (trim ? 2 : 0))) {
    const close = w.indexOf('*/', body + (trim ? 4 : 2));
    if (close === -1) throw new Refused(open, 'unclosed comment');
    const after = close + 2;
    if (w.startsWith('}}', after)) return { end: after + 2, comment: true };
    if (isSpace(w[after] ?? '') && w[after + 1] === '-' && w.startsWith('}}', after + 2)) return { end: after + 4, comment: true };
    throw new Refused(open, 'comment ends before closing delimiter');
  }
  if (trim) body += 2;
  return { end: lexAction(w, body, tokens), comment: false };
}

/**
 * lexOne for a large ASCII template given as its bytes: each action made a string on its own (a window from its
 * `{{`, grown until the action ends in it), never the whole template (chart.ts: such strings cost five times the
 * CPU per byte). A window that cuts an action short always ends in an error (only `}}` ends one), then grows.
 */
function lexWindow(bytes: Buffer, open: number, tokens: Token[]): { end: number; comment: boolean } {
  for (let size = 512; ; size *= 8) {
    const end = Math.min(bytes.length, open + size);
    tokens.length = 0;
    try {
      const one = lexOne(bytes.toString('latin1', open, end), 0, tokens);
      for (const t of tokens) t.at += open;
      return { end: one.end + open, comment: one.comment };
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      if (end < bytes.length) continue;
      throw new Refused(err.at + open, err.message);
    }
  }
}

function check(text: string | Buffer): void {
  const tokens: Token[] = [];
  const stack: Block[] = [];
  let vars = ['$'];
  let ranges = 0;
  for (let open = text.indexOf('{{'); open !== -1; ) {
    tokens.length = 0;
    const one = typeof text === 'string' ? lexOne(text, open, tokens) : lexWindow(text, open, tokens);
    if (!one.comment) action(tokens, open);
    open = text.indexOf('{{', one.end);
  }
  if (stack.length > 0) {
    const last = stack[stack.length - 1] as Block;
    throw new Refused(last.at, `unexpected EOF: the {{${last.kind}}} here is never closed with {{end}}`);
  }

  function action(tokens: Token[], at: number): void {
    const first = tokens[0];
    const word = first?.t === 'kw' ? first.v : undefined;
    const rest = tokens.slice(1);
    switch (word) {
      case 'end': {
        if (rest.length > 0) throw new Refused(at, `unexpected ${show(rest[0] as Token)} in end`);
        const block = stack.pop();
        if (block === undefined) throw new Refused(at, 'unexpected {{end}}');
        if (block.saved !== undefined) ({ vars, ranges } = block.saved);
        else {
          vars.length = block.mark;
          if (block.kind === 'range') ranges--;
        }
        return;
      }
      case 'else': {
        const block = stack[stack.length - 1];
        if (block === undefined || block.saved !== undefined) throw new Refused(at, 'unexpected {{else}}');
        if (block.sawElse) throw new Refused(at, 'expected end; found {{else}}');
        const chained = rest[0]?.t === 'kw' && (rest[0].v === 'if' || rest[0].v === 'with');
        if (!chained && rest.length > 0) throw new Refused(at, `unexpected ${show(rest[0] as Token)} in else`);
        if (chained) pipeline(rest.slice(1), at, rest[0]?.v as string, true);
        else block.sawElse = true;
        return;
      }
      case 'if':
      case 'range':
      case 'with': {
        stack.push({ kind: word, at, sawElse: false, mark: vars.length });
        if (word === 'range') ranges++;
        pipeline(rest, at, word, true);
        return;
      }
      case 'define':
      case 'block': {
        if (word === 'define' && stack.length > 0) throw new Refused(at, `unexpected <define> in command: {{define}} inside {{${(stack[stack.length - 1] as Block).kind}}}`);
        const name = rest[0];
        if (name?.t !== 'string') throw new Refused(at, `unexpected ${name === undefined ? '"}}"' : show(name)} in ${word} clause: the name must be a quoted string`);
        if (word === 'define' && rest.length > 1) throw new Refused(at, `unexpected ${show(rest[1] as Token)} in define clause`);
        if (word === 'block') pipeline(rest.slice(1), at, 'block clause', true);
        stack.push({ kind: word, at, sawElse: false, mark: 0, saved: { vars, ranges } });
        vars = ['$'];
        ranges = 0;
        return;
      }
      case 'template': {
        const name = rest[0];
        if (name?.t !== 'string') throw new Refused(at, `unexpected ${name === undefined ? '"}}"' : show(name)} in template clause: the name must be a quoted string`);
        if (rest.length > 1) pipeline(rest.slice(1), at, 'template clause', true);
        return;
      }
      case 'break':
      case 'continue': {
        if (rest.length > 0) throw new Refused(at, `unexpected ${show(rest[0] as Token)} in {{${word}}}`);
        if (ranges === 0) throw new Refused(at, `{{${word}}} outside {{range}}`);
        return;
      }
      default:
        pipeline(tokens, at, 'command', true);
    }
  }

  /** A pipeline's tokens: its declarations, then commands separated by `|`, each with at least one operand. */
  function pipeline(tokens: Token[], at: number, context: string, required: boolean): void {
    // Declarations first (`$x :=`, `$i, $v :=`, `$x =`): Go adds them before it reads the commands.
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as Token;
      const next = tokens[i + 1];
      if (t.t === 'var' && (next?.t === 'declare' || next?.t === 'assign' || (next?.t === 'char' && next.v === ','))) vars.push(t.v);
    }
    // Per pipeline level (the action's, then each parenthesized one): the commands so far, and whether the
    // current one has an operand. A trailing `|` is accepted, as Go's parser accepts it.
    const levels: Array<{ cmds: number; current: boolean }> = [{ cmds: 0, current: false }];
    const level = (): { cmds: number; current: boolean } => levels[levels.length - 1] as { cmds: number; current: boolean };
    const close = (): number => {
      const l = level();
      return l.cmds + (l.current ? 1 : 0);
    };
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as Token;
      const next = tokens[i + 1];
      switch (t.t) {
        case 'var':
          if (next?.t === 'declare' || next?.t === 'assign' || (next?.t === 'char' && next.v === ',')) break;
          if (!vars.includes(t.v)) throw new Refused(t.at, `undefined variable "${t.v}"`);
          level().current = true;
          break;
        case 'ident':
          if (!FUNCTIONS.has(t.v)) throw new Refused(t.at, `function "${t.v}" not defined`);
          level().current = true;
          break;
        case 'kw':
          throw new Refused(t.at, `unexpected <${t.v}> in operand`);
        case 'field':
        case 'string':
        case 'operand':
          level().current = true;
          break;
        case 'lparen':
          level().current = true;
          levels.push({ cmds: 0, current: false });
          break;
        case 'rparen':
          if (close() === 0) throw new Refused(t.at, 'missing value for parenthesized pipeline');
          levels.pop();
          break;
        case 'pipe':
          if (!level().current) throw new Refused(t.at, `unexpected "|" in ${levels.length > 1 ? 'parenthesized pipeline' : context}`);
          level().cmds++;
          level().current = false;
          break;
        default:
      }
    }
    if (required && close() === 0) throw new Refused(at, `missing value for ${context}`);
  }
}

function show(t: Token): string {
  return t.t === 'kw' ? `<${t.v}>` : `"${t.v}"`;
}
