import { mkdir, realpath, symlink, writeFile, readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Ajv } from 'ajv';
import tar from 'tar-stream';
import fc from 'fast-check';
import { eachValuesReferencePath, foreignTemplateField, eachValuesReferencePathOfAscii, requiredScan, valuesReferencePaths, valuesReferences } from '../../../src/pack/template-refs.js';
import { regexRisk } from '../../../src/pack/values-schema.js';
import { blockingReads, statInPack, useBlockingReads } from '../../../src/pack/files.js';
import { stage } from '../../support/stage.js';
import { PACK_JSON_SCHEMA, schemaFindings } from '../../../src/pack/schema.js';
import { parseLocatedJson, JsonSyntaxError, formatPath } from '../../../src/pack/json-source.js';
import { findImages } from '../../../src/pack/chart-images.js';
import { mapEntry, mapKeys, parseYamlTree, resolveAlias, type YMap, type YNode } from '../../../src/pack/yaml-tree.js';
import { checkPng } from '../../../src/pack/png.js';
import { validatePack } from '../../../src/pack/validate.js';
import { goTemplateRead } from '../../../src/pack/go-template.js';
import { Prng } from '../../support/prng.js';
import { checkYamlText } from '../../../src/pack/yaml-source.js';
import { chunksOf } from './fixtures.js';
import { helmYamlFile, helmYamlRefusal, helmYamlRefusalOfChunks, type HelmYamlFile } from '../../../src/pack/chart-manifests.js';
import { templatePathTree } from '../../../src/pack/deep-checks.js';
import { compareToScope, editDistance, lookupDotted, pathAllowed, type RefRoot } from '../../../src/pack/values-paths.js';
import { readChart } from '../../../src/pack/chart.js';
import { tempDir, writeTgz } from '../../support/files.js';

/*
 * The tests of src/pack/'s smaller modules, a describe per module (each was a test file of its own): each test file
 * costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('template-vars-linear', () => {
  /*
   * review (s20): a5804d1 follows `$v := .Values` by searching the whole template once more per such variable
   * (two regular expressions each). A template of many such assignments made validate quadratic: a chart archive
   * of 158 KB (one 1 MB template of 40,000 `{{- $vN := .Values }}` lines) took 38 s of CPU to validate, 0.2 s
   * before a5804d1; at the 4 MiB a template may have, minutes per template. The reads must be found in time
   * linear in the text: 32,000 variables (~800 KB) well under the bound below (linear: ~50 ms here).
   */

  describe('reads through variables set to .Values are found in linear time', () => {
    it('32,000 variables, each read once', () => {
      const n = 32_000;
      let text = '';
      for (let i = 0; i < n; i++) text += `{{- $v${i} := .Values }}{{ $v${i}.key${i % 7} }}\n`;
      const started = process.cpuUsage();
      const paths = new Set<string>();
      eachValuesReferencePath(text, (path) => paths.add(path), 1_000_000);
      const cpu = process.cpuUsage(started);
      expect([...paths].sort()).toEqual(['key0', 'key1', 'key2', 'key3', 'key4', 'key5', 'key6']);
      // Generous: two orders of magnitude above a linear scan, an order below what the per-variable search takes.
      expect((cpu.user + cpu.system) / 1000).toBeLessThan(3_000);
    });
  });
});

