import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPackpubError } from '../../src/errors.js';
import { initPack } from '../../src/operations/init.js';
import { validatePack } from '../../src/pack/validate.js';
import { tgzNames, writeFiles as put, writeTgz } from '../support/files.js';
import { runCli } from '../support/cli.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'packpub-init-chart-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A Chart.yaml naming the chart and its version, nothing else. */
const chartYaml = (name: string, version: string, apiVersion = 'v2'): string => `apiVersion: ${apiVersion}\nname: ${name}\nversion: ${version}\n`;

/** Run the CLI in-process in the work folder. */
const cli = (argv: string[]) => runCli(argv, { env: { NO_COLOR: '1', PACKPUB_CACHE_DIR: join(work, 'cache') }, cwd: work });

const WEBAPP_VALUES = `# Default values for webapp.
# This is a YAML-formatted file.

replicaCount: 1 # one is enough to start

image:
  registry: ghcr.io
  repository: example/webapp
  # Overrides the image tag whose default is the chart appVersion.
  tag: ""

sidecar:
  image: docker.io/library/nginx:1.27.0

config: |
  # not a comment: part of the file
  listen: 8080

podAnnotations: {}
db:
  auth:
    database: app
`;

/** A chart folder named unlike its chart, with a subchart folder holding a nested subchart archive. */
async function writeWebappChart(dir: string): Promise<void> {
  const metrics = join(work, 'metrics-src.tgz');
  await writeTgz(metrics, {
    'metrics/Chart.yaml': 'apiVersion: v2\nname: metrics\nversion: 0.2.0\nappVersion: "0.9"\n',
    'metrics/values.yaml': 'image:\n  repository: quay.io/example/metrics\n  tag: latest\n',
  });
  await put(dir, {
    'Chart.yaml': 'apiVersion: v2\nname: webapp\nversion: 1.4.2\nappVersion: v3.1.0\ndependencies:\n  - name: db\n    version: 0.5.0\n    condition: db.enabled\n',
    'values.yaml': WEBAPP_VALUES,
    'templates/deployment.yaml': 'image: "{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"\n',
    '.helmignore': '*.orig\n',
    'notes.orig': 'left out',
    'charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 0.5.0\nappVersion: "16.2"\ndependencies:\n  - name: metrics\n    version: 0.2.0\n    alias: exporter\n',
    'charts/db/values.yaml': 'image:\n  repository: docker.io/library/postgres\n  tag: "16.2"\nauth:\n  database: postgres\n',
    'charts/db/charts/metrics-0.2.0.tgz': await readFile(metrics),
  });
}

