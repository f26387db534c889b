import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, validateThenPush } from '../support/cli.js';
import { putFile, tgz, type TarLink } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Packs Helm and Kubernetes take apart only when the pack is deployed: a warning each, as the values a user
 * fills in (or how Palette applies manifests) decide it; `validate --strict` fails, push publishes.
 */

interface Result {
  dir: string;
  passed: boolean;
  findings: Array<{ severity: string; rule: string; file?: string; line?: number; message: string }>;
}

/** `validate --json` of every folder at once (exit 0: warnings only), by folder. */
async function validateAll(dirs: readonly string[]): Promise<Map<string, Result>> {
  const run = await runCli(['validate', '--json', ...dirs]);
  expect(run.code, run.stderr).toBe(0);
  return new Map((JSON.parse(run.stdout) as Result[]).map((r) => [r.dir, r]));
}

/** `validate --strict` fails on the warning (`says`), and push publishes the pack into a layout all the same. */
async function expectWarnedYetPublished(dir: string, root: string, says: string): Promise<void> {
  const strict = await runCli(['validate', '--strict', dir], { env: { NO_COLOR: '1' } });
  expect(strict.code).toBe(1);
  expect(strict.stdout + strict.stderr).toContain(says);
  const layout = join(root, 'layout');
  const { validate, push } = await validateThenPush(dir, layout);
  expect(validate.code).toBe(0);
  expect(push.code, push.stderr).toBe(0);
  expect(existsSync(join(layout, 'spectro-packs/archive/web/index.json'))).toBe(true);
}

/**
 * One describe: a valid pack per case, changed by `write`, all validated at once; a case with `says` has one
 * warning (checked by `check`), the others none; the first case fails --strict (`strictSays`) yet is pushed.
 */
function describeCases<C extends { name: string; says?: unknown }>(title: string, cases: readonly C[], write: (dir: string, c: C) => Promise<void>, check: (finding: Result['findings'][number], c: C) => void, strictSays: string): void {
  describe(title, () => {
    const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-deploy-time-') }));
    const dirs: string[] = [];
    let results: Map<string, Result>;

    beforeAll(async () => {
      for (const [i, c] of cases.entries()) {
        const dir = await writeValidPack(join(w.root, `case-${i}`));
        await write(dir, c);
        dirs.push(dir);
      }
      results = await validateAll(dirs);
    });

    it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
      const c = cases[i]!;
      const result = results.get(dirs[i]!)!;
      expect(result.passed).toBe(true);
      if (c.says === undefined) {
        expect(result.findings, JSON.stringify(result.findings)).toEqual([]);
        return;
      }
      expect(result.findings).toHaveLength(1);
      check(result.findings[0]!, c);
    });

    it('fails validate --strict, and push still publishes the pack as it is', async () => {
      await expectWarnedYetPublished(dirs[0]!, w.root, strictSays);
    });
  });
}

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

/** A define that checks a value, as charts write `<chart>.validateValues` in _helpers.tpl. */
const VALIDATE = '{{/* Checks the values. */}}\n{{- define "web.validate" -}}\n{{- $_ := required "clusterName is required" .Values.clusterName -}}\n{{- end -}}\n';

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
  {
    name: 'in a define a template runs at its top level with the root data: warned at the define\'s line, as Helm names it',
    chart: { 'web/templates/deployment.yaml': 'kind: Deployment\n{{- include "web.validate" . }}\n', 'web/templates/_helpers.tpl': VALIDATE },
    says: ['(templates/_helpers.tpl line 3: required "clusterName is required")', '("execution error at (web/templates/_helpers.tpl:3:10): clusterName is required")'],
  },
  {
    name: 'in a define run by a define NOTES.txt runs (template, $)',
    chart: { 'web/templates/deployment.yaml': 'kind: Deployment\n', 'web/templates/NOTES.txt': 'Installed {{ template "web.checks" . }}\n', 'web/templates/_helpers.tpl': `${VALIDATE}{{- define "web.checks" -}}\n{{ include "web.validate" $ }}\n{{- end -}}\n` },
    says: ['requires .Values.clusterName on every install (templates/_helpers.tpl line 3'],
  },
  { name: 'in a define a template runs inside an if', chart: { 'web/templates/deployment.yaml': '{{- if .Values.aws }}{{ include "web.validate" . }}{{ end }}\n', 'web/templates/_helpers.tpl': VALIDATE } },
  { name: 'in a define run with other data (a dict)', chart: { 'web/templates/deployment.yaml': '{{ include "web.validate" (dict "Values" .Values) }}\n', 'web/templates/_helpers.tpl': VALIDATE } },
  { name: 'in a define run only by a partial', chart: { 'web/templates/deployment.yaml': 'kind: Deployment\n', 'web/templates/_helpers.tpl': `${VALIDATE}{{ include "web.validate" . }}\n` } },
  {
    name: 'inside an if of the define',
    chart: { 'web/templates/deployment.yaml': '{{ include "web.validate" . }}\n', 'web/templates/_helpers.tpl': '{{- define "web.validate" -}}\n{{- if .Values.aws }}{{ required "x" .Values.clusterName }}{{ end }}\n{{- end -}}\n' },
  },
];

