import { createGunzip } from 'node:zlib';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { extract } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFastYaml } from '../../../src/pack/yaml-fast.js';
import { setFastYaml } from '../../../src/pack/yaml-go.js';
import { checkYamlText } from '../../../src/pack/yaml-source.js';
import { yamlTreeOf } from '../../../src/pack/yaml-tree.js';
import { CORPUS_DIR, HAVE_CORPUS } from '../../support/packs.js';

/*
 * The fast YAML reader (yaml-fast.ts) must give exactly what the full reader (yaml-go.ts over the `yaml`
 * package) gives for every text it takes: values (types, key order), key positions, findings with their
 * lines and columns, trees (yaml-tree.ts) with their duplicates and node counts. Both readers run on
 * every YAML text of the real packs (../shared/corpus, the bench corpus when generated, and directories
 * named in YAML_DIFF_DIRS, colon-separated, e.g. a checkout of pack-central), and on generated YAML.
 */

afterEach(() => setFastYaml(true));

/** A value as a string that keeps what toEqual forgets: key order, -0, NaN, undefined. */
function canon(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? 'n:-0' : `n:${String(value)}`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(canon).join(',')}]`;
  if (value instanceof Map) return `Map{${[...value].map(([k, v]) => `${canon(k)}=>${canon(v)}`).join(',')}}`;
  if (value instanceof Set) return `Set{${[...value].map(canon).join(',')}}`;
  if (typeof value === 'object') {
    return `{${Object.getOwnPropertyNames(value)
      .map((k) => `${JSON.stringify(k)}:${canon((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return `?${typeof value}`;
}

/** Everything the callers read of a text, with the current reader (or what it throws). */
function readAll(text: string, all: boolean): string {
  try {
    return readAllOf(text, all);
  } catch (err) {
    return `throws ${String(err)}`;
  }
}

function readAllOf(text: string, all = true): string {
  const check = checkYamlText(text, 'f.yaml');
  if (!all) {
    const { parsed: _p, ...rest } = check;
    let tree: unknown;
    try {
      tree = yamlTreeOf(check.parsed);
    } catch (err) {
      tree = `throws ${String(err)}`;
    }
    return canon({ check: rest, tree });
  }
  const noValues = checkYamlText(text, 'f.yaml', { documents: false });
  let tree: unknown;
  try {
    tree = yamlTreeOf(check.parsed);
  } catch (err) {
    tree = `throws ${String(err)}`;
  }
  let small: unknown;
  try {
    small = yamlTreeOf(check.parsed, { maxNodes: 5, maxDepth: 2 });
  } catch (err) {
    small = `throws ${String(err)}`;
  }
  const { parsed: _p, ...rest } = check;
  const { parsed: _q, documents: _d, ...restNoValues } = noValues;
  return canon({ check: rest, noValues: restNoValues, tree, small });
}

/**
 * Compare both readers on `text` (`all`: also without values, and with small tree limits); true when the
 * fast reader took it. A text the fast reader declines is read by parseGoYaml in both modes (parseYaml in
 * yaml-go.ts falls back to it): comparing would run the same code on the same text twice, so only the
 * decline itself is checked (parseFastYaml must not throw).
 */
function same(text: string, all = true): boolean {
  if (parseFastYaml(text) === undefined) return false;
  setFastYaml(false);
  const full = readAll(text, all);
  setFastYaml(true);
  const fast = readAll(text, all);
  expect(fast, `text:\n${text}`).toBe(full);
  return true;
}

const YAML_NAME = /\.ya?ml$/i;

/** YAML texts of a tree of packs: files, and the YAML entries of chart archives. */
async function yamlTexts(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // Chart templates are Go templates, not YAML, and nothing parses them as YAML.
    if (entry.isDirectory()) {
      if (entry.name !== 'templates') await yamlTexts(path, out);
    }
    else if (entry.isFile() && YAML_NAME.test(entry.name)) out.push((await readFile(path, 'utf8')).replace(/^\uFEFF/, ''));
    else if (entry.isFile() && /\.(?:tgz|tar\.gz)$/.test(entry.name)) await archiveTexts(await readFile(path), out);
  }
}

async function archiveTexts(bytes: Buffer, out: string[]): Promise<void> {
  const tar = extract();
  const done = (async () => {
    for await (const entry of tar) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const name = entry.header.name;
      if (YAML_NAME.test(name) && !name.includes('/templates/')) out.push(Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, ''));
      else if (/\.tgz$/.test(name)) await archiveTexts(Buffer.concat(chunks), out);
    }
  })();
  Readable.from([bytes]).pipe(createGunzip()).pipe(tar);
  await done;
}

/** YAML text inside YAML: presets' `add:` blocks, which the deep checks parse too. */
function nestedTexts(text: string): string[] {
  const found: string[] = [];
  const check = checkYamlText(text, 'f.yaml');
  const visit = (value: unknown): void => {
    if (typeof value === 'string' && value.includes(':') && value.includes('\n')) found.push(value);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit);
  };
  check.documents.forEach(visit);
  return found;
}

async function compareTree(dir: string): Promise<{ texts: number; fast: number }> {
  const texts: string[] = [];
  await yamlTexts(dir, texts);
  // Packs repeat files (the same chart in several versions): each distinct text is compared once.
  const all = [...new Set([...texts, ...texts.filter((t) => /^presets:/m.test(t)).flatMap(nestedTexts)])];
  let fast = 0;
  for (const text of all) if (same(text, false)) fast++;
  return { texts: all.length, fast };
}

describe('the fast YAML reader gives what the full reader gives', () => {
  it.skipIf(!HAVE_CORPUS)('on every YAML text of the corpus packs (files, chart archives, preset adds)', async () => {
    const { texts, fast } = await compareTree(CORPUS_DIR);
    expect(texts).toBeGreaterThan(100);
    // Most real YAML is in the subset: the fast path must actually be taken.
    expect(fast / texts).toBeGreaterThan(0.3);
  }, 120_000);

  // More trees on request (e.g. YAML_DIFF_DIRS=bench/work/corpus-full/packs after a bench run: ~1 min): not
  // whenever a local bench corpus happens to exist, which made a developer's `npm test` a minute longer.
  const extra = (process.env['YAML_DIFF_DIRS'] ?? '').split(':').filter((d) => d !== '');
  for (const dir of extra) {
    it(`on every YAML text under ${dir}`, async () => {
      const { texts, fast } = await compareTree(dir);
      expect(texts).toBeGreaterThan(0);
      expect(fast).toBeGreaterThan(0);
    }, 3_600_000);
  }

  it('on examples of the subset and of what it leaves to the full reader', () => {
    const taken = [
      '',
      '# only a comment\n',
      'a: 1\n',
      'a:\nb: 1',
      'a:   # c\n  # x\nb: 1',
      'a:   \nb:\n',
      '-\n  a: 1\n-   # c\n  - x\n',
      'a:\n- x\n- y\nb: 2\n',
      'a:\n  - x\n  -   y: 1\n      z: 2\n  - - p\n    - q\n',
      '---\na: 1',
      'a: 1\n---\n',
      '---\n---\n',
      'a: 1\n--- # next\nb: 2\n',
      'x\n',
      '  a: 1\n  b: 2\n',
      '"a b": \'c\'\'d\'\n"e\\u00e9\\n\\x41": "\\"q\\" \\\\"  # c\n',
      'k: yes\nl: No\nm: off\nn: ~\no: 0x1F\np: 012\nq: 1_000\nr: 1:30\ns: .5\nt: 1e3\nu: .inf\nv: -.INF\nw: .nan\nx: 2001-12-14\ny: +12\nz: -0\n',
      'yes: a\n1.0: b\n0x10: c\ntrue: d\n"1.0": e\n',
      'a: 1\na: 2\nb:\n  c: 1\n  c: 2\n',
      '__proto__: 1\ntoString: 2\nconstructor:\n  x: 1\n',
      'a: b#c\nd: e # f\ng: "h"  # i\nj: http://x:80/y\nk: a,b[c]{d}\nl: -x\n',
      'key with spaces: value with  spaces  \n',
      'a: é ü 日本 😀\n',
      'a: |\n  x\n  y\nb: 1\n',
      'a: |\n  x\n\n  y\n\n\nb: 1\n',
      'a: |-\n  x\n    deeper\n  # not a comment\n',
      'a: |\n  x',
      'a: |\n  x\n# c\nb: 1',
      '- |\n  x\n- >-\n  folded\n  text\n\n  para\n\n\n  three\n',
      'a:\n  b: >\n    x\n  c: 1\n',
      'a: []\nb: {}\nc: [ ]\nd:\n  - []\n  - {}  # c\ne: [x, "y z", \'w\', 1, yes, ~]\nf: [ a b ,c ]\n',
      'presets:\n  - name: a\n    add: |\n      charts:\n        x: 1\n    remove: []\n',
    ];
    for (const text of taken) {
      expect(parseFastYaml(text), text).toBeDefined();
      same(text);
    }
    const left = [
      '- \n- a',
      '- - -\n- a\n',
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: [1, 2\n  , 3]\n',
      'a: [1, 2,]\n',
      'a: [1, , 2]\n',
      'a: [a: 1]\n',
      'a: [[1]]\n',
      'a: [x]y\n',
      'a: [x]#c\n',
      'a: {b: 1}\n',
      'a: |\n\n  x\n',
      'a: |\nb: 1\n',
      'a: |\n  x\n   \nb: 1\n',
      'a: >\n  x\n   y\n',
      'a: |+\n  x\n',
      'a: |2\n  x\n',
      'a: | # c\n  x\n',
      'a: |\n  x\n y\n',
      '|\n x\n',
      'a:\n  |\n   x\n',
      'a: b\n  c\n',
      'a: "b\n  c"\n',
      'a:\tb\n',
      'a: b\r\n',
      '<<: {a: 1}\n',
      '~: 1\n',
      'null: 1\n',
      '%YAML 1.1\n---\na: 1\n',
      'a: 1\n...\n',
      '--- a\n',
      'a: b: c\n',
      '- a\nb: 1\n',
      'a: 1\n b: 2\n',
      'a:\n    b: 1\n  c: 2\n',
      '? a\n: b\n',
      'a: "x"#c\n',
      'a: \u0001\n',
      `${'k'.repeat(1100)}: 1\n`,
      `${Array.from({ length: 95 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`,
    ];
    for (const text of left) {
      expect(parseFastYaml(text), text).toBeUndefined();
      same(text);
    }
  });
});

/* ---------- generated YAML ---------- */

const word = fc.constantFrom('a', 'b', 'image', 'tag', 'x y', 'k8s', 'repo/name', 'A_B', 'data.json', '-x', 'é', '80', '1.0', 'yes', 'no', 'on', 'null', '~', 'true', 'NULL', '0x1F', '012', '1:30', '.5', '1e3', '.inf', '2001-12-14', '+1', '-0', 'e6149382', 'E1', '.e5', 'toString', '__proto__');
const quoted = fc.oneof(
  word.map((w) => `"${w}"`),
  word.map((w) => `'${w}'`),
  fc.constantFrom('"a\\"b"', '"\\u00e9\\t"', '"\\x41\\n"', "'it''s'", '""', "''", '"a # b"', '"\\q"', '"\\U0001F600"', '"\\ud800"'),
);
const scalar = fc.oneof(
  { weight: 3, arbitrary: word },
  { weight: 1, arbitrary: fc.array(fc.oneof(word, quoted), { maxLength: 4 }).map((items) => `[${items.join(', ')}]`) },
  { weight: 1, arbitrary: fc.constantFrom('[]', '{}', '[ ]', '{ }', '[a,b]', '[ a , b ]', '[a,]', '[a, [b]]', '{a: 1}', '[a: 1]', '[a]b', '[a] # c') },
  { weight: 1, arbitrary: quoted },
  { weight: 1, arbitrary: fc.constantFrom('a b  c', 'a#b', 'http://h:1/p', 'x,y', 'a]', 'k: v', 'a:', '- a', '-', '') },
  // Block scalars: BLOCK marks the header, the lines follow at the collection's indentation + 2 (render).
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('|', '|-', '>', '>-', '|+', '| # c'), fc.array(fc.constantFrom('text', 'more text', '  deeper', '', '# hash', 'k: v', '- x'), { minLength: 1, maxLength: 5 })).map(([h, l]) => `BLOCK${h}\n${l.join('\n')}`) },
);

type Tree = string | { seq: Tree[] } | { map: Array<[string, Tree]> };

const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.record({ seq: fc.array(tie('node'), { minLength: 1, maxLength: 4 }) }),
    fc.record({ map: fc.array(fc.tuple(fc.oneof(word, quoted), tie('node')), { minLength: 1, maxLength: 4 }) }),
  ),
})).node;

/** Block YAML of a tree, in one of the layouts people write. */
function render(node: Tree, indent: number, step: number, style: { compactSeq: boolean; comments: boolean }): string[] {
  const pad = ' '.repeat(indent);
  if (typeof node === 'string') return [`${pad}${node}`];
  /** A scalar after `key: ` or `- ` in a collection indented by `indent`: a block scalar's lines go below. */
  const inline = (value: string): string[] => {
    if (!value.startsWith('BLOCK')) return [value];
    const [head = '', ...body] = value.slice(5).split('\n');
    return [head, ...body.map((l) => (l === '' ? '' : `${' '.repeat(indent + 2)}${l}`))];
  };
  const lines: string[] = [];
  if ('seq' in node) {
    for (const item of node.seq) {
      if (typeof item === 'string') {
        const [head, ...rest] = inline(item);
        lines.push(`${pad}- ${head}`, ...rest);
      }
      else {
        const inner = render(item, indent + 2, step, style);
        // `- key: v` / `- - x` on the dash's line, the rest below.
        lines.push(`${pad}- ${(inner[0] ?? '').slice(indent + 2)}`, ...inner.slice(1));
      }
    }
    return lines;
  }
  for (const [key, value] of node.map) {
    if (typeof value === 'string') {
      const [head, ...rest] = inline(value);
      lines.push(`${pad}${key}: ${head}${style.comments && rest.length === 0 ? ' # note' : ''}`, ...rest);
    }
    else {
      lines.push(`${pad}${key}:`);
      if (style.comments) lines.push(`${' '.repeat(indent + 1)}# comment`, '');
      lines.push(...render(value, 'seq' in value && style.compactSeq ? indent : indent + step, step, style));
    }
  }
  return lines;
}

describe('generated YAML', () => {
  it('the subset, in every layout, is read alike by both readers', () => {
    const taken = { all: 0, block: 0, flow: 0 };
    fc.assert(
      fc.property(tree, fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.boolean(), fc.boolean(), (t, step, compactSeq, comments, docs) => {
        const body = render(t, 0, step, { compactSeq, comments }).join('\n');
        if (same(docs ? `---\n${body}\n---\n${body}\n` : `${body}\n`)) {
          taken.all++;
          if (/(?:: |- )[|>]/.test(body)) taken.block++;
          if (/: \[|- \[/.test(body)) taken.flow++;
        }
      }),
      { numRuns: 800 },
    );
    // The generator must reach the fast reader, block scalars and flow sequences included (800 runs: at 400,
    // 1 seed in 20 reached fewer than 11 block scalars).
    expect(taken.all).toBeGreaterThan(100);
    expect(taken.block).toBeGreaterThan(10);
    expect(taken.flow).toBeGreaterThan(10);
  });

  it('lines in and near the subset (errors, indicators, odd indentation) are read alike', () => {
    const piece = fc.constantFrom(
      'a', 'b: ', 'c:', ': ', ':', '- ', '-', ' ', '  ', '#', ' # c', '"q"', "'s'", '"', "'", 'yes', '1', '0x1', '~', 'null', '<<', '---', '...', '[', ']', '{', '}', ',',
      '&a ', '*a', '!!str ', '|', '>', '?', '\t', '\r', '%', '@', '`', '\\', '\\n', 'é', '\u00a0', '\u2028', '\ufeff', '\u0007', 'k: v', 'x y',
    );
    const line = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.array(piece, { maxLength: 6 })).map(([indent, parts]) => ' '.repeat(indent) + parts.join(''));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.boolean(), (lines, newline) => {
        same(lines.join('\n') + (newline ? '\n' : ''));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('documents made only where read (checkYamlText `only`)', () => {
  const only = new Map([['pack', new Map([['content', new Map([['images', true as const]])]])]]);
  /** The value with, in each map, only the keys `keep` names; a list below them empty. */
  const pruned = (value: unknown, keep: ReadonlyMap<string, unknown> | true): unknown => {
    if (keep === true) return value;
    if (Array.isArray(value)) return [];
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [key, below] of Object.entries(value)) {
      const wanted = keep.get(key);
      if (wanted !== undefined) out[key] = pruned(below, wanted as ReadonlyMap<string, unknown> | true);
    }
    return out;
  };
  const alike = (text: string): boolean => {
    const whole = checkYamlText(text, 'values.yaml');
    const part = checkYamlText(text, 'values.yaml', { only });
    // (Two parses of one text differ only in their own functions: the trees they make are compared.)
    const treeOf = (check: typeof part): unknown => {
      try {
        return yamlTreeOf(check.parsed);
      } catch (err) {
        return String(err);
      }
    };
    expect({ ...part, documents: [], parsed: treeOf(part) }, `text:\n${text}`).toEqual({ ...whole, documents: [], parsed: treeOf(whole) });
    // The full reader's documents (a text the fast reader left to it) stay whole.
    const fast = 'fast' in part.parsed;
    expect(part.documents.map(canon)).toEqual(whole.documents.map((d) => canon(fast ? pruned(d, only) : d)));
    return fast;
  };

  it('keep the kind of each document and only pack.content.images, with the same verdict, findings and key positions', () => {
    const texts = [
      '',
      'pack:\n  namespace: web\n  content:\n    images:\n      - image: a:1\n      - name: b\n    other: [1, 2]\ncharts:\n  web:\n    x: 1\n',
      'pack:\n  content:\n    images: x\n  content:\n    images:\n      - image: dup\n',
      '- pack: 1\n- 2\n',
      'just a value\n',
      'pack: []\n---\npack:\n  content: {}\n',
      '"pack":\n  \'content\':\n    images: []\n__proto__:\n  pack: 1\n',
    ];
    for (const text of texts) expect(alike(text), text).toBe(true);
  });

  it('on generated YAML', () => {
    let taken = 0;
    fc.assert(
      fc.property(tree, fc.integer({ min: 1, max: 4 }), (t, step) => {
        const body = render(t, 0, step, { compactSeq: false, comments: false }).join('\n');
        if (alike(`${body}\n`)) taken++;
        alike(`pack:\n  content:\n    images:\n${body.split('\n').map((l) => `      ${l}`).join('\n')}\n`);
      }),
      { numRuns: 150 },
    );
    expect(taken).toBeGreaterThan(25);
  });
});
