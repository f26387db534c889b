import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { tgz } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Values a chart reads outside its own templates' `.Values.x` (packpub said "not a value of chart ...: or remove
 * it" for each): a library subchart's defines, run with the chart's context (bjw-s' app-template: an empty
 * values.yaml and `{{ include "lib.all" . }}`), `{{ .Values.x }}` inside a value the chart renders with `tpl`, and
 * the block of a subchart that is not vendored (its values are unknown: "move them up" was harmful advice;
 * chart-dependency-missing says what is wrong). Each case also sets one key nothing reads: the only deep warning left.
 */
const HEAD = 'pack:\n  namespace: thin\n  content:\n    images:\n      - image: ghcr.io/example/app:1.0.0\ncharts:\n  thin:\n';

const CASES = [
  {
    name: 'read by a library subchart',
    chart: async () => ({
      'thin/Chart.yaml': 'apiVersion: v2\nname: thin\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n',
      'thin/values.yaml': '',
      'thin/templates/all.yaml': '{{ include "lib.all" . }}\n',
      'thin/charts/lib-0.1.0.tgz': await tgz({
        'lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n',
        'lib/templates/_all.tpl': '{{- define "lib.all" -}}\nkind: Service\nports: {{ toYaml .Values.service.ports }}\n{{- end -}}\n',
      }),
    }),
    values: '    service:\n      ports:\n        http:\n          port: 80\n    sevrice: {}\n',
    line: 12,
  },
  {
    name: 'named in a value the chart renders with tpl',
    chart: async () => ({
      'thin/Chart.yaml': 'apiVersion: v2\nname: thin\nversion: 0.1.0\n',
      'thin/values.yaml': 'targets:\n  - url: "http://app.{{ .Values.domain }}/health"\n',
      'thin/templates/cm.yaml': 'data:\n{{- range .Values.targets }}\n  url: {{ tpl .url $ | quote }}\n{{- end }}\n',
    }),
    values: '    domain: example.com\n    sevrice: {}\n',
    line: 9,
  },
  {
    name: 'for a dependency not vendored',
    chart: async () => ({
      'thin/Chart.yaml': 'apiVersion: v2\nname: thin\nversion: 0.1.0\ndependencies:\n  - name: postgresql\n    version: 12.x.x\n',
      'thin/values.yaml': 'replicaCount: 1\npostgresql:\n  enabled: true\n',
    }),
    values: '    postgresql:\n      fullnameOverride: db\n      auth:\n        database: app\n    sevrice: {}\n',
    line: 12,
    also: ['  warning charts/thin-0.1.0.tgz: the chart depends on "postgresql" 12.x.x, not in the archive\'s charts/ folder', '(0 errors, 2 warnings)'],
  },
];

describe('values a chart reads outside its own templates', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-chart-values-read-elsewhere-');
    const packs: string[] = [];
    for (const [i, c] of CASES.entries()) {
      packs.push(
        await writePack(join(root, `case-${i}`), {
          name: 'thin',
          version: '0.1.0',
          packJson: { kubeManifests: undefined, charts: ['charts/thin-0.1.0.tgz'] },
          files: { 'manifests/app.yaml': null, 'charts/thin-0.1.0.tgz': await tgz(await c.chart()), 'values.yaml': HEAD + c.values },
        }),
      );
    }
    return { packs };
  });

  it.each(CASES.map((c, i) => ({ also: ['(0 errors, 1 warning)'], ...c, i })))('$name: validate warns only about the key nothing reads', async ({ i, line, also }) => {
    expectRun(await runCli(['validate', w.packs[i]!], { env: { NO_COLOR: '1' } }), {
      code: 0,
      stdout: [`  warning values.yaml:${line}:5 charts.thin.sevrice: charts.thin.sevrice is not a value of chart "thin" 0.1.0 (neither its values.yaml nor its templates use it)`, ...also],
    });
  });
});
