import { chmod, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { Pair, parseAllDocuments, Scalar, visit, YAMLMap, type Document } from 'yaml';
import { discoverPacks, openTarget, pullPack, pushPacks } from '../../src/index.js';
import { validatePack, type Finding } from '../../src/pack/index.js';
import { TINY_PNG, treeOf, writeFiles } from '../support/files.js';
import { stage } from '../support/stage.js';

/*
 * Metamorphic checks: one pack shaped like pack-central's (a chart archive with its unpacked folder beside
 * it, a manifest, presets with an enabled-presets comment, a schema), written again with one change that
 * Helm and Palette read as the same pack. The verdict and every finding must stay the same (line numbers
 * too, where the change keeps lines). Each change rests on the reader that decides it:
 * - YAML: go-yaml v2 (sigs.k8s.io/yaml; Helm's chart loader): CRLF and UTF-8 BOM (readerc.go determines the
 *   encoding and skips the BOM; the scanner takes CR LF as one break), trailing blanks and comments,
 *   `---` / `...` markers and `%YAML 1.1` (parserc.go accepts 1.1 only), key order, flow style, quoting,
 *   block scalars, anchors and aliases, `<<` merge keys (decode.go merge).
 * - pack.json: Go's encoding/json (whitespace, key order, `\uXXXX` escapes, `\/`).
 * - chart archives: Helm's LoadArchiveFiles (pkg/chart/loader/archive/archive.go: directory entries are
 *   skipped, the first path component is dropped and the rest path.Clean'ed, a UTF-8 BOM is trimmed from
 *   each file, LoadFiles takes the entries in any order and a subchart from charts/<folder>/ or
 *   charts/<name>.tgz alike) over Go's compress/gzip (multistream by default)
 *   and archive/tar (V7, ustar with prefix, GNU and PAX headers; a stream ending at an entry boundary
 *   without the zero blocks ends the archive); templates with CR LF render alike (text/template's `{{-` trims
 *   spaces, tabs, CR and LF).
 * - the pack folder: its name is free, file modes do not matter, and the unpacked chart folder beside the
 *   archive is not what Palette installs (pack.json lists the archive).
 * A leading `./` before the top folder is the control: Helm then reads `shop/Chart.yaml`, not `Chart.yaml`,
 * and refuses ("Chart.yaml file is missing"); so must packpub.
 * Real packs: every change here was applied to all 220 packs of pack-central (session 21, metamorph): the
 * two that changed warnings (aliases in presets.yaml, `<<` in schema.yaml) are the last two YAML cases.
 */

const CHART: Record<string, string> = {
  'Chart.yaml': 'apiVersion: v2\nname: shop\ndescription: A shop\nversion: 1.0.0\nappVersion: "1.2.0"\n',
  'values.yaml': [
    'replicas: 1',
    'image:',
    '  repository: ghcr.io/example/shop',
    '  tag: "1.2.0"',
    'ingress:',
    '  enabled: false',
    '  host: ""',
    '',
  ].join('\n'),
  'templates/deployment.yaml': [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: {{ .Release.Name }}',
    'spec:',
    '  replicas: {{ .Values.replicas }}',
    '  template:',
    '    metadata:',
    '      annotations:',
    '        {{- toYaml .Values.podAnnotations | nindent 8 }}',
    '    spec:',
    '      containers:',
    '        - name: shop',
    '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"',
    '{{- if .Values.ingress.enabled }}',
    '          env:',
    '            - name: HOST',
    '              value: {{ .Values.ingress.host | quote }}',
    '{{- end }}',
    '',
  ].join('\n'),
  // A vendored subchart: Helm reads charts/<folder>/ and charts/<name>.tgz alike (LoadFiles).
  'charts/cache/Chart.yaml': 'apiVersion: v2\nname: cache\nversion: 0.1.0\n',
  'charts/cache/values.yaml': 'size: 1\n',
  'charts/cache/templates/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cache\ndata:\n  size: "{{ .Values.size }}"\n',
};

const PACK_JSON = {
  name: 'shop',
  displayName: 'Shop',
  version: '1.0.0',
  layer: 'addon',
  addonType: 'app services',
  cloudTypes: ['all'],
  charts: ['charts/shop-1.0.0.tgz'],
  kubeManifests: ['manifests/extra.yaml'],
  annotations: { source: 'community', contributor: 'packpub-tests/éü' },
  constraints: { dependencies: [{ packName: 'kubernetes', layer: 'k8s', minVersion: '1.28', type: 'optional' }] },
};

const VALUES = [
  '# spectrocloud.com/enabled-presets: Ingress:disable-ingress',
  'replicas: 2',
  'pack:',
  '  namespace: shop',
  '  content:',
  '    images:',
  '      - image: ghcr.io/example/shop:1.2.0',
  'charts:',
  '  shop:',
  '    replicas: 2',
  '    replicaCount: 3',
  '    podAnnotations:',
  '      team: shop',
  '    ingress:',
  '      enabled: false',
  '      host: shop.example.com',
  '    cache:',
  '      size: 2',
  '      sise: 3',
  'manifests:',
  '  extra:',
  '    message: hello',
  '',
].join('\n');

const PRESETS = [
  'presets:',
  '  - name: enable-ingress',
  '    displayName: Enable Ingress',
  '    group: Ingress',
  '    remove: []',
  '    add: |',
  '      charts:',
  '        shop:',
  '          ingress:',
  '            enabled: true',
  '  - name: disable-ingress',
  '    displayName: Disable Ingress',
  '    group: Ingress',
  '    remove:',
  '      - charts.shop.ingress.host',
  '      - charts.shop.ingress.tls',
  '    add: |',
  '      charts:',
  '        shop:',
  '          ingress:',
  '            enabled: false',
  '',
].join('\n');

const SCHEMA = [
  'charts.shop.storage.size:',
  `  schema: '{{ format "\${string}" }}'`,
  'charts.shop.replicas:',
  `  schema: '{{ required | format "\${number}" }}'`,
  'charts.shop.ingress.host:',
  `  schema: '{{ format "\${string}" }}'`,
  '',
].join('\n');

const MANIFEST = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  message: "{{ .Values.message }}"\n';

/** The YAML files of the pack a YAML change applies to (pack and chart files; the manifest is a template). */
const PACK_YAML = ['values.yaml', 'presets.yaml', 'schema.yaml'] as const;

/* ---------- tar and gzip as other tools write them ---------- */

interface TarEntry {
  name: string;
  data?: string;
  dir?: boolean;
  mode?: number;
  mtime?: number;
}
type TarFormat = 'ustar' | 'gnu' | 'v7' | 'pax';
interface TarOptions {
  format?: TarFormat;
  /** The two zero blocks that end the archive (default true). */
  trailer?: boolean;
  /** Type flag of regular files: '0', or NUL as old tars write it. */
  fileType?: '0' | '\0';
  /** ustar only: split every name of more than `splitAt` bytes into prefix and name fields. */
  splitAt?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One 512-byte header block (POSIX ustar layout; GNU and V7 differ only in the magic). */
function tarHeader(name: string, size: number, type: string, mode: number, mtime: number, format: TarFormat, prefix = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'latin1');
  h.write(octal(1000, 8), 108, 'latin1');
  h.write(octal(1000, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(mtime, 12), 136, 'latin1');
  h.write(type, 156, 'latin1');
  if (format === 'gnu') h.write('ustar  \0', 257, 'latin1');
  else if (format !== 'v7') h.write('ustar\x0000', 257, 'latin1');
  if (format !== 'v7') {
    h.write('builder', 265, 'latin1');
    h.write('builders', 297, 'latin1');
    h.write(prefix, 345, 155, 'utf8');
  }
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A PAX extended header record list (`LEN key=value\n`, LEN counting itself). */
function paxRecords(records: Record<string, string>): Buffer {
  let out = '';
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    let len = Buffer.byteLength(body);
    while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
    out += `${len}${body}`;
  }
  return Buffer.from(out, 'utf8');
}

function tarOf(entries: TarEntry[], options: TarOptions = {}): Buffer {
  const format = options.format ?? 'ustar';
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '', 'utf8');
    const type = e.dir ? '5' : (options.fileType ?? '0');
    const mode = e.mode ?? (e.dir ? 0o755 : 0o644);
    const mtime = e.mtime ?? 1_700_000_000;
    let name = e.dir && !e.name.endsWith('/') ? `${e.name}/` : e.name;
    let prefix = '';
    if (format === 'pax') {
      // An extended header before every entry (GNU tar --format=pax writes one per entry with atime/ctime).
      const pax = paxRecords({ path: name, mtime: `${mtime}.25`, 'SCHILY.dev': '2049' });
      blocks.push(tarHeader(`PaxHeaders/${name}`.slice(0, 99), pax.length, 'x', 0o644, mtime, format), padded(pax));
    } else if (format === 'gnu') {
      // GNU tar's ././@LongLink entry (type L) before an entry, here for every one.
      const long = Buffer.from(`${name}\0`, 'utf8');
      blocks.push(tarHeader('././@LongLink', long.length, 'L', 0o644, 0, format), padded(long));
    } else if (options.splitAt !== undefined && name.length > options.splitAt) {
      const cut = name.lastIndexOf('/', name.length - 2);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
    }
    blocks.push(tarHeader(name, e.dir ? 0 : data.length, type, mode, mtime, format, prefix));
    if (!e.dir) blocks.push(padded(data));
  }
  if (options.trailer ?? true) blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** One gzip member with the optional header fields (RFC 1952: FHCRC, FEXTRA, FNAME, FCOMMENT) at zlib `level`. */
function gzipMember(data: Buffer, level: number): Buffer {
  const head = [Buffer.from([0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3]), Buffer.from([6, 0]), Buffer.from('AB\x02\x00xy', 'latin1'), Buffer.from('shop.tar\0comment\0', 'latin1')];
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE(crc32(Buffer.concat(head)) & 0xffff);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([...head, crc, deflateRawSync(data, { level }), trailer]);
}

/** The chart's entries under `top/`, files as given, in CHART order. */
function chartEntries(files: Record<string, string> = CHART, top = 'shop'): TarEntry[] {
  return Object.entries(files).map(([rel, data]) => ({ name: `${top}/${rel}`, data }));
}

/* ---------- YAML rewritten, same data ---------- */

function yamlData(text: string): unknown[] {
  return parseAllDocuments(text.replace(/^\uFEFF/, ''), { version: '1.1', merge: true }).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS({ maxAliasCount: -1 });
  });
}