describeCases(
  'a chart value its templates require on every install',
  CASES,
  async (dir, c) => {
    const chart = { ...CHART_FILES, 'web/values.yaml': 'replicas: 1\nclusterName: ""\n', 'web/templates/deployment.yaml': DEPLOYMENT, ...c.chart };
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz(chart));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', ['    replicas: 1', ...(c.values ?? []).map((l) => `    ${l}`), ''].join('\n')));
    if (c.schema !== undefined) await putFile(dir, 'schema.yaml', c.schema);
  },
  (finding, c) => {
    expect(finding).toMatchObject({ severity: 'warning', rule: 'chart-required-value', file: c.line === undefined ? 'charts/web-1.0.0.tgz' : 'values.yaml' });
    if (c.line !== undefined) expect(finding.line).toBe(c.line);
    for (const part of c.says ?? []) expect(finding.message).toContain(part);
  },
  '  warning charts/web-1.0.0.tgz: chart "web" of charts/web-1.0.0.tgz requires .Values.clusterName on every install',
);

/*
 * A manifest of kubeManifests without a template action is applied as it is: each `---` document must be a
 * Kubernetes object with a kind, as for a chart's crds/ file. A kustomize patch (a list), a values file, a
 * kustomization.yaml or broken YAML listed there fails only when the pack is deployed: a warning, as
 * Palette's manifest handling is not public. Real manifests (comment-only documents, Lists, CRLF) pass.
 */

const CONFIGMAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n';

const MANIFESTS: Array<{ name: string; text: string; says?: string; line?: number }> = [
  { name: 'a kustomize JSON patch (a list)', text: '- op: replace\n  path: /spec/minAvailable\n  value: 1\n', says: 'the document at line 1 is a list, not a Kubernetes object', line: 1 },
  { name: 'a values file after an object', text: `${CONFIGMAP}---\n# values\nreplicas: 2\n`, says: 'the document at line 6 has no kind (Kubernetes: "Object \'Kind\' is missing")', line: 6 },
  { name: 'a kustomization.yaml', text: 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a.yaml\n', says: 'the document at line 1 is a kustomize file (kustomize.config.k8s.io/v1beta1 Kustomization), which no Kubernetes API serves ("resource mapping not found', line: 1 },
  { name: 'broken YAML without kind', text: 'metadata:\n  name: a\n - b\n', says: 'line 3: not valid YAML', line: 3 },
  { name: 'objects, a comment-only document, a List, CRLF', text: `# header\n---\n${CONFIGMAP}---\n# nothing here\n---\napiVersion: v1\nkind: List\nitems: []\n`.replace(/\n/g, '\r\n') },
  { name: 'a template Palette renders first', text: 'kind: ConfigMap\ndata:\n  message: {{ .Values.message }}\n  other: [{{ x\n' },
];

describeCases(
  'a manifest that is no file of Kubernetes objects',
  MANIFESTS,
  async (dir, c) => putFile(dir, 'manifests/extra.yaml', c.text),
  (finding, c) => {
    expect(finding).toMatchObject({ severity: 'warning', rule: 'manifest-not-kubernetes', file: 'manifests/extra.yaml', line: c.line });
    expect(finding.message).toContain(`manifests/extra.yaml is not a file of Kubernetes objects: ${c.says}`);
    expect(finding.message).toContain('Palette applies each document of a manifest to the cluster, so the pack fails when it is deployed: fix the file, or leave it out of kubeManifests');
  },
  '  warning manifests/extra.yaml:1: manifests/extra.yaml is not a file of Kubernetes objects',
);

/*
 * A chart archive made with `tar -czf` from a folder holding symlinks (a template shared from another folder, a
 * symlinked `templates`), or files hard-linked together: tar stores each link as a link entry, which Go's tar
 * reader gives no content, so Helm loads it as an empty file and installs the chart without it, without a word
 * (pkg/chart/loader/archive LoadArchiveFiles). `helm package` stores what a link points to.
 */

const LINKED: Array<{ name: string; chart: Record<string, string | TarLink>; says?: string }> = [
  {
    name: 'a symlinked template, as GNU tar stores it',
    chart: { 'web/files/deployment.yaml': 'kind: Deployment\n', 'web/templates/deployment.yaml': { link: 'symlink', target: '../files/deployment.yaml' } },
    says: 'web/templates/deployment.yaml (a symbolic link to ../files/deployment.yaml) is a link entry of the chart archive: Go\'s tar reader gives a link no content, so Helm loads it as an empty file and installs the chart without what it points to',
  },
  {
    name: 'a template hard-linked to an earlier one',
    chart: { 'web/templates/deployment-copy.yaml': { link: 'hard', target: 'web/templates/deployment.yaml' } },
    says: 'web/templates/deployment-copy.yaml (a hard link to web/templates/deployment.yaml) is a link entry',
  },
  {
    name: 'a symlinked templates folder and a symlinked README',
    chart: { 'web/tpl/deployment.yaml': 'kind: Deployment\n', 'web/templates': { link: 'symlink', target: 'tpl' }, 'web/README.md': { link: 'symlink', target: '../README.md' } },
    says: 'web/templates (a symbolic link to tpl), web/README.md (a symbolic link to ../README.md) are link entries of the chart archive: Go\'s tar reader gives a link no content, so Helm loads each as an empty file and installs the chart without what they point to',
  },
  { name: 'a link under charts/ whose name Helm ignores (charts/.cache)', chart: { 'web/charts/.cache': { link: 'symlink', target: '/tmp' } } },
  { name: 'folders as entries, no link', chart: { 'web/': '', 'web/templates/': '' } },
];

describeCases(
  'link entries in a chart archive',
  LINKED,
  async (dir, c) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...c.chart })),
  (finding, c) => {
    expect(finding).toMatchObject({ severity: 'warning', rule: 'chart-archive-link', file: 'charts/web-1.0.0.tgz' });
    expect(finding.message).toContain(c.says);
    expect(finding.message).toContain('rebuild the archive with `helm package <chart-dir>`, which stores what a link points to (or `tar -h --hard-dereference`)');
  },
  '  warning charts/web-1.0.0.tgz: web/templates/deployment.yaml (a symbolic link to ../files/deployment.yaml) is a link entry',
);

