import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Values a chart reads other than as `.Values.a.b`: through a variable set to .Values (NVIDIA's
 * nvidia-vss-data-infrastructure subcharts: `{{- $topValues := .Values }}` ... `$topValues.extraPodVolumeMounts`),
 * `$root.Values.x`, `index .Values "dash-key"`, `get`. packpub called each of them "not a value of chart ...
 * (neither its values.yaml nor its templates use it) ... or remove it", though Helm renders them; a key the
 * chart reads nowhere is still reported.
 */
const TEMPLATE = [
  '{{- $topValues := .Values }}',
  '{{- $root := . }}',
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata:',
  '  name: web',
  'data:',
  '  mounts: {{ toYaml $topValues.extraPodVolumeMounts | quote }}',
  '  other: {{ $root.Values.fromRoot | quote }}',
  '  dashed: {{ index .Values "dash-key" "inner" | quote }}',
  '  got: {{ get .Values "getKey" | quote }}',
  '',
].join('\n');

/** `validate dir` exits 0 with `warning` as its one warning. */
async function expectOneWarning(dir: string, warning: string): Promise<void> {
  const run = await runCli(['validate', dir], { env: { NO_COLOR: '1' } });
  expectRun(run, { code: 0, stdout: [warning, '1 pack checked: 1 passed, 0 failed (0 errors, 1 warning)'] });
}

describe('chart values read through a variable, index or get', () => {
  const w = setup(async (stack) => {
    const dir = await writeValidPack(join(await stack.tempDir('packpub-e2e-indirect-'), 'web'));
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/templates/cm.yaml': TEMPLATE }));
    const chartValues = ['    extraPodVolumeMounts: []', '    fromRoot: x', '    dash-key:', '      inner: 1', '    getKey: 2', '    reallyUnused: z', ''].join('\n');
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', `    replicas: 1\n${chartValues}`));
    return { dir };
  });

  it('validate exits 0 and warns only about the key the chart reads nowhere', async () => {
    await expectOneWarning(w.dir, `${w.dir}: web:1.0.0 OK\n  warning values.yaml:15:5 charts.web.reallyUnused: charts.web.reallyUnused is not a value of chart "web" 1.0.0 (neither its values.yaml nor its templates use it): check the spelling and nesting, or remove it; Palette passes misplaced keys on without a word\n`);
  });
});

/*
 * A chart's `_deployment.yaml` (helm create's file, renamed so Helm stops rendering it: kubeflow 0.5.1 in
 * pack-central's kubeflow-1.9.1) reads .Values.nodeSelector, but Helm never runs a partial's text outside its
 * defines (pkg/engine/engine.go). packpub said "nested one level too deep; move it to charts.web.nodeSelector":
 * a key nothing reads either.
 */
describe("a chart's partial read only inside its defines", () => {
  const w = setup(async (stack) => {
    const dir = await writeValidPack(join(await stack.tempDir('packpub-e2e-partial-'), 'web'));
    const templates = {
      'web/templates/_deployment.yaml': 'spec:\n  nodeSelector: {{ toYaml .Values.nodeSelector }}\n{{- define "web.comp" }}{{ .Values.comp.enabled }}{{ end }}\n',
      'web/templates/cm.yaml': 'kind: ConfigMap\ndata:\n  on: {{ include "web.comp" . | quote }}\n',
    };
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...templates }));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    comp:\n      enabled: true\n      nodeSelector: {}\n'));
    return { dir };
  });

  it('validate calls the key read by nothing so, without pointing at a key only the partial names', async () => {
    await expectOneWarning(w.dir, 'warning values.yaml:12:7 charts.web.comp.nodeSelector: charts.web.comp.nodeSelector is not a value of chart "web" 1.0.0 (neither its values.yaml nor its templates use it)');
  });
});

/*
 * pack-central's nvidia-dpf-prereqs packs set `charts.kamaji.cfssl.image.tag`: kamaji reads no cfssl, and packpub
 * said "the keys below it are nested one level too deep; move them up to charts.kamaji": kamaji's own image
 * would then run cfssl's tag. One key that the level above also has (every chart has `image`) is no sign of
 * an extra wrapper, but under the chart's own name (`charts.web.web`) it is.
 */
describe('a block of one key the chart also has at its top', () => {
  const w = setup(async (stack) => {
    const dir = await writeValidPack(join(await stack.tempDir('packpub-e2e-wrapper-'), 'web'));
    const chart = { ...CHART_FILES, 'web/values.yaml': 'replicas: 1\nimage:\n  tag: "1.0"\n', 'web/templates/deployment.yaml': 'image: "web:{{ .Values.image.tag }}"\nreplicas: {{ .Values.replicas }}\n' };
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz(chart));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    cfssl:\n      image:\n        tag: v1.6.5\n    web:\n      replicas: 2\n'));
    return { dir };
  });

  it("calls a component's block unread, and still the chart's name repeated one level too deep", async () => {
    const run = await runCli(['validate', w.dir], { env: { NO_COLOR: '1' } });
    expectRun(run, {
      code: 0,
      stdout: [
        'warning values.yaml:10:5 charts.web.cfssl: charts.web.cfssl is not a value of chart "web" 1.0.0 (neither its values.yaml nor its templates use it)',
        'warning values.yaml:13:5 charts.web.web: charts.web.web is not a value of chart "web" 1.0.0: the keys below it are nested one level too deep; move them up to charts.web and remove charts.web.web',
        '1 pack checked: 1 passed, 0 failed (0 errors, 2 warnings)',
      ],
    });
  });
});

/*
 * A null in the pack's values over a table of the chart's values (`image: ~`, to "reset" it): Helm's coalescing
 * deletes the key, the chart's defaults with it, and a template reading .Values.image.repository stops with "nil
 * pointer evaluating interface {}.repository". It passed without a word; now a warning (a null over a table the
 * templates do not read below stays silent).
 */
describe('a null over a table of the chart that its templates read below', () => {
  const w = setup(async (stack) => {
    const dir = await writeValidPack(join(await stack.tempDir('packpub-e2e-null-table-'), 'web'));
    const chartValues = { 'web/values.yaml': 'image:\n  repository: nginx\nlabels:\n  team: a\n' };
    const template = { 'web/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  image: {{ .Values.image.repository | quote }}\n  labels: {{ toYaml .Values.labels | quote }}\n' };
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...chartValues, ...template }));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', '    image: ~\n    labels: ~\n'));
    return { dir };
  });

  it('validate exits 0 with a warning naming the path read below the null', async () => {
    await expectOneWarning(w.dir, `${w.dir}: web:1.0.0 OK\n  warning values.yaml:9:5 charts.web.image: charts.web.image is null, so Helm deletes chart "web"'s default table there (a null in given values removes the key), while the chart's templates read .Values.image.repository below it: a template reading it outside an if or with on .Values.image stops every install ("nil pointer evaluating interface {}.repository"); remove the line to keep the chart's defaults, or give the keys the chart needs\n`);
  });
});