/** Lines inside block scalars (`add: |`): their trailing blanks and comments would be content. */
function blockScalarLines(text: string): Set<number> {
  const lines = new Set<number>();
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length - 1;
  for (const doc of parseAllDocuments(text, { version: '1.1' })) {
    visit(doc, {
      Scalar(_, node) {
        if ((node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') && node.range) for (let l = lineOf(node.range[0]); l <= lineOf(node.range[2]); l++) lines.add(l);
      },
    });
  }
  return lines;
}

function reemit(text: string, edit: (doc: Document) => void): string {
  return parseAllDocuments(text, { version: '1.1', merge: true })
    .map((doc) => {
      edit(doc);
      return doc.toString({ lineWidth: 0 });
    })
    .join('');
}

/** Plain scalars go-yaml v2 resolves to strings whatever the schema: no number hint in the first byte, not in its table (resolve.go). */
const GO_SPECIAL = /^(?:[yYnN~]|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|<<)?$/;
function alwaysString(node: Scalar): boolean {
  return typeof node.value === 'string' && /^[A-Za-z_/]/.test(node.value) && !GO_SPECIAL.test(node.value);
}

interface YamlChange {
  name: string;
  /** The change keeps every line where it was (findings keep their line numbers). */
  keepsLines: boolean;
  apply: (text: string) => string;
  /** Also apply to the chart's Chart.yaml and values.yaml (in the archive and the unpacked folder). */
  chart?: boolean;
  /** Shows the change is there (the test fails if a refactor makes it a no-op). */
  shows: RegExp;
}

const YAML_CHANGES: YamlChange[] = [
  { name: 'CRLF line endings', keepsLines: true, chart: true, apply: (t) => t.replaceAll('\n', '\r\n'), shows: /\r\n/ },
  { name: 'a UTF-8 byte order mark', keepsLines: true, chart: true, apply: (t) => `\uFEFF${t}`, shows: /^\uFEFF/ },
  {
    name: 'trailing blanks',
    keepsLines: true,
    chart: true,
    apply: (t) => {
      const keep = blockScalarLines(t);
      return t.split('\n').map((l, i) => (keep.has(i) || l.trim() === '' ? l : `${l}   `)).join('\n');
    },
    shows: /\S {3}\n/,
  },
  {
    name: 'comments and blank lines between keys',
    keepsLines: false,
    chart: true,
    apply: (t) => {
      const keep = blockScalarLines(t);
      const out = ['# a comment at the top', ''];
      t.split('\n').forEach((l, i) => {
        const key = /^(\s*)(?:- )?[\w.$-]+:/.exec(l);
        if (key && !keep.has(i)) out.push('', `${key[1]}# a comment before a key`);
        out.push(!keep.has(i) && /^\s*[\w.-]+:$/.test(l) ? `${l} # a comment after a key` : l);
      });
      return [...out, '# a comment at the end'].join('\n');
    },
    shows: /# a comment after a key/,
  },
  { name: '--- and ... document markers', keepsLines: false, chart: true, apply: (t) => `---\n${t}...\n`, shows: /^---\n[\s\S]*\.\.\.\n$/ },
  { name: 'a %YAML 1.1 directive', keepsLines: false, chart: true, apply: (t) => `%YAML 1.1\n---\n${t}`, shows: /^%YAML 1\.1/ },
  { name: 'keys in reverse order', keepsLines: false, chart: true, apply: (t) => reemit(t, (d) => visit(d, { Map: (_, m) => void m.items.reverse() })), shows: /./ },
  { name: 'flow style', keepsLines: false, chart: true, apply: (t) => reemit(t, (d) => visit(d, { Map: (_, m) => void (m.flow = true), Seq: (_, s) => void (s.flow = true) })), shows: /^\{/ },
  {
    name: 'double and single quotes',
    keepsLines: false,
    chart: true,
    apply: (t) => {
      let n = 0;
      return reemit(t, (d) => visit(d, { Scalar: (_, s) => void (s.type === 'PLAIN' && alwaysString(s) && (s.type = n++ % 2 ? 'QUOTE_SINGLE' : 'QUOTE_DOUBLE')) }));
    },
    shows: /"[A-Za-z]/,
  },
  {
    name: 'block scalars (literal and folded)',
    keepsLines: false,
    chart: true,
    apply: (t) => {
      let n = 0;
      return reemit(t, (d) =>
        visit(d, {
          Pair: (_, p) => {
            const v = p.value;
            if (v instanceof Scalar && typeof v.value === 'string' && v.value !== '' && (v.type !== 'PLAIN' || alwaysString(v))) v.type = n++ % 2 ? 'BLOCK_FOLDED' : 'BLOCK_LITERAL';
          },
        }),
      );
    },
    shows: /: [|>]-?\n/,
  },
  {
    // presets.yaml's `group: *a1` once read as no string: "must be a string", and the group lost for enabled-presets.
    name: 'anchors and aliases for repeated values',
    keepsLines: false,
    apply: (t) =>
      reemit(t, (d) => {
        const first = new Map<string, Scalar>();
        visit(d, {
          Pair: (_, p) => {
            if (!(p.value instanceof Scalar) || typeof p.value.value !== 'string' || p.value.value.length < 3) return;
            const seen = first.get(p.value.value);
            if (seen === undefined) first.set(p.value.value, p.value);
            else p.value = d.createAlias(seen, (seen.anchor ??= `a${first.size}`));
          },
        });
      }),
    shows: /\*a\d/,
  },
  {
    // schema.yaml's `<<` once read as a value path ("<< must be a map with a `schema:` string"), what it merges unchecked;
    // values.yaml's top-level `replicas` (moved under a `<<`) once went unchecked: no "nested too shallow".
    name: 'merge keys (<<) holding the first key of each map',
    keepsLines: false,
    apply: (t) =>
      reemit(t, (d) =>
        visit(d, {
          Map: (_, m) => {
            if (m.flow || m.items.length < 2) return undefined;
            const inner = new YAMLMap();
            inner.items.push(m.items.shift() as Pair);
            m.items.push(new Pair(new Scalar('<<'), inner));
            return visit.SKIP;
          },
        }),
      ),
    shows: /<<:/,
  },
];

/* ---------- the pack ---------- */

interface PackParts {
  packJson: string;
  yaml: Record<(typeof PACK_YAML)[number], string>;
  chart: Record<string, string>;
  /** The chart archive's bytes, from the chart files. */
  archive?: (chart: Record<string, string>) => Buffer;
  /** Leave the unpacked chart folder out. */
  archiveOnly?: boolean;
}

function baseParts(): PackParts {
  return { packJson: `${JSON.stringify(PACK_JSON, null, 2)}\n`, yaml: { 'values.yaml': VALUES, 'presets.yaml': PRESETS, 'schema.yaml': SCHEMA }, chart: { ...CHART } };
}

async function writeShop(dir: string, parts: PackParts): Promise<string> {
  const archive = parts.archive?.(parts.chart) ?? gzipSync(tarOf(chartEntries(parts.chart)));
  await writeFiles(dir, {
    'pack.json': parts.packJson,
    ...parts.yaml,
    'logo.png': TINY_PNG,
    'README.md': '# Shop\n\nA pack for metamorphic tests.\n',
    'manifests/extra.yaml': MANIFEST,
    'charts/shop-1.0.0.tgz': archive,
    ...(parts.archiveOnly ? {} : Object.fromEntries(Object.entries(parts.chart).map(([rel, data]) => [`charts/shop/${rel}`, data]))),
  });
  return dir;
}

/** What a user sees of a report: the verdict and every finding, lines included or not. */
function seen(report: { passed: boolean; errors: number; findings: Finding[] }, lines: boolean): { passed: boolean; errors: number; findings: string[] } {
  const findings = report.findings.map((f) => [f.severity, f.rule, f.file, f.path ?? '', f.message, ...(lines ? [f.line ?? '', f.column ?? ''] : [])].join(' | ')).sort();
  return { passed: report.passed, errors: report.errors, findings };
}

const env = stage();
let root: string;
let base: Awaited<ReturnType<typeof validatePack>>;
let counter = 0;

async function validateParts(parts: PackParts): Promise<Awaited<ReturnType<typeof validatePack>>> {
  return validatePack(await writeShop(join(root, `v${counter++}`), parts));
}

beforeAll(async () => {
  root = await env.tempDir('packpub-metamorph-');
  base = await validatePack(await writeShop(join(root, 'base'), baseParts()));
});

describe('the pack every change starts from', () => {
  it('passes with the warnings a real pack of this shape gets (each change must keep them)', () => {
    expect(base.passed).toBe(true);
    expect(base.findings.map((f) => `${f.rule} ${f.path ?? ''}`).sort()).toEqual([
      'deep-presets-remove-missing presets[1].remove[1]',
      'deep-schema-path-missing ["charts.shop.storage.size"]',
      'deep-values-nesting charts.shop.cache.sise',
      'deep-values-nesting charts.shop.replicaCount',
      'deep-values-nesting replicas',
    ]);
  });
});

describe('YAML written another way, same data (go-yaml v2)', () => {
  it.each(YAML_CHANGES)('$name: same verdict and findings', async (change) => {
    const parts = baseParts();
    for (const file of PACK_YAML) {
      const after = change.apply(parts.yaml[file]);
      expect(yamlData(after)).toEqual(yamlData(parts.yaml[file]));
      parts.yaml[file] = after;
    }
    expect(Object.values(parts.yaml).join('\n')).toMatch(change.shows);
    if (change.chart) for (const file of ['Chart.yaml', 'values.yaml']) parts.chart[file] = change.apply(parts.chart[file] as string);
    expect(seen(await validateParts(parts), change.keepsLines)).toEqual(seen(base, change.keepsLines));
  });
});

describe('pack.json written another way, same JSON (Go encoding/json)', () => {
  const escapeAll = (s: string) => `"${[...s].map((c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`).join('')}"`;
  const reversed = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(reversed) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
  const CHANGES: Array<{ name: string; text: () => string }> = [
    { name: 'minified', text: () => JSON.stringify(PACK_JSON) },
    { name: 'tabs, CRLF and blank lines', text: () => `\r\n${JSON.stringify(PACK_JSON, null, '\t').replaceAll('\n', '\r\n')}\r\n\r\n` },
    { name: 'keys in reverse order at every level', text: () => JSON.stringify(reversed(PACK_JSON), null, 2) },
    {
      name: 'every character of every string and key as a \\u escape, / as \\/',
      text: () => JSON.stringify(PACK_JSON, null, 1).replace(/"((?:[^"\\]|\\.)*)"/g, (_, s: string) => escapeAll(JSON.parse(`"${s}"`) as string)).replaceAll('\\u002f', '\\/'),
    },
  ];
  it.each(CHANGES)('$name: same verdict and findings', async ({ text }) => {
    const parts = { ...baseParts(), packJson: text() };
    expect(JSON.parse(parts.packJson)).toEqual(PACK_JSON);
    expect(seen(await validateParts(parts), true)).toEqual(seen(base, true));
  });
});

