import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * Every message docs/errors.md quotes (the backticked text of a table row's first column) still exists in src/:
 * a message reworded or removed in the code fails here until the page follows. A quoted message is a template:
 * `<placeholder>`, `...` and `[optional]` stand for what the code fills in, so the text between them is what
 * must be found. The code builds messages from pieces (template literals, strings joined, a ternary choosing
 * a word), so a piece of text is found when it is one string of the code, or, where the code interpolates,
 * when it can be cut into: the end of a string, whole strings (of four characters or more when they hold
 * letters: "it" or "a" alone would fit almost anything) or interpolated values (a number, an ERROR_CODE, a
 * CamelCase name the code spells), and the start of a string. A cut never falls inside a word except next to
 * such a value or before a plural "s" (`attempt${n === 1 ? '' : 's'}`). A test below proves that a changed
 * word in quoted text is caught.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ERRORS_MD = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');

/**
 * Text the page quotes that is not packpub's own string, each with why (the check also fails when one of these
 * is found in src/ after all, or no longer quoted: the list stays short and true).
 */
const NOT_IN_SRC: Record<string, string> = {
  'Invalid values:': "yargs' own message, quoted as an example of one",
  'readChart(dir)': 'names the library function the row applies to',
  'there is no -p flag': 'an example: the code says the flag as the user typed it',
  '(KmsException': "the AWS error's name, which the SDK gives at run time",
  'already holds different content (not a pack: it holds an image index (': "push cuts resolve-pack's \"<ref> is \" off its message (heldContent)",
  '(not a pack: its manifest has': 'as above',
  '(not a pack: its config is': 'as above',
  'the report input is empty: give a file path (default packpub-report.json)': "action.yml's own message (the GitHub Action's shell step)",
  'the report input holds a line break: give one file path on one line': "action.yml's own message (the GitHub Action's shell step)",
  'already existed without these resource tags, which packpub does not add to an existing repository: K=V (absent), K2=V2 (it has K2=X)': 'example tags',
};

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0' };

/** The text of every string literal and template-literal chunk of TypeScript source `text`, escapes read. */
function literalPieces(text: string, out: string[]): void {
  let i = 0;
  const n = text.length;
  /** Per open `${`: how many `{` inside it are open. */
  const depth: number[] = [];
  /** The last code character that is not white space: tells a regular expression from a division. */
  let prev = '';
  const escaped = (): string => {
    const c = text[i + 1] ?? '';
    i += 2;
    return ESCAPES[c] ?? c;
  };
  // Runs of characters that need no look (taken whole: a character at a time cost ~0.4 CPU-s over src/).
  const plainIn = { "'": /[^'\\]+/y, '"': /[^"\\]+/y, '`': /[^`\\$]+/y } as Record<string, RegExp>;
  const run = (re: RegExp): string => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) return '';
    i += m[0].length;
    return m[0];
  };
  const quoted = (quote: string): void => {
    let piece = '';
    for (i++; i < n && text[i] !== quote; ) piece += text[i] === '\\' ? escaped() : run(plainIn[quote]!) || text[i++];
    i++;
    out.push(piece);
  };
  const template = (): void => {
    let piece = '';
    while (i < n) {
      if (text[i] === '\\') piece += escaped();
      else if (text[i] === '`') {
        i++;
        break;
      } else if (text[i] === '$' && text[i + 1] === '{') {
        i += 2;
        depth.push(0);
        break;
      } else piece += run(plainIn['`']!) || text[i++];
    }
    out.push(piece);
  };
  const code = /[^/'"`{}]+/y;
  while (i < n) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      quoted(c);
      prev = 'a';
    } else if (c === '`') {
      i++;
      template();
      prev = 'a';
    } else if (c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) || /\b(?:return|typeof|case|of|in)$/.test(text.slice(Math.max(0, i - 8), i).trimEnd()))) {
      // A regular expression literal: skipped (its quotes are not strings).
      let inClass = false;
      for (i++; i < n && text[i] !== '\n' && (inClass || text[i] !== '/'); i++) {
        if (text[i] === '\\') i++;
        else if (text[i] === '[') inClass = true;
        else if (text[i] === ']') inClass = false;
      }
      for (i++; /[a-z]/.test(text[i] ?? ''); ) i++;
      prev = 'a';
    } else if (c === '}' && depth.at(-1) === 0) {
      depth.pop();
      i++;
      template();
      prev = 'a';
    } else if (c === '{' || c === '}') {
      if (depth.length > 0) depth[depth.length - 1]! += c === '{' ? 1 : -1;
      prev = c;
      i++;
    } else {
      // Code up to the next character that may start or end something: prev is its last one not white space.
      const skipped = run(code) || text[i++]!;
      const last = skipped.trimEnd();
      if (last !== '' && !/\s/.test(last.at(-1)!)) prev = last.at(-1)!;
    }
  }
}