describe('regex-risk', () => {
  // Patterns of values.schema.json run in JavaScript's backtracking engine (Helm's RE2 is linear): an unsafe one is never tried.
  describe('regexRisk', () => {
    it.each([
      ['^(a+)+$', 'a repeated group that repeats inside'],
      ['^(\\w+\\s?){8}$', 'a fixed count of a group that repeats inside (n^7 steps)'],
      ['^(a|a){30}$', 'a fixed count of a group that alternates inside (2^30 steps)'],
      ['^(?:a*b?){2}$', 'a fixed count of two, non-capturing'],
      ['^(a)\\1$', 'a backreference'],
    ])('%s is unsafe: %s', (pattern) => {
      expect(regexRisk(pattern).unsafe).toBe(true);
    });

    it.each([
      ['^(ab){3}$', 0],
      ['^(a+){1}$', 1],
      ['^(a|b)?$', 0],
      ['^[a-z]{8}$', 0],
      ['^.{2,256}:\\d{2,5}$', 2],
      ['^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 1],
    ])('%s is safe, with %i unbounded repeats', (pattern, unbounded) => {
      expect(regexRisk(pattern)).toEqual({ unbounded, unsafe: false });
    });
  });
});

describe('files-blocking', () => {
  /*
   * statInPack with blocking calls (a validation thread: useBlockingReads) must answer as with promises, for
   * what is there and for each way of not being there: a missing file is told by lstat without an error made
   * and thrown (issue 16), the rest as before. Each test file starts with promises (test/support/per-file.ts), whatever
   * the runs of a file before it in the same worker switched on.
   */

  const temp = stage();

  describe('statInPack, blocking or not', () => {
    it('gives the same status for files, folders, missing paths and broken links', async () => {
      const pack = await realpath(await temp.tempDir());
      await writeFile(join(pack, 'values.yaml'), 'a: 1\n');
      await mkdir(join(pack, 'charts'));
      await writeFile(join(pack, 'charts', 'web-1.0.0.tgz'), 'x');
      await symlink('nowhere.yaml', join(pack, 'dangling.yaml'));
      await symlink('loop-b', join(pack, 'loop-a'));
      await symlink('loop-a', join(pack, 'loop-b'));
      await symlink('/etc/hostname', join(pack, 'outside.yaml'));
      const names = ['values.yaml', 'charts', 'charts/web-1.0.0.tgz', 'presets.yaml', 'missing/deeper.yaml', 'values.yaml/under-a-file', 'dangling.yaml', 'loop-a', 'loop-a/x.yaml', 'outside.yaml', '../up.yaml'];
      // With promises first, as a fresh process reads (whatever an earlier file's push or validate switched on).
      expect(blockingReads()).toBe(false);
      const before = [];
      for (const name of names) before.push(await statInPack(pack, name));
      expect(before.map((s) => s.kind)).toEqual(['file', 'not-file', 'file', 'missing', 'missing', 'missing', 'missing', 'missing', 'missing', 'outside', 'outside']);
      useBlockingReads();
      const after = [];
      for (const name of names) after.push(await statInPack(pack, name));
      expect(after).toEqual(before);
    });
  });
});

describe('schema', () => {
  /** [path, line, message] of each schema finding of the pack.json made of `lines`. */
  async function findingsOf(lines: string[]): Promise<Array<[string | undefined, number | undefined, string]>> {
    const { value, positions } = parseLocatedJson(lines.join('\n'));
    return (await schemaFindings(value, positions)).map((f) => [f.path, f.line, f.message]);
  }

  describe('PACK_JSON_SCHEMA', () => {
    it('is a valid JSON Schema under ajv strict mode (the validator skips this check at run time)', () => {
      expect(() => new Ajv({ strict: true, validateSchema: true }).compile(PACK_JSON_SCHEMA)).not.toThrow();
    });

    it('reports every violation at once, each at its own line', async () => {
      expect(await findingsOf(['{', '  "name": "x",', '  "displayName": "",', '  "version": 1,', '  "layer": "addon",', '  "annotations": {"a": 1, "b": "ok"}', '}'])).toEqual([
        ['displayName', 3, 'must not be empty'],
        ['version', 4, 'must be a string (found a number); put it in double quotes: "1"'],
        ['annotations.a', 6, 'must be a string (found a number); put it in double quotes: "1"'],
      ]);
    });

    // Spectro's pack.json schema has no null (add-custom-packs.md): a generator writing null for "no value" is told what to do.
    it('says how to fix a null: leave an optional key out, give a required one a value', async () => {
      expect(await findingsOf(['{', '  "name": null,', '  "displayName": "X",', '  "version": "1.0.0",', '  "layer": "addon",', '  "eol": null,', '  "kubeManifests": null,', '  "annotations": {"a": null}', '}'])).toEqual([
        ['name', 2, 'must be a string (found null); null is no value here: write one'],
        ['eol', 6, 'must be a string (found null); null is not "no value" in pack.json\'s schema: leave the key out, or write a value'],
        ['kubeManifests', 7, 'must be an array (found null); null is not "no value" in pack.json\'s schema: leave the key out, or write a value'],
        ['annotations.a', 8, 'must be a string (found null); null is not "no value" in pack.json\'s schema: leave the key out, or write a value'],
      ]);
    });
  });
});

describe('template-refs-foreign', () => {
  /*
   * A manifest holding another engine's Go templates (Istio's sidecar injector, which pack-central's kubeflow
   * packs ship inside a ConfigMap): it reads fields of its data that Palette's (`.Values`, `.Spectro`) lacks.
   */
  describe('foreignTemplateField', () => {
    it("finds Istio's injector data fields beside its .Values", () => {
      const text = [
        'data:',
        '  sidecar: |',
        '    {{- range $index, $container := .Spec.Containers }}{{ $container.Name }}{{- end }}',
        '    {{- if .Values.istio_cni.enabled }}',
        '    interceptionMode: "{{ annotation .ObjectMeta `sidecar.istio.io/interceptionMode` .ProxyConfig.InterceptionMode }}"',
        '    {{- end }}',
      ].join('\n');
      expect(foreignTemplateField(text)).toBe('Spec');
    });

    it("takes Palette's own data as Palette's: .Values, .Spectro", () => {
      expect(foreignTemplateField('name: {{ .Values.namespace | default "x" }}\ncluster: {{ .Spectro.cluster | quote }}\n{{- if hasPrefix "https://" .Spectro.apiServer }}x{{ end }}')).toBeUndefined();
    });

    it('reads no field where dot is a with or range value, a define argument, but the block action itself and its else', () => {
      const inner = '{{ range .Values.users }}{{ .Name }}{{ end }}{{ with .Values.image }}{{ .Tag }}{{ end }}{{ define "x" }}{{ .Chart }}{{ end }}';
      expect(foreignTemplateField(inner)).toBeUndefined();
      expect(foreignTemplateField('{{ with .Values.a }}{{ .B }}{{ else }}{{ .ObjectMeta.Name }}{{ end }}')).toBe('ObjectMeta');
      expect(foreignTemplateField('{{ with .Spec }}{{ .X }}{{ end }}')).toBe('Spec');
      expect(foreignTemplateField('{{ if .Values.a }}{{ .Release.Name }}{{ end }}')).toBe('Release');
    });

    it('skips comments, lower-case names (map keys, functions) and fields of something else', () => {
      expect(foreignTemplateField('{{/* .Spec */}}{{- /* .Spec */ -}}{{ .Values.a.Spec }}{{ $x.Spec }}{{ (f).Spec }}{{ .values }}')).toBeUndefined();
    });
  });
});

describe('yaml-merge', () => {
  /*
   * `<<` merge keys as Helm reads values (sigs.k8s.io/yaml over go-yaml v2): a mapping's entries apply in the
   * order written, so the last writer of a key wins. Each expected value came from a throwaway Go program
   * decoding the same text with go-yaml v2.4.0 (which also agreed on 15,000 lookups in 5,000 random
   * documents of anchors, aliases, merge sequences and duplicate keys; not committed).
   */

  /** The value text of `zz.<key>` as the deep checks read it. */
  function valueOf(yaml: string, key: string): string | undefined {
    const tree = parseYamlTree(yaml);
    const zz = resolveAlias(mapEntry(tree.root as YMap, 'zz', tree.anchors)?.value, tree.anchors) as YMap;
    const entry = mapEntry(zz, key, tree.anchors);
    return entry === undefined ? undefined : (resolveAlias(entry.value, tree.anchors) as { value: string }).value;
  }

  describe('merge-key precedence (go-yaml v2, as Helm)', () => {
    it.each([
      ['a key written after a merge wins over the merged one', 's: &s {a: 2, b: 2}\nzz:\n  <<: *s\n  a: 1\n', { a: '1', b: '2' }],
      ['a merge written after a key wins over it (go-yaml v3 would keep 1)', 's: &s {a: 2, b: 2}\nzz:\n  a: 1\n  <<: *s\n', { a: '2', b: '2' }],
      ['in a merge sequence, the earlier mapping wins', 's1: &s1 {a: 1}\ns2: &s2 {a: 2, b: 2}\nzz:\n  <<: [*s1, *s2]\n', { a: '1', b: '2' }],
      ['of two merge keys, the later wins', 's1: &s1 {a: 1}\ns2: &s2 {a: 2, b: 2}\nzz:\n  <<: *s1\n  <<: *s2\n', { a: '2', b: '2' }],
      ["a merged mapping's own merge applies in its order", 's1: &s1 {a: 1, <<: {c: 5}}\nzz:\n  c: 9\n  <<: *s1\n', { a: '1', c: '5' }],
      ['of duplicate keys, the last wins', 'zz: {a: 1, a: 2}\n', { a: '2' }],
      ['a quoted "<<" is an ordinary key, not a merge', 'zz: {"<<": {a: 1}}\n', { a: undefined }],
    ] as const)('%s', (_name, yaml, expected) => {
      for (const [key, value] of Object.entries(expected)) expect(valueOf(yaml, key), key).toBe(value);
    });

    it('lists merged keys once, explicit keys first', () => {
      const tree = parseYamlTree('s1: &s1 {c: 1, a: 1}\nzz:\n  b: 1\n  <<: *s1\n  <<: {d: 1}\n  a: 2\n');
      const zz = resolveAlias(mapEntry(tree.root as YMap, 'zz', tree.anchors)?.value, tree.anchors) as YMap;
      expect(mapKeys(zz, tree.anchors)).toEqual(['b', 'a', 'c', 'd']);
    });

    it("a chart's image read through a merge written after its keys is the merged one, as Helm renders it", () => {
      const values = 'base: &b\n  repository: docker.io/library/nginx\n  tag: "1.27"\nimage:\n  repository: docker.io/library/old\n  <<: *b\n';
      expect(findImages(parseYamlTree(values), {}).map((i) => i.image)).toEqual(['docker.io/library/nginx:1.27']);
    });
  });
});

describe('examples', () => {
  const EXAMPLES = fileURLToPath(new URL('../../../examples', import.meta.url));

  async function filesUnder(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
    }
    return out.sort();
  }

  async function tgzFiles(path: string): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    const extract = tar.extract();
    createReadStream(path).pipe(createGunzip()).pipe(extract);
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks).toString('utf8'));
    }
    return files;
  }

  describe('example packs', () => {
    it.each(['hello-manifests', 'hello-helm'])('%s passes validate --strict with no findings', async (name) => {
      const report = await validatePack(join(EXAMPLES, name), { strict: true });
      expect(report.findings).toEqual([]);
      expect(report).toMatchObject({ pack: { name, version: '1.0.0' }, passed: true });
    });

    it.each(['hello-manifests', 'hello-helm'])('%s has a real 64x64 PNG logo', async (name) => {
      expect(await checkPng(join(EXAMPLES, name, 'logo.png'))).toEqual({ ok: true, width: 64, height: 64 });
    });

    it('hello-helm ships the same chart in its archive as in charts/hello-web/', async () => {
      const chartDir = join(EXAMPLES, 'hello-helm/charts/hello-web');
      const archived = await tgzFiles(join(EXAMPLES, 'hello-helm/charts/hello-web-0.1.0.tgz'));
      const onDisk = await filesUnder(chartDir);
      expect([...archived.keys()].sort()).toEqual(onDisk.map((f) => `hello-web/${f}`));
      for (const f of onDisk) expect(archived.get(`hello-web/${f}`), f).toBe(await readFile(join(chartDir, f), 'utf8'));
    });
  });
});

