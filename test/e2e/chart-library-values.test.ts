import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { tgz } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A thin chart over a library chart (bjw-s' app-template: an empty values.yaml, one template
 * `{{ include "lib.all" . }}`): the library's defines run with the chart's context, so what they read is
 * the chart's values. packpub said every value the pack sets was "not a value of chart" ("or remove it").
 */
describe('values a library subchart reads for the chart including it', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-chart-library-values-');
    const chart = await tgz({
      'thin/Chart.yaml': 'apiVersion: v2\nname: thin\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n',
      'thin/values.yaml': '',
      'thin/templates/all.yaml': '{{ include "lib.all" . }}\n',
      'thin/charts/lib-0.1.0.tgz': await tgz({
        'lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n',
        'lib/templates/_all.tpl': '{{- define "lib.all" -}}\nkind: Service\nports: {{ toYaml .Values.service.ports }}\n{{- end -}}\n',
      }),
    });
    const pack = await writePack(join(root, 'thin-0.1.0'), {
      name: 'thin',
      version: '0.1.0',
      packJson: { kubeManifests: undefined, charts: ['charts/thin-0.1.0.tgz'] },
      files: {
        'manifests/app.yaml': null,
        'charts/thin-0.1.0.tgz': chart,
        'values.yaml': 'pack:\n  namespace: thin\n  content:\n    images:\n      - image: ghcr.io/example/app:1.0.0\ncharts:\n  thin:\n    service:\n      ports:\n        http:\n          port: 80\n    sevrice: {}\n',
      },
    });
    return { pack };
  });

  it('validate warns only about the key nothing reads', async () => {
    expectRun(await runCli(['validate', w.pack], { env: { NO_COLOR: '1' } }), {
      code: 0,
      stdout: [
        'thin:0.1.0 OK',
        '  warning values.yaml:12:5 charts.thin.sevrice: charts.thin.sevrice is not a value of chart "thin" 0.1.0 (neither its values.yaml nor its templates use it)',
        '(0 errors, 1 warning)',
      ],
    });
  });
});