/** Whether text can come out of the code: see the note at the top. */
function messageIndex(sources: readonly string[]): (text: string) => boolean {
  const list: string[] = [];
  for (const source of sources) literalPieces(source, list);
  const pieces = new Set(list);
  const joined = list.join('\u0000');
  const values = new Set(sources.join('\n').match(/\b[A-Z][A-Za-z0-9_]+\b/g));
  const VALUE = /^(?:\d+|[A-Z][A-Z0-9_]+|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+)$/;
  const isValue = (s: string) => VALUE.test(s) && (/^\d+$/.test(s) || values.has(s));
  // Starts and ends of pieces, looked up by their first / last K characters (shorter ones kept whole).
  const K = 4;
  const heads = new Map<string, string[]>();
  const tails = new Map<string, string[]>();
  const shortEnds = new Set<string>();
  for (const p of pieces) {
    for (let k = 1; k < K && k <= p.length; k++) shortEnds.add(`<${p.slice(0, k)}`).add(`>${p.slice(-k)}`);
    if (p.length < K) continue;
    for (const [map, key] of [[heads, p.slice(0, K)], [tails, p.slice(-K)]] as const) map.set(key, [...(map.get(key) ?? []), p]);
  }
  const endsPiece = (s: string) => (s.length < K ? shortEnds.has(`>${s}`) : (tails.get(s.slice(-K)) ?? []).some((p) => p.endsWith(s)));
  const startsPiece = (s: string) => (s.length < K ? shortEnds.has(`<${s}`) : (heads.get(s.slice(0, K)) ?? []).some((p) => p.startsWith(s)));
  const word = /[A-Za-z0-9]/;
  return (text) => {
    if (joined.includes(text)) return true;
    const L = text.length;
    // reach[i]: text[0:i] comes out of the code up to a piece boundary; 2 when its last part was a value.
    const reach = new Uint8Array(L + 1);
    reach[0] = 2;
    for (let i = 0; i < L; i++) {
      if (reach[i] === 0) continue;
      const inWord = i > 0 && word.test(text[i - 1]!) && word.test(text[i]!);
      for (let j = i + 1; j <= L; j++) {
        const part = text.slice(i, j);
        const value = isValue(part);
        if (inWord && reach[i] !== 2 && !value && part !== 's' && !part.startsWith('s ')) continue;
        // A whole piece in the middle says something only when it is more than a short word ("it", "a").
        const whole = pieces.has(part) && (part.length >= 4 || !/[A-Za-z]/.test(part) || part === 's');
        if (!value && !(i === 0 ? endsPiece(part) : whole) && !(j === L && startsPiece(part))) continue;
        if (j === L) return true;
        reach[j] = Math.max(reach[j]!, value ? 2 : 1);
      }
    }
    return false;
  };
}