describe('files', () => {
  describe('statInPack', () => {
    let top: string;
    let pack: string;

    beforeAll(async () => {
      top = await realpath(await mkdtemp(join(tmpdir(), 'packpub-files-')));
      pack = join(top, 'pack');
      await mkdir(join(pack, 'docs'), { recursive: true });
      await mkdir(join(pack, 'presets.yaml'));
      await writeFile(join(pack, 'values.yaml'), 'a: 1\n');
      await writeFile(join(pack, 'docs', 'readme.md'), '# hi\n');
      await writeFile(join(top, 'outside.png'), 'png');
      await symlink('../outside.png', join(pack, 'logo.png'));
      await symlink('docs/readme.md', join(pack, 'README.md'));
      await symlink('missing.yaml', join(pack, 'schema.yaml'));
      await mkdir(join(pack, 'charts', 'deep'), { recursive: true });
      await writeFile(join(pack, 'charts', 'deep', 'web-1.0.0.tgz'), 'tgz');
      await mkdir(join(top, 'ext'));
      await writeFile(join(top, 'ext', 'web-1.0.0.tgz'), 'outside');
      await symlink('../..', join(pack, 'charts', 'up'));
      await symlink('../docs', join(pack, 'charts', 'docs'));
    });
    afterAll(() => rm(top, { recursive: true, force: true }));

    // A plain file named directly in the pack folder is answered from lstat alone (issue 16): links
    // among such names must still be followed and judged as before.
    it('answers a plain file by its own path, and follows links of top-level names in and out of the pack', async () => {
      expect(await statInPack(pack, 'values.yaml')).toEqual({ kind: 'file', realPath: join(pack, 'values.yaml'), size: 5 });
      expect(await statInPack(pack, 'README.md')).toEqual({ kind: 'file', realPath: join(pack, 'docs', 'readme.md'), size: 5 });
      expect(await statInPack(pack, 'logo.png')).toEqual({ kind: 'outside', target: join(top, 'outside.png') });
      expect(await statInPack(pack, 'schema.yaml')).toEqual({ kind: 'missing', brokenLink: 'dangling' });
      expect(await statInPack(pack, 'presets.yaml')).toEqual({ kind: 'not-file', what: 'a directory', realPath: join(pack, 'presets.yaml') });
      expect(await statInPack(pack, 'docs/readme.md')).toEqual({ kind: 'file', realPath: join(pack, 'docs', 'readme.md'), size: 5 });
      expect(await statInPack(pack, 'nothing.yaml')).toEqual({ kind: 'missing' });
    });

    // Below the pack folder a path with no symlink on its way is answered from lstat alone too (issue 16);
    // a folder link on the way is resolved, and one leading out of the pack is still refused.
    it('answers nested plain paths by their own path, and resolves folder links on the way in and out of the pack', async () => {
      expect(await statInPack(pack, 'charts/deep/web-1.0.0.tgz')).toEqual({ kind: 'file', realPath: join(pack, 'charts', 'deep', 'web-1.0.0.tgz'), size: 3 });
      expect(await statInPack(pack, 'charts/deep')).toEqual({ kind: 'not-file', what: 'a directory', realPath: join(pack, 'charts', 'deep') });
      expect(await statInPack(pack, 'charts/docs/readme.md')).toEqual({ kind: 'file', realPath: join(pack, 'docs', 'readme.md'), size: 5 });
      expect(await statInPack(pack, 'charts/up/ext/web-1.0.0.tgz')).toEqual({ kind: 'outside', target: join(top, 'ext', 'web-1.0.0.tgz') });
      expect(await statInPack(pack, 'charts/up/pack/values.yaml')).toEqual({ kind: 'file', realPath: join(pack, 'values.yaml'), size: 5 });
      expect(await statInPack(pack, 'charts/deep/none.tgz')).toEqual({ kind: 'missing' });
    });
  });
});

describe('template-actions', () => {
  /*
   * The Go-template check hands the action positions it read to the .Values and required scans (issue 16): what they
   * find with them must be exactly what they find without, and none are handed on when an action holds a `}}` in a
   * string or comment (Go ends it later than the scans do).
   */
  const PIECES = [
    '{{ .Values.a.b }}', '{{- $.Values.c_d -}}', '{{ if.Values.e }}', '{{ else }}', '{{ end }}', '{{ with .Values.f }}{{ .g }}{{ end }}',
    '{{/* .Values.hidden */}}', '{{- /* .Values.hidden2 */ -}}', '{{/* }} .Values.h3 */}}', '{{ "}}" }}', '{{ `x}}y` }}', "{{ '}' }}",
    '{{ $root := . }}{{ $root.Values.r.s }}', '{{- $v := .Values }}', '{{ $v.t.u }}', '{{ index .Values "dash-key" "in" }}',
    '{{ include "t" .Values.inc }}', '{{ include "t" . }}', '{{ template "u" $ }}', '{{ required "set x" .Values.x.y }}',
    '{{ .Values.z | required "z!" }}', '{{ and (required "q" .Values.q) 1 }}', '{{ define "t" }}{{ required "in t" .Values.it }}{{ end }}',
    '{{ range .Values.list }}{{ . }}{{ end }}', '{{-  /* */ .Values.w }}', '.Values.outside', '}}', '}}}', 'kind: ConfigMap\n', '\n', ' ',
  ];

  function reads(text: string, actions?: Int32Array, partial = false, pieceBytes?: number): string[] {
    const paths: string[] = [];
    if (pieceBytes === undefined) eachValuesReferencePath(text, (dotted) => paths.push(dotted), undefined, partial, actions);
    else eachValuesReferencePathOfAscii(Buffer.from(text, 'latin1'), (dotted) => paths.push(dotted), undefined, partial, pieceBytes, actions);
    return paths;
  }

  describe('the action positions goTemplateRead hands to the scans', () => {
    it('are where its actions and comments are, and none when a string or comment holds a `}}`', () => {
      expect([...(goTemplateRead('a {{ .Values.x }} b {{/* c */ -}}\n', true).actions ?? [])]).toEqual([2, 15, 20, 31]);
      expect(goTemplateRead('{{ .Values.x }}', false).actions).toBeUndefined();
      for (const text of ['{{ "}}" }}', '{{ `}}` }}', "{{ printf \"%s\" '}' }}{{ \"a}}\" }}", '{{/* }} */}}', '{{ .Values.x'])
        expect(goTemplateRead(text, true).actions, text).toBeUndefined();
    });

    it('leave what the scans find as it is', () => {
      const prng = new Prng(33);
      const differ: string[] = [];
      let handed = 0;
      for (let n = 0; n < 3000; n++) {
        let text = '';
        for (let i = prng.int(0, 16); i > 0; i--) text += prng.pick(PIECES);
        const actions = goTemplateRead(text, true).actions;
        if (actions === undefined) continue;
        handed++;
        for (const partial of [false, true]) {
          const without = JSON.stringify(reads(text, undefined, partial));
          if (JSON.stringify(reads(text, actions, partial)) !== without) differ.push(`partial ${partial}: ${JSON.stringify(text)}`);
          if (JSON.stringify(reads(text, actions, partial, 48)) !== without) differ.push(`pieces, partial ${partial}: ${JSON.stringify(text)}`);
        }
        const scan = (a?: Int32Array) => {
          const s = requiredScan(text, a);
          return JSON.stringify([s.top, s.includes, [...s.defines]]);
        };
        if (scan(actions) !== scan()) differ.push(`requiredScan: ${JSON.stringify(text)}`);
      }
      expect(differ).toEqual([]);
      expect(handed).toBeGreaterThan(500);
    });
  });
});