describe('initPack --from-chart', () => {
  let chartDir: string;
  let packDir: string;

  beforeAll(async () => {
    chartDir = join(work, 'my-chart-src');
    await writeWebappChart(chartDir);
    packDir = join(work, 'webapp-pack');
  });

  it('builds a pack from a chart folder that passes validate --strict', async () => {
    const result = await initPack({ dir: packDir, fromChart: chartDir, addonType: 'app services', sourceDateEpoch: 0 });
    expect(result).toMatchObject({ name: 'webapp', version: '1.4.2', displayName: 'Webapp', notes: [] });
    expect(result.chart).toEqual({
      name: 'webapp',
      version: '1.4.2',
      appVersion: 'v3.1.0',
      archive: 'charts/webapp-1.4.2.tgz',
      packed: true,
      subcharts: ['db', 'db/exporter'],
    });
    expect(result.files).toEqual(['README.md', 'charts/webapp-1.4.2.tgz', 'logo.png', 'pack.json', 'values.yaml']);
    const report = await validatePack(packDir, { strict: true });
    expect(report.findings).toEqual([]);
    expect(JSON.parse(await readFile(join(packDir, 'pack.json'), 'utf8'))).toMatchObject({ charts: ['charts/webapp-1.4.2.tgz'], addonType: 'app services' });
  });

  it("packs the folder under the chart's name, leaving out what .helmignore lists", async () => {
    const names = await tgzNames(join(packDir, 'charts/webapp-1.4.2.tgz'));
    expect(names).toEqual([
      'webapp/.helmignore',
      'webapp/Chart.yaml',
      'webapp/charts/db/Chart.yaml',
      'webapp/charts/db/charts/metrics-0.2.0.tgz',
      'webapp/charts/db/values.yaml',
      'webapp/templates/deployment.yaml',
      'webapp/values.yaml',
    ]);
  });

  it("nests the chart's values text under charts.<chart-name>, comments and all", async () => {
    const text = await readFile(join(packDir, 'values.yaml'), 'utf8');
    const indented = WEBAPP_VALUES.split('\n')
      .map((l) => (l === '' ? '' : `    ${l}`))
      .join('\n')
      .trimEnd();
    expect(text).toContain(`charts:\n  # The default values of chart webapp 1.4.2, nested as the chart expects them.\n  webapp:\n${indented}\n`);
    const doc = load(text) as { charts: Record<string, unknown>; pack: unknown };
    expect(Object.keys(doc.charts)).toEqual(['webapp']);
    expect(doc.charts['webapp']).toEqual(load(WEBAPP_VALUES));
  });

  it('lists the images of the chart and its subcharts, and names the ones to review', async () => {
    const doc = load(await readFile(join(packDir, 'values.yaml'), 'utf8')) as { pack: { namespace: string; content: { images: Array<{ image: string }> } } };
    expect(doc.pack.namespace).toBe('webapp');
    expect(doc.pack.content.images).toEqual([
      { image: 'ghcr.io/example/webapp:v3.1.0' },
      { image: 'docker.io/library/nginx:1.27.0' },
      { image: 'docker.io/library/postgres:16.2' },
      { image: 'quay.io/example/metrics:latest' },
    ]);
    const again = await initPack({ dir: join(work, 'webapp-again'), fromChart: chartDir });
    expect(again.review.map((i) => [i.image, i.path])).toEqual([
      ['ghcr.io/example/webapp:v3.1.0', 'image'],
      ['quay.io/example/metrics:latest', 'db.exporter.image'],
    ]);
    expect(await readFile(join(work, 'webapp-again', 'values.yaml'), 'utf8')).toContain(
      "      - image: ghcr.io/example/webapp:v3.1.0  # review: the chart leaves the tag empty; packpub assumed the chart's appVersion (v3.1.0), which most charts default to\n",
    );
  });

  it('names for review an image its values give only in part (a repository its templates put after a base registry value), as validate warns of it', async () => {
    // kubernetes-csi/csi-driver-nfs 4.13: image: "{{ .Values.image.baseRepo }}{{ .Values.image.csiProvisioner.repository }}:..."
    const src = join(work, 'nfs-src');
    await put(src, {
      'Chart.yaml': chartYaml('nfs', '4.13.4'),
      'values.yaml': 'image:\n  baseRepo: registry.k8s.io\n  nfs:\n    repository: registry.k8s.io/sig-storage/nfsplugin\n    tag: v4.13.4\n  csiProvisioner:\n    repository: /sig-storage/csi-provisioner\n    tag: v6.3.0\n',
      'templates/d.yaml': 'image: "{{ .Values.image.baseRepo }}{{ .Values.image.csiProvisioner.repository }}:{{ .Values.image.csiProvisioner.tag }}"\n',
    });
    const run = await cli(['init', 'nfs-pack', '--from-chart', src]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      "review these images in values.yaml (pack.content.images):\n  /sig-storage/csi-provisioner:v6.3.0 (from image.csiProvisioner): no image reference as written (REGISTRY/REPOSITORY:TAG): the chart's templates build the image from more values than these; write the image it renders to\n",
    );
    const values = await readFile(join(work, 'nfs-pack', 'values.yaml'), 'utf8');
    expect(values).toContain('      - image: registry.k8s.io/sig-storage/nfsplugin:v4.13.4\n      - image: /sig-storage/csi-provisioner:v6.3.0  # review: no image reference as written');
    const report = await validatePack(join(work, 'nfs-pack'));
    expect(report.findings.map((f) => [f.rule, f.path])).toEqual([['values-image-reference', 'pack.content.images[1]']]);
  });

  it("tells the author of a subchart template Go refuses: validate refuses the pack while the chart's values enable that subchart, warns when they leave it out", async () => {
    const src = join(work, 'subtpl-src');
    const broken = 'kind: ConfigMap\ndata:\n  size: {{ .Values.size | default 10Gi }}\n';
    await writeTgz(join(src, 'charts/cache-0.1.0.tgz'), { 'cache/Chart.yaml': chartYaml('cache', '0.1.0'), 'cache/templates/cm.yaml': broken });
    await put(src, {
      'Chart.yaml': 'apiVersion: v2\nname: shop\nversion: 2.0.0\ndependencies:\n- name: redis\n  version: 1.x\n- name: cache\n  version: 0.1.0\n  condition: cache.enabled\n',
      'values.yaml': 'cache:\n  enabled: false\nsidecar:\n  image: docker.io/library/nginx:1.27.0\n',
      'templates/cm.yaml': 'kind: ConfigMap\n',
      'charts/redis/Chart.yaml': chartYaml('redis', '1.2.0'),
      'charts/redis/templates/sub/cm.yaml': broken,
    });
    const run = await cli(['init', 'subtpl-pack', '--from-chart', src]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      "note: validate refuses this pack as written: Helm cannot install this chart with the values as published: its subchart redis is enabled (no condition or tag in the chart's values with the pack's charts.shop over them leaves it out), and Go's template parser refuses the subchart's templates/sub/cm.yaml, line 3: bad number syntax",
    );
    expect(run.stderr).toContain("note: Helm cannot install this chart once its subchart cache is enabled: Go's template parser refuses the subchart's templates/cm.yaml, line 3: bad number syntax");
    expect(run.stderr).toContain('a user can turn it on (charts.shop.cache.enabled)');
    const report = await validatePack(join(work, 'subtpl-pack'));
    expect(report.findings.map((f) => [f.severity, f.rule, f.file])).toEqual([
      ['error', 'chart-refused-by-helm', 'charts/shop-2.0.0.tgz'],
      ['warning', 'chart-subchart-template-unparsable', 'charts/shop-2.0.0.tgz'],
    ]);
  });

  it("keys the values by Chart.yaml's name when a .tgz holds a differently named folder, and copies the archive as is", async () => {
    const archive = join(work, 'odd.tgz');
    await writeTgz(archive, {
      'not-the-name/Chart.yaml': 'apiVersion: v2\nname: realname\nversion: 2.0.0\nappVersion: v2.0.0\n',
      'not-the-name/values.yaml': '# only a comment\n',
    });
    const dir = join(work, 'odd-pack');
    const result = await initPack({ dir, fromChart: archive, chartVersionFrom: 'appVersion' });
    expect(result.name).toBe('realname');
    expect(result.version).toBe('2.0.0');
    expect(result.notes).toContainEqual('version 2.0.0 taken from the chart\'s appVersion "v2.0.0" without the leading "v" (pack-central rejects it)');
    expect(result.chart?.archive).toBe('charts/odd.tgz');
    expect((await readFile(join(dir, 'charts/odd.tgz'))).equals(await readFile(archive))).toBe(true);
    const values = await readFile(join(dir, 'values.yaml'), 'utf8');
    expect(values).toContain('  realname: {}\n    # only a comment\n');
    // The chart names no image: the image list is the one thing left to write.
    expect(result.notes).toContainEqual(expect.stringContaining('pack.content.images in values.yaml is empty'));
    expect((await validatePack(dir, { strict: true })).findings.map((f) => f.rule)).toEqual(['values-images-missing']);
  });

  it('builds a pack from an archive with ./ entries, an empty subchart requirements.yaml and Go-only YAML (Helm loads all three)', async () => {
    const archive = join(work, 'dotted.tgz');
    await writeTgz(archive, {
      './': '',
      './Chart.yaml': chartYaml('dotted', '0.2.0', 'v1'),
      './requirements.yaml': 'dependencies:\n  - name: sub\n    version: 0.0.1\n',
      // A flow sequence closed at its key's indentation: Go's YAML reads it (issue 12), js-yaml did not.
      './values.yaml': 'image: docker.io/library/busybox:1.36\nclusterRole:\n  - apiGroup: [ "" ]\n    resources:  [\n      configmaps,\n      secrets,\n    ]\n',
      './charts/sub/Chart.yaml': chartYaml('sub', '0.0.1', 'v1'),
      './charts/sub/requirements.yaml': '',
      './charts/sub/values.yaml': '# nothing to set\n',
    });
    const result = await cli(['init', join(work, 'dotted-pack'), '--from-chart', archive]);
    expect(result.code, result.stderr).toBe(0);
    const values = await readFile(join(work, 'dotted-pack', 'values.yaml'), 'utf8');
    expect(values).toContain('  dotted:\n');
    expect(values).toContain('- image: docker.io/library/busybox:1.36');
    expect(values).toContain('        resources:  [\n          configmaps,');
    expect(result.stderr).not.toContain('does not parse');
    expect((await readFile(join(work, 'dotted-pack', 'charts/dotted.tgz'))).equals(await readFile(archive))).toBe(true);
    expect((await validatePack(join(work, 'dotted-pack'), { strict: true })).findings).toEqual([]);
  });

  it('refuses a chart Helm refuses (an archive; a folder with a subchart folder without Chart.yaml; a template Go cannot parse), with what Helm says, and writes nothing', async () => {
    const archive = join(work, 'too-deep.tgz');
    await writeTgz(archive, { './': '', './mychart/Chart.yaml': chartYaml('mychart', '1.0.0') });
    const result = await cli(['init', join(work, 'too-deep-pack'), '--from-chart', archive]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Helm refuses this chart archive ("Chart.yaml file is missing"); its Chart.yaml is one folder too deep (./mychart/Chart.yaml)');
    await expect(readFile(join(work, 'too-deep-pack', 'pack.json'))).rejects.toThrow();

    // A chart folder whose subchart folder has no Chart.yaml (`helm package` refuses it; it was packed as it was).
    const dir = join(work, 'half-vendored');
    await put(dir, { 'Chart.yaml': chartYaml('half', '1.0.0'), 'charts/db/values.yaml': 'auth:\n  database: app\n', 'charts/db/templates/secret.yaml': 'kind: Secret\n' });
    const half = await cli(['init', join(work, 'half-pack'), '--from-chart', dir]);
    expect(half.code).toBe(1);
    expect(half.stderr).toContain(`${dir}: Helm refuses this chart ("error unpacking subchart db in half: Chart.yaml file is missing")`);
    expect(half.stderr).toContain('charts/ holds subcharts only (folders with a Chart.yaml, or .tgz archives)');
    await expect(readFile(join(work, 'half-pack', 'pack.json'))).rejects.toThrow();

    // `tar -czf` of a checkout whose charts/library is a symlink to a shared library chart (rook-ceph's shape).
    const linked = join(work, 'linked-library.tgz');
    await writeTgz(linked, { 'ceph/Chart.yaml': chartYaml('ceph', '1.0.0'), 'ceph/charts/library': { link: 'symlink', target: '../../library' } });
    const library = await cli(['init', join(work, 'linked-pack'), '--from-chart', linked]);
    expect(library.code).toBe(1);
    expect(library.stderr).toContain(`${linked}: Helm refuses this chart ("error unpacking subchart library in ceph: Chart.yaml file is missing"); charts/library is a symbolic link to ../../library in the archive, which Helm reads as an empty file`);
    expect(library.stderr).toContain('fix or remove charts/library (Helm ignores names starting with "_" or ".") (`helm package <chart-dir>` stores what a link points to: rebuild the archive with it)');
    await expect(readFile(join(work, 'linked-pack', 'pack.json'))).rejects.toThrow();

    // A chart folder with a template Go's template parser refuses: every Helm install would stop on it.
    const broken = join(work, 'broken-template');
    await put(broken, { 'Chart.yaml': chartYaml('broken', '1.0.0'), 'templates/cm.yaml': 'kind: ConfigMap\nname: {{ .Values.my-name }}\n' });
    const parsed = await cli(['init', join(work, 'broken-pack'), '--from-chart', broken]);
    expect(parsed.code).toBe(1);
    expect(parsed.stderr).toContain(`${join(broken, 'templates', 'cm.yaml')}: Helm cannot install this chart: Go's template parser refuses templates/cm.yaml, line 2: bad character U+002D '-'`);
    expect(parsed.stderr).toContain('fix the template (`helm lint` or `helm template` shows the same error), then package the chart again');
    await expect(readFile(join(work, 'broken-pack', 'pack.json'))).rejects.toThrow();
  });

  it('tells the author that a link entry of the chart archive is an empty file to Helm', async () => {
    const archive = join(work, 'linked-template.tgz');
    await writeTgz(archive, {
      'linked/Chart.yaml': chartYaml('linked', '1.0.0'),
      'linked/files/cm.yaml': 'kind: ConfigMap\n',
      'linked/templates/cm.yaml': { link: 'symlink', target: '../files/cm.yaml' },
    });
    const result = await initPack({ dir: join(work, 'linked-template-pack'), fromChart: archive });
    expect(result.notes).toContain(
      "linked/templates/cm.yaml (a symbolic link to ../files/cm.yaml) is a link entry of the chart archive: Go's tar reader gives a link no content, so Helm loads it as an empty file and installs the chart without what it points to: rebuild it with `helm package <chart-dir>` (or give init the chart folder) and init again",
    );
    const validated = await validatePack(join(work, 'linked-template-pack'));
    expect(validated.findings.map((f) => f.rule)).toContain('chart-archive-link');
  });

  it('tells the author about dependencies that are not vendored, and refuses a chart version that is no OCI tag', async () => {
    const dir = join(work, 'deps-src');
    await put(dir, { 'Chart.yaml': 'apiVersion: v2\nname: deps\nversion: 1.0.0+build.5\ndependencies:\n  - name: redis\n    version: 18.0.0\n    repository: https://charts.example.com\n' });
    const err = await initPack({ dir: join(work, 'deps-pack'), fromChart: dir }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'USAGE')).toBe(true);
    expect((err as { hint?: string }).hint).toBe('pass --version 1.0.0-build.5 (a tag cannot hold "+"; Helm\'s own OCI push writes it as "_", which Palette cannot order as a version)');
    const result = await initPack({ dir: join(work, 'deps-pack'), fromChart: dir, version: '1.0.0-build.5' });
    expect(result.notes).toContainEqual(expect.stringContaining('the chart depends on "redis" 18.0.0, which is not in its charts/ folder: run `helm dependency build`'));
  });

  it('publishes the pack to a local OCI layout and pulls back the same files', async () => {
    const layout = join(work, 'layout');
    const push = await cli(['push', packDir, '--oci-layout', layout]);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('published webapp:1.4.2');
    const index = JSON.parse(await readFile(join(layout, 'spectro-packs/archive/webapp/index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
    expect(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['1.4.2']);

    const pulled = join(work, 'pulled');
    const pull = await cli(['pull', 'webapp:1.4.2', '--oci-layout', layout, '-o', pulled]);
    expect(pull.code, pull.stderr).toBe(0);
    for (const file of ['pack.json', 'values.yaml', 'README.md', 'logo.png', 'charts/webapp-1.4.2.tgz']) {
      expect((await readFile(join(pulled, file))).equals(await readFile(join(packDir, file))), file).toBe(true);
    }
    expect((await validatePack(pulled, { strict: true })).findings).toEqual([]);

    const again = await cli(['push', packDir, '--oci-layout', layout]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('unchanged webapp:1.4.2');
  });
});