/** The quoted texts of the page's table rows (first column), cut at their placeholders. */
function documentedTexts(md: string): string[] {
  const texts: string[] = [];
  for (const line of md.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const first = line.slice(2, line.indexOf(' | ') < 0 ? undefined : line.indexOf(' | '));
    for (const [, quoted] of first.matchAll(/`([^`]+)`/g)) {
      for (const part of quoted!.split(/<[^<>]*>|\.\.\.|…|\[|\]|\*/)) {
        const text = part.trim();
        // Punctuation and one- or two-letter words say nothing on their own.
        if (text.replace(/[^A-Za-z]/g, '').length >= 3) texts.push(text);
      }
    }
  }
  return texts;
}

/** src/'s modules, and bin/'s files (bin/packpub.js says a few things before the bundle loads). */
function sourceTexts(): string[] {
  return [
    ...readdirSync(join(ROOT, 'src'), { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.includes('.generated.')),
    ...readdirSync(join(ROOT, 'bin'), { withFileTypes: true }).filter((e) => e.isFile() && /\.c?js$/.test(e.name)),
  ].map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

describe('docs/errors.md quotes messages that exist', () => {
  const found = messageIndex(sourceTexts());
  const texts = documentedTexts(ERRORS_MD);

  it('every message it quotes is in src/ (documented -> exists)', () => {
    expect(texts.length).toBeGreaterThan(500);
    const missing = texts.filter((t) => !(t in NOT_IN_SRC) && !found(t));
    expect(missing, 'quoted in docs/errors.md but not in src/: reword the page as the code says it, or the code').toEqual([]);
  });

  it('its list of quoted text that is not packpub\'s own stays true', () => {
    for (const text of Object.keys(NOT_IN_SRC)) {
      expect(texts, `"${text}" is no longer quoted: drop it from NOT_IN_SRC`).toContain(text);
      expect(found(text), `"${text}" is in src/ now: drop it from NOT_IN_SRC`).toBe(false);
    }
  });

  it('takes none of the quoted texts with one word changed for a message of src/', () => {
    // Every 7th word of four letters or more (~300 of ~2100: all of them cost ~1 CPU-s, and each was checked
    // when this was written), its last letter changed: the texts near it in the code must not cover it.
    let nth = 0;
    const changed: string[] = [];
    for (const text of texts) {
      if (text in NOT_IN_SRC) continue;
      for (const w of text.matchAll(/[a-z]{4,}/g)) {
        if (nth++ % 7 === 0) changed.push(`${text.slice(0, w.index)}${w[0].slice(0, -1)}${w[0].endsWith('q') ? 'x' : 'q'}${text.slice(w.index + w[0].length)}`);
      }
    }
    expect(changed.length).toBeGreaterThan(250);
    expect(changed.filter(found), 'changed text the check takes for a message of src/').toEqual([]);
  });

  it('reads strings, templates and what they interpolate from TypeScript, not comments or regular expressions', () => {
    const pieces: string[] = [];
    literalPieces(
      [
        "// it's a comment",
        "const a = 'one \\'x\\'' + \"two\";",
        'const r = /["\'`]/g; const d = x / 2 / y;',
        'const t = `head ${n === 1 ? \'\' : `s${{ k: 1 }.k}`} tail`;',
        '/* `not` */ const u = `end`;',
      ].join('\n'),
      pieces,
    );
    expect(pieces).toEqual(["one 'x'", 'two', 'head ', '', 's', '', ' tail', 'end']);
    const check = messageIndex(["throw new Error(`${host} answered ${status} to DELETE of ${digest}`); const s = `${n} attempt${n === 1 ? '' : 's'}`;"]);
    expect(check('answered 202 to DELETE of')).toBe(true);
    expect(check('3 attempts')).toBe(true);
    expect(check('answered 202 to PUT of')).toBe(false);
    expect(check('answered to DELETE')).toBe(false);
  });
});

/*
 * The other way round (trust11, s20): every message src/ builds for a user has a row. A message is where src/
 * makes an error of a fixed code (`new PackpubError('CODE', ...)`, `new RegistryError('CODE', ...)`) or calls a
 * helper that makes one from its first argument (usageError, unsafe, packFileError). It has a row when one of
 * its literal pieces of six letters or more is in a text a row quotes, holds one (of ten letters or more), or,
 * twelve letters or more, is on the page.
 * INTERNAL is the page's "any other unexpected error"; a message whose text is all interpolated (another
 * error's, wrapped) is the row of what it wraps. Library-only checks of a caller's options are listed below.
 */