describe('yaml-tabs', () => {
  /*
   * Tabs at the start of a line, judged as go-yaml v2.4.0 (Helm 3) judges them: every expected verdict
   * and message below is what it gave for the same text (scannerc.go yaml_parser_scan_to_next_token,
   * yaml_parser_scan_plain_scalar, yaml_parser_scan_block_scalar_breaks).
   */
  const T = '\t';

  const refused: Array<{ name: string; text: string; line: number; message: string }> = [
    { name: 'a line holding only a tab between two keys', text: `a: 1\n${T}\nb: 2\n`, line: 2, message: 'found a tab character that violates indentation' },
    { name: 'a tab-only line left of a nested plain value', text: `a:\n  b: 1\n  ${T}\n  c: 2\n`, line: 3, message: 'found a tab character that violates indentation' },
    { name: 'a tab before a comment after a value', text: `a: 1\n${T}# d\nb: 2\n`, line: 2, message: 'found a tab character that violates indentation' },
    { name: 'a tab-only line after a quoted value', text: `a: "x"\n  ${T}\nb: 2\n`, line: 2, message: 'found character that cannot start any token' },
    { name: 'a tab-only line after a flow list', text: `a: [x]\n ${T}\nb: 2\n`, line: 2, message: 'found character that cannot start any token' },
    { name: 'a tab-only line after a comment line', text: `# c\n${T}\na: 1\n`, line: 2, message: 'found character that cannot start any token' },
    { name: 'a tab-only first line', text: `${T}\na: 1\n`, line: 1, message: 'found character that cannot start any token' },
    { name: 'a tab after a list dash', text: `- ${T}a\n`, line: 1, message: 'found character that cannot start any token' },
    { name: 'a tab right after a nested list dash', text: `- a\n- -${T}b\n`, line: 2, message: 'found character that cannot start any token' },
    { name: 'a tab after an explicit key indicator', text: `?${T}x\n: y\n`, line: 1, message: 'found character that cannot start any token' },
    { name: 'a tab-only last line', text: `a: 1\n${T}`, line: 2, message: 'found a tab character that violates indentation' },
    { name: 'a tab in the indentation of a block scalar', text: `d: |\n ${T}line1\n  more\n`, line: 2, message: 'found a tab character where an indentation space is expected' },
    { name: 'a tab right after the indentation of a folded block scalar\'s first line', text: `f: >-\n  ${T}g h\n  i\n`, line: 2, message: 'found a tab character where an indentation space is expected' },
  ];

  const accepted: Array<{ name: string; text: string; value: unknown }> = [
    { name: 'a tab after the colon of a key', text: `a:${T}b\n`, value: { a: 'b' } },
    { name: 'a tab before a comment on the same line', text: `a: b${T}# c\n`, value: { a: 'b' } },
    { name: 'a tab at the end of a line', text: `a: 1${T}\nb: 2\n`, value: { a: 1, b: 2 } },
    { name: 'spaces then a tab, right of a plain value\'s indentation', text: `a: 1\n  ${T}\nb: 2\n`, value: { a: 1, b: 2 } },
    { name: 'a tab-only line right of a nested plain value\'s indentation', text: `a:\n  b: 1\n   ${T}\n  c: 2\n`, value: { a: { b: 1, c: 2 } } },
    { name: 'tabs in a flow list', text: `a: [${T}b]\n`, value: { a: ['b'] } },
    { name: 'a tab-only line inside a quoted value', text: `c: 'p\n${T}\n  q'\n`, value: { c: 'p\nq' } },
    { name: 'a tab leading a quoted value\'s line', text: `a: "x\n${T}y"\n`, value: { a: 'x y' } },
    { name: 'a tab inside a block scalar, right of its indentation', text: `a: |\n  x\n  ${T}\n   ${T}y\n`, value: { a: `x\n${T}\n ${T}y\n` } },
    { name: 'dashes and a tab inside a plain value\'s continuation line', text: `- a\n - -${T} b\n`, value: [`a - -${T} b`] },
    { name: 'a tab before the colon of a key', text: `a:\n  b${T}: 1\n`, value: { a: { b: 1 } } },
  ];

  describe("tabs at the start of a line, as Go's YAML reader judges them", () => {
    it.each(refused)('refused: $name', ({ text, line, message }) => {
      const check = checkYamlText(text, 'values.yaml');
      expect(check.ok).toBe(false);
      expect(check.findings).toEqual([expect.objectContaining({ severity: 'error', rule: 'yaml-syntax', line })]);
      expect(check.findings[0]?.message).toContain(message);
    });

    it.each(accepted)('accepted: $name', ({ text, value }) => {
      const check = checkYamlText(text, 'values.yaml');
      expect(check.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(check.documents[0]).toEqual(value);
    });

    it('a tab only a later document holds is a warning, as Helm reads only the first', () => {
      const check = checkYamlText(`a: 1\n---\nb: 2\n${T}\nc: 3\n`, 'values.yaml');
      expect(check.ok).toBe(true);
      expect(check.findings).toEqual([expect.objectContaining({ severity: 'warning', rule: 'yaml-syntax', line: 4 })]);
    });
  });
});

describe('template-refs-indirect', () => {
  /*
   * What a chart's template reads from its values beyond `.Values.a.b` (Go text/template and sprig semantics):
   * the keys packpub then knows the chart reads, so it does not call them "not a value of the chart".
   */
  function chartReads(text: string, limit?: number, partial = false): string[] {
    const paths: string[] = [];
    eachValuesReferencePath(text, (dotted) => paths.push(dotted), limit, partial);
    return paths;
  }

  describe('eachValuesReferencePath (what a chart template reads)', () => {
    it('reads through a variable set to .Values, as NVIDIA charts do ($topValues := .Values)', () => {
      const text = '{{- $topValues := .Values }}\n{{- if $topValues.extraPodVolumeMounts }}\n{{- toYaml $topValues.extraPodVolumeMounts | nindent 10 }}\n{{- end }}\n';
      expect(chartReads(text)).toEqual(['extraPodVolumeMounts', 'extraPodVolumeMounts']);
    });

    it('reads $.Values and $x.Values set to a variable, with = as with :=, closed by -}} or )', () => {
      const text = '{{ $a := $.Values -}}{{ $b = $root.Values }}{{ include "x" (list ($c := .Values)) }}{{ $a.one }}{{ $b.two.three }}{{ $c.four }}';
      expect(chartReads(text)).toEqual(['one', 'two.three', 'four']);
    });

    it('reads $root.Values.x, $ctx.Values.x: any variable holding the top context', () => {
      expect(chartReads('{{- $root := . }}{{ $root.Values.fromRoot }} {{ $ctx.Values.a.b | quote }}')).toEqual(['fromRoot', 'a.b']);
    });

    it('reads keys named in index, get and hasKey on .Values or a values variable, dashes included', () => {
      const text = '{{ index .Values "dash-key" "inner" }} {{ get $.Values "getKey" }} {{ if hasKey $root.Values "has" }}{{ end }} {{- $v := .Values }}{{ index $v "via-var" }}';
      expect(chartReads(text)).toEqual(['dash-key.inner', 'getKey', 'has', 'via-var']);
    });

    it('leaves out what it cannot follow: a key in a variable, a key with a dot, index on another map', () => {
      const text = '{{ index .Values $key }} {{ index .Values "a.b" }} {{ get $annotations "x" }} {{ index .Values.sub "k" }}';
      // `.Values.sub` is a plain reference (anything below it is the chart's); the rest adds nothing.
      expect(chartReads(text)).toEqual(['sub']);
    });

    it('does not take $topKey for $top, nor a sub-map set to a variable for .Values', () => {
      const text = '{{ $top := .Values }}{{ $topKey.x }}{{ $img := .Values.image }}{{ $img.tag }}';
      expect(chartReads(text)).toEqual(['image']);
    });

    it('hands on at most `limit` paths in all', () => {
      const text = '{{ .Values.a }}{{ .Values.b }}{{ $r.Values.c }}{{ $r.Values.d }}';
      expect(chartReads(text, 3)).toEqual(['a', 'b', 'c']);
      expect(chartReads(text, 2)).toEqual(['a', 'b']);
    });

    it('leaves valuesReferencePaths (the `.Values.a.b` references alone) as it was', () => {
      const text = '{{ .Values.a }}{{ $root.Values.b }}{{- $t := .Values }}{{ $t.c }}{{ index .Values "d" }}';
      expect(valuesReferencePaths(text)).toEqual(['a']);
      // In text order, then what is read through variables.
      expect(chartReads(text)).toEqual(['a', 'b', 'd', 'c']);
    });

    it('in a partial (`_deployment.yaml`: Helm renders none) reads only inside define and block bodies', () => {
      const text = [
        'nodeSelector: {{ toYaml .Values.nodeSelector }}',
        '{{- $top := .Values }}{{ $top.outside }} {{ $root.Values.alsoOutside }} {{ index .Values "out" }}',
        '{{- define "web.labels" -}}',
        '{{- if .Values.labels.enabled }}{{ with .Values.labels.extra }}{{ . }}{{ end }}{{ end }}',
        '{{- $v := .Values }}{{ $v.inside }} {{ $root.Values.rootInside }} {{ get .Values "in" }}',
        '{{- end }}',
        'after: {{ .Values.after }}',
        '{{ block "web.more" . }}{{ .Values.inBlock }}{{ end }}',
      ].join('\n');
      expect(chartReads(text, undefined, true)).toEqual(['labels.enabled', 'labels.extra', 'inBlock', 'rootInside', 'in', 'inside']);
      expect(chartReads(text)).toContain('nodeSelector');
      expect(chartReads('x: {{ .Values.a }}', undefined, true)).toEqual([]);
    });
  });
});

describe('chart-manifests', () => {
  describe('the files a chart install parses as YAML', () => {
    it('are the rendered templates (not partials, not NOTES.txt) and the CRD files', () => {
      const kinds = Object.fromEntries(
        ['templates/a.yaml', 'templates/x/b.tpl', 'templates/._a.yaml', 'templates/_h.tpl', 'templates/x/_h.yaml', 'templates/NOTES.txt', 'templates/x/NOTES.txt', 'crds/a.yaml', 'crds/x/b.YML', 'crds/c.Json', 'crds/README.md', 'files/a.yaml', 'values.yaml'].map((f) => [f, helmYamlFile(f)]),
      );
      expect(kinds).toEqual({
        'templates/a.yaml': 'template',
        'templates/x/b.tpl': 'template',
        'templates/._a.yaml': 'template',
        'templates/_h.tpl': undefined,
        'templates/x/_h.yaml': undefined,
        'templates/NOTES.txt': undefined,
        'templates/x/NOTES.txt': undefined,
        'crds/a.yaml': 'crd',
        'crds/x/b.YML': 'crd',
        'crds/c.Json': 'crd',
        'crds/README.md': undefined,
        'files/a.yaml': undefined,
        'values.yaml': undefined,
      });
    });

    const cases: Array<[string, Buffer, HelmYamlFile, string | undefined]> = [
      ['AppleDouble', Buffer.from([0, 5, 0x16, 7, 0, 2, 0, 0, 0x4d, 0x61, 0x63]), 'template', 'control characters are not allowed (U+0000)'],
      ['a NUL after the first {{', Buffer.from('kind: A\n{{ .Values.a }}\x00\n'), 'template', undefined],
      ['the same in a CRD file', Buffer.from('kind: A\n{{ .Values.a }}\x00\n'), 'crd', 'control characters are not allowed (U+0000)'],
      ['a single { before the control character', Buffer.from('kind: A\nx: {a: 1}\x1b\n{{ .Values.a }}'), 'template', 'control characters are not allowed (U+001B)'],
      ['{ and { apart', Buffer.from('kind: A\nx: {\x00{'), 'template', 'control characters are not allowed (U+0000)'],
      ['UTF-8 text, then a control character', Buffer.from('kind: A\nname: café ☕ 𝄞\n\x7f\n'), 'crd', 'control characters are not allowed (U+007F)'],
      ['UTF-8 text, C1 controls but NEL', Buffer.from('kind: A\nname: caf\u00e9\u0085\u0086\n'), 'crd', 'control characters are not allowed (U+0086)'],
      // Past the first non-ASCII character, found in the bytes (C2 80-9F but C2 85, EF BF BE/BF), not in decoded text.
      ['UTF-8 text, then U+FFFF', Buffer.from('kind: A\nname: caf\u00e9 \u00a0\u00bf\ufeff\ufffd\u4e2d\uffff\ufffe\n'), 'crd', 'control characters are not allowed (U+FFFF)'],
      ['UTF-8 text, then U+FFFE', Buffer.from('kind: A\nname: \u2019\ufffe\n'), 'crd', 'control characters are not allowed (U+FFFE)'],
      ['UTF-8 text, then U+0080', Buffer.from('kind: A\nname: \u00e9\u00a0\u0080\n'), 'crd', 'control characters are not allowed (U+0080)'],
      ['UTF-8 text, then an ASCII control character', Buffer.from('kind: A\nname: \u2019\ufeff\u{1d11e}\x1f\n'), 'crd', 'control characters are not allowed (U+001F)'],
      ['UTF-8 text Go reads', Buffer.from('kind: A\nname: \u00e9\u0085\u00a0\ud7ff\ue000\ufeff\ufffd\u{10ffff}\t\r\n'), 'crd', undefined],
      ['Latin-1 text', Buffer.from('kind: A\nname: caf\xe9\n', 'latin1'), 'crd', 'bytes that are not UTF-8 text'],
      ['a control character before Latin-1 text', Buffer.from('kind: A\n\x01name: caf\xe9\n', 'latin1'), 'crd', 'control characters are not allowed (U+0001)'],
      ['Latin-1 text after the first {{', Buffer.from('kind: A\n{{ "caf\xe9" }}\n', 'latin1'), 'template', undefined],
      ['spaces Go trims', Buffer.from('\f\nkind: A\n\v\n'), 'crd', undefined],
      ['UTF-16 with a byte order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('kind: A\n', 'utf16le')]), 'crd', undefined],
      ['UTF-16 big-endian with a byte order mark', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('kind: A\n', 'utf16le').swap16()]), 'template', undefined],
      ['a UTF-8 byte order mark', Buffer.from('\ufeffkind: A\n'), 'crd', undefined],
      ['one byte', Buffer.from([0]), 'crd', 'control characters are not allowed (U+0000)'],
      ['empty', Buffer.alloc(0), 'crd', undefined],
    ];

    it('a control character anywhere in a longer ASCII file is found, wherever the file starts in memory (read four bytes at a time)', () => {
      const text = 'kind: CustomResourceDefinition\nmetadata:\n  name: a.example.com\n\tdescription: "~x"\r\n\v\f';
      for (const lead of [0, 1, 2, 3]) {
        // Buffer.alloc gives an ArrayBuffer of its own: the file then starts `lead` bytes into it.
        const placed = (bytes: Buffer): Buffer => {
          const at = Buffer.alloc(lead + bytes.length).subarray(lead);
          bytes.copy(at);
          return at;
        };
        expect([lead, helmYamlRefusal(placed(Buffer.from(text, 'latin1')), 'crd')]).toEqual([lead, undefined]);
        for (let at = 0; at < text.length; at++) {
          for (const c of [0x00, 0x08, 0x0e, 0x1f, 0x7f]) {
            const bytes = Buffer.from(text, 'latin1');
            bytes[at] = c;
            const expected = `control characters are not allowed (U+${c.toString(16).toUpperCase().padStart(4, '0')})`;
            expect([lead, at, helmYamlRefusal(placed(bytes), 'crd')]).toEqual([lead, at, expected]);
          }
        }
      }
    });

    it.each(cases)("%s: Go's YAML reader's first complaint, whatever the chunks", async (_name, bytes, kind, expected) => {
      expect(helmYamlRefusal(bytes, kind)).toBe(expected);
      for (let size = 1; size <= bytes.length + 1; size++) {
        expect([size, await helmYamlRefusalOfChunks(chunksOf(bytes, size), kind)]).toEqual([size, expected]);
      }
    });
  });
});