describe('the chart archive written another way, same files (Helm LoadArchiveFiles)', () => {
  const withDirs = (entries: TarEntry[]): TarEntry[] => [{ name: 'shop', dir: true }, { name: 'shop/templates', dir: true }, ...entries];
  const CHANGES: Array<{ name: string; archive: (chart: Record<string, string>) => Buffer }> = [
    {
      name: 'gzip in three members at levels 1, 9 and 0, with FEXTRA/FNAME/FCOMMENT/FHCRC',
      archive: (c) => {
        const t = tarOf(chartEntries(c));
        return Buffer.concat([gzipMember(t.subarray(0, 700), 1), gzipMember(t.subarray(700, 1500), 9), gzipMember(t.subarray(1500), 0)]);
      },
    },
    { name: 'V7 headers (no magic) and NUL type flags', archive: (c) => gzipSync(tarOf(chartEntries(c), { format: 'v7', fileType: '\0' })) },
    { name: 'ustar names split into prefix and name', archive: (c) => gzipSync(tarOf(chartEntries(c), { splitAt: 10 })) },
    { name: 'a GNU long-name entry before every entry', archive: (c) => gzipSync(tarOf(chartEntries(c), { format: 'gnu' })) },
    { name: 'a PAX header before every entry, folders listed', archive: (c) => gzipSync(tarOf(withDirs(chartEntries(c)), { format: 'pax' })) },
    { name: 'folder entries, entries in reverse order (Chart.yaml last)', archive: (c) => gzipSync(tarOf(withDirs(chartEntries(c)).reverse())) },
    {
      name: 'mtimes 0 and 8^11-1, modes 0, 0400 and 04777',
      archive: (c) => gzipSync(tarOf(chartEntries(c).map((e, i) => ({ ...e, mtime: i % 2 ? 0 : 8 ** 11 - 1, mode: [0, 0o400, 0o4777][i % 3] })))),
    },
    {
      name: 'the subchart as an archive (charts/cache-0.1.0.tgz) instead of a folder',
      archive: (c) => {
        const own = Object.fromEntries(Object.entries(c).filter(([rel]) => !rel.startsWith('charts/cache/')));
        const sub = Object.entries(c).flatMap(([rel, data]) => (rel.startsWith('charts/cache/') ? [{ name: rel.slice('charts/'.length), data }] : []));
        const subTgz = gzipSync(tarOf(sub));
        return gzipSync(Buffer.concat([tarOf(chartEntries(own), { trailer: false }), tarHeader('shop/charts/cache-0.1.0.tgz', subTgz.length, '0', 0o644, 0, 'ustar'), padded(subTgz), Buffer.alloc(1024)]));
      },
    },
    {
      // A chart packaged from a Windows checkout; YAML reads the rendered CR LF as one break.
      name: 'templates with CRLF line endings',
      archive: (c) => gzipSync(tarOf(chartEntries(Object.fromEntries(Object.entries(c).map(([rel, data]) => [rel, rel.includes('templates/') ? data.replaceAll('\n', '\r\n') : data]))))),
    },
    { name: 'no end-of-archive blocks', archive: (c) => gzipSync(tarOf(chartEntries(c), { trailer: false })) },
    // Not `src//Chart.yaml`: Helm joins what follows the first `/`, and `/Chart.yaml` is an absolute path it refuses.
    { name: 'a top folder named otherwise, with .// in names', archive: (c) => gzipSync(tarOf(chartEntries(c, 'src').map((e) => ({ ...e, name: e.name.replace('templates/', 'templates/.//') })))) },
  ];
  it.each(CHANGES)('$name: same verdict and findings', async ({ archive }) => {
    expect(seen(await validateParts({ ...baseParts(), archive }), true)).toEqual(seen(base, true));
  });

  it('only the archive, no unpacked folder beside it: same verdict and findings', async () => {
    expect(seen(await validateParts({ ...baseParts(), archiveOnly: true }), true)).toEqual(seen(base, true));
  });

  it('control: a leading ./ puts Chart.yaml one folder down, which Helm refuses, and so does packpub', async () => {
    const report = await validateParts({ ...baseParts(), archiveOnly: true, archive: (c) => gzipSync(tarOf(chartEntries(c, './shop'))) });
    expect(report.passed).toBe(false);
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => `${f.file}: ${f.message}`)).toEqual([expect.stringMatching(/^charts\/shop-1\.0\.0\.tgz: .*Chart\.yaml/)]);
  });
});

