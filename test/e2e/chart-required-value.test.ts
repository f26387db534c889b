import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, validateThenPush } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A chart template that runs `required` on a value at its top level (aws-load-balancer-controller's
 * `{{ required "Chart cannot be installed without a valid clusterName!" .Values.clusterName }}`) fails every
 * Helm install whose values leave it unset, null or "" (pkg/engine/funcs.go), whatever else they hold: a
 * warning naming the template's line and the value to set, as for a value the user is to fill in.
 */

const DEPLOYMENT = [
  'kind: Deployment',
  'metadata:',
  '  name: web',
  'spec:',
  '  cluster: {{ required "Chart cannot be installed without a valid clusterName!" .Values.clusterName | quote }}',
  '',
].join('\n');

interface Case {
  name: string;
  /** The chart's files over CHART_FILES. */
  chart?: Record<string, string>;
  /** Lines added under charts.web in the pack's values.yaml. */
  values?: string[];
  schema?: string;
  /** The message of the one warning, or undefined: no finding. */
  says?: string[];
  line?: number;
}

const CASES: Case[] = [
  {
    name: 'unset in the chart and the pack: warned, naming the template line and the value',
    says: [
      'chart "web" of charts/web-1.0.0.tgz requires .Values.clusterName on every install (templates/deployment.yaml line 5: required "Chart cannot be installed without a valid clusterName!")',
      'the values as published leave it empty, so Helm\'s install fails ("execution error at (web/templates/deployment.yaml:5:14): Chart cannot be installed without a valid clusterName!")',
      'set charts.web.clusterName in values.yaml, or list it in schema.yaml for Palette to ask the user',
    ],
  },
  { name: 'empty in the pack: warned at its line in values.yaml', values: ['clusterName: ""'], says: ['leave it empty'], line: 10 },
  { name: 'null in the chart, as a pipeline: warned', chart: { 'web/values.yaml': 'replicas: 1\nclusterName: prod\ntoken: null\n', 'web/templates/secret.yaml': 'data:\n  token: {{ .Values.token | required "token is required" | b64enc }}\n' }, says: ['requires .Values.token', 'leave it null', '(web/templates/secret.yaml:2:28): token is required'] },
  { name: 'set by the pack', values: ['clusterName: prod'] },
  { name: 'set by a Palette macro', values: ['clusterName: "{{ .spectro.system.cluster.name }}"'] },
  { name: 'false, which required takes', values: ['clusterName: false'] },
  { name: 'listed in schema.yaml (Palette asks the user)', values: ['clusterName: ""'], schema: 'charts.web.clusterName:\n  schema: \'{{ required }}\'\n' },
  { name: 'inside an if (a condition decides)', chart: { 'web/templates/deployment.yaml': `{{- if .Values.aws }}\n${DEPLOYMENT}{{- end }}\n` } },
  { name: 'inside and/or (Go stops evaluating early)', chart: { 'web/templates/deployment.yaml': 'x: {{ or .Values.name (required "name" .Values.clusterName) }}\n' } },
  { name: 'in a partial outside its defines (Helm never renders it)', chart: { 'web/templates/deployment.yaml': 'kind: Deployment\n', 'web/templates/_helpers.tpl': '{{ required "x" .Values.clusterName }}\n' } },
];

interface Result {
  dir: string;
  passed: boolean;
  findings: Array<{ severity: string; rule: string; file?: string; line?: number; message: string }>;
}

describe('a chart value its templates require on every install', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-required-') }));
  const dirs: string[] = [];
  let results: Map<string, Result>;

  beforeAll(async () => {
    for (const [i, c] of CASES.entries()) {
      const dir = await writeValidPack(join(w.root, `case-${i}`));
      const chart = { ...CHART_FILES, 'web/values.yaml': 'replicas: 1\nclusterName: ""\n', 'web/templates/deployment.yaml': DEPLOYMENT, ...c.chart };
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz(chart));
      await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', ['    replicas: 1', ...(c.values ?? []).map((l) => `    ${l}`), ''].join('\n')));
      if (c.schema !== undefined) await putFile(dir, 'schema.yaml', c.schema);
      dirs.push(dir);
    }
    const run = await runCli(['validate', '--json', ...dirs]);
    expect(run.code, run.stderr).toBe(0);
    results = new Map((JSON.parse(run.stdout) as Result[]).map((r) => [r.dir, r]));
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = CASES[i]!;
    const result = results.get(dirs[i]!)!;
    expect(result.passed).toBe(true);
    if (c.says === undefined) {
      expect(result.findings, JSON.stringify(result.findings)).toEqual([]);
      return;
    }
    expect(result.findings).toHaveLength(1);
    const finding = result.findings[0]!;
    expect(finding).toMatchObject({ severity: 'warning', rule: 'chart-required-value', file: c.line === undefined ? 'charts/web-1.0.0.tgz' : 'values.yaml' });
    if (c.line !== undefined) expect(finding.line).toBe(c.line);
    for (const part of c.says) expect(finding.message).toContain(part);
  });

  it('fails validate --strict, and push still publishes the pack as it is', async () => {
    const dir = dirs[0]!;
    const strict = await runCli(['validate', '--strict', dir], { env: { NO_COLOR: '1' } });
    expect(strict.code).toBe(1);
    expect(strict.stdout + strict.stderr).toContain('  warning charts/web-1.0.0.tgz: chart "web" of charts/web-1.0.0.tgz requires .Values.clusterName on every install');
    const layout = join(w.root, 'layout');
    const { validate, push } = await validateThenPush(dir, layout);
    expect(validate.code).toBe(0);
    expect(push.code, push.stderr).toBe(0);
    expect(existsSync(join(layout, 'spectro-packs/archive/web/index.json'))).toBe(true);
  });
});