describe('json-source', () => {
  function jsonParseOk(text: string): boolean {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }

  function ourParseOk(text: string): boolean {
    try {
      parseLocatedJson(text);
      return true;
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      return false;
    }
  }

  describe('parseLocatedJson', () => {
    it('gives the same value as JSON.parse for any JSON document', () => {
      fc.assert(
        fc.property(fc.json({ depthSize: 'small' }), (text) => {
          expect(parseLocatedJson(text).value).toEqual(JSON.parse(text));
        }),
        { numRuns: 300 },
      );
    });

    it.each([
      ['[1 2]', "unexpected '2'; expected ',' or ']' (is a comma missing?) (line 1, column 4)"],
      ['[ 1 , ]', "trailing comma before ']'; remove it (line 1, column 5)"],
      ['[1', "unexpected end of file: a ']' is missing (line 1, column 3)"],
      ['{"a":1 "b":2}', "expected ',' between properties (a comma is missing) (line 1, column 8)"],
      ['{"a":1;}', "unexpected ';'; expected ',' or '}' (line 1, column 7)"],
      ['{"a":1,}', "trailing comma before '}'; remove it (line 1, column 7)"],
      ['{"a":1,', "unexpected end of file: a '}' is missing (line 1, column 8)"],
    ])('says what is wrong after a member of %s', (text, message) => {
      expect(() => parseLocatedJson(text)).toThrow(message);
    });

    it('reads every escape as JSON.parse does, and names a bad one', () => {
      const bs = '\\';
      const text = `{"s": "q${bs}" b${bs}${bs} s${bs}/ ${bs}b${bs}f${bs}n${bs}r${bs}t ${bs}u00e9${bs}u2603 end"}`;
      expect(parseLocatedJson(text).value).toEqual(JSON.parse(text));
      expect(() => parseLocatedJson(`{"s": "a${bs}x"}`)).toThrow(`invalid escape "${bs}x" in a string`);
      expect(() => parseLocatedJson(`{"s": "a${bs}u12G4"}`)).toThrow(`invalid ${bs}u escape: it needs four hex digits`);
    });

    it('accepts exactly what JSON.parse accepts, on near-JSON text', () => {
      // Damage valid JSON by deleting, duplicating or inserting one character.
      const damaged = fc
        .tuple(fc.json({ depthSize: 'small' }), fc.nat(), fc.constantFrom('del', 'dup', 'ins'), fc.constantFrom(',', '}', ']', '"', "'", ':', ' ', '\t', '\n', '-', '0', '.', 'e', '\\', 'x', '\u0001'))
        .map(([text, at, op, ch]) => {
          const i = text.length === 0 ? 0 : at % text.length;
          if (op === 'del') return text.slice(0, i) + text.slice(i + 1);
          if (op === 'dup') return text.slice(0, i) + (text[i] ?? '') + text.slice(i);
          return text.slice(0, i) + ch + text.slice(i);
        });
      fc.assert(
        fc.property(damaged, (text) => {
          expect(ourParseOk(text)).toBe(jsonParseOk(text));
        }),
        { numRuns: 1000 },
      );
    });

    it('records where each value starts, by JSON path', () => {
      const { positions } = parseLocatedJson('{\n  "a": {\n    "b": [1, {"c": true}]\n  },\n  "x.y": null\n}');
      expect(positions.get('')).toEqual({ line: 1, column: 1 });
      expect(positions.get('a.b')).toEqual({ line: 3, column: 10 });
      expect(positions.get('a.b[1].c')).toEqual({ line: 3, column: 20 });
      expect(positions.get('["x.y"]')).toEqual({ line: 5, column: 10 });
    });

    it('keeps "__proto__" as a plain key, like JSON.parse', () => {
      const { value } = parseLocatedJson('{"__proto__": {"polluted": true}}');
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.keys(value as object)).toEqual(['__proto__']);
    });

    it('formats paths the way a user reads them', () => {
      expect(formatPath(['constraints', 'dependencies', 0, 'layer'])).toBe('constraints.dependencies[0].layer');
      expect(formatPath(['annotations', 'example.com/x'])).toBe('annotations["example.com/x"]');
    });
  });
});

