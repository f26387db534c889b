import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deepCheckPack } from '../../../src/pack/deep-checks.js';
import type { Finding } from '../../../src/pack/findings.js';
import { writeFiles as put, tgz, writeTgz } from '../../support/files.js';


async function tgzBuffer(files: Record<string, string>): Promise<Buffer> {
  const path = join(work, `inner-${Math.random().toString(16).slice(2)}.tgz`);
  await writeTgz(path, files);
  const { readFile } = await import('node:fs/promises');
  return readFile(path);
}


const CHART_YAML = `apiVersion: v2
name: foo
version: 1.0.0
appVersion: "2.0.0"
dependencies:
  - name: sub
    version: 0.1.0
    condition: sub.enabled
  - name: sub
    alias: sub2
    version: 0.1.0
  - name: tagged
    version: 0.1.0
    tags: [extras]
`;

const CHART_VALUES = `# Default values for foo.
replicaCount: 1
image:
  repository: example/foo
  tag: ""
service:
  type: ClusterIP
  port: 80
podAnnotations: {}
tolerations: []
extraEnv:
resources:
  limits:
    cpu: 100m
sub:
  fromParent: true
`;

const TEMPLATE = `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    metadata:
      annotations: {{ toYaml .Values.templateOnly.setting }}
    spec:
      containers:
        - image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
`;

let work: string;

/** The chart `foo` with subchart `sub` (a folder, itself holding `subsub` as a nested .tgz) and `tagged`. */
async function fooChartFiles(top: string): Promise<Record<string, string | Buffer>> {
  return {
    [`${top}/Chart.yaml`]: CHART_YAML,
    [`${top}/values.yaml`]: CHART_VALUES,
    [`${top}/templates/deployment.yaml`]: TEMPLATE,
    [`${top}/charts/sub/Chart.yaml`]: 'apiVersion: v2\nname: sub\nversion: 0.1.0\n',
    [`${top}/charts/sub/values.yaml`]: 'subKey: a\nnested:\n  deep: 1\n',
    [`${top}/charts/sub/charts/subsub-0.1.0.tgz`]: await tgzBuffer({
      'subsub/Chart.yaml': 'apiVersion: v2\nname: subsub\nversion: 0.1.0\n',
      'subsub/values.yaml': 'leaf: x\n',
    }),
    [`${top}/charts/tagged/Chart.yaml`]: 'apiVersion: v2\nname: tagged\nversion: 0.1.0\n',
    [`${top}/charts/tagged/values.yaml`]: 'on: true\n',
  };
}

