import { describe, expect, it } from 'vitest';
import { expectPushRefusedInvalid, expectRun, validateThenPushCase } from '../support/cli.js';
import { tgz } from '../support/files.js';
import { writeWebChartPerCase } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * A subchart's crds/ file Helm's install cannot apply (here a templated CRD: Helm never renders crds/, as
 * in spotahome/redis-operator chart 3.3.0). Helm applies a subchart's CRDs only when ProcessDependencies
 * keeps the subchart (helm/helm pkg/action/install.go: ProcessDependencies, then chrt.CRDObjects()), so
 * the verdict follows the values Palette installs with: the chart's values.yaml, the pack's charts.web over it.
 */
const TEMPLATED_CRD = 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n  annotations:\n    {{- with .Values.annotations }}\n    {{- toYaml . | nindent 4 }}\n    {{- end }}\n';
const REDIS_CHART = 'apiVersion: v2\nname: redis\nversion: 1.2.0\n';
/** web's Chart.yaml with one dependency on redis, `gate` its condition / tags lines. */
const webChart = (gate: string): string => `apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.x\n${gate}`;

interface Case {
  name: string;
  chart: Record<string, string | Buffer>;
  values?: string;
  /** validate's error (after `error   charts/web-1.0.0.tgz: `); none: validate exits 0 and push publishes. */
  says?: string;
  /** Otherwise the warning's way to turn the subchart on, and the subchart it names. */
  warns?: { turnOn: string; sub?: string };
}

/** The subchart unpacked in web's archive (web/charts/redis/), as `helm package` of a vendored folder writes it. */
const folder = { 'web/charts/redis/Chart.yaml': REDIS_CHART, 'web/charts/redis/crds/widgets.yaml': TEMPLATED_CRD };
const REFUSAL =
  'Helm cannot install this chart with the values as published: its subchart redis is enabled (no condition or tag in the chart\'s values with the pack\'s charts.web over them leaves it out), and Helm applies the subchart\'s crds/widgets.yaml as it is, never rendered, and cannot read it ("failed to install CRD crds/widgets.yaml"): line 6: not valid YAML';

const CASES: Case[] = [
  { name: 'condition true in the chart values', chart: { 'web/Chart.yaml': webChart('  condition: redis.enabled\n'), 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: true\n', ...folder }, says: REFUSAL },
  { name: 'no condition, subchart as a nested .tgz', chart: { 'web/Chart.yaml': webChart('') }, says: REFUSAL },
  { name: 'condition false in the chart, the pack turns it on', chart: { 'web/Chart.yaml': webChart('  condition: redis.enabled\n'), 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: false\n', ...folder }, values: '    redis:\n      enabled: true\n', says: REFUSAL },
  { name: 'condition true in the chart, the pack turns it off', chart: { 'web/Chart.yaml': webChart('  condition: redis.enabled\n'), 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: true\n', ...folder }, values: '    redis:\n      enabled: false\n', warns: { turnOn: 'charts.web.redis.enabled' } },
  { name: 'condition false in the chart values', chart: { 'web/Chart.yaml': webChart('  condition: redis.enabled\n'), 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: false\n', ...folder }, warns: { turnOn: 'charts.web.redis.enabled' } },
  { name: 'a tag the pack sets false', chart: { 'web/Chart.yaml': webChart('  tags: [cache]\n'), ...folder }, values: '    tags:\n      cache: false\n', warns: { turnOn: 'its condition or tags' } },
  // Palette replaces a macro before Helm reads the values: it may turn the subchart on or off, so no verdict.
  { name: 'a condition set by a Palette macro', chart: { 'web/Chart.yaml': webChart('  condition: redis.enabled\n'), 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: true\n', ...folder }, values: '    redis:\n      enabled: "{{ .spectro.var.cache }}"\n', warns: { turnOn: 'charts.web.redis.enabled' } },
  // A subchart of a subchart the values leave out: named with its parent.
  {
    name: "a disabled subchart's own subchart",
    chart: { 'web/Chart.yaml': webChart('  condition: redis.enabled\n'), 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: false\n', 'web/charts/redis/Chart.yaml': REDIS_CHART, 'web/charts/redis/charts/sentinel/Chart.yaml': 'apiVersion: v2\nname: sentinel\nversion: 0.1.0\n', 'web/charts/redis/charts/sentinel/crds/widgets.yaml': TEMPLATED_CRD },
    warns: { turnOn: 'its condition or tags', sub: 'redis/sentinel' },
  },
];

describe("a subchart's crds/ file Helm cannot apply", () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-subcrds-');
    const nested = await tgz({ 'redis/Chart.yaml': REDIS_CHART, 'redis/crds/widgets.yaml': TEMPLATED_CRD });
    await writeWebChartPerCase(root, CASES, (c) => (Object.keys(c.chart).some((k) => k.startsWith('web/charts/')) ? c.chart : { ...c.chart, 'web/charts/redis-1.2.0.tgz': nested }));
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name', async ({ i, says, warns }) => {
    const { dir, layout, validate, push } = await validateThenPushCase(w.root, i);
    if (says !== undefined) {
      expectRun(validate, { code: 1, stdout: [`${dir}: web:1.0.0 FAILED\n`, `  error   charts/web-1.0.0.tgz: ${says}`, 'or, if the pack does not need subchart redis, turn it off in values.yaml (its condition)'] });
      await expectPushRefusedInvalid(push, layout);
    } else {
      if (warns === undefined) throw new Error('a case either refuses or warns');
      // The values leave the subchart out: a warning, as a user may turn it on in Palette's values editor.
      const sub = warns.sub ?? 'redis';
      expectRun(validate, {
        code: 0,
        stdout: [
          `${dir}: web:1.0.0 OK\n`,
          `  warning charts/web-1.0.0.tgz: Helm cannot install this chart once its subchart ${sub} is enabled: Helm then applies the subchart's crds/widgets.yaml as it is, never rendered, and cannot read it ("failed to install CRD crds/widgets.yaml"): line 6: not valid YAML`,
          `then rebuild the archive. The values as published leave the subchart out (or a Palette macro decides), but a user can turn it on (${warns.turnOn}) in Palette's values editor\n`,
          '1 passed, 0 failed (0 errors, 1 warning)',
        ],
      });
      expect(push.code).toBe(0);
      const held = await layoutHoldings(layout);
      expect(held.problems).toEqual([]);
      expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
    }
  });
});