describe('the pack folder', () => {
  it('named with blanks and non-ASCII letters, files 0400 and folders 0500: same verdict and findings', async () => {
    const dir = await writeShop(join(root, 'named'), baseParts());
    const renamed = join(root, 'Shop pack (copy) é');
    await rename(dir, renamed);
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else await chmod(join(d, e.name), 0o400);
      }
      await chmod(d, 0o500);
    };
    await walk(renamed);
    expect((await stat(join(renamed, 'values.yaml'))).mode & 0o777).toBe(0o400);
    try {
      expect(seen(await validatePack(renamed), true)).toEqual(seen(base, true));
    } finally {
      await chmod(renamed, 0o700);
      await rm(renamed, { recursive: true, force: true });
    }
  });

  it('published to an OCI layout and pulled back: the same files, the same verdict and findings', async () => {
    const dir = await writeShop(join(root, 'round', 'shop'), baseParts());
    const target = await openTarget({ ociLayout: join(root, 'round', 'layout') });
    try {
      const report = await pushPacks(target, { packs: await discoverPacks([dir], {}) });
      expect(report.summary.published).toBe(1);
      const pulled = await pullPack(target, { name: 'shop', version: '1.0.0' }, { outDir: join(root, 'round', 'pulled') });
      expect(await treeOf(pulled.path)).toEqual(await treeOf(dir));
      expect(seen(await validatePack(pulled.path), true)).toEqual(seen(base, true));
    } finally {
      await target.store.close();
    }
  });
});
