import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPackpubError, PackpubError } from '../../../src/errors.js';
import { packChartDirectory } from '../../../src/archive/chart-package.js';
import { ChartError, chartValuesParse, helmEntryPath, missingDependencies, readChart, subchartValueKeys, type HelmChart } from '../../../src/pack/chart.js';
import { parseYamlTree, yamlTreeOf } from '../../../src/pack/yaml-tree.js';
import { makeFifo, tgz, writeTgz, writeFiles as put, type TgzOptions } from '../../support/files.js';
import { v7Tgz } from './fixtures.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'packpub-chart-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let archives = 0;
/** `files` written as a new .tgz in the work folder; its path. */
async function archiveOf(files: Record<string, string | Buffer>, options?: TgzOptions): Promise<string> {
  const path = join(work, `archive-${archives++}.tgz`);
  await writeTgz(path, files, options);
  return path;
}

/** How readChart refuses the archive of `files`: a ChartError. */
async function refusalOf(files: Record<string, string | Buffer>, options?: TgzOptions): Promise<ChartError> {
  const err = await readChart(await archiveOf(files, options)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ChartError);
  return err as ChartError;
}

/** The Chart.yaml of a chart `x` Helm loads, for cases that change another file. */
const X_CHART = { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\n' };

/** Entries of a .tgz: name, mode, mtime, uid/gid, owner names, size. */
async function listTgz(path: string): Promise<Array<{ name: string; mode?: number; mtime?: number; uid?: number; gid?: number; uname?: string; gname?: string; type?: string | null }>> {
  const extract = tar.extract();
  const done = pipeline(createReadStream(path), createGunzip(), extract);
  const out = [];
  for await (const entry of extract) {
    const h = entry.header;
    out.push({ name: h.name, mode: h.mode, mtime: h.mtime?.getTime(), uid: h.uid, gid: h.gid, uname: h.uname, gname: h.gname, type: h.type });
    entry.resume();
  }
  await done;
  return out;
}

const PARENT_CHART = `apiVersion: v2
name: parent
version: 1.2.3
appVersion: v9.9.9
dependencies:
  - name: child
    version: 0.1.0
    alias: kid
    condition: kid.enabled
  - name: child
    version: 0.1.0
  - name: absent
    version: 2.0.0
    repository: https://charts.example.com
`;

function shape(c: HelmChart): unknown {
  return { name: c.name, version: c.version, values: c.valuesText, subcharts: c.subcharts.map(shape) };
}

describe('helmEntryPath', () => {
  const said = (name: string): string => {
    const where = helmEntryPath(name);
    return 'path' in where ? `path ${where.path}` : `error ${where.error.replace(JSON.stringify(name), 'NAME')}`;
  };

  it("gives Helm's path of an entry, or Helm's refusal", () => {
    expect(
      Object.fromEntries(
        ['c/templates/a.yaml', 'c/./templates/a.yaml', 'c/templates//a.yaml', 'c/templates/', 'c/.helmignore', 'c/a/../b', './c/a', '/c/a', 'c\\t\\a.yaml', 'c/c:x'].map((n) => [n, said(n)]),
      ),
    ).toEqual({
      'c/templates/a.yaml': 'path templates/a.yaml',
      'c/./templates/a.yaml': 'path templates/a.yaml',
      'c/templates//a.yaml': 'path templates/a.yaml',
      'c/templates/': 'path templates',
      'c/.helmignore': 'path .helmignore',
      'c/a/../b': 'path b',
      './c/a': 'path c/a',
      '/c/a': 'path c/a',
      'c\\t\\a.yaml': 'path t/a.yaml',
      'c/c:x': 'path c:x',
    });
    expect(['c/../x', 'c/..x', 'c//etc/passwd', 'c', 'c/', 'c/.', 'c/C:/x', 'Chart.yaml/x'].map(said)).toEqual([
      'error chart illegally references parent directory',
      'error chart illegally references parent directory',
      'error chart illegally contains absolute paths',
      'error chart illegally contains content outside the base directory: NAME',
      'error chart illegally contains content outside the base directory: NAME',
      'error chart illegally contains content outside the base directory: NAME',
      'error chart contains illegally named files',
      'error chart yaml not in base directory',
    ]);
  });

  it('reads a name with slashes as the same name with backslashes, which takes the long way (split, clean, checks)', () => {
    const parts = ['c', 'b.yaml', '.', '..', '', '..x', '.h', 'C:', 'c:x', 'Chart.yaml'];
    let names = [''];
    const all: string[] = [];
    for (let depth = 0; depth < 4; depth++) {
      names = names.flatMap((name) => parts.map((part) => (depth === 0 ? part : `${name}/${part}`)));
      all.push(...names);
    }
    const differ = all.filter((name) => said(name) !== said(name.replaceAll('/', '\\')));
    expect([all.length, differ]).toEqual([11110, []]);
  });
});

describe('readChart', () => {
  it('reads the references and required calls of large templates (128 KiB and more), with and without a required call', async () => {
    // Each line an action reading a value of its own: the large templates are read as bytes (in pieces, or as one string when they run required).
    const lines = (prefix: string): string => Array.from({ length: 5000 }, (_, i) => `x${i}: {{ .Values.${prefix}.k${i} }}\n`).join('');
    const withRequired = `${lines('a')}needed: {{ required "set b.needed" .Values.b.needed }}\n`;
    const without = lines('c');
    expect([withRequired.length, without.length].every((n) => n >= 128 * 1024)).toBe(true);
    const chart = await readChart(
      await archiveOf({ 'big/Chart.yaml': 'apiVersion: v2\nname: big\nversion: 1.0.0\n', 'big/templates/req.yaml': withRequired, 'big/templates/plain.yaml': without }),
      { templates: true },
    );
    const paths = chart.templateValuePaths.map((p) => p.join('.'));
    expect([paths.length, paths.slice(0, 2), paths.includes('b.needed'), paths.includes('a.k4999'), paths.includes('c.k4999')]).toEqual([10001, ['a.k0', 'a.k1'], true, true, true]);
    expect(chart.requiredValues).toEqual([{ path: ['b', 'needed'], message: 'set b.needed', line: 5001, column: 12, file: 'req.yaml' }]);
  });

  it("finds each template's references when asked for after the whole chart is read (the scan runs late: issue 16)", async () => {
    // Templates read one after the other, each with actions at other places; a small one and a large (128 KiB) one.
    const small = (n: number) => `${'#'.repeat(n)}\n{{ if .Values.s${n}.on }}{{ .Values.s${n}.name }}{{ end }}\n`;
    const large = Array.from({ length: 4000 }, (_, i) => `{{- /* ${i} */ -}}\nk${i}: {{ .Values.big.k${i} | quote }}\n`).join('');
    expect(large.length).toBeGreaterThanOrEqual(128 * 1024);
    const files: Record<string, string> = { 'late/Chart.yaml': 'apiVersion: v2\nname: late\nversion: 1.0.0\n', 'late/templates/large.yaml': large };
    for (const n of [1, 40, 300, 2000]) files[`late/templates/t${n}.yaml`] = small(n);
    const paths = (await readChart(await archiveOf(files))).templateValuePaths.map((p) => p.join('.'));
    expect([paths.length, paths.slice(0, 2), paths.slice(-8)]).toEqual([4008, ['big.k0', 'big.k1'], ['s1.on', 's1.name', 's40.on', 's40.name', 's300.on', 's300.name', 's2000.on', 's2000.name']]);
  });

  it('reads a chart archive with subchart folders and nested subchart archives, streaming past other files', async () => {
    const chart = await readChart(
      await archiveOf({
        // The folder in the archive is not the chart's name: Chart.yaml's name wins.
        'some-folder/Chart.yaml': PARENT_CHART,
        'some-folder/values.yaml': '# parent values\nreplicas: 1\n',
        'some-folder/templates/deploy.yaml': 'x: {{ .Values.fromTemplate.deep }} {{ $.Values.other }}\n{{/* .Values.commented */}}\n',
        'some-folder/README.md': 'not read',
        'some-folder/charts/child/Chart.yaml': 'apiVersion: v2\nname: child\nversion: 0.1.0\n',
        'some-folder/charts/child/values.yaml': 'childKey: true\n',
        'some-folder/charts/child/charts/grandchild-0.0.1.tgz': await tgz({ 'grandchild/Chart.yaml': 'apiVersion: v2\nname: grandchild\nversion: 0.0.1\n', 'grandchild/values.yaml': 'leaf: 1\n' }),
        'some-folder/examples/values.yaml': 'not: a chart values file\n',
      }),
    );
    expect(shape(chart)).toEqual({
      name: 'parent',
      version: '1.2.3',
      values: '# parent values\nreplicas: 1\n',
      subcharts: [{ name: 'child', version: '0.1.0', values: 'childKey: true\n', subcharts: [{ name: 'grandchild', version: '0.0.1', values: 'leaf: 1\n', subcharts: [] }] }],
    });
    expect(chart.appVersion).toBe('v9.9.9');
    expect(chart.templateValuePaths).toEqual([['fromTemplate', 'deep'], ['other']]);
    const child = chart.subcharts[0] as HelmChart;
    expect(subchartValueKeys(chart, child)).toEqual(['kid', 'child']);
    expect(missingDependencies(chart).map((d) => d.name)).toEqual(['absent']);
  });

  it("keeps the parse of each chart's values.yaml, the one the deep checks would make again", async () => {
    const values = 'image:\n  repository: nginx # the image\n  tag: "1.2"\nlist: [a, {b: c}]\nanchored: &a {x: 1}\nagain: *a\n';
    const chart = await readChart(
      await archiveOf({
        'p/Chart.yaml': 'apiVersion: v2\nname: p\nversion: 0.1.0\n',
        'p/values.yaml': values,
        'p/charts/plain/Chart.yaml': 'apiVersion: v2\nname: plain\nversion: 0.1.0\n',
        'p/charts/plain/values.yaml': 'a: 1\nb:\n  c: true\n',
        // Two byte order marks: the reader drops one, valuesText the other; that text is parsed again.
        'p/charts/boms/Chart.yaml': 'apiVersion: v2\nname: boms\nversion: 0.1.0\n',
        'p/charts/boms/values.yaml': '\uFEFF\uFEFFa: 1\n',
        'p/charts/none/Chart.yaml': 'apiVersion: v2\nname: none\nversion: 0.1.0\n',
      }),
    );
    const [plain, boms, none] = chart.subcharts as [HelmChart, HelmChart, HelmChart];
    for (const c of [chart, plain]) {
      const parse = chartValuesParse(c);
      expect(parse).toBeDefined();
      if (parse !== undefined) expect(yamlTreeOf(parse)).toEqual(parseYamlTree(c.valuesText));
    }
    expect(boms.valuesText).toBe('a: 1\n');
    expect(chartValuesParse(boms)).toBeUndefined();
    expect(chartValuesParse(none)).toBeUndefined();
  });

  it('reads an unpacked chart folder the same way (what Helm does not load under charts/ makes no subchart)', async () => {
    const dir = join(work, 'folder-chart');
    await put(dir, {
      'Chart.yaml': PARENT_CHART,
      'values.yaml': 'replicas: 1\n',
      'templates/nested/cm.yaml': 'a: {{ .Values.replicas }}\n',
      'charts/child/Chart.yaml': 'apiVersion: v2\nname: child\nversion: 0.1.0\n',
      '.helmignore': 'charts/notes/\ncharts/ignored-only/Chart.yaml\n',
      'charts/notes/README.md': 'ignored by .helmignore\n',
      // Its only file is .helmignore'd: the walk hands Helm nothing under charts/ignored-only.
      'charts/ignored-only/Chart.yaml': 'name: gone\n',
      'charts/child-0.1.0.tgz.prov': 'a provenance file stays with the parent chart\n',
      'charts/signed/child.prov': 'so does one in a folder\n',
      'charts/_drafts/values.yaml': 'a: 1\n',
      'charts/.cache/x': 'names starting with . are ignored\n',
    });
    await mkdir(join(dir, 'charts', 'empty', 'deeper'), { recursive: true });
    const chart = await readChart(dir);
    expect(shape(chart)).toEqual({ name: 'parent', version: '1.2.3', values: 'replicas: 1\n', subcharts: [{ name: 'child', version: '0.1.0', values: '', subcharts: [] }] });
    expect(chart.templateValuePaths).toEqual([['replicas']]);
  });

  /** readChart of folder `name` (under the work folder) holding chart top 1.0.0 with its subchart folder charts/sub (sub 1.0.0) and `files`. */
  async function readTopWithSubFolder(name: string, files: Record<string, string>): Promise<HelmChart> {
    const dir = join(work, name);
    await put(dir, { 'Chart.yaml': 'apiVersion: v2\nname: top\nversion: 1.0.0\n', 'charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 1.0.0\n', ...files });
    return readChart(dir);
  }

  it('notes a subchart folder\'s template without actions that is no Kubernetes object, and its crds/ file Helm cannot apply, as for an archive (was: not noted)', async () => {
    const chart = await readTopWithSubFolder('folder-sub-readme', {
      'charts/sub/templates/README.md': '# Sub\n\nprose\n',
      'charts/sub/templates/NOTES.txt': 'Thanks for installing.\n',
      'charts/sub/crds/v1/widgets.yaml': 'metadata:\n  name: widgets.example.com\n',
      'charts/sub/crds/README.md': 'not a CRD file: Helm leaves it alone\n',
    });
    expect(chart.subcharts[0]?.renderFailures).toEqual([
      { file: 'templates/README.md', why: 'holds no template action, so every render outputs it as it is, and Helm reads that as Kubernetes objects: the document at line 1 is a string, not a Kubernetes object' },
    ]);
    expect(chart.subcharts[0]?.crdRefusals?.map((r) => [r.file, r.why])).toEqual([['crds/v1/widgets.yaml', "the document at line 1 has no kind (Kubernetes: \"Object 'Kind' is missing\")"]]);
  });

  // The folder reader refuses what the archive reader refuses (was: readChart(dir) of the top folder returned the chart):
  // a crds/ file Helm cannot apply, a template without actions that is no Kubernetes object, a template running a
  // template nothing defines, or a helper that calls include without its context; and a subchart's helper call is noted.
  it.each<[string, Record<string, string>, string]>([
    ['a crds/ file without kind', { 'crds/v1/widgets.yaml': 'metadata:\n  name: widgets.example.com\n', 'crds/README.md': 'not a CRD file\n' }, 'crds/v1/widgets.yaml: Helm cannot install this chart: it applies crds/v1/widgets.yaml as it is, never rendered, and cannot read it ("failed to install CRD crds/v1/widgets.yaml"): the document at line 1 has no kind'],
    ['a README.md among the templates', { 'templates/docs/README.md': '# Top\n\nprose\n' }, 'templates/docs/README.md: Helm cannot install this chart: templates/docs/README.md holds no template action, so every render outputs it as it is'],
    ['a template running a template nothing defines', { 'templates/cm.yaml': 'kind: ConfigMap\nname: {{ include "top.fullname" . }}\n' }, ': Helm cannot install this chart: templates/cm.yaml runs the template "top.fullname" (line 2) on every render, and no template of the chart defines it'],
    ['a helper calling include without its context', { 'templates/cm.yaml': 'kind: ConfigMap\nname: {{ include "top.name" . }}\n', 'templates/_h.tpl': '{{- define "top.name" -}}{{ include "top.x" }}{{- end }}{{- define "top.x" -}}x{{- end }}\n' }, ': Helm cannot install this chart: templates/cm.yaml runs the template "top.name" (line 2) on every render; it (templates/_h.tpl) calls include with 1 argument (line 1), and include takes 2'],
  ])('refuses a top chart folder with %s, as the archive reader does', async (name, files, says) => {
    const dir = join(work, `folder-top-${name.replaceAll(' ', '-').replaceAll('/', '')}`);
    await put(dir, { 'Chart.yaml': 'apiVersion: v2\nname: top\nversion: 1.0.0\n', ...files });
    const err = await readChart(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackpubError);
    expect((err as PackpubError).message).toContain(says);
    expect((err as PackpubError).message.startsWith(dir)).toBe(true);
  });

  it("notes a subchart folder's template running a helper that calls include without its context, as for an archive (was: not noted)", async () => {
    const chart = await readTopWithSubFolder('folder-sub-helper', {
      'crds/old.yaml': 'apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata:\n  name: olds.example.com\n',
      'charts/sub/templates/cm.yaml': 'kind: ConfigMap\nname: {{ include "sub.name" . }}\n',
      'charts/sub/templates/_h.tpl': '{{- define "sub.name" -}}{{ include "sub.x" }}{{- end }}{{- define "sub.x" -}}x{{- end }}\n',
    });
    expect(chart.subcharts[0]?.renderFailures).toEqual([
      { file: 'templates/cm.yaml', why: 'runs the template "sub.name" (line 2) on every render; it (templates/_h.tpl) calls include with 1 argument (line 1), and include takes 2' },
    ]);
    expect(chart.removedApiCrdFiles).toEqual(['crds/old.yaml']);
  });

  // helm/helm pkg/chart/loader/directory.go + load.go LoadFiles: every file the walk loads under charts/<name>/
  // (not .helmignore'd, not a .prov) makes <name> a subchart, which needs a Chart.yaml; a file charts/<name> is an
  // archive only when its extension is exactly .tgz. Before, the folder reader skipped such folders and files.
  it.each<{ name: string; files: Record<string, string>; message: string }>([
    { name: 'a subchart folder without Chart.yaml', files: { 'charts/db/templates/cm.yaml': 'a: 1\n' }, message: '("error unpacking subchart db in parent: Chart.yaml file is missing")' },
    { name: 'a subchart folder whose Chart.yaml is .helmignore\'d', files: { '.helmignore': 'charts/db/Chart.yaml\n', 'charts/db/Chart.yaml': 'name: db\nversion: 1.0.0\n', 'charts/db/values.yaml': 'a: 1\n' }, message: '("error unpacking subchart db in parent: Chart.yaml file is missing")' },
    { name: 'a stray file in charts/', files: { 'charts/README.md': 'subcharts go here\n' }, message: '("error unpacking subchart README.md in parent: Chart.yaml file is missing")' },
    { name: 'a subchart archive named .tar.gz', files: { 'charts/db-1.0.0.tar.gz': 'not read\n' }, message: '("error unpacking subchart db-1.0.0.tar.gz in parent: Chart.yaml file is missing")' },
    { name: 'a folder named like a subchart archive', files: { 'charts/db.tgz/Chart.yaml': 'name: db\nversion: 1.0.0\n' }, message: '("error unpacking subchart tar in parent: expected db.tgz, got db.tgz/Chart.yaml")' },
  ])('refuses an unpacked chart folder with $name, as Helm does', async ({ files, message }) => {
    const dir = join(work, `folder-${Math.random().toString(16).slice(2)}`);
    await put(dir, { 'Chart.yaml': PARENT_CHART, ...files });
    const err = await readChart(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChartError);
    expect(err).toMatchObject({ code: 'PACK_FILE', nested: true });
    expect((err as Error).message).toBe(`${dir}: Helm refuses this chart ${message}`);
  });

  // Helm's directory loader (internal/sympath Walk) follows links to folders with no loop check: a link back
  // up makes it walk round until the path fails ("too many levels of symbolic links"), or, with several
  // such links in one folder, for ever. packpub's folder reader went round the same way (init --from-chart,
  // and validate looking for an unpacked chart beside a missing archive, never ended).
  describe('symlink loops in an unpacked chart folder', () => {
    async function loopedFolder(links: Record<string, string>, files: Record<string, string> = {}): Promise<string> {
      const dir = join(work, `loop-${Math.random().toString(16).slice(2)}`);
      await put(dir, { 'Chart.yaml': PARENT_CHART, 'templates/cm.yaml': 'a: {{ .Values.a }}\n', ...files });
      for (const [link, target] of Object.entries(links)) {
        await mkdir(join(dir, link, '..'), { recursive: true });
        await symlink(target, join(dir, link));
      }
      return dir;
    }
    const six = (folder: string, target = '.') => Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`${folder}/l${i}`, target]));

    it.each<{ name: string; links: Record<string, string>; files?: Record<string, string>; at: string }>([
      { name: 'templates/ linking to itself six times', links: six('templates'), at: 'templates/l1' },
      { name: 'a subchart folder holding only links to itself', links: six('charts/sub'), at: 'charts/sub/l1' },
      { name: 'two folders linking to each other', links: { 'templates/a/to-b': '../b', 'templates/b/to-a': '../a' }, at: 'templates/a/to-b/to-a' },
    ])('refuses $name, naming the link, at once', async ({ links, files, at }) => {
      const dir = await loopedFolder(links, files);
      const err = await readChart(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChartError);
      expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'helm-refuses' });
      expect((err as Error).message).toContain(`${join(dir, at)} is a symlink loop (it points back to a folder that contains it)`);
    });

    it('refuses packing a folder with a link back up anywhere, where Helm loads every file (init --from-chart)', async () => {
      const dir = await loopedFolder({ 'files/up': '..' }, { 'files/a.txt': 'a\n' });
      const err = await packChartDirectory(dir, join(work, 'looped.tgz')).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'helm-refuses' });
      expect((err as Error).message).toContain(`${join(dir, 'files/up')} is a symlink loop (it points back to a folder that contains it)`);
    });

    it('packs a folder reached through two links under both paths, as Helm loads it', async () => {
      const dir = await loopedFolder({ 'files/one': '../shared', 'files/two': '../shared' }, { 'shared/s.txt': 's\n' });
      await packChartDirectory(dir, join(work, 'twice.tgz'));
      expect((await listTgz(join(work, 'twice.tgz'))).map((e) => e.name).filter((n) => n.endsWith('s.txt'))).toEqual(['parent/files/one/s.txt', 'parent/files/two/s.txt', 'parent/shared/s.txt']);
    });

    it('follows a link to a folder that is not above it, as Helm does', async () => {
      const dir = await loopedFolder({ 'templates/shared': '../shared' }, { 'shared/svc.yaml': 'b: {{ .Values.b }}\n' });
      expect((await readChart(dir)).templateValuePaths).toEqual([['a'], ['b']]);
    });

    it('stops a fan-out of links without a loop at the entry limit', async () => {
      const links: Record<string, string> = {};
      for (let level = 0; level < 10; level++) for (const i of [1, 2, 3]) links[`templates/d${level}/x${i}`] = `../d${level + 1}`;
      const dir = await loopedFolder(links, { 'templates/d10/t.yaml': 'c: 1\n' });
      const err = await readChart(join(dir), { maxEntries: 1000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'too-many-entries' });
      expect((err as Error).message).toContain('more than 1000 files and folders');
    });
  });

  it.each<{ name: string; files: Record<string, string>; problem: string; nested: boolean; message: RegExp }>([
    { name: 'an archive without Chart.yaml', files: { 'x/values.yaml': 'a: 1\n' }, problem: 'no-chart-yaml', nested: false, message: /Helm refuses this chart archive \("Chart\.yaml file is missing"\)$/ },
    { name: 'a Chart.yaml without a name', files: { 'x/Chart.yaml': 'version: 1.0.0\n' }, problem: 'bad-metadata', nested: false, message: /Chart\.yaml: no name \(Helm: "validation: chart\.metadata\.name is required"\)/ },
    {
      name: 'a subchart whose Chart.yaml is not YAML',
      files: { 'x/Chart.yaml': 'name: x\nversion: 1.0.0\n', 'x/charts/y/Chart.yaml': 'name: [y\n' },
      problem: 'bad-metadata',
      nested: true,
      message: /\.tgz:charts\/y\/Chart\.yaml: not valid YAML \(line 1, column 7\): .*Flow sequence .* the \[ here is never closed/,
    },
  ])('refuses $name', async ({ files, problem, nested, message }) => {
    const err = await refusalOf(files);
    expect(err).toMatchObject({ code: 'PACK_FILE', problem, nested });
    expect(err.message).toMatch(message);
  });

  // Helm's rule (helm/helm pkg/chart/loader/archive.go LoadArchiveFiles): the first path component of
  // every entry is dropped, whatever it is; directory entries are skipped; load.go LoadFiles then wants
  // Chart.yaml at the top, reads charts/<sub>/ and charts/<sub>.tgz as subcharts and ignores charts/_x, charts/.x.
  it('reads an archive whose entries start with ./, as `tar -C chart -czf chart.tgz .` writes it', async () => {
    const chart = await readChart(
      await archiveOf({
        './': '',
        './Chart.yaml': 'apiVersion: v2\nname: dotted\nversion: 0.3.0\n',
        './values.yaml': 'replicas: 2\n',
        './templates/': '',
        './templates/deploy.yaml': 'replicas: {{ .Values.replicas }}\n',
        './charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 0.0.1\n',
        // An empty YAML file is empty for Helm, not an error.
        './charts/sub/requirements.yaml': '',
        './charts/sub/values.yaml': '',
        './charts/_helpers/Chart.yaml': 'not read: names starting with _ are ignored\n',
        './charts/.git/config': 'ignored too\n',
      }),
    );
    expect(shape(chart)).toEqual({ name: 'dotted', version: '0.3.0', values: 'replicas: 2\n', subcharts: [{ name: 'sub', version: '0.0.1', values: '', subcharts: [] }] });
    expect(chart.templateValuePaths).toEqual([['replicas']]);
  });

  it('reads a chart archive in the old V7 tar format (Go\'s archive/tar, and so Helm, reads it)', async () => {
    const path = join(work, 'v7.tgz');
    await writeFile(path, await v7Tgz({ 'old/Chart.yaml': 'apiVersion: v1\nname: old\nversion: 0.1.0\n', 'old/values.yaml': 'replicas: 1\n', 'old/templates/cm.yaml': '{{ .Values.replicas }}\n' }));
    const chart = await readChart(path);
    expect(shape(chart)).toEqual({ name: 'old', version: '0.1.0', values: 'replicas: 1\n', subcharts: [] });
    expect(chart.templateValuePaths).toEqual([['replicas']]);
  });

  it.each<{ name: string; files: Record<string, string | Buffer>; problem: string; message: string }>([
    {
      name: './mychart/Chart.yaml alone (Helm reads it as mychart/Chart.yaml)',
      files: { './': '', './mychart/': '', './mychart/Chart.yaml': 'name: mychart\nversion: 1.0.0\n' },
      problem: 'no-chart-yaml',
      message: 'Helm refuses this chart archive ("Chart.yaml file is missing"); its Chart.yaml is one folder too deep (./mychart/Chart.yaml)',
    },
    { name: 'a file at the archive root', files: { 'Chart.yaml': 'name: x\n' }, problem: 'helm-refuses', message: 'Helm refuses this chart archive ("chart illegally contains content outside the base directory: "Chart.yaml"")' },
    { name: 'a path that leaves the chart', files: { 'x/Chart.yaml': 'name: x\n', 'x/../../etc/passwd': 'x' }, problem: 'helm-refuses', message: '("chart illegally references parent directory")' },
    { name: 'an absolute path', files: { 'x/Chart.yaml': 'name: x\n', 'x//etc/passwd': 'x' }, problem: 'helm-refuses', message: '("chart illegally contains absolute paths")' },
    { name: 'an archive of folders only', files: { 'x/': '', 'x/templates/': '' }, problem: 'helm-refuses', message: '("no files in chart archive")' },
    {
      name: 'a stray file in charts/',
      files: { 'x/Chart.yaml': 'name: x\nversion: 1.0.0\n', 'x/charts/README.md': 'subcharts go here\n' },
      problem: 'no-chart-yaml',
      message: 'Helm refuses this chart ("error unpacking subchart README.md in x: Chart.yaml file is missing")',
    },
    // Helm's LoadFiles takes the first entry under charts/y.tgz as the archive: a path below a folder of that name is refused.
    {
      name: 'a folder named like a subchart archive',
      files: { 'x/Chart.yaml': 'name: x\nversion: 1.0.0\n', 'x/charts/y.tgz/Chart.yaml': 'name: y\nversion: 1.0.0\n' },
      problem: 'helm-refuses',
      message: 'Helm refuses this chart ("error unpacking subchart tar in x: expected y.tgz, got y.tgz/Chart.yaml")',
    },
    // helm/helm pkg/chart/v2/metadata.go Metadata.Validate, run by the loader on every chart and subchart.
    { name: 'a Chart.yaml without version', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\n' }, problem: 'bad-metadata', message: '.tgz/Chart.yaml: Helm refuses this chart ("validation: chart.metadata.version is required")' },
    { name: 'a version that is not semver', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: latest\n' }, problem: 'bad-metadata', message: '("validation: chart.metadata.version "latest" is invalid")' },
    { name: 'an unknown chart type', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\ntype: app\n' }, problem: 'bad-metadata', message: '("validation: chart.metadata.type must be application or library")' },
    { name: 'a name with a slash', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: a/x\nversion: 1.0.0\n' }, problem: 'bad-metadata', message: '("validation: chart.metadata.name "a/x" is invalid")' },
    // Go reads a plain `.` as the string "." (the YAML 1.1 float rule of the `yaml` package read NaN, a name packpub let through).
    { name: 'a name of .', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: .\nversion: 1.0.0\n' }, problem: 'bad-metadata', message: '("validation: chart.metadata.name "." is not allowed")' },
    { name: 'a null maintainer', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\nmaintainers:\n  -\n' }, problem: 'bad-metadata', message: '("validation: maintainers must not contain empty or null nodes")' },
    {
      name: 'two dependencies under one alias',
      files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n  - name: a\n    alias: db\n  - name: b\n    alias: db\n' },
      problem: 'bad-metadata',
      message: '("validation: more than one dependency with name or alias "db"")',
    },
    {
      name: 'an alias with a space (in requirements.yaml, which Helm reads over Chart.yaml)',
      files: { 'x/Chart.yaml': 'apiVersion: v1\nname: x\nversion: 1.0.0\n', 'x/requirements.yaml': 'dependencies:\n  - name: a\n    alias: my db\n' },
      problem: 'bad-metadata',
      message: '("validation: dependency "a" has disallowed characters in the alias")',
    },
    {
      name: 'a subchart without version',
      files: { ...X_CHART, 'x/charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\n' },
      problem: 'bad-metadata',
      message: ':charts/sub/Chart.yaml: Helm refuses this chart ("validation: chart.metadata.version is required")',
    },
    // Helm decodes Chart.yaml and requirements.yaml into its Metadata struct (sigs.k8s.io/yaml, then encoding/json).
    {
      name: 'keywords given as one string',
      files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\nkeywords: monitoring\n' },
      problem: 'bad-metadata',
      message: '("cannot load Chart.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field Metadata.keywords of type []string")',
    },
    { name: 'a maintainer given as a plain name', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\nmaintainers:\n  - Jane Doe\n' }, problem: 'bad-metadata', message: 'cannot unmarshal string into Go struct field Metadata.maintainers of type Maintainer' },
    { name: 'deprecated given as a string', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\ndeprecated: "true"\n' }, problem: 'bad-metadata', message: 'cannot unmarshal string into Go struct field Metadata.deprecated of type bool' },
    { name: 'a list for tags', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\ntags: [a, b]\n' }, problem: 'bad-metadata', message: 'cannot unmarshal array into Go struct field Metadata.tags of type string' },
    {
      name: 'a dependency whose tags is one string (requirements.yaml)',
      files: { 'x/Chart.yaml': 'apiVersion: v1\nname: x\nversion: 1.0.0\n', 'x/requirements.yaml': 'dependencies:\n  - name: a\n    tags: backend\n' },
      problem: 'bad-metadata',
      message: '("cannot load requirements.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field Dependency.dependencies.tags of type []string")',
    },
    { name: 'a .inf under a key Helm does not know', files: { 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\nx-limit: .inf\n' }, problem: 'bad-metadata', message: '("cannot load Chart.yaml: error converting YAML to JSON: json: unsupported value: +Inf")' },
    // go-yaml reads only UTF-8 (or UTF-16 with a BOM), even in comments.
    { name: 'a Latin-1 byte in a Chart.yaml comment', files: { 'x/Chart.yaml': Buffer.from('apiVersion: v2\nname: x\nversion: 1.0.0\n# caf\xe9\n', 'latin1') }, problem: 'bad-metadata', message: '("cannot load Chart.yaml: error converting YAML to JSON: yaml: invalid UTF-8"): line 4 is not UTF-8 text' },
    { name: 'a Latin-1 values.yaml', files: { ...X_CHART, 'x/values.yaml': Buffer.from('owner: Jos\xe9\n', 'latin1') }, problem: 'bad-metadata', message: 'x/values.yaml: Helm refuses this chart ("cannot load values.yaml: error converting YAML to JSON: yaml: invalid UTF-8"): line 1' },
    // Helm's loader reads values.yaml into a map (chartutil.ReadValues); it refuses the chart when it cannot.
    { name: 'a values.yaml that is not YAML', files: { ...X_CHART, 'x/values.yaml': 'image:\n  tag: [1.0\n' }, problem: 'bad-metadata', message: '/values.yaml: Helm refuses this chart ("cannot load values.yaml": not valid YAML: ' },
    { name: 'a values.yaml holding a list', files: { ...X_CHART, 'x/values.yaml': '- a\n- b\n' }, problem: 'bad-metadata', message: '("cannot load values.yaml": its top level is a list, not a mapping of values)' },
    { name: 'a values.yaml with a .nan', files: { ...X_CHART, 'x/values.yaml': 'probe:\n  ratio: .NaN\n' }, problem: 'bad-metadata', message: '("cannot load values.yaml": error converting YAML to JSON: json: unsupported value: probe.ratio is .inf or .nan)' },
    {
      name: 'a subchart values.yaml holding a single value',
      files: { ...X_CHART, 'x/charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 1.0.0\n', 'x/charts/sub/values.yaml': 'replicas 2\n' },
      problem: 'bad-metadata',
      message: ':charts/sub/values.yaml: Helm refuses this chart ("cannot load values.yaml": its top level is a single value, not a mapping of values)',
    },
    // Helm's loader reads Chart.lock and requirements.lock into its Lock struct, whose `generated` is a
    // time.Time (RFC 3339 through time.Time UnmarshalJSON), in every chart and subchart.
    {
      name: 'a Chart.lock generated on a date only',
      files: { ...X_CHART, 'x/Chart.lock': 'dependencies: []\ndigest: sha256:00\ngenerated: "2024-01-31"\n' },
      problem: 'bad-metadata',
      message: '.tgz/Chart.lock: Helm refuses this chart ("cannot load Chart.lock: error unmarshaling JSON: while decoding JSON: parsing time "2024-01-31" as "2006-01-02T15:04:05Z07:00"',
    },
    { name: 'a Chart.lock generated with a space for the T', files: { ...X_CHART, 'x/Chart.lock': 'generated: 2024-01-31 12:00:00\n' }, problem: 'bad-metadata', message: 'parsing time "2024-01-31 12:00:00"' },
    { name: 'a Chart.lock generated as a number', files: { ...X_CHART, 'x/Chart.lock': 'generated: 1706702400\n' }, problem: 'bad-metadata', message: '("cannot load Chart.lock: error unmarshaling JSON: while decoding JSON: Time.UnmarshalJSON: input is not a JSON string")' },
    {
      name: 'a Chart.lock dependency version given as a list',
      files: { ...X_CHART, 'x/Chart.lock': 'dependencies:\n  - name: a\n    version: [1]\ngenerated: "2024-01-31T12:00:00Z"\n' },
      problem: 'bad-metadata',
      message: 'cannot unmarshal array into Go struct field Dependency.dependencies.version of type string',
    },
    {
      name: "a subchart's Chart.lock with a time zone hour out of range",
      files: { ...X_CHART, 'x/charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 1.0.0\n', 'x/charts/sub/Chart.lock': 'generated: "2024-01-31T12:00:00+25:00"\n' },
      problem: 'bad-metadata',
      message: ':charts/sub/Chart.lock: Helm refuses this chart ("cannot load Chart.lock: ',
    },
    { name: 'a requirements.lock generated on February 30th', files: { 'x/Chart.yaml': 'apiVersion: v1\nname: x\nversion: 1.0.0\n', 'x/requirements.lock': 'generated: 2024-02-30T00:00:00Z\n' }, problem: 'bad-metadata', message: '("cannot load requirements.lock: error unmarshaling JSON: while decoding JSON: parsing time "2024-02-30T00:00:00Z"' },
  ])('refuses what Helm refuses: $name, with what Helm says', async ({ files, problem, message }) => {
    const err = await refusalOf(files);
    expect(err).toMatchObject({ code: 'PACK_FILE', problem });
    expect(err.message).toContain(message);
    expect(err.hint).toMatch(/Helm drops the first folder of every entry|helm package|charts\/ holds subcharts only/);
  });

  it('reads what Helm loads: no apiVersion (v1 assumed), a numeric name and version, 1.5 and 26.02.1, a library subchart', async () => {
    const cases: Array<[string, string, string]> = [
      ['name: web\nversion: 1.0.0\n', 'web', '1.0.0'],
      ['apiVersion: v2\nname: 123\nversion: 1.5\n', '123', '1.5'],
      ['apiVersion: v2\nname: cal\nversion: 26.02.1\ntype: application\n', 'cal', '26.02.1'],
      // encoding/json matches struct fields in any case; scalars become the text of string fields.
      ['apiVersion: v2\nName: Upper\nVersion: 2.0.0\nkeywords: [1, true, null]\nannotations: {a: 1}\nmaintainers: [{name: 7}]\n', 'Upper', '2.0.0'],
      [`\uFEFFapiVersion: v2\nname: bom\nversion: 1.0.0\n`, 'bom', '1.0.0'],
      // Plain scalars Go reads as strings where YAML 1.1 reads NaN or Infinity (helm's own subpop test chart has `parent: .`).
      ['apiVersion: v2\nname: e5\nversion: 1.0.0\nx: 1e999\ndependencies:\n- name: lib\n  import-values:\n  - child: a\n    parent: .\n', 'e5', '1.0.0'],
    ];
    for (const [chartYaml, name, version] of cases) {
      const chart = await readChart(await archiveOf({ 'c/Chart.yaml': chartYaml, 'c/charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n' }));
      expect({ name: chart.name, version: chart.version, sub: chart.subcharts.map((c) => c.name) }).toEqual({ name, version, sub: ['lib'] });
    }
  });

  // sigs.k8s.io/yaml writes an unquoted number bound for a string field as Go does (ints in decimal,
  // floats with FormatFloat 'g' -1 32); Masterminds semver then reads that text, not what was written.
  it.each<[string, string]>([
    ['20240101.1', '2.0240102e+07'],
    ['12345678.0', '1.2345678e+07'],
    ['1e7', '1e+07'],
    ['0.00001', '1e-05'],
    ['-1', '-1'],
    ['1e39', '+Inf'],
    ['.inf', '+Inf'],
    ['yes', 'true'],
  ])('refuses version: %s, read by Helm as %s, saying so', async (written, read) => {
    const err = await refusalOf({ 'x/Chart.yaml': `apiVersion: v2\nname: x\nversion: ${written}\n` });
    expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'bad-metadata' });
    expect(err.message).toContain(`.tgz/Chart.yaml: Helm refuses this chart ("validation: chart.metadata.version "${read}" is invalid"): version: ${written} is a YAML ${written === 'yes' ? 'boolean' : 'number'}, which Helm reads as ${read}: quote it (version: "${written}")`);
    expect(err.hint).toBe('quote the version in Chart.yaml (`helm lint` reports the same), then rebuild the archive with `helm package <chart-dir>`');
  });

  // Metadata.Validate sanitizes the name (and other text) before it checks it: blanks become spaces, what
  // Go's unicode.IsPrint refuses (U+200B, controls) is dropped.
  it.each<[string, string]>([
    ['"\\u200B"', 'no name (Helm: "validation: chart.metadata.name is required")'],
    ['"\\0\\u200B\\uFEFF"', 'no name (Helm: "validation: chart.metadata.name is required")'],
    ['".\\u200B"', '("validation: chart.metadata.name "." is not allowed")'],
  ])('refuses name: %s, empty or "." once Helm sanitized it', async (name, says) => {
    const err = await refusalOf({ 'x/Chart.yaml': `apiVersion: v2\nname: ${name}\nversion: 1.0.0\n` });
    expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'bad-metadata' });
    expect(err.message).toContain(says);
  });

  // pkg/action renderResources checks the top chart's kubeVersion at every install (chartutil.IsCompatibleRange):
  // a constraint Masterminds semver cannot read matches no cluster. Subcharts' are not checked.
  it('refuses a top chart whose kubeVersion Helm cannot read, and reads one in a subchart', async () => {
    const err = await refusalOf({ 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\nkubeVersion: 1.20+\n' });
    expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'helm-refuses', nested: false });
    expect(err.message).toContain(
      '.tgz/Chart.yaml: Helm cannot install this chart: its kubeVersion "1.20+" is no version constraint Helm reads (improper constraint: 1.20+), so it matches no cluster and every install fails ("chart requires kubeVersion: 1.20+ which is incompatible with Kubernetes ...")',
    );
    expect(err.hint).toMatch(/^write kubeVersion as a semver constraint, such as ">= 1.21.0-0"/);
    const chart = await readChart(await archiveOf({ ...X_CHART, 'x/charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 1.0.0\nkubeVersion: 1.20+\n' }));
    expect(chart.subcharts.map((c) => c.name)).toEqual(['sub']);
    const good = await readChart(await archiveOf({ 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\nkubeVersion: ">= 1.21.0-0 < 2"\n' }));
    expect(good.name).toBe('x');
  });

  it('reads the name, appVersion and dependencies as Helm sanitizes them', async () => {
    const chart = await readChart(
      await archiveOf({
        'c/Chart.yaml': 'apiVersion: v2\nname: "web\\t\\u200B"\nversion: 1.0.0\nappVersion: "1.0\\u00A0beta"\ndependencies:\n  - name: "lib\\u2060"\n    version: "0.1.0\\n"\n',
        'c/charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\n',
      }),
    );
    expect({ name: chart.name, appVersion: chart.appVersion, dependencies: chart.dependencies }).toEqual({ name: 'web ', appVersion: '1.0 beta', dependencies: [{ name: 'lib', version: '0.1.0 ' }] });
  });

  it('reads the numbers Helm reads as a version, name or appVersion as the text Helm makes of them, and lists those it changes (in the sorted key order of its JSON)', async () => {
    const cases: Array<{ yaml: string; name: string; version: string; appVersion?: string; changed: string[] }> = [
      { yaml: 'name: x\nversion: 1.10\n', name: 'x', version: '1.1', changed: ['version: 1.10 -> 1.1'] },
      { yaml: 'name: x\nversion: 1.0\nappVersion: 1.20\n', name: 'x', version: '1', appVersion: '1.2', changed: ['appVersion: 1.20 -> 1.2', 'version: 1.0 -> 1'] },
      { yaml: 'name: x\nversion: 1e3\n', name: 'x', version: '1000', changed: ['version: 1e3 -> 1000'] },
      { yaml: 'name: x\nversion: 0x10\n', name: 'x', version: '16', changed: ['version: 0x10 -> 16'] },
      { yaml: 'name: x\nversion: 010\n', name: 'x', version: '8', changed: ['version: 010 -> 8'] },
      { yaml: 'name: x\nversion: 1_000\n', name: 'x', version: '1000', changed: ['version: 1_000 -> 1000'] },
      { yaml: 'name: x\nversion: 12345678\nappVersion: 3\n', name: 'x', version: '12345678', appVersion: '3', changed: [] },
      // Go reads `yes` as a boolean: the chart is named "true" (packpub took it for a chart without a name).
      { yaml: 'name: yes\nversion: 1.2.3\n', name: 'true', version: '1.2.3', changed: ['name: yes -> true'] },
      { yaml: 'name: 7\nversion: &v 2.50\nappVersion: *v\n', name: '7', version: '2.5', appVersion: '2.5', changed: ['appVersion: 2.50 -> 2.5', 'version: 2.50 -> 2.5'] },
      { yaml: 'name: x\nversion: 1.0.0\ndependencies:\n  - name: lib\n    version: 1.10\n', name: 'x', version: '1.0.0', changed: ['dependencies[0].version: 1.10 -> 1.1'] },
    ];
    for (const c of cases) {
      const chart = await readChart(await archiveOf({ 'c/Chart.yaml': `apiVersion: v2\n${c.yaml}`, 'c/charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\n' }));
      expect({ name: chart.name, version: chart.version, appVersion: chart.appVersion, changed: (chart.readAsText ?? []).map((t) => `${t.at}: ${t.written} -> ${t.read}`) }).toEqual({
        name: c.name,
        version: c.version,
        appVersion: c.appVersion,
        changed: c.changed,
      });
    }
    const dep = await readChart(await archiveOf({ 'c/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n  - name: lib\n    version: 1.10\n', 'c/charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\n' }));
    expect(dep.dependencies).toEqual([{ name: 'lib', version: '1.1' }]);
  });

  // What macOS tar writes beside each file with extended attributes: an AppleDouble header (magic, version, filler).
  const APPLE_DOUBLE = Buffer.concat([Buffer.from([0, 5, 0x16, 7, 0, 2, 0, 0]), Buffer.from('Mac OS X        '), Buffer.from([0, 1, 0, 0, 0, 9])]);

  it("refuses a top chart whose templates or CRDs Helm's install cannot parse as YAML, whatever the values", async () => {
    const cases: Array<[string, string | Buffer, string]> = [
      ['templates/._deployment.yaml', APPLE_DOUBLE, 'it renders it and parses the result as Kubernetes YAML, and Go\'s YAML reader refuses templates/._deployment.yaml (control characters are not allowed (U+0000))'],
      ['templates/.__helpers.tpl', APPLE_DOUBLE, 'refuses templates/.__helpers.tpl (control characters are not allowed (U+0000))'],
      ['templates/sub/notes.txt', 'kind: ConfigMap\n\x1b[1mbold\n{{ .Values.x }}\n', 'refuses templates/sub/notes.txt (control characters are not allowed (U+001B))'],
      ['templates/cm.yaml', Buffer.from([0x6b, 0x3a, 0x20, 0xe9, 0x0a]), 'refuses templates/cm.yaml (bytes that are not UTF-8 text)'],
      ['templates/latin.yaml', Buffer.from([0x6b, 0x3a, 0x07, 0xe9, 0x0a]), 'refuses templates/latin.yaml (control characters are not allowed (U+0007))'],
      ['crds/._widgets.yaml', APPLE_DOUBLE, 'it applies it as a CRD, and Go\'s YAML reader refuses crds/._widgets.yaml (control characters are not allowed (U+0000))'],
      ['crds/deep/w.JSON', '{"kind": "CustomResourceDefinition", "x": "{{\x7f"}', 'refuses crds/deep/w.JSON (control characters are not allowed (U+007F))'],
    ];
    for (const [file, bytes, says] of cases) {
      const err = await refusalOf({ ...X_CHART, [`x/${file}`]: bytes });
      expect({ problem: err.problem, nested: err.nested }).toEqual({ problem: 'helm-refuses', nested: false });
      expect(err.message).toContain(`:x/${file}: Helm cannot install this chart: `);
      expect(err.message).toContain(says);
      expect(err.hint).toContain('COPYFILE_DISABLE=1');
    }
    // The same through the second tar reader (an old V7 archive, which packpub's own reader leaves to tar-stream).
    const v7 = join(work, 'v7-apple-double.tgz');
    await writeFile(v7, await v7Tgz({ 'x/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\n', 'x/templates/._cm.yaml': '\u0000\u0005\u0016\u0007' }));
    const err = await readChart(v7).catch((e: unknown) => e);
    expect(err).toMatchObject({ problem: 'helm-refuses', message: expect.stringContaining("Go's YAML reader refuses templates/._cm.yaml (control characters are not allowed (U+0000))") });
  });

  it('reads charts whose odd bytes Helm never parses as YAML, or only after rendering, or in a subchart', async () => {
    const files: Record<string, string | Buffer> = {
      ...X_CHART,
      'x/templates/_helpers.tpl': Buffer.concat([APPLE_DOUBLE, Buffer.from('{{- define "x" }}{{ end }}')]),
      'x/templates/NOTES.txt': APPLE_DOUBLE,
      'x/templates/sub/NOTES.txt': APPLE_DOUBLE,
      'x/templates/after.yaml': 'kind: ConfigMap\n{{/* \x00 in a comment */}}\n',
      'x/templates/utf16.yaml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('kind: ConfigMap\n', 'utf16le')]),
      'x/templates/feed.yaml': '\f\nkind: ConfigMap\n\v\n',
      'x/crds/README.md': APPLE_DOUBLE,
      'x/._Chart.yaml': APPLE_DOUBLE,
      'x/charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 1.0.0\n',
      'x/charts/sub/templates/._cm.yaml': APPLE_DOUBLE,
      'x/charts/sub/crds/._c.yaml': APPLE_DOUBLE,
      'x/charts/packed.tgz': await tgz({ 'packed/Chart.yaml': 'apiVersion: v2\nname: packed\nversion: 1.0.0\n', 'packed/templates/._cm.yaml': APPLE_DOUBLE }),
    };
    for (const templates of [true, false]) {
      const chart = await readChart(await archiveOf(files), { templates });
      expect({ name: chart.name, subs: chart.subcharts.map((c) => c.name).sort() }).toEqual({ name: 'x', subs: ['packed', 'sub'] });
    }
  });

  it('reads the Chart.lock files Helm loads: generated in every RFC 3339 form Go reads, null, empty; requirements.lock too', async () => {
    // Each `generated` below is one go's time.Time UnmarshalJSON reads (checked against Go on the same text).
    const locks = [
      'dependencies:\n- name: redis\n  repository: https://charts.example.com\n  version: 18.1.0\ndigest: sha256:1f\ngenerated: "2024-01-31T12:00:00.160573+05:30"\n',
      'generated: 2024-01-31T12:00:00Z\n',
      'generated: "2024-01-31T12:00:00,5-07:00"\n',
      'generated: "2024-02-29T1:00:00+24:00"\n',
      'generated: ~\n',
      'Generated: "2024-01-31T12:00:00Z"\nunknown: [1]\n',
      '',
      '# nothing\n',
    ];
    for (const lock of locks) {
      const path = await archiveOf({ 'c/Chart.yaml': 'apiVersion: v1\nname: c\nversion: 1.0.0\n', 'c/Chart.lock': lock, 'c/requirements.lock': lock, 'c/charts/s/Chart.yaml': 'apiVersion: v2\nname: s\nversion: 1.0.0\n', 'c/charts/s/Chart.lock': lock });
      expect((await readChart(path)).subcharts.map((c) => c.name)).toEqual(['s']);
    }
  });

  it('refuses the Chart.lock Helm refuses in an unpacked chart folder and its subchart folders, and reads a good one', async () => {
    const dir = join(work, 'lock-folder');
    await put(dir, { 'Chart.yaml': 'apiVersion: v2\nname: f\nversion: 1.0.0\n', 'Chart.lock': 'generated: "2024-01-31T12:00:00Z"\n', 'charts/s/Chart.yaml': 'apiVersion: v2\nname: s\nversion: 1.0.0\n', 'charts/s/Chart.lock': 'generated: "2024-01-31"\n' });
    const err = await readChart(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChartError);
    expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'bad-metadata', nested: true });
    expect((err as Error).message).toContain(`${join(dir, 'charts', 's')}/Chart.lock: Helm refuses this chart ("cannot load Chart.lock: error unmarshaling JSON: while decoding JSON: parsing time "2024-01-31"`);
    await put(dir, { 'charts/s/Chart.lock': 'generated: "2024-01-31T00:00:00Z"\n' });
    expect((await readChart(dir)).subcharts.map((c) => c.name)).toEqual(['s']);
  });

  it('reads the values.yaml files Helm loads: empty, comments only, null, a first document that is empty, a broken later document', async () => {
    const texts = ['', '# nothing set\n', '~\n', '---\n---\n- only in the second document\n', 'a: 1\n---\n: broken [\n'];
    for (const values of texts) {
      expect((await readChart(await archiveOf({ 'c/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 1.0.0\n', 'c/values.yaml': values }))).valuesText).toBe(values);
    }
    // UTF-16 with a byte-order mark is YAML go-yaml reads.
    const utf16 = await archiveOf({ 'c/Chart.yaml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('apiVersion: v2\nname: wide\nversion: 1.0.0\n', 'utf16le')]) });
    expect((await readChart(utf16)).name).toBe('wide');
  });

  it('refuses a file that is not a gzip tar, and a missing path', async () => {
    await writeFile(join(work, 'plain.tgz'), 'hello');
    const bad = await readChart(join(work, 'plain.tgz')).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'PACK_FILE', problem: 'not-an-archive', nested: false });
    expect((bad as Error).message).toContain(": not a gzip'd tar archive (incorrect header check)");
    const missing = await readChart(join(work, 'nope.tgz')).catch((e: unknown) => e);
    expect(isPackpubError(missing, 'NOT_FOUND')).toBe(true);
  });

  it("refuses macOS tar's AppleDouble file of the chart's folder (._web beside web/), as Helm does, and says what it is", async () => {
    const archive = await archiveOf({ '._web': Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]), 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n' });
    const err = await readChart(archive).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'helm-refuses', message: `${archive}: Helm refuses this chart archive ("chart illegally contains content outside the base directory: \"._web\"")` });
    expect((err as { hint?: string }).hint).toBe(
      "it is the `._<name>` file macOS tar writes beside a folder or file with extended attributes (AppleDouble), here beside the chart's folder, where Helm takes it for a file outside the chart: rebuild the archive with `COPYFILE_DISABLE=1 tar -czf ...`, or with `helm package <chart-dir>`",
    );
    // `./._web` is a file of the chart to Helm (it drops the "." only): read, as Helm reads it.
    expect((await readChart(await archiveOf({ './._web': 'x', 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n' }))).name).toBe('web');
  });

  it('says what a chart archive made by another tool is instead (Helm: "does not appear to be a gzipped archive", "invalid tar header")', async () => {
    const chart = await tgz({ 'c/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 1.0.0\n' });
    const rebuild = 'rebuild it with `helm package <chart-dir>`';
    const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const cases: Array<[string, Buffer, string, string]> = [
      ['twice.tgz', gzipSync(chart), 'it is gzip-compressed twice (a .tgz run through gzip again)', `decompress it once (\`gunzip -c <file> > <chart>.tgz\`), or ${rebuild}`],
      ['plain.tgz', gunzipSync(chart), 'it is a tar archive without gzip compression', `compress it (\`gzip -c <file> > <chart>.tgz\`), or ${rebuild}`],
      // The first bytes each of these tools writes (Helm looks no further either).
      ['bz.tgz', Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(200, 7)]), 'it is a bzip2-compressed file (`tar -cjf`)', rebuild],
      ['xz.tgz', Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(200, 7)]), 'it is an xz-compressed file (`tar -cJf`)', rebuild],
      ['zst.tgz', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(200, 7)]), 'it is a zstd-compressed file (`tar --zstd`)', rebuild],
      ['zip.tgz', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]), 'it is a zip file', rebuild],
      // What a clone holds for a file Git LFS tracks when the LFS content was not fetched.
      [
        'lfs.tgz',
        Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 14642\n'),
        'it is a Git LFS pointer file, not the archive: the checkout did not fetch the content Git LFS tracks',
        'fetch the content (`git lfs pull`; in CI, check out with LFS, e.g. actions/checkout `lfs: true`)',
      ],
    ];
    for (const [name, bytes, says, fix] of cases) {
      await writeFile(join(work, name), bytes);
      const err = await readChart(join(work, name)).catch((e: unknown) => e);
      expect(err, name).toMatchObject({ code: 'PACK_FILE', problem: 'not-an-archive' });
      // Go's own reason in the brackets: for the gzip'd tar, where its tar reader stops in the inner gzip data.
      expect((err as Error).message).toMatch(new RegExp(`^${escape(`${join(work, name)}: not a gzip'd tar archive (`)}[^)]+\\): ${escape(says)}$`));
      expect((err as { hint?: string }).hint).toBe(`a chart archive is a gzip-compressed tar as \`helm package\` writes it: ${fix}`);
    }
  });

  // Helm reads a chart archive with Go's compress/gzip and archive/tar and stops at the tar end-of-archive
  // marker (two zero blocks): what follows is never read. Without the marker, Go reads to the end of the
  // stream, which must then end cleanly. Each expectation below was checked against Helm's loop on Go's readers.
  describe('bytes after the end of the archive, as Helm reads them', () => {
    const files = { 'c/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 1.0.0\n', 'c/values.yaml': 'a: 1\n' };
    const junk = Buffer.from('trailing bytes that are not gzip\n');
    const badCrc = (g: Buffer): Buffer => {
      const copy = Buffer.from(g);
      copy[copy.length - 8] = (copy[copy.length - 8] as number) ^ 0xff;
      return copy;
    };
    const cases = async (): Promise<{ accepted: Record<string, Buffer>; refused: Record<string, [Buffer, string]> }> => {
      const tar = gunzipSync(await tgz(files));
      const noMarker = tar.subarray(0, tar.length - 1024);
      const other = gunzipSync(await tgz({ 'c/templates/x.yaml': 'x: 1\n' }));
      return {
        accepted: {
          'bytes after the end marker inside the gzip data': gzipSync(Buffer.concat([tar, junk, Buffer.alloc(512, 7)])),
          'bytes after the gzip data': Buffer.concat([gzipSync(tar), junk]),
          'a second gzip member after the archive': Buffer.concat([gzipSync(tar), gzipSync(junk)]),
          'a damaged gzip trailer after the end marker': badCrc(gzipSync(tar)),
          'no end marker, the gzip data ending cleanly': gzipSync(noMarker),
          'one zero block, then the end': gzipSync(tar.subarray(0, tar.length - 512)),
          'the tar split over two gzip members': Buffer.concat([gzipSync(tar.subarray(0, 600)), gzipSync(tar.subarray(600))]),
        },
        refused: {
          'no end marker, then bytes after the gzip data': [Buffer.concat([gzipSync(noMarker), junk]), 'bytes after the gzip data that are not another gzip member'],
          'no end marker and a damaged gzip trailer': [badCrc(gzipSync(noMarker)), 'incorrect data check'],
          'no end marker and a cut gzip trailer': [gzipSync(noMarker).subarray(0, gzipSync(noMarker).length - 4), 'unexpected end of file'],
          'a zero block followed by another entry': [gzipSync(Buffer.concat([noMarker, Buffer.alloc(512), other])), 'invalid tar header'],
          'a header cut short': [gzipSync(tar.subarray(0, 1024 + 100)), 'unexpected end of data'],
          'cut deflate data': [gzipSync(tar).subarray(0, 40), 'unexpected end of file'],
        },
      };
    };

    it('accepts what Helm accepts', async () => {
      for (const [name, bytes] of Object.entries((await cases()).accepted)) {
        const path = join(work, `after-${name.replaceAll(' ', '-')}.tgz`);
        await writeFile(path, bytes);
        const chart = await readChart(path).catch((e: unknown) => e);
        expect({ name, chart: (chart as HelmChart).name, values: (chart as HelmChart).valuesText }).toEqual({ name, chart: 'c', values: 'a: 1\n' });
      }
    });

    it('refuses what Helm refuses', async () => {
      for (const [name, [bytes, says]] of Object.entries((await cases()).refused)) {
        const path = join(work, `after-${name.replaceAll(' ', '-')}.tgz`);
        await writeFile(path, bytes);
        const err = await readChart(path).catch((e: unknown) => e);
        expect({ name, err }).toMatchObject({ name, err: { code: 'PACK_FILE', problem: 'not-an-archive' } });
        expect((err as Error).message).toContain(`: not a gzip'd tar archive (${says})`);
      }
    });
  });

  describe("Helm's 100 MiB chart limit, counted as Helm counts it", () => {
    const MiB = 1024 * 1024;
    const zeros = Buffer.alloc(5 * MiB);
    // Hundreds of MiB of zeros, compressed at zlib's fastest level (the default level cost seconds of CPU).
    const FAST = { level: 1 };
    /** Chart `name` whose files (Chart.yaml included) add up to `total` bytes, in files of at most 5 MiB. */
    function filesOf(name: string, total: number, extra: Record<string, string | Buffer> = {}): Record<string, string | Buffer> {
      const chartYaml = `apiVersion: v2\nname: ${name}\nversion: 1.0.0\n`;
      const files: Record<string, string | Buffer> = { [`${name}/Chart.yaml`]: chartYaml, ...extra };
      let left = total - Buffer.byteLength(chartYaml) - Object.values(extra).reduce((n, c) => n + Buffer.byteLength(c), 0);
      for (let i = 0; left > 0; i++) {
        const n = Math.min(left, zeros.length);
        files[`${name}/data/z${i}.bin`] = zeros.subarray(0, n);
        left -= n;
      }
      return files;
    }
    /** Chart `big` of exactly 100 MiB of files: one archive for the top-level and the subchart refusal (built once, ~0.15 CPU-s). */
    let hundred: Promise<Buffer> | undefined;
    const hundredMiB = (): Promise<Buffer> => (hundred ??= tgz(filesOf('big', 100 * MiB), FAST));

    it('loads an umbrella chart whose subchart archives together pass 100 MiB (Helm counts each archive on its own)', async () => {
      // 2 x 51 MiB: past 100 MiB together, each under it (2 x 60 MiB inflated 18 MiB more for the same case).
      const sub = (name: string) => tgz(filesOf(name, 51 * MiB), FAST);
      const chart = await readChart(await archiveOf({ ...X_CHART, 'x/charts/a-1.0.0.tgz': await sub('a'), 'x/charts/b-1.0.0.tgz': await sub('b') }));
      expect(chart.subcharts.map((s) => s.name)).toEqual(['a', 'b']);
    });

    it('counts the files\' bytes, not the tar headers: 100 MiB less one byte loads, 100 MiB is refused in Helm\'s words', async () => {
      expect((await readChart(await archiveOf(filesOf('flat', 100 * MiB - 1), FAST))).name).toBe('flat');
      const path = join(work, `archive-${archives++}.tgz`);
      await writeFile(path, await hundredMiB());
      const err = (await readChart(path).catch((e: unknown) => e)) as ChartError;
      expect(err).toBeInstanceOf(ChartError);
      expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'too-large' });
      expect(err.message).toContain('Helm refuses this chart archive ("decompressed chart is larger than the maximum size 104857600")');
      expect(err.message).toContain('100 MiB');
    });

    it('refuses a subchart archive over the limit by its own count, naming it', async () => {
      const err = await refusalOf({ ...X_CHART, 'x/charts/big-1.0.0.tgz': await hundredMiB() });
      expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'too-large' });
      expect(err.message).toContain('charts/big-1.0.0.tgz: Helm refuses this chart archive ("decompressed chart is larger than the maximum size 104857600")');
    });

    it('still stops what all the archives inflate to together at packpub\'s bomb guard', async () => {
      const sub = (name: string) => tgz(filesOf(name, 2 * MiB));
      const umbrella = await archiveOf({ ...X_CHART, 'x/charts/a-1.0.0.tgz': await sub('a'), 'x/charts/b-1.0.0.tgz': await sub('b') });
      const err = await readChart(umbrella, { maxBytes: 3 * MiB }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UNSAFE_ARCHIVE', problem: 'too-large' });
      expect((err as Error).message).toContain('charts/b-1.0.0.tgz: expands to more than 3145728 bytes with its subchart archives');
    });
  });

  it('stops a decompression bomb and an entry flood at the limits', async () => {
    const bomb = await archiveOf({ 'b/Chart.yaml': 'name: b\nversion: 1.0.0\n', 'b/zeros.bin': Buffer.alloc(2 * 1024 * 1024) });
    const err = await readChart(bomb, { maxBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'UNSAFE_ARCHIVE')).toBe(true);
    expect((err as Error).message).toContain('expands to more than 1048576 bytes');

    const files: Record<string, string> = { 'f/Chart.yaml': 'name: f\nversion: 1.0.0\n' };
    for (let i = 0; i < 50; i++) files[`f/templates/t${i}.yaml`] = '';
    const err2 = await readChart(await archiveOf(files), { maxEntries: 20 }).catch((e: unknown) => e);
    expect(isPackpubError(err2, 'UNSAFE_ARCHIVE')).toBe(true);
  });
});

describe('packChartDirectory', () => {
  const FILES: Record<string, string> = {
    'Chart.yaml': 'apiVersion: v2\nname: mychart\nversion: 0.3.0\n',
    'values.yaml': '# defaults\nreplicas: 1\n',
    'templates/deploy.yaml': 'kind: Deployment\n',
    'templates/_helpers.tpl': '{{- define "x" -}}{{- end -}}\n',
    'charts/dep/Chart.yaml': 'apiVersion: v2\nname: dep\nversion: 1.0.0\n',
    '.helmignore': '*.bak\nsecrets/\n',
    'old.bak': 'ignored',
    'secrets/token': 'ignored',
    'scripts/run.sh': '#!/bin/sh\n',
  };

  it('writes the same bytes whatever the file order, times and permissions, laid out as helm package does', async () => {
    const a = join(work, 'pack-a', 'folder-name-a');
    const b = join(work, 'pack-b', 'folder-name-b');
    const names = Object.keys(FILES);
    await put(a, Object.fromEntries(names.map((n) => [n, FILES[n] as string])));
    await put(b, Object.fromEntries([...names].reverse().map((n) => [n, FILES[n] as string])));
    await chmod(join(a, 'scripts/run.sh'), 0o755);
    await chmod(join(b, 'scripts/run.sh'), 0o700);
    await chmod(join(b, 'values.yaml'), 0o600);
    await utimes(join(b, 'Chart.yaml'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));

    const outA = join(work, 'a.tgz');
    const outB = join(work, 'b.tgz');
    const packed = await packChartDirectory(a, outA);
    await packChartDirectory(b, outB);
    expect((await readFile(outA)).equals(await readFile(outB))).toBe(true);
    expect(packed.entries).toBe(7);

    const entries = await listTgz(outA);
    expect(entries.map((e) => e.name)).toEqual([
      'mychart/.helmignore',
      'mychart/Chart.yaml',
      'mychart/charts/dep/Chart.yaml',
      'mychart/scripts/run.sh',
      'mychart/templates/_helpers.tpl',
      'mychart/templates/deploy.yaml',
      'mychart/values.yaml',
    ]);
    const run = entries.find((e) => e.name === 'mychart/scripts/run.sh');
    expect(run).toMatchObject({ mode: 0o755, uid: 0, gid: 0, uname: '', gname: '', type: 'file', mtime: Date.UTC(1980, 0, 1) });
    expect(entries.find((e) => e.name === 'mychart/values.yaml')?.mode).toBe(0o644);

    const gz = await readFile(outA);
    expect(gz.readUInt32LE(4)).toBe(0); // gzip MTIME unset
    expect(gz[9]).toBe(3); // OS: Unix, whatever platform wrote it
    expect((await readChart(outA)).name).toBe('mychart');
  });

  it('compresses at level 6, as helm package does (Go gzip.NewWriter: DefaultCompression)', async () => {
    const dir = join(work, 'level');
    const words = Array.from({ length: 40_000 }, (_, i) => `key${(i * 7919) % 4099}: value-${(i * 104_729) % 65_521}`);
    await put(dir, { 'Chart.yaml': 'name: lv\nversion: 1.0.0\n', 'values.yaml': `${words.join('\n')}\n` });
    await packChartDirectory(dir, join(work, 'level.tgz'));
    const gz = await readFile(join(work, 'level.tgz'));
    const again = (level: number): Buffer => {
      const out = gzipSync(gunzipSync(gz), { level });
      out[9] = 3;
      return out;
    };
    expect(again(6).equals(gz)).toBe(true);
    expect(again(9).equals(gz)).toBe(false);
  });

  it('uses SOURCE_DATE_EPOCH for entry times when given', async () => {
    const dir = join(work, 'epoch');
    await put(dir, { 'Chart.yaml': 'name: e\nversion: 1.0.0\n' });
    await packChartDirectory(dir, join(work, 'epoch.tgz'), { sourceDateEpoch: 1_700_000_000 });
    expect((await listTgz(join(work, 'epoch.tgz')))[0]?.mtime).toBe(1_700_000_000_000);
  });

  it('stores what a symlink holds under its path, wherever it leads (Helm follows links out of the chart too), and names each link that leaves the chart once', async () => {
    const dir = join(work, 'links');
    await put(dir, { 'Chart.yaml': 'name: l\nversion: 1.0.0\n', 'files/real.txt': 'real' });
    await symlink('real.txt', join(dir, 'files/alias.txt'));
    const outside = join(work, 'links-outside');
    await put(outside, { 'outside.txt': 'out', 'crds/a.yaml': 'kind: A\n', 'more/b.txt': 'b' });
    await symlink(join(outside, 'more'), join(outside, 'crds/more')); // a link inside what a link reaches: not named again
    await symlink(join(outside, 'outside.txt'), join(dir, 'files/escape.txt'));
    await symlink('../links-outside/crds', join(dir, 'crds'));
    const packed = await packChartDirectory(dir, join(work, 'links.tgz'));
    expect((await listTgz(join(work, 'links.tgz'))).map((e) => [e.name, e.type])).toEqual([
      ['l/Chart.yaml', 'file'],
      ['l/crds/a.yaml', 'file'],
      ['l/crds/more/b.txt', 'file'],
      ['l/files/alias.txt', 'file'],
      ['l/files/escape.txt', 'file'],
      ['l/files/real.txt', 'file'],
    ]);
    expect(packed.outsideLinks).toEqual([
      { rel: 'crds', target: join(outside, 'crds') },
      { rel: 'files/escape.txt', target: join(outside, 'outside.txt') },
    ]);
  });

  it('refuses a link out of the chart to a folder holding the chart (a loop), or to a named pipe, as Helm cannot load them', async () => {
    const dir = join(work, 'out-loop', 'box', 'chart');
    await put(dir, { 'Chart.yaml': 'name: l\nversion: 1.0.0\n' });
    await symlink('../..', join(dir, 'up'));
    const err = await packChartDirectory(dir, join(work, 'out-loop.tgz')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PACK_FILE', problem: 'helm-refuses' });
    expect((err as Error).message).toBe(`${join(dir, 'up', 'box', 'chart')} is a symlink loop (it points back to a folder that contains it), so Helm's walk of the chart folder never ends`);

    const piped = join(work, 'out-pipe', 'chart');
    await put(piped, { 'Chart.yaml': 'name: l\nversion: 1.0.0\n', '../ext/ok.txt': 'ok' });
    await makeFifo(join(work, 'out-pipe', 'ext', 'pipe'));
    await symlink('../ext', join(piped, 'ext'));
    const err2 = await packChartDirectory(piped, join(work, 'out-pipe.tgz')).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'PACK_FILE', problem: 'helm-refuses' });
    expect((err2 as Error).message).toContain(`${join(piped, 'ext', 'pipe')} is not a regular file (a named pipe, device or socket), so Helm refuses the chart`);
  });
});