/** Messages a library caller alone meets (the CLI never passes these options out of range), each with why. */
const LIBRARY_ONLY: Record<string, string> = {
  'buildArchive needs the pack name and version': 'buildArchive option; the CLI passes them from pack.json',
  'extract option ': 'extractArchive option; the CLI passes the defaults or --max-size, checked before',
  'archive mtime ': 'buildArchive option; the CLI passes SOURCE_DATE_EPOCH, checked with its own message',
  'compression level ': 'gzip option; the CLI uses the default level',
  'gzip block size ': 'gzip option; the CLI uses the default size',
  'listPacks: limits.': 'listPacks option',
  'no target to push to': 'pushPacks with an empty list of targets; the CLI always has one',
  'delete needs at least one <name>:<version>': 'planDelete with no references; yargs demands <refs...>',
  'validation stopped': 'the validate pool aborted by its caller (ABORTED: push reports the interrupt itself)',
  'cancelled: Palette was not asked to ': "syncPaletteRegistry's signal aborted (ABORTED: the CLI says its interrupt itself, cli/palette-run.ts)",
  'invalid usage': "yargs' own message when it gives none (the row of yargs' messages)",
  'concurrency ': 'file hashing and gzip options; the CLI passes its own, range-checked as --concurrency',
  ': concurrency must be a whole number of 1 or more': 'pushPacks and copyPacks option; the CLI passes --concurrency or the file\'s, both range-checked',
  'openTarget: ociLayout is empty': 'openTarget option; the CLI refuses an empty --oci-layout (or --to oci:) itself',
  ': option packs must be an array of { name, version }': 'syncPaletteRegistry and planPaletteSync option; the CLI passes the name:version pairs it parsed',
  'Palette sync: ': 'syncPaletteRegistry timeoutMs, pollIntervalMs; the CLI passes --palette-timeout, --palette-poll-interval, range-checked',
};

/** The source text of the argument that starts at `start` (up to its `,` or `)` at depth 0; strings and templates skipped). */
function argumentAt(text: string, start: number): string {
  let depth = 0;
  const templates: number[] = [];
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (templates.length > 0 && templates.at(-1) === depth) {
      // inside a template's text
      if (c === '\\') i++;
      else if (c === '`') templates.pop();
      else if (c === '$' && text[i + 1] === '{') {
        depth++;
        i++;
      }
      continue;
    }
    if (c === "'" || c === '"') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '`') templates.push(depth);
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      if (depth === 0) return text.slice(start, i);
      depth--;
    } else if (c === ',' && depth === 0) return text.slice(start, i);
  }
  return text.slice(start);
}

describe('docs/errors.md has a row for every message src/ gives a user', () => {
  const letters = (text: string) => text.replace(/[^A-Za-z]/g, '').length;
  const quoted = documentedTexts(ERRORS_MD);
  const sites = (): Array<{ where: string; code: string; pieces: string[] }> => {
    const out: Array<{ where: string; code: string; pieces: string[] }> = [];
    for (const e of readdirSync(join(ROOT, 'src'), { withFileTypes: true, recursive: true })) {
      if (!e.isFile() || !e.name.endsWith('.ts') || e.name.includes('.generated.')) continue;
      const file = join(e.parentPath, e.name);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new (?:PackpubError|RegistryError)\(\s*'([A-Z_]+)',\s*|\b(usageError|unsafe|packFileError)\(\s*(?=['"`])/g)) {
        const pieces: string[] = [];
        literalPieces(argumentAt(text, m.index + m[0].length), pieces);
        const where = `${file.slice(ROOT.length)}:${text.slice(0, m.index).split('\n').length}`;
        out.push({ where, code: m[1] ?? 'USAGE', pieces: pieces.map((p) => p.trim()).filter((p) => letters(p) >= 6) });
      }
    }
    return out;
  };

  it('finds the messages src/ makes (the scan reads them)', () => {
    const all = sites();
    expect(all.length).toBeGreaterThan(380);
    expect(all.filter((s) => s.pieces.length > 0).length).toBeGreaterThan(360);
  });

  it('every one has a row (or is INTERNAL, all interpolated, or a library caller\'s alone)', () => {
    const library = Object.keys(LIBRARY_ONLY);
    const missing = sites()
      .filter((s) => s.code !== 'INTERNAL' && s.pieces.length > 0)
      .filter((s) => !s.pieces.some((p) => (letters(p) >= 12 && ERRORS_MD.includes(p)) || quoted.some((d) => d.includes(p) || (letters(d) >= 10 && p.includes(d))) || library.some((l) => p.startsWith(l.trim()))))
      .map((s) => `${s.where} ${s.code} ${s.pieces.join(' | ')}`);
    expect(missing, 'messages of src/ with no row in docs/errors.md: add one (what the user sees, why, what to do)').toEqual([]);
  });

  it('its list of library-only messages stays true', () => {
    const pieces = sites().flatMap((s) => s.pieces);
    for (const text of Object.keys(LIBRARY_ONLY)) expect(pieces.some((p) => p.startsWith(text.trim())), `"${text}" is no longer in src/: drop it`).toBe(true);
  });
});