/*
 * Helm 4's loader reads Chart.yaml's apiVersion first and refuses a chart whose value is not v1, v2 or v3
 * ("unsupported chart version"); Helm 3 loads any: a warning, as which Helm Palette runs is not public.
 */

const API_VERSIONS: Array<{ name: string; chartYaml: string; says?: string }> = [
  { name: 'apiVersion V2 (a capital V)', chartYaml: 'apiVersion: V2\nname: web\nversion: 1.0.0\n', says: 'chart "web" has apiVersion "V2" in its Chart.yaml: Helm 3 loads it, Helm 4 refuses the chart ("unsupported chart version"' },
  { name: 'apiVersion 2, a YAML number', chartYaml: 'apiVersion: 2\nname: web\nversion: 1.0.0\n', says: 'chart "web" has apiVersion "2" in its Chart.yaml' },
  { name: 'apiVersion v3', chartYaml: 'apiVersion: v3\nname: web\nversion: 1.0.0\n' },
  { name: 'no apiVersion (a Helm 2 chart)', chartYaml: 'name: web\nversion: 1.0.0\n' },
];

describeCases(
  'a Chart.yaml apiVersion Helm 4 does not load',
  API_VERSIONS,
  async (dir, c) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/Chart.yaml': c.chartYaml })),
  (finding, c) => {
    expect(finding).toMatchObject({ severity: 'warning', rule: 'chart-api-version', file: 'charts/web-1.0.0.tgz' });
    expect(finding.message).toContain(c.says);
    expect(finding.message).toContain('write apiVersion: v2 (v1 for a Helm 2 chart with requirements.yaml), then package the chart again');
  },
  '  warning charts/web-1.0.0.tgz: chart "web" has apiVersion "V2" in its Chart.yaml',
);

/*
 * pack.json keys differing only in case (review27): Go's encoding/json matches both to one struct field and keeps
 * the later value, while jq (pack-central) reads each as written. Palette's importer is not public: a warning.
 */
const CASE_TWINS = [
  { name: 'NAME beside name', edit: (t: string) => t.replace('"name": "web",', '"name": "web",\n  "NAME": "other",'), says: '"NAME" and "name" differ only in case' },
  // Go's folding takes the long s for s (and the Kelvin sign for k, which toLowerCase also does): Go reads verſion as version.
  { name: 'verſion beside version', edit: (t: string) => t.replace('"version": "1.0.0",', '"version": "1.0.0",\n  "verſion": "6.6.6",'), says: '"verſion" and "version" differ only in case' },
  { name: 'Type beside type in a constraint', edit: (t: string) => t.replace('"type": "optional"', '"type": "optional", "Type": "required"'), says: '"Type" and "type" differ only in case' },
  // annotations are a map: Go keeps both keys.
  { name: 'annotation keys differing in case', edit: (t: string) => t.replace('"annotations": {', '"annotations": {\n    "Source": "x",') },
];

describeCases(
  'pack.json keys differing only in case',
  CASE_TWINS,
  async (dir, c) => putFile(dir, 'pack.json', c.edit(await readFile(join(dir, 'pack.json'), 'utf8'))),
  (finding, c) => {
    expect(finding).toMatchObject({ severity: 'warning', rule: 'pack-json-duplicate-key', file: 'pack.json' });
    expect(finding.message).toContain(c.says);
  },
  '  warning pack.json:19:11 NAME: "NAME" and "name" differ only in case',
);