describe('deep-checks-helpers', () => {
  const root = (yaml: string): RefRoot => {
    const tree = parseYamlTree(yaml);
    if (tree.root === undefined) throw new Error('empty');
    return { node: tree.root, anchors: tree.anchors };
  };

  describe('parseYamlTree', () => {
    it('keeps lines, finds every duplicate key, and leaves aliases unexpanded', () => {
      const tree = parseYamlTree('a: &x\n  b: 1\n  b: 2\nlist:\n  - k: 1\n    k: 2\nc: *x\n');
      expect(tree.duplicates).toEqual([
        { parent: ['a'], key: 'b', line: 3, column: 3, firstLine: 2 },
        { parent: ['list', 0], key: 'k', line: 6, column: 5, firstLine: 5 },
      ]);
      const map = tree.root as YMap;
      expect(map.entries.map((e) => [e.key, e.keyLine, e.value.kind])).toEqual([
        ['a', 1, 'map'],
        ['list', 4, 'seq'],
        ['c', 7, 'alias'],
      ]);
    });

    it('stops at the node cap and says so', () => {
      const tree = parseYamlTree(Array.from({ length: 100 }, (_, i) => `k${i}: ${i}`).join('\n'), { maxNodes: 50 });
      expect(tree.truncated).toBe(true);
      expect((tree.root as YMap).entries.length).toBeLessThan(50);
    });

    it('throws the parser error, with its position, for broken YAML', () => {
      let mark: { line?: number } | undefined;
      try {
        parseYamlTree('a: 1\nb: [1,\n');
      } catch (err) {
        mark = (err as { mark?: { line?: number } }).mark;
      }
      expect(mark?.line).toBe(1); // 0-based: the line where the unclosed list opens
    });
  });

  describe('value paths', () => {
    it('looks up dotted paths whose keys contain dots', () => {
      const r = root('pack:\n  spectrocloud.com/install-priority: "1"\nmanifests:\n  app:\n    x: 1\n');
      expect(lookupDotted(r, 'pack.spectrocloud.com/install-priority')).toBeDefined();
      expect(lookupDotted(r, 'manifests.app.x')).toBeDefined();
      expect(lookupDotted(r, 'manifests.app.y')).toBeUndefined();
    });

    it('allows anything below empty maps, lists and nulls, and nothing below plain values', () => {
      const r = root('a: {}\nb: []\nc:\nd: 1\ne:\n  f: 2\n');
      expect([['a', 'x', 'y'], ['b', 'x'], ['c', 'x'], ['d', 'x'], ['e', 'f'], ['e', 'g']].map((p) => pathAllowed([r], p))).toEqual([true, true, true, false, true, false]);
    });

    it("follows merge keys in the chart's values, as Helm does", () => {
      const chart = root('base: &base\n  port: 80\nservice:\n  <<: *base\n  type: ClusterIP\n');
      const user = parseYamlTree('service:\n  port: 8080\n  type: NodePort\n  nope: 1\n');
      const { mismatches } = compareToScope(user.root as YMap, user.anchors, { roots: [chart], children: new Map() });
      expect(mismatches.map((m) => m.path)).toEqual([['service', 'nope']]);
    });

    it('measures edit distance for "did you mean"', () => {
      expect(editDistance('crossplane', 'crossplan')).toBe(1);
      expect(editDistance('foo', 'bar')).toBe(3);
    });
  });

  describe('valuesReferences', () => {
    it('finds .Values and $.Values field chains in actions, with positions, skipping comments', () => {
      const text = 'a: {{ .Values.one }}\nb: {{- if and .Values.two.three $.Values.four -}}\n{{/* .Values.hidden */}}\nc: {{ index .Values "dash-key" }} {{ .Values.x-y }}\n';
      expect(valuesReferences(text)).toEqual([
        { path: ['one'], line: 1, column: 7 },
        { path: ['two', 'three'], line: 2, column: 15 },
        { path: ['four'], line: 2, column: 33 },
        { path: ['x'], line: 4, column: 38 },
      ]);
    });

    const positions = [
      {
        name: "finds a reference written right after a keyword, as Go's lexer reads {{if.Values.x}} (pack-central's piraeus chart)",
        text: '{{ if.Values.rbac.create }}\n{{- with.Values.sa }}{{ range.Values.list }}{{ else if.Values.other }}\n{{ not.Values.chained }} {{ $root.Values.var }}\n',
        found: [['rbac.create', 1, 6], ['sa', 2, 9], ['list', 2, 30], ['other', 2, 55]],
      },
      {
        name: 'looks only at actions holding .Values, and finds the same actions as a scan from the start',
        // `.Values` outside actions, a stray `}}` and `}}}` before actions, `{{{`, two references in one action,
        // a `.Values` inside an action that opened before another `{{`, an action closing right before one.
        text: '.Values.out }} x }}} {{{ .Values.a }}}\n{{ x {{ .Values.b .Values.c }}.Values.d {{/* .Values.e */}}{{.Values.f}}',
        found: [['a', 1, 26], ['b', 2, 9], ['c', 2, 19], ['f', 2, 62]],
      },
    ];
    for (const { name, text, found } of positions) {
      it(name, () => {
        expect(valuesReferences(text).map((r) => [r.path.join('.'), r.line, r.column])).toEqual(found);
      });
    }

    it('stops at an unclosed action and at the limit', () => {
      expect(valuesReferences('{{ .Values.a }} {{ .Values.b')).toEqual([{ path: ['a'], line: 1, column: 4 }]);
      expect(valuesReferences('{{ .Values.a }}{{ .Values.b }}{{ .Values.c }}', 2)).toHaveLength(2);
    });

    it('valuesReferencePaths (the charts\' templates, no positions) finds exactly the same paths', () => {
      const piece = fc.constantFrom('{{', '}}', '{{/*', '*/}}', '{{-', ' .Values', '$.Values', '.Values.', 'a', '.b_2', '.c', 'x.Values.d', 'if', ' else', ')', ' ', '\n', '-');
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 30 }).map((p) => p.join('')), fc.integer({ min: 1, max: 6 }), (text, limit) => {
          expect(valuesReferencePaths(text, limit)).toEqual(valuesReferences(text, limit).map((r) => r.path.join('.')));
        }),
        { numRuns: 1000 },
      );
    });

    it('finds exactly what the reference regular expression finds in each action, at the same offsets', () => {
      // The definition template-refs.ts checks character by character: run over each action's body.
      const oracle = (text: string, limit: number): string[] => {
        const field = /(^|[^\w$.)\]]|\b(?:if|with|range|else))\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g;
        const out: string[] = [];
        for (let open = text.indexOf('{{'); open !== -1 && out.length < limit; ) {
          const close = text.indexOf('}}', open + 2);
          if (close === -1) break;
          const body = text.slice(open + 2, close);
          if (!/^-?\s*\/\*/.test(body)) {
            for (let f = field.exec(body); f !== null && out.length < limit; f = field.exec(body)) out.push(`${(f[2] ?? '').slice(1)}@${open + 2 + f.index + (f[1] ?? '').length}`);
          }
          field.lastIndex = 0;
          open = text.indexOf('{{', close + 2);
        }
        return out;
      };
      const piece = fc.constantFrom('{{', '}}', '{{/*', '{{- /*', '{{-', '.Values', ' .Values', '$.Values', '$', '.', 'a', '.b_2', '._', '.1', '_x', 'if', 'xif', 'with', 'range', 'else', ' ', '\u00a0', '\n', '\t', '\u3000', '\u2028', '/*', '-', '(', ')', ']', 'é');
      const found = (text: string, limit: number): string[] => {
        const lines = text.split('\n');
        const offset = (line: number, column: number): number => lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
        return valuesReferences(text, limit).map((r) => `${r.path.join('.')}@${offset(r.line, r.column)}`);
      };
      const cases = [
        '{{if.Values.a}}{{with$.Values.b}}{{range.Values.c}}{{else.Values.d}}{{xif.Values.e}}',
        '{{.Values.a.Values.b$.Values.c}}',
        '{{.Values.a-if.Values.b .Values.if$.Values.c}}',
        '{{ .Values.a.1if.Values.b }}',
        // Comments after any space JavaScript's \s knows; a dash only right after {{.
        '{{\u00a0/* .Values.a */}}{{-\u3000\t/* .Values.b */}}{{\u2028/*.Values.c*/}}{{ -/* .Values.d */}}',
      ];
      expect(cases.map((c) => found(c, 10))).toEqual([['a@4', 'b@21', 'c@40', 'd@57'], ['a.Values.b@2'], ['a@2', 'b@14', 'if@24'], ['a@3'], ['d@67']]);
      for (const c of cases) expect(found(c, 10)).toEqual(oracle(c, 10));
      const action = fc.array(piece, { maxLength: 8 }).map((p) => `{{${p.join('')}}}`);
      fc.assert(
        fc.property(fc.array(fc.oneof(piece, action), { maxLength: 12 }).map((p) => p.join('')), fc.integer({ min: 1, max: 6 }), (text, limit) => {
          const lines = text.split('\n');
          const offset = (line: number, column: number): number => lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
          expect(valuesReferences(text, limit).map((r) => `${r.path.join('.')}@${offset(r.line, r.column)}`)).toEqual(oracle(text, limit));
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('templatePathTree', () => {
    /** The tree as plain data: each key with its open leaf ('open') or its keys below, in order. */
    type Shape = Array<[string, 'open' | Shape]>;
    const shape = (map: YMap): Shape =>
      map.entries.map((e): [string, 'open' | Shape] => {
        const v: YNode = e.value;
        if (v.kind === 'map') return [e.key, shape(v)];
        expect(v).toMatchObject({ kind: 'scalar', value: '', plain: true });
        return [e.key, 'open'];
      });
    /** The same tree made one path at a time: keys in the order they first appear, an open leaf wins over anything below it. */
    const expected = (dotted: readonly string[]): Shape => {
      const root: Shape = [['global', 'open']];
      for (const path of dotted) {
        let level = root;
        const keys = path.split('.');
        for (const [i, key] of keys.entries()) {
          const found = level.find((e) => e[0] === key);
          if (found?.[1] === 'open') break;
          if (i === keys.length - 1) {
            if (found === undefined) level.push([key, 'open']);
            else found[1] = 'open';
            break;
          }
          if (found === undefined) {
            const below: Shape = [];
            level.push([key, below]);
            level = below;
          } else level = found[1] as Shape;
        }
      }
      return root;
    };

    it('holds global and every template path, open at its end, keys in the order they first appear', () => {
      const tree = templatePathTree(['image.tag', 'image.repository', 'resources', 'image', 'global.x', 'a.b.c', 'a.b.c.d', 'a.e']);
      expect(shape(tree)).toEqual([
        ['global', 'open'],
        ['image', 'open'],
        ['resources', 'open'],
        ['a', [['b', [['c', 'open']]], ['e', 'open']]],
      ]);
    });

    it('makes the same tree as adding the paths one at a time, whatever their order', () => {
      const key = fc.constantFrom('a', 'b', 'c', 'global', 'ab');
      const path = fc.array(key, { minLength: 1, maxLength: 4 }).map((keys) => keys.join('.'));
      fc.assert(
        fc.property(fc.array(path, { maxLength: 40 }), (dotted) => {
          expect(shape(templatePathTree(dotted))).toEqual(expected(dotted));
        }),
        { numRuns: 500 },
      );
    });
  });
});

describe('template-refs-pieces', () => {
  /*
   * A large ASCII template of a chart archive is made a string a piece at a time (issue 16): what packpub then
   * knows the chart reads (the keys it does not call "not a value of the chart") must be exactly what the scan
   * of the whole string finds, in the same order.
   */
  function reads(text: string, limit?: number, partial = false): string[] {
    const paths: string[] = [];
    eachValuesReferencePath(text, (dotted) => paths.push(dotted), limit, partial);
    return paths;
  }

  function readsInPieces(text: string, pieceBytes: number, limit?: number, partial = false): string[] {
    const paths: string[] = [];
    eachValuesReferencePathOfAscii(Buffer.from(text, 'latin1'), (dotted) => paths.push(dotted), limit, partial, pieceBytes);
    return paths;
  }

  /** Pieces templates are made of: actions reading values every way the scan knows, comments, defines, stray braces. */
  const PIECES = [
    '{{ .Values.a.b }}', '{{- $.Values.c_d -}}', '{{ if.Values.e }}', '{{ else }}', '{{ end }}', '{{ with .Values.f }}{{ .g }}{{ end }}',
    '{{/* .Values.hidden */}}', '{{- /* .Values.hidden2 */ -}}', '{{ $root := . }}{{ $root.Values.r.s }}', '{{- $v := .Values }}', '{{ $v.t.u }}',
    '{{ index .Values "dash-key" "in" }}', '{{ get $.Values "g" }}', '{{ hasKey $v "h" }}', '{{ index $v "k" }}', '{{ not.Values.x }}',
    '{{ .ValuesX.y }}', '{{ x.Values.z }}', '{{ (.Values.p).q }}', '{{ include "t" .Values.inc }}', '{{ define "t" }}{{ .Values.inDefine }}{{ end }}',
    '{{ block "b" . }}{{ .Values.inBlock }}{{ end }}', '{{ range .Values.list }}{{ . }}{{ end }}', '.Values.outside', '}}', '{{', '}}}', '{{{',
    '{ {', '} }', 'kind: ConfigMap\n', 'data:\n  key: value\n', '  ', '\n', '\t', '-', '$', '.', 'Values', '.Values', '"', '\\', 'if', 'end',
  ];

  function template(prng: Prng, pieces: number, from = PIECES): string {
    let text = '';
    for (let i = 0; i < pieces; i++) text += prng.pick(from);
    return text;
  }

  describe('eachValuesReferencePathOfAscii (a template made a string a piece at a time)', () => {
    it('finds exactly what the scan of the whole string finds, in order, whatever the pieces, partial or not, any limit', () => {
      // 6,400 comparisons: the whole string is scanned once per text, limit and mode, and the differences are
      // collected (one expect() per comparison cost as much as both scans). 400 texts: of 18 mutants of the piece
      // cutting, the limits and the partials' way (src/pack/template-refs.ts), the 8 that 1,500 texts caught were each
      // caught by text 2; in every arm (mode, limit, piece size) that caught one, by text 53, but one: 8-byte pieces
      // cut a byte after the `}}`, by text 233.
      const prng = new Prng(16);
      const differ: string[] = [];
      for (let n = 0; n < 400; n++) {
        const text = template(prng, prng.int(0, 80));
        for (const partial of [false, true]) {
          for (const limit of [undefined, 3]) {
            const whole = JSON.stringify(reads(text, limit, partial));
            for (const pieceBytes of [8, 24, 64, 200]) {
              const pieces = JSON.stringify(readsInPieces(text, pieceBytes, limit, partial));
              if (pieces !== whole) differ.push(`pieces of ${pieceBytes} bytes, limit ${limit}, partial ${partial}: ${pieces}, not ${whole}, in ${JSON.stringify(text)}`);
            }
          }
        }
      }
      expect(differ).toEqual([]);
    });

    it('finds the same in long templates cut into 64 KiB pieces', () => {
      // Four (two of each kind): every mutant above that a long template catches is caught by each of them.
      const prng = new Prng(64);
      for (let n = 0; n < 4; n++) {
        // Half of them without a variable set to .Values: those are never made one string.
        const text = template(prng, 30_000, n % 2 === 0 ? PIECES : PIECES.filter((p) => !p.includes('$v')));
        expect(readsInPieces(text, 64 * 1024)).toEqual(reads(text));
        expect(readsInPieces(text, 64 * 1024, 500)).toEqual(reads(text, 500));
      }
    });
  });

  describe('a chart archive with a large ASCII template', () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      vi.restoreAllMocks();
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    it('has the references its string holds, and no string of the whole template is made', async () => {
      const { dir, cleanup } = await tempDir();
      cleanups.push(cleanup);
      // ~200 KB of actions and text, no variable set to .Values (which would make the string for its regular expressions),
      // and none that Go's template parser refuses (a stray `{{`, an `{{end}}` alone) or that stops every render (`not.Values.x`
      // calls not with no argument): a top chart's template Helm cannot render refuses the chart.
      const unparsed = new Set(['{{', '{{{', '{ {', '{{ else }}', '{{ end }}', '{{ if.Values.e }}', '{{ x.Values.z }}', '{{ not.Values.x }}']);
      // One file defines a name once (Go refuses a second define or block of it): the later copies renamed.
      let copies = 0;
      const text = template(new Prng(7), 12_000, PIECES.filter((p) => !p.includes('$v') && !unparsed.has(p))).replace(/(define|block) "(\w*)"/g, (d, kind: string, name: string) => (copies++ === 0 ? d : `${kind} "${name}${copies}"`));
      expect(text.length).toBeGreaterThan(150 * 1024);
      const archive = `${dir}/big-1.0.0.tgz`;
      await writeTgz(archive, {
        'big/Chart.yaml': 'apiVersion: v2\nname: big\nversion: 1.0.0\n',
        'big/values.yaml': 'a:\n  b: 1\n',
        'big/templates/big.yaml': text,
      });
      const made: number[] = [];
      const toString = Buffer.prototype.toString;
      vi.spyOn(Buffer.prototype as { toString(...args: unknown[]): string }, 'toString').mockImplementation(function (this: Buffer, ...args: unknown[]) {
        const made1 = toString.apply(this, args as Parameters<Buffer['toString']>);
        if (args[0] === 'latin1') made.push(made1.length);
        return made1;
      });
      const chart = await readChart(archive);
      const found = chart.templateValuePaths.map((path) => path.join('.'));
      expect(found.sort()).toEqual([...new Set(reads(text))].sort());
      expect(found.length).toBeGreaterThan(10);
      expect(Math.max(0, ...made)).toBeLessThan(128 * 1024);
    });
  });
});
