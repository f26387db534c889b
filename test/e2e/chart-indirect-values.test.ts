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

describe('chart values read through a variable, index or get', () => {
  const w = setup(async (stack) => {
    const dir = await writeValidPack(join(await stack.tempDir('packpub-e2e-indirect-'), 'web'));
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/templates/cm.yaml': TEMPLATE }));
    const chartValues = ['    extraPodVolumeMounts: []', '    fromRoot: x', '    dash-key:', '      inner: 1', '    getKey: 2', '    reallyUnused: z', ''].join('\n');
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', `    replicas: 1\n${chartValues}`));
    return { dir };
  });

  it('validate exits 0 and warns only about the key the chart reads nowhere', async () => {
    const run = await runCli(['validate', w.dir], { env: { NO_COLOR: '1' } });
    expectRun(run, {
      code: 0,
      stdout: [
        `${w.dir}: web:1.0.0 OK\n  warning values.yaml:15:5 charts.web.reallyUnused: charts.web.reallyUnused is not a value of chart "web" 1.0.0 (neither its values.yaml nor its templates use it): check the spelling and nesting, or remove it; Palette passes misplaced keys on without a word\n`,
        '1 pack checked: 1 passed, 0 failed (0 errors, 1 warning)',
      ],
    });
  });
});