let helmPack: string;
let renamedPack: string;
const helmPackJson = { name: 'foo', displayName: 'Foo', version: '1.0.0', layer: 'addon', charts: ['charts/foo-1.0.0.tgz'] };
const renamedPackJson = { ...helmPackJson, charts: ['charts/weird.tgz'] };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'packpub-deep-'));
  helmPack = join(work, 'helm');
  await writeTgz(join(helmPack, 'charts/foo-1.0.0.tgz'), await fooChartFiles('foo'));
  renamedPack = join(work, 'renamed');
  // The archive's folder is not the chart's name: the values key is still Chart.yaml's name.
  await writeTgz(join(renamedPack, 'charts/weird.tgz'), await fooChartFiles('weird-dir'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function checkHelm(valuesText: string, dir = helmPack, packJson: Record<string, unknown> = helmPackJson): Promise<Finding[]> {
  await writeFile(join(dir, 'values.yaml'), valuesText);
  return deepCheckPack({ dir, packJson, valuesText });
}

/** A pack folder (under the work folder) holding chart `name` 0.1.0 made of `files` (paths under `name/`), and its pack.json. */
async function packOfChart(name: string, files: Record<string, string | Buffer>): Promise<{ dir: string; packJson: Record<string, unknown> }> {
  const dir = join(work, name);
  await writeTgz(join(dir, `charts/${name}-0.1.0.tgz`), files);
  return { dir, packJson: { name, displayName: name, version: '0.1.0', layer: 'addon', charts: [`charts/${name}-0.1.0.tgz`] } };
}

/** A pack folder (under the work folder) holding chart `name` 0.1.0 with `values`, and its pack.json. */
function chartPack(name: string, values: string): Promise<{ dir: string; packJson: Record<string, unknown> }> {
  return packOfChart(name, { [`${name}/Chart.yaml`]: `apiVersion: v2\nname: ${name}\nversion: 0.1.0\n`, [`${name}/values.yaml`]: values });
}

const brief = (f: Finding[]) => f.map((x) => ({ rule: x.rule, severity: x.severity, path: x.path, line: x.line }));

/**
 * A chart whose templates only include its library subchart's defines with its own context (bjw-s'
 * app-template: an empty values.yaml and `{{ include "lib.all" . }}`): the library reads the chart's values.
 */
async function libraryPack(): Promise<{ dir: string; packJson: Record<string, unknown> }> {
  return packOfChart('thin', {
    'thin/Chart.yaml': 'apiVersion: v2\nname: thin\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n',
    'thin/values.yaml': '',
    'thin/templates/all.yaml': '{{ include "lib.all" . }}\n',
    'thin/charts/lib-0.1.0.tgz': await tgz({
      'lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n',
      'lib/templates/_all.tpl': '{{- define "lib.all" -}}\nkind: Service\nports: {{ toYaml .Values.service.ports }}\n{{- include "lib.image" . }}\n{{- end -}}\n',
      'lib/charts/base-0.1.0.tgz': await tgz({
        'base/Chart.yaml': 'apiVersion: v2\nname: base\nversion: 0.1.0\ntype: library\n',
        'base/templates/_image.tpl': '{{- define "lib.image" -}}\nimage: {{ .Values.controllers.main.image.repository }}\n{{- end -}}\n',
      }),
    }),
  });
}

describe('deep checks: Helm packs', () => {
  it('takes `.Values` paths named in the chart\'s and the pack\'s string values (rendered with tpl) as read, each in its own chart', async () => {
    const { dir, packJson } = await chartPack('tplchart', 'targets:\n  - url: "http://{{ .Values.domain }}"\n');
    const findings = await checkHelm('charts:\n  tplchart:\n    domain: a\n    extra: "{{ .Values.zone.name }}-x"\n    zone:\n      name: b\n    other: 1\n', dir, packJson);
    expect(findings.map((f) => `${f.rule} ${f.path}`)).toEqual(['deep-values-nesting charts.tplchart.extra', 'deep-values-nesting charts.tplchart.other']);
  });

  it('does not judge the block of a dependency that is not vendored (its values are unknown)', async () => {
    const dir = join(work, 'nodeps');
    await writeTgz(join(dir, 'charts/nodeps-0.1.0.tgz'), {
      'nodeps/Chart.yaml': 'apiVersion: v2\nname: nodeps\nversion: 0.1.0\ndependencies:\n  - name: redis\n    alias: cache\n    version: 1.x.x\n',
      'nodeps/values.yaml': 'cache:\n  enabled: true\n',
    });
    const packJson = { name: 'nodeps', displayName: 'nodeps', version: '0.1.0', layer: 'addon', charts: ['charts/nodeps-0.1.0.tgz'] };
    const findings = await checkHelm('charts:\n  nodeps:\n    cache:\n      fullnameOverride: c\n      master:\n        persistence: {size: 1Gi}\n    redis: {}\n', dir, packJson);
    expect(findings.map((f) => `${f.rule} ${f.path}`)).toEqual(['deep-values-nesting charts.nodeps.redis']);
  });

  it('takes the values a library subchart (and its own library) reads as the including chart\'s', async () => {
    const { dir, packJson } = await libraryPack();
    const findings = await checkHelm('charts:\n  thin:\n    service:\n      ports:\n        http: {port: 80}\n    controllers:\n      main:\n        image:\n          repository: app\n    typo: 1\n', dir, packJson);
    expect(findings.map((f) => `${f.rule} ${f.path}`)).toEqual(['deep-values-nesting charts.thin.typo']);
  });

  it('accepts values nested as the chart, its subcharts, conditions, tags, globals and templates expect', async () => {
    const findings = await checkHelm(`pack:
  namespace: foo
charts:
  foo:
    replicaCount: 2
    image:
      tag: "2.0.0"
    podAnnotations:
      a: b
    tolerations:
      - key: x
    extraEnv:
      FOO: bar
    templateOnly:
      setting: true
    global:
      anything: 1
    sub:
      enabled: true
      subKey: b
      fromParent: false
      nested:
        deep: 2
      subsub:
        leaf: y
      global:
        x: 1
    sub2:
      subKey: c
    tags:
      extras: true
`);
    expect(findings).toEqual([]);
  });

  it.each([
    {
      name: 'the chart name repeated (one level too deep)',
      values: 'charts:\n  foo:\n    foo:\n      replicaCount: 2\n      image:\n        tag: "1"\n',
      rule: 'deep-values-nesting',
      path: 'charts.foo.foo',
      line: 3,
      message: 'charts.foo.foo is not a value of chart "foo" 1.0.0: the keys below it are nested one level too deep; move them up to charts.foo and remove charts.foo.foo',
    },
    {
      name: 'a chart key directly under charts (too shallow)',
      values: 'charts:\n  replicaCount: 2\n  foo: {}\n',
      rule: 'deep-values-nesting',
      path: 'charts.replicaCount',
      line: 2,
      message: 'charts.replicaCount is not a chart of this pack: it is nested one level too shallow; did you mean charts.foo.replicaCount?',
    },
    {
      name: 'a key that belongs one level deeper',
      values: 'charts:\n  foo:\n    tag: "2"\n',
      rule: 'deep-values-nesting',
      path: 'charts.foo.tag',
      line: 3,
      message: 'charts.foo.tag is not a value of chart "foo" 1.0.0: it is nested one level too shallow; did you mean charts.foo.image.tag?',
    },
    {
      // pack-central's veeamkasten: k10's own `fullnameOverride` was "did you mean charts.k10.prometheus.server.fullnameOverride?".
      name: 'a key the chart has only in a subchart block: no advice to move it into the subchart',
      values: 'charts:\n  foo:\n    fromParent: false\n',
      rule: 'deep-values-nesting',
      path: 'charts.foo.fromParent',
      line: 3,
      message: 'charts.foo.fromParent is not a value of chart "foo" 1.0.0 (neither its values.yaml nor its templates use it): check the spelling and nesting, or remove it; Palette passes misplaced keys on without a word',
    },
    {
      name: 'a top-level chart key under the wrong parent',
      values: 'charts:\n  foo:\n    service:\n      replicaCount: 3\n',
      rule: 'deep-values-nesting',
      path: 'charts.foo.service.replicaCount',
      line: 4,
      message: 'charts.foo.service.replicaCount is not a value of chart "foo" 1.0.0: it is nested one level too deep; move it to charts.foo.replicaCount',
    },
    {
      name: 'an unknown key in a subchart',
      values: 'charts:\n  foo:\n    sub:\n      bogus: 1\n',
      rule: 'deep-values-nesting',
      path: 'charts.foo.sub.bogus',
      line: 4,
      message: 'charts.foo.sub.bogus is not a value of chart "foo" 1.0.0 (neither its values.yaml nor its templates use it): check the spelling and nesting, or remove it; Palette passes misplaced keys on without a word',
    },
    {
      name: 'an unknown key in a nested subchart (from a .tgz inside the chart)',
      values: 'charts:\n  foo:\n    sub:\n      subsub:\n        leaf: y\n        nope: 1\n',
      rule: 'deep-values-nesting',
      path: 'charts.foo.sub.subsub.nope',
      line: 6,
    },
    {
      name: 'one value where the chart has a map',
      values: 'charts:\n  foo:\n    image: nginx:1.27\n',
      rule: 'deep-values-type',
      path: 'charts.foo.image',
      line: 3,
      message: 'charts.foo.image is a single value here, but chart "foo" 1.0.0 takes a map of settings at this path: write the individual keys under charts.foo.image instead of one value',
    },
    {
      name: 'a map where the chart has one value',
      values: 'charts:\n  foo:\n    replicaCount:\n      min: 1\n',
      rule: 'deep-values-type',
      path: 'charts.foo.replicaCount',
      line: 3,
    },
    {
      name: 'no charts.<chart-name> at all',
      values: 'pack:\n  namespace: foo\n',
      rule: 'deep-values-chart-missing',
      path: 'charts.foo',
    },
    {
      name: 'a misspelt chart key',
      values: 'charts:\n  fooo:\n    replicaCount: 1\n',
      rule: 'deep-values-unknown-chart',
      path: 'charts.fooo',
      line: 2,
      message: "charts.fooo does not match any chart of this pack, so Palette ignores it: did you mean charts.foo? (the key is the chart's name in its Chart.yaml)",
    },
    {
      name: 'chart values at the top level of values.yaml',
      values: 'foo:\n  replicaCount: 1\ncharts:\n  foo: {}\n',
      rule: 'deep-values-nesting',
      path: 'foo',
      line: 1,
      message: 'foo is at the top level of values.yaml, where Palette does not pass it to the chart: it is nested too shallow; move it to charts.foo',
    },
  ])('flags $name', async ({ values, rule, path, line, message }) => {
    const findings = await checkHelm(values);
    const hit = findings.filter((f) => f.rule === rule);
    expect(hit, JSON.stringify(findings, null, 2)).toHaveLength(1);
    expect(hit[0]).toMatchObject({ severity: 'warning', file: 'values.yaml', path, ...(line === undefined ? {} : { line }) });
    if (message !== undefined) expect(hit[0]?.message).toBe(message);
  });

  it('says charts.spegel.spegel for a value named like its chart, and charts.spegel for the chart values themselves', async () => {
    const { dir, packJson } = await chartPack('spegel', 'image:\n  tag: ""\nspegel:\n  containerdSock: /run/containerd/containerd.sock\n  registries: []\n');
    // The chart's values were pasted at the top level: spegel: is the chart's own `spegel` value.
    const pasted = await checkHelm('image:\n  tag: v1\nspegel:\n  containerdSock: /run/k3s/containerd/containerd.sock\ncharts:\n  spegel: {}\n', dir, packJson);
    expect(pasted.filter((f) => f.rule === 'deep-values-nesting').map((f) => f.message)).toEqual([
      'image is at the top level of values.yaml, where Palette does not pass it to the chart: it is nested too shallow; move it to charts.spegel.image',
      'spegel is at the top level of values.yaml, where Palette does not pass it to the chart: it is nested too shallow; move it to charts.spegel.spegel',
    ]);
    // The whole chart block at the top level (charts: forgotten): spegel: holds the chart's values.
    const block = await checkHelm('spegel:\n  image:\n    tag: v1\n  spegel:\n    registries: []\n', dir, packJson);
    expect(block.filter((f) => f.rule === 'deep-values-nesting').map((f) => f.message)).toEqual([
      'spegel is at the top level of values.yaml, where Palette does not pass it to the chart: it is nested too shallow; move it to charts.spegel',
    ]);
  });

  it('reads YAML 1.1 keys as Helm does (`on` is "true", `1.10` is "1.1", a quoted "on" stays "on") and names them so', async () => {
    const { dir, packJson } = await chartPack('keys', '"true": 1\nversions:\n  "1.1": a\n  on: x\n');
    const findings = await checkHelm('charts:\n  keys:\n    on: 2\n    versions:\n      1.10: b\n      "on": y\n    N: 1\n', dir, packJson);
    expect(brief(findings)).toEqual([
      { rule: 'deep-values-nesting', severity: 'warning', path: 'charts.keys.versions.on', line: 6 },
      { rule: 'deep-values-nesting', severity: 'warning', path: 'charts.keys.false', line: 7 },
    ]);
    expect(findings[1]?.message).toContain('charts.keys.false is not a value of chart "keys" 0.1.0');
  });

  // Helm's coalescing deletes a key given null, the chart's default table with it: a template reading below it stops.
  it('warns of a null where the chart has a table its templates read below (image: ~), not of one they do not read', async () => {
    const findings = await checkHelm('charts:\n  foo:\n    image:\n    service: ~\n    podAnnotations: null\n    resources:\n      limits: ~\n');
    expect(brief(findings)).toEqual([{ rule: 'deep-values-null-table', severity: 'warning', path: 'charts.foo.image', line: 3 }]);
    expect(findings[0]?.message).toBe(
      'charts.foo.image is null, so Helm deletes chart "foo"\'s default table there (a null in given values removes the key), while the chart\'s templates read .Values.image.repository below it: a template reading it outside an if or with on .Values.image stops every install ("nil pointer evaluating interface {}.repository"); remove the line to keep the chart\'s defaults, or give the keys the chart needs',
    );
  });

  it("leaves a null over a subchart's key alone: Helm makes the key again from the subchart's defaults (coalesceDeps)", async () => {
    const dir = join(work, 'nulled-sub');
    await writeTgz(join(dir, 'charts/web-0.1.0.tgz'), {
      'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.0.0\n    alias: cache\n',
      'web/values.yaml': 'cache:\n  port: 6379\nconfig:\n  level: info\n',
      'web/templates/cm.yaml': 'kind: ConfigMap\ndata:\n  port: {{ .Values.cache.port | quote }}\n  level: {{ .Values.config.level }}\n',
      'web/charts/redis/Chart.yaml': 'apiVersion: v2\nname: redis\nversion: 1.0.0\n',
      'web/charts/redis/values.yaml': 'port: 6379\n',
    });
    const packJson = { name: 'web', displayName: 'web', version: '0.1.0', layer: 'addon', charts: ['charts/web-0.1.0.tgz'] };
    const findings = await checkHelm('charts:\n  web:\n    cache: ~\n    config: ~\n', dir, packJson);
    expect(brief(findings)).toEqual([{ rule: 'deep-values-null-table', severity: 'warning', path: 'charts.web.config', line: 4 }]);
  });

  it('does not expand aliases in the pack values (an alias bomb costs nothing)', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`);
    const findings = await checkHelm(`charts:\n  foo:\n    bomb:\n${levels.map((l) => `      ${l}`).join('\n')}\n`);
    expect(brief(findings)).toEqual([{ rule: 'deep-values-nesting', severity: 'warning', path: 'charts.foo.bomb', line: 3 }]);
  });

  it("keys the values by Chart.yaml's name when the archive folder is named otherwise", async () => {
    const findings = await checkHelm('charts:\n  foo:\n    replicaCount: 1\n  weird-dir:\n    replicaCount: 1\n', renamedPack, renamedPackJson);
    expect(brief(findings)).toEqual([{ rule: 'deep-values-unknown-chart', severity: 'warning', path: 'charts.weird-dir', line: 4 }]);
    expect(findings[0]?.message).toContain('values for a chart go under charts.<name in its Chart.yaml> (charts.foo)');
  });

  it('leaves a missing values.yaml to the validator', async () => {
    const dir = join(work, 'no-values');
    await writeTgz(join(dir, 'charts/foo-1.0.0.tgz'), await fooChartFiles('foo'));
    expect(await deepCheckPack({ dir, packJson: helmPackJson, valuesText: '' })).toEqual([]);
  });

  it('leaves missing, outside and broken chart archives to the validator', async () => {
    const dir = join(work, 'bad-charts');
    await writeTgz(join(dir, 'charts/empty.tgz'), { 'x/README.md': 'no chart here' });
    await put(dir, { 'charts/garbage.tgz': 'not gzip at all' });
    const findings = await deepCheckPack({
      dir,
      packJson: { ...helmPackJson, charts: ['charts/empty.tgz', 'charts/garbage.tgz', 'charts/missing.tgz', '../outside.tgz'] },
      valuesText: 'charts:\n  foo: {}\n',
    });
    expect(findings).toEqual([]);
  });

  it('warns when a subchart inside the chart cannot be read (the validator looks only at the top)', async () => {
    const dir = join(work, 'broken-subchart');
    await writeTgz(join(dir, 'charts/foo-1.0.0.tgz'), {
      'foo/Chart.yaml': 'apiVersion: v2\nname: foo\nversion: 1.0.0\n',
      'foo/charts/bar-1.0.0.tgz': 'not gzip',
    });
    const findings = await deepCheckPack({ dir, packJson: helmPackJson, valuesText: 'charts:\n  foo: {}\n' });
    expect(brief(findings)).toEqual([{ rule: 'deep-chart-unreadable', severity: 'warning', path: undefined, line: undefined }]);
    expect(findings[0]?.message).toContain("foo/charts/bar-1.0.0.tgz: not a gzip'd tar archive");
  });

  it("warns once when a chart's own values.yaml does not parse (Helm refuses the chart), and checks nothing against it", async () => {
    const dir = join(work, 'broken-chart-values');
    await writeTgz(join(dir, 'charts/foo-1.0.0.tgz'), { 'foo/Chart.yaml': 'apiVersion: v2\nname: foo\nversion: 1.0.0\n', 'foo/values.yaml': 'a: [1,\n' });
    const findings = await deepCheckPack({ dir, packJson: helmPackJson, valuesText: 'charts:\n  foo:\n    anything: 1\n' });
    expect(brief(findings)).toEqual([{ rule: 'deep-chart-unreadable', severity: 'warning', path: undefined, line: undefined }]);
    expect(findings[0]).toMatchObject({ file: 'charts/foo-1.0.0.tgz' });
    expect(findings[0]?.message).toContain('Helm refuses this chart ("cannot load values.yaml": not valid YAML');
  });
});

describe("deep checks: values compared first without the templates' paths (issue 16)", () => {
  /** Chart `lazy`: `feature` is a dependency's condition and a map its template reads below; `extra.*` only a template reads, in a file of its own. */
  function lazyPack(): Promise<{ dir: string; packJson: Record<string, unknown> }> {
    return packOfChart('lazy', {
      'lazy/Chart.yaml': 'apiVersion: v2\nname: lazy\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.x.x\n    condition: feature\n',
      'lazy/values.yaml': 'replicas: 1\n',
      'lazy/templates/a.yaml': 'replicas: {{ .Values.replicas }}\nmode: {{ .Values.feature.mode }}\n',
      'lazy/templates/b.yaml': 'data: {{ toYaml .Values.extra.settings }}\n',
    });
  }

  it('accepts a key missing from the chart\'s values.yaml that a template reads, and flags one no template reads', async () => {
    const { dir, packJson } = await lazyPack();
    expect(await checkHelm('charts:\n  lazy:\n    replicas: 2\n    extra:\n      settings:\n        a: 1\n', dir, packJson)).toEqual([]);
    const findings = await checkHelm('charts:\n  lazy:\n    replicas: 2\n    extra:\n      settings: {}\n    unread: 1\n', dir, packJson);
    expect(findings).toEqual([
      {
        severity: 'warning',
        rule: 'deep-values-nesting',
        file: 'values.yaml',
        path: 'charts.lazy.unread',
        line: 6,
        column: 5,
        message: 'charts.lazy.unread is not a value of chart "lazy" 0.1.0 (neither its values.yaml nor its templates use it): check the spelling and nesting, or remove it; Palette passes misplaced keys on without a word',
      },
    ]);
  });

  it('flags one value at a condition\'s path that a template reads as a map (the condition alone takes it)', async () => {
    const { dir, packJson } = await lazyPack();
    expect(await checkHelm('charts:\n  lazy:\n    feature:\n      mode: a\n', dir, packJson)).toEqual([]);
    expect(await checkHelm('charts:\n  lazy:\n    replicas: 2\n    feature: true\n', dir, packJson)).toEqual([
      {
        severity: 'warning',
        rule: 'deep-values-type',
        file: 'values.yaml',
        path: 'charts.lazy.feature',
        line: 4,
        column: 5,
        message: 'charts.lazy.feature is a single value here, but chart "lazy" 0.1.0 takes a map of settings at this path: write the individual keys under charts.lazy.feature instead of one value',
      },
    ]);
  });
});

describe('deep checks: charts shared by several packs', () => {
  // Chart values are parsed once per text for the whole process (issue 16): a second pack with the
  // same chart must get exactly the findings the first one got, broken values included.
  it('gives every pack holding the same chart the same findings', async () => {
    const broken = { 'foo/Chart.yaml': 'apiVersion: v2\nname: foo\nversion: 1.0.0\n', 'foo/values.yaml': 'b: [1,\n' };
    const fine = { 'foo/Chart.yaml': 'apiVersion: v2\nname: foo\nversion: 1.0.0\n', 'foo/values.yaml': 'known: 1\n' };
    const results: Finding[][] = [];
    for (const [name, files] of [['shared-a', fine], ['shared-b', fine], ['shared-c', broken], ['shared-d', broken]] as const) {
      const dir = join(work, name);
      await writeTgz(join(dir, 'charts/foo-1.0.0.tgz'), files);
      results.push(await deepCheckPack({ dir, packJson: helmPackJson, valuesText: 'charts:\n  foo:\n    known: 2\n    unknown: 1\n' }));
    }
    expect(results.map(brief)).toEqual([
      [{ rule: 'deep-values-nesting', severity: 'warning', path: 'charts.foo.unknown', line: 4 }],
      [{ rule: 'deep-values-nesting', severity: 'warning', path: 'charts.foo.unknown', line: 4 }],
      [{ rule: 'deep-chart-unreadable', severity: 'warning', path: undefined, line: undefined }],
      [{ rule: 'deep-chart-unreadable', severity: 'warning', path: undefined, line: undefined }],
    ]);
    expect(results[3]?.[0]?.message).toBe(results[2]?.[0]?.message.replaceAll('shared-c', 'shared-d'));
    expect(results[3]?.[0]?.message).toContain('not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]: the [ here is never closed (line 1, column 4)');
  });
});

describe('deep checks: manifest packs', () => {
  const manifestPackJson = { name: 'app', displayName: 'App', version: '1.0.0', layer: 'addon', kubeManifests: ['manifests/app.yaml', 'manifests/extra.yml'] };
  const APP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Values.name }}
data:
  port: "{{ .Values.server.port }}"
  {{- if .Values.feature.enabled }}
  x: "{{ $.Values.missing.key }}"
  {{- end }}
  {{/* .Values.commented.out */}}
  tag: "{{ .Values.image.tag }}"
`;
  let dir: string;

  beforeAll(async () => {
    dir = join(work, 'manifests');
    await put(dir, { 'manifests/app.yaml': APP, 'manifests/extra.yml': 'data:\n  a: "{{ .Values.foo }}"\n' });
  });

  const values = `manifests:
  app:
    name: demo
    server:
      port: 80
    feature: {}
    wrap:
      image:
        tag: "1"
  stale:
    a: 1
`;

  it('checks every .Values reference against manifests.<basename>, with the manifest line', async () => {
    await rm(join(dir, 'presets.yaml'), { force: true });
    const findings = await deepCheckPack({ dir, packJson: manifestPackJson, valuesText: values });
    expect(brief(findings)).toEqual([
      { rule: 'deep-manifest-value-missing', severity: 'warning', path: 'manifests.app.missing.key', line: 8 },
      { rule: 'deep-manifest-value-missing', severity: 'warning', path: 'manifests.app.image.tag', line: 11 },
      { rule: 'deep-manifest-values-missing', severity: 'warning', path: 'manifests.extra', line: 1 },
      { rule: 'deep-values-unknown-manifest', severity: 'warning', path: 'manifests.stale', line: 10 },
    ]);
    expect(findings[0]).toMatchObject({ file: 'manifests/app.yaml', column: 10 });
    expect(findings[0]?.message).toBe(
      'manifests/app.yaml uses .Values.missing.key, but values.yaml has no manifests.app.missing.key: add it under manifests.app (a default, even empty), or fix the reference',
    );
    expect(findings[1]?.message).toContain('values.yaml has it one level too deep, at manifests.app.wrap.image.tag; move it up to manifests.app.image.tag');
    expect(findings[2]?.message).toContain('with the values it uses (foo)');
  });

  it('says when a manifests.<key> is the manifest\'s name written with other Unicode characters (a file named on macOS)', async () => {
    const decomposed = 'cafe\u0301';
    const nfd = join(work, 'manifests-nfd');
    await put(nfd, { [`manifests/${decomposed}.yaml`]: 'data:\n  a: "{{ .Values.foo }}"\n' });
    const packJson = { ...manifestPackJson, kubeManifests: [`manifests/${decomposed}.yaml`] };
    const findings = await deepCheckPack({ dir: nfd, packJson, valuesText: 'manifests:\n  caf\u00e9:\n    foo: 1\n' });
    const unknown = findings.find((f) => f.rule === 'deep-values-unknown-manifest');
    expect(unknown?.message).toBe(
      `manifests["caf\u00e9"] matches no manifest in pack.json kubeManifests (manifests["${decomposed}"]), so no manifest sees these values: it is manifests["${decomposed}"] written with other Unicode characters (composed (NFC) here, decomposed (NFD) in the file name; macOS tools write names decomposed), another key to Palette: write it as the file name has it`,
    );
  });

  it('asks for no manifests.<basename> entry when the manifest reads no .Values (plain YAML, as most real manifest packs)', async () => {
    const plain = join(work, 'manifests-plain');
    await put(plain, { 'manifests/app.yaml': APP, 'manifests/crds.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---\n' });
    const packJson = { ...manifestPackJson, kubeManifests: ['manifests/app.yaml', 'manifests/crds.yaml'] };
    const findings = await deepCheckPack({ dir: plain, packJson, valuesText: 'pack:\n  namespace: demo\n' });
    expect(brief(findings)).toEqual([{ rule: 'deep-manifest-values-missing', severity: 'warning', path: 'manifests.app', line: undefined }]);
    expect(findings[0]?.message).toContain('with the values it uses (name, server.port, feature.enabled, missing.key, image.tag)');
  });

  it("counts values a preset's add block defines", async () => {
    await put(dir, { 'presets.yaml': 'presets:\n  - name: full\n    displayName: Full\n    group: G\n    remove: []\n    add: |\n      manifests:\n        app:\n          missing:\n            key: v\n' });
    const findings = await deepCheckPack({ dir, packJson: manifestPackJson, valuesText: values });
    expect(findings.map((f) => f.path)).not.toContain('manifests.app.missing.key');
    await rm(join(dir, 'presets.yaml'));
  });
});

describe('deep checks: presets.yaml and schema.yaml', () => {
  const packJson = { name: 'app', displayName: 'App', version: '1.0.0', layer: 'addon' };
  const values = '# spectrocloud.com/enabled-presets: Backend:small,Backend:gone\nmanifests:\n  app:\n    size: 1\n    api:\n      enabled: false\n';

  async function check(files: Record<string, string>): Promise<Finding[]> {
    const dir = await mkdtemp(join(work, 'presets-'));
    await put(dir, files);
    return deepCheckPack({ dir, packJson, valuesText: values });
  }

  /**
   * One preset of presets.yaml, written as the real packs write them: quoted strings, in group Backend, its
   * displayName the name capitalised, one `remove` path inline and several one per line, `add` a block.
   */
  function preset(name: string, remove: string[], add: string): string {
    const quoted = remove.map((path) => JSON.stringify(path));
    const removeYaml = remove.length > 1 ? `\n${quoted.map((q) => `      - ${q}\n`).join('')}` : ` [${quoted.join(', ')}]\n`;
    const addYaml = add.split('\n').map((line) => (line === '' ? '' : `      ${line}`)).join('\n');
    return `  - name: "${name}"\n    displayName: "${name[0]?.toUpperCase()}${name.slice(1)}"\n    group: "Backend"\n    remove:${removeYaml}    add: |\n${addYaml}`;
  }
  const presetsYaml = (...presets: string[]) => `presets:\n${presets.join('')}`;

  it('accepts presets and a schema shaped like the real packs', async () => {
    const findings = await check({
      'presets.yaml': presetsYaml(preset('small', ['manifests.app.api'], 'manifests:\n  app:\n    size: 1\n'), preset('gone', [], 'manifests:\n  app:\n    extra: true\n')),
      'schema.yaml': `manifests.app.size:
  # The size.
  schema: '{{ required | format "\${number}" | hints "How big." }}'
manifests.app.extra:
  schema: '{{ format "\${boolean}" }}'
`,
    });
    expect(findings).toEqual([]);
  });

  it('flags duplicate names, bad add YAML (with its line), remove paths that do not exist, and unknown enabled presets', async () => {
    const findings = await check({
      'presets.yaml': `presets:
  - name: small
    displayName: Small
    group: Backend
    remove:
      - manifests.app.nothere
    add: |
      manifests:
        app: [1, 2
  - name: small
    displayName: Small again
    group: Backend
  - displayName: Nameless
    add:
      not: text
`,
    });
    expect(brief(findings)).toEqual([
      { rule: 'deep-presets-add-invalid', severity: 'warning', path: 'presets[0].add', line: 9 },
      { rule: 'deep-presets-remove-missing', severity: 'warning', path: 'presets[0].remove[0]', line: 6 },
      { rule: 'deep-presets-duplicate-name', severity: 'warning', path: 'presets[1].name', line: 10 },
      { rule: 'deep-presets-shape', severity: 'warning', path: 'presets[2].name', line: 13 },
      { rule: 'deep-presets-shape', severity: 'warning', path: 'presets[2].add', line: 14 },
      { rule: 'deep-presets-enabled-unknown', severity: 'warning', path: undefined, line: 1 },
    ]);
    expect(findings.find((f) => f.rule === 'deep-presets-enabled-unknown')?.message).toContain('selects "Backend:gone"');
  });

  it('accepts a remove path that another preset of the group adds (switching presets), as real packs write them', async () => {
    const findings = await check({
      'presets.yaml': presetsYaml(
        preset('small', ['manifests.app.storage', 'manifests.app.nowhere'], 'manifests:\n  app:\n    size: 1\n'),
        preset('large', ['manifests.app.storage'], 'manifests:\n  app:\n    storage:\n      class: fast\n'),
      ),
    });
    const removes = findings.filter((f) => f.rule === 'deep-presets-remove-missing');
    expect(brief(removes)).toEqual([{ rule: 'deep-presets-remove-missing', severity: 'warning', path: 'presets[0].remove[1]', line: 7 }]);
    expect(removes[0]?.message).toBe(
      "presets[0].remove names manifests.app.nowhere, which neither values.yaml nor any preset's `add` has, so removing it does nothing; fix the path (dotted, from the top of values.yaml)",
    );
  });

  it('flags a presets.yaml without a presets list', async () => {
    const findings = await check({ 'presets.yaml': 'name: small\n' });
    expect(brief(findings).filter((f) => f.rule === 'deep-presets-shape')).toEqual([{ rule: 'deep-presets-shape', severity: 'warning', path: 'presets', line: 1 }]);
  });

  it('takes an empty or comment-only presets.yaml as no presets, without a finding', async () => {
    for (const text of ['', '# no presets yet\n']) {
      const findings = await check({ 'presets.yaml': text });
      expect(findings.filter((f) => f.file === 'presets.yaml')).toEqual([]);
    }
  });

  it('flags schema entries without a schema template and paths values.yaml lacks', async () => {
    const findings = await check({
      'schema.yaml': 'manifests.app.size:\n  hint: big\nmanifests.app.api.enabled:\n  schema: required\nmanifests.app.nope:\n  schema: \'{{ required }}\'\n',
    });
    expect(brief(findings)).toEqual([
      { rule: 'deep-schema-shape', severity: 'warning', path: '["manifests.app.size"]', line: 1 },
      { rule: 'deep-schema-shape', severity: 'warning', path: '["manifests.app.api.enabled"].schema', line: 4 },
      { rule: 'deep-schema-path-missing', severity: 'warning', path: '["manifests.app.nope"]', line: 5 },
    ]);
  });
});
