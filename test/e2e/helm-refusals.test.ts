import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectPushRefusedInvalid, expectRun, runCli, validateThenPush } from '../support/cli.js';
import { appendedTgz, putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPack, writeValidPackPerCase } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Chart archives Helm's loader refuses, or whose install always fails, so Palette cannot install the pack:
 * validate fails them with Helm's words and exit 1, and push publishes nothing. Each case changes one file
 * of a valid chart.
 */

/** A case: the chart's `file` (under web/) holds `text`, and validate's error says `says`. */
const refused = (name: string, file: string, text: string | Buffer, says: string) => ({ name, files: { [`web/${file}`]: text }, says });
/** A case of the chart's values.yaml: Helm's error starts `cannot load values.yaml`, then `says`. */
const valuesYaml = (name: string, text: string, says: string) => refused(name, 'values.yaml', text, `Helm refuses this chart ("cannot load values.yaml": ${says}`);

/** The start of what macOS tar writes as `._<name>` beside a file with extended attributes (AppleDouble). */
const APPLE_DOUBLE = Buffer.concat([Buffer.from([0, 5, 0x16, 7, 0, 2, 0, 0]), Buffer.from('Mac OS X        ')]);

/** A library chart archive (bitnami's common, in little) defining "common.labels". */
const COMMON_TGZ = await tgz({ 'common/Chart.yaml': 'apiVersion: v2\nname: common\nversion: 2.0.0\ntype: library\n', 'common/templates/_labels.tpl': '{{- define "common.labels" -}}app: web{{- end }}\n' });

const CASES = [
  refused('Chart.yaml keywords as one string', 'Chart.yaml', 'apiVersion: v2\nname: web\nversion: 1.0.0\nkeywords: monitoring\n', 'Helm refuses this chart ("cannot load Chart.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field Metadata.keywords of type []string")'),
  refused('a Latin-1 Chart.yaml', 'Chart.yaml', Buffer.from('apiVersion: v2\nname: web\nversion: 1.0.0\ndescription: caf\xe9\n', 'latin1'), 'Helm refuses this chart ("cannot load Chart.yaml: error converting YAML to JSON: yaml: invalid UTF-8"): line 4 is not UTF-8 text; save Chart.yaml as UTF-8'),
  valuesYaml('a values.yaml that does not parse', 'replicas: [1\n', 'not valid YAML'),
  valuesYaml('a values.yaml holding a .inf', 'replicas: 1\ntimeout: .inf\n', 'error converting YAML to JSON: json: unsupported value: timeout is .inf or .nan)'),
  // go-yaml v2 reads an integer key past int64 as a uint64, a key type sigs.k8s.io/yaml cannot make JSON.
  valuesYaml('a values.yaml with a key past the int64 range', 'replicas: 1\nmasks:\n  0x8000_0000_0000_0000: high\n', 'error converting YAML to JSON: unsupported map key of type: uint64: the key masks["9223372036854775808"] (line 3, column 3) is an integer past the int64 range, which Go reads as a uint64; quote it)'),
  // The same written with an !!int tag; and a null key, which go-yaml reads as nil and sigs.k8s.io/yaml cannot make JSON either.
  valuesYaml('a values.yaml with a tagged !!int key past the int64 range', 'replicas: 1\nmasks:\n  !!int 9223372036854775808: high\n', 'error converting YAML to JSON: unsupported map key of type: uint64: the key masks["9223372036854775808"] (line 3, column 9) is an integer past the int64 range, which Go reads as a uint64; quote it)'),
  valuesYaml('a values.yaml with a null key', 'replicas: 1\n~: none\n', 'not valid YAML: a null key (~, null or nothing before the colon) cannot be converted to JSON (sigs.k8s.io/yaml: "unsupported map key of type: <nil>") (line 2, column 1))'),
  valuesYaml('a values.yaml with a line holding only a tab', 'replicas: 1\n\t\nimage: web\n', 'not valid YAML: found a tab character that violates indentation'),
  valuesYaml('a values.yaml with an !!int tag on a word', 'replicas: !!int abc\n', 'not valid YAML: cannot decode !!str `abc` as a !!int (Go\'s YAML reader, which Helm uses, refuses it)'),
  refused('a Chart.yaml with bad !!binary base64', 'Chart.yaml', 'apiVersion: v2\nname: web\nversion: 1.0.0\ndescription: !!binary aGk\n', '!!binary value contains invalid base64 data'),
  refused('a Chart.lock generated on a date only', 'Chart.lock', 'dependencies: []\ndigest: sha256:00\ngenerated: "2024-01-31"\n', 'web-1.0.0.tgz/Chart.lock: Helm refuses this chart ("cannot load Chart.lock: error unmarshaling JSON: while decoding JSON: parsing time "2024-01-31" as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time'),
  // Masterminds semver reads each numeric part into a uint64: one past 2^64-1 is refused, however it is written.
  refused('a Chart.yaml version with a number past 2^64-1', 'Chart.yaml', 'apiVersion: v2\nname: web\nversion: 1.18446744073709551616.0\n', 'Helm refuses this chart ("validation: chart.metadata.version "1.18446744073709551616.0" is invalid")'),
  // sigs.k8s.io/yaml writes an unquoted float bound for a string field as a float32 in Go's 'g' format: no semver.
  refused('a Chart.yaml version written as a date-like number', 'Chart.yaml', 'apiVersion: v2\nname: web\nversion: 20240101.1\n', 'Helm refuses this chart ("validation: chart.metadata.version "2.0240102e+07" is invalid"): version: 20240101.1 is a YAML number, which Helm reads as 2.0240102e+07: quote it (version: "20240101.1")'),
  // Metadata.Validate drops what Go does not print (a zero-width space) from the name before it checks it.
  refused('a Chart.yaml name that is only a zero-width space', 'Chart.yaml', 'apiVersion: v2\nname: "\\u200B"\nversion: 1.0.0\n', 'web-1.0.0.tgz/Chart.yaml: no name (Helm: "validation: chart.metadata.name is required")'),
  // Every install checks the chart's kubeVersion with Masterminds semver: one it cannot read matches no cluster.
  refused('a Chart.yaml kubeVersion that is no constraint', 'Chart.yaml', 'apiVersion: v2\nname: web\nversion: 1.0.0\nkubeVersion: ">=1.21 && <2"\n', 'Helm cannot install this chart: its kubeVersion ">=1.21 && <2" is no version constraint Helm reads (improper constraint: >=1.21 && <2)'),
  // Loaded by Helm, but its install parses these as YAML: macOS tar's AppleDouble files (pack-central saw them in a karpenter chart).
  refused('an AppleDouble file among the templates', 'templates/._deployment.yaml', APPLE_DOUBLE, "Helm cannot install this chart: it renders it and parses the result as Kubernetes YAML, and Go's YAML reader refuses templates/._deployment.yaml (control characters are not allowed (U+0000))"),
  refused('an AppleDouble file among the CRDs', 'crds/._widgets.yaml', APPLE_DOUBLE, "Helm cannot install this chart: it applies it as a CRD, and Go's YAML reader refuses crds/._widgets.yaml (control characters are not allowed (U+0000))"),
  // Helm applies crds/ files as they are, never rendered (spotahome/redis-operator chart 3.3.0 shipped one like this).
  refused('a templated CRD in crds/', 'crds/widgets.yaml', 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n  annotations:\n    {{- with .Values.annotations }}\n    {{- toYaml . | nindent 4 }}\n    {{- end }}\n', 'Helm cannot install this chart: it applies crds/widgets.yaml as it is, never rendered, and cannot read it ("failed to install CRD crds/widgets.yaml"): line 6: not valid YAML: Block collections are not allowed within flow collections'),
  refused('a CRD named by a template in crds/', 'crds/widgets.yaml', 'kind: Namespace\napiVersion: v1\nmetadata:\n  name: demo\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {{ .Release.Name }}-widgets\n', 'crds/widgets.yaml as it is, never rendered, and cannot read it ("failed to install CRD crds/widgets.yaml"): line 9: not valid YAML'),
  // A link packed as a file of its target's path (starrocks: "cannot unmarshal string into Go value of type unstructured.detector").
  refused('a crds/ file holding only a path', 'crds/widgets.yaml', '../../deploy/widgets.yaml\n', 'cannot read it ("failed to install CRD crds/widgets.yaml"): the document at line 1 is a string, not a Kubernetes object'),
  // kustomize's file, packed without the .helmignore line that leaves it out (Kuadrant/mcp-gateway chart 0.2.0).
  refused('a kustomization.yaml among the CRDs', 'crds/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- widgets.yaml\n', 'cannot read it ("failed to install CRD crds/kustomization.yaml"): the document at line 1 is a kustomize file (kustomize.config.k8s.io/v1beta1 Kustomization), which no Kubernetes API serves'),
  refused('a crds/ document without a kind', 'crds/widgets.json.yml', 'kind: Namespace\napiVersion: v1\nmetadata:\n  name: demo\n---\n# the CRD\napiVersion: apiextensions.k8s.io/v1\nmetadata:\n  name: widgets.example.com\n', `cannot read it ("failed to install CRD crds/widgets.json.yml"): the document at line 6 has no kind (Kubernetes: "Object 'Kind' is missing")`),
  // A template without actions is output as it is, and Helm reads every output as Kubernetes objects (SortManifests).
  refused('a README.md among the templates', 'templates/README.md', '# Web\n\nInstall it with Helm.\n', 'Helm cannot install this chart: templates/README.md holds no template action, so every render outputs it as it is, and Helm reads that as Kubernetes objects: the document at line 1 is a string, not a Kubernetes object (Helm: "YAML parse error on templates/README.md")'),
  refused('a static template without kind', 'templates/settings.yaml', 'kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: web\n---\nlogLevel: debug\n', `Helm cannot install this chart: templates/settings.yaml holds no template action, so every render outputs it as it is, and Helm reads that as Kubernetes objects: the document at line 6 has no kind (Kubernetes: "Object 'Kind' is missing")`),
  // Helm parses every file of templates/ (partials and NOTES.txt too) with Go's text/template before it renders any.
  ...[
    ['a dash in a values key', 'templates/deployment.yaml', 'kind: Deployment\nmetadata:\n  name: {{ .Values.my-name }}\n', `templates/deployment.yaml, line 3: bad character U+002D '-' (a key holding "-" is read with index: {{ index .Values "my-key" }})`],
    ['an unquoted quantity', 'templates/deployment.yaml', 'kind: Deployment\nspec:\n  size: {{ .Values.size | default 10Gi }}\n', 'templates/deployment.yaml, line 3: bad number syntax: "10G" (10Gi is read as a number: quote it, "10Gi")'],
    ['an if never ended', 'templates/deployment.yaml', 'kind: Deployment\n{{- if .Values.labels }}\nmetadata: {}\n', 'templates/deployment.yaml, line 4: unexpected EOF: the {{if}} of line 2 is never closed with {{end}}'],
    ['env, which Helm takes out of sprig, in NOTES.txt', 'templates/NOTES.txt', 'Installed in {{ env "HOME" }}\n', 'templates/NOTES.txt, line 1: function "env" not defined'],
    ['a value as a later pipeline stage', 'templates/deployment.yaml', 'kind: Deployment\nmetadata:\n  name: {{ .Values.name | "web" }}\n', 'templates/deployment.yaml, line 3: non executable command in pipeline stage 2 (after a "|" comes a function, which gets the value before it as its last argument: {{ .Values.x | default "y" }}, not {{ .Values.x | "y" }})'],
    ['an undefined variable in a define', 'templates/_helpers.tpl', '{{- define "web.name" -}}\n{{ $root.Values.name }}\n{{- end -}}\n', 'templates/_helpers.tpl, line 2: undefined variable "$root"'],
    // One Parse call (one file) may hold a name's define once (parse.go add), bar defines holding only space.
    ['a helper defined twice in one file', 'templates/_helpers.tpl', '{{- define "web.name" -}}\nweb\n{{- end }}\n{{- define "web.name" -}}\nwebapp\n{{- end }}\n', 'templates/_helpers.tpl, line 6: multiple definition of template "web.name" (the {{define}} of line 1 defines it too: one file may define a name once, bar defines holding only space)'],
  ].map(([name, file, text, says]) => refused(`a template Go's parser refuses: ${name}`, file as string, text as string, `Helm cannot install this chart: Go's template parser refuses ${says as string}`)),
  // text/template checks a call's number of arguments as it runs it: at a template's top level, on every render.
  refused('a template calling include without its context', 'templates/deployment.yaml', 'kind: Deployment\nmetadata:\n  labels:\n    {{- include "web.labels" | nindent 4 }}\n', 'Helm cannot install this chart: templates/deployment.yaml calls include with 1 argument (line 4) on every render, and include takes 2, so every install stops there (Helm: "executing "<chart>/templates/deployment.yaml" at <include>: wrong number of args for include: want 2 got 1")'),
  // A variadic function's fixed parameters too (sprig's round(a, p, rOpt...)): Go's got leaves the value piped in out.
  refused('a template piping a value into round without its precision', 'templates/deployment.yaml', 'kind: Deployment\nspec:\n  cpu: {{ .Values.cpu | round }}\n', 'Helm cannot install this chart: templates/deployment.yaml calls round with 1 argument (the value piped in; line 3) on every render, and round takes at least 2, so every install stops there (Helm: "executing "<chart>/templates/deployment.yaml" at <round>: wrong number of args for round: want at least 2 got 0")'),
  // An if's pipeline at the top level is evaluated on every render, as a command's is.
  refused('a template whose if calls include without its context', 'templates/deployment.yaml', 'kind: Deployment\n{{- if include "web.enabled" }}\nmetadata: {}\n{{- end }}\n', 'Helm cannot install this chart: templates/deployment.yaml calls include with 1 argument (line 2) on every render, and include takes 2, so every install stops there (Helm: "executing "<chart>/templates/deployment.yaml" at <include>: wrong number of args for include: want 2 got 1")'),
  // A chart retired on purpose: its template fails on every render.
  refused('a template calling fail at its top level', 'templates/retired.yaml', '{{ fail "web moved to example.com/charts" }}\n', 'Helm cannot install this chart: templates/retired.yaml calls fail (line 1) on every render, which stops the render whatever it is given, so every install stops there (Helm: "execution error at (<chart>/templates/retired.yaml:1): ...")'),
  // Helm's engine executes NOTES.txt with the other templates, and a failure there fails the install (--hide-notes only hides the output).
  refused('NOTES.txt calling include without its context', 'templates/NOTES.txt', 'Installed {{ include "web.fullname" | quote }}.\n', 'Helm cannot install this chart: templates/NOTES.txt calls include with 1 argument (line 1) on every render, and include takes 2, so every install stops there (Helm: "executing "<chart>/templates/NOTES.txt" at <include>: wrong number of args for include: want 2 got 1")'),
  {
    name: 'NOTES.txt running a template no file defines',
    files: { 'web/templates/_helpers.tpl': '{{- define "webapp.fullname" -}}web{{- end }}\n', 'web/templates/NOTES.txt': 'Get the address:\n  kubectl get svc {{ include "web.fullname" . }}\n' },
    says: 'Helm cannot install this chart: templates/NOTES.txt runs the template "web.fullname" (line 2) on every render, and no template of the chart defines it, so every install stops there (Helm: "error calling include: template: no template "web.fullname" associated with template "gotpl""); the chart defines "webapp.fullname"',
  },
  // The same in a helper a template runs on every render, through another helper.
  {
    name: 'a template running a helper that calls include without its context',
    files: {
      'web/templates/_helpers.tpl': '{{- define "web.selectorLabels" -}}\napp: web\n{{- end }}\n{{- define "web.labels" -}}\n{{ include "web.selectorLabels" }}\n{{- end }}\n{{- define "web.meta" -}}\nlabels:\n  {{- include "web.labels" . | nindent 2 }}\n{{- end }}\n',
      'web/templates/deployment.yaml': 'kind: Deployment\nmetadata:\n  {{- include "web.meta" . | nindent 2 }}\n',
    },
    says: 'Helm cannot install this chart: templates/deployment.yaml runs the template "web.meta" (line 3) on every render; "web.labels" (templates/_helpers.tpl), which it runs, calls include with 1 argument (line 5), and include takes 2, so every install stops there (Helm: "... at <include>: wrong number of args for include: want 2 got 1")',
  },
  // Two files define the helper: Helm parses the chart's files most `/` first, then the larger name first, and keeps the
  // last define holding more than space (templates/_helpers.tpl over templates/_legacy.tpl).
  {
    name: 'a helper two files define, the one Helm keeps calling include without its context',
    files: {
      'web/templates/_helpers.tpl': '{{- define "web.selectorLabels" -}}\napp: web\n{{- end }}\n{{- define "web.labels" -}}\n{{ include "web.selectorLabels" }}\n{{- end }}\n',
      'web/templates/_legacy.tpl': '{{- define "web.labels" -}}\n{{ include "web.selectorLabels" . }}\n{{- end }}\n',
      'web/templates/deployment.yaml': 'kind: Deployment\nmetadata:\n  labels:\n    {{- include "web.labels" . | nindent 4 }}\n',
    },
    says: 'Helm cannot install this chart: templates/deployment.yaml runs the template "web.labels" (line 4) on every render; it (templates/_helpers.tpl) calls include with 1 argument (line 5), and include takes 2, so every install stops there (Helm: "... at <include>: wrong number of args for include: want 2 got 1")',
  },
  // A chart renamed after `helm create`: its templates still include the old name, which no template defines.
  {
    name: 'a template running a template no file defines',
    files: { 'web/templates/_helpers.tpl': '{{- define "webapp.fullname" -}}web{{- end }}\n', 'web/templates/deployment.yaml': 'kind: Deployment\nmetadata:\n  name: {{ include "web.fullname" . }}\n' },
    says: 'Helm cannot install this chart: templates/deployment.yaml runs the template "web.fullname" (line 3) on every render, and no template of the chart defines it, so every install stops there (Helm: "error calling include: template: no template "web.fullname" associated with template "gotpl""); the chart defines "webapp.fullname"',
  },
  // The same with subcharts (a folder holding an archive): their templates share Helm's one namespace, and none defines it either.
  {
    name: 'a template running a template neither the chart nor its subcharts define',
    files: {
      'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.x\n',
      'web/charts/redis/Chart.yaml': 'apiVersion: v2\nname: redis\nversion: 1.2.0\n',
      'web/charts/redis/templates/_helpers.tpl': '{{- define "redis.fullname" -}}redis{{- end }}\n',
      'web/charts/redis/charts/common-2.0.0.tgz': COMMON_TGZ,
      'web/templates/_helpers.tpl': '{{- define "webapp.fullname" -}}web{{- end }}\n',
      'web/templates/deployment.yaml': 'kind: Deployment\nmetadata:\n  name: {{ include "web.fullname" . }}\n  labels: {{ include "common.labels" . }}\n',
    },
    says: 'Helm cannot install this chart: templates/deployment.yaml runs the template "web.fullname" (line 3) on every render, and no template of the chart or of its subcharts defines it, so every install stops there (Helm: "error calling include: template: no template "web.fullname" associated with template "gotpl""); the chart and its subcharts define "webapp.fullname", "redis.fullname"',
  },
];

/** validate exits 1 with `stdout` after the pack's FAILED line; push exits 1 and writes no pack into `layout`. */
async function expectRefused(dir: string, layout: string, stdout: string[]): Promise<void> {
  const { validate, push } = await validateThenPush(dir, layout);
  expectRun(validate, { code: 1, stdout: [`${dir}: web:1.0.0 FAILED\n`, ...stdout] });
  await expectPushRefusedInvalid(push, layout);
}

describe('chart archives Helm refuses to load or install', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-helm-');
    await writeValidPackPerCase(root, CASES, async (dir, c) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...c.files })));
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name: validate exits 1 with what Helm says, push publishes nothing', async ({ i, says }) => {
    await expectRefused(join(w.root, `case-${i}`), join(w.root, `layout-${i}`), ['  error   charts/web-1.0.0.tgz: ', says]);
  });
});

describe('a chart archive appended to (`tar -r`), holding two copies of a file', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-helm-appended-') }));

  // Helm's loader loads every entry, so the first copy it refuses stops the chart, whatever comes after it.
  it('a values.yaml that does not parse, then a fixed one: validate exits 1 naming it, push publishes nothing', async () => {
    const dir = await writeValidPack(join(w.root, 'pack'));
    await putFile(dir, 'charts/web-1.0.0.tgz', await appendedTgz({ ...CHART_FILES, 'web/values.yaml': 'replicas: [1\n' }, { 'web/values.yaml': 'replicas: 1\n' }));
    await expectRefused(dir, join(w.root, 'layout'), ['  error   charts/web-1.0.0.tgz: ', 'Helm refuses this chart ("cannot load values.yaml": not valid YAML']);
  });
});

describe("a pack's own values.yaml that Go's YAML reader refuses", () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-helm-values-') }));

  // Palette reads a pack's values with Go: every Go YAML reader (go-yaml v2 and v3, sigs.k8s.io/yaml)
  // refuses a tag its value cannot hold while parsing, so this is an error, not a guess about Palette.
  it('an !!bool tag on "maybe": validate exits 1 naming values.yaml and the line, push publishes nothing', async () => {
    const dir = join(w.root, 'pack');
    await writeValidPack(dir);
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1', '    replicas: 1\n    enabled: !!bool maybe'));
    await expectRefused(dir, join(w.root, 'layout'), ['  error   values.yaml:10:21: not valid YAML: cannot decode !!str `maybe` as a !!bool (Go\'s YAML reader, which Helm uses, refuses it)']);
  });
});

describe('a chart running the defines of its subcharts', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-helm-subdefines-') }));

  /**
   * web's chart (CHART_FILES) with a subchart folder redis and `files` over them: validate passes, push publishes, and
   * the pulled pack holds the chart archive as written.
   */
  async function expectPublished(name: string, files: Record<string, string | Buffer>): Promise<void> {
    const chart = await tgz({ ...CHART_FILES, 'web/charts/redis/Chart.yaml': 'apiVersion: v2\nname: redis\nversion: 1.2.0\n', ...files });
    const dir = await writeValidPack(join(w.root, name));
    await putFile(dir, 'charts/web-1.0.0.tgz', chart);
    const layout = join(w.root, `${name}-layout`);
    const { validate, push } = await validateThenPush(dir, layout);
    expectRun(validate, { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`, '1 pack checked: 1 passed, 0 failed (0 errors, 0 warnings)'] });
    expect(push.code, push.stderr).toBe(0);
    const out = join(w.root, `${name}-pulled`);
    const pull = await runCli(['pull', 'web:1.0.0', '--oci-layout', layout, '-o', out]);
    expect(pull.code, pull.stderr).toBe(0);
    expect((await readFile(join(out, 'charts/web-1.0.0.tgz'))).equals(chart)).toBe(true);
  }

  // Helm's one render holds the templates of the chart and of every subchart it keeps: a define of a library
  // subchart's partial (in an archive in a subchart folder) is found. A disabled subchart's defines are counted too
  // (packpub judges no values here): that include is left to Helm.
  it('validate passes, push publishes, and the pulled pack holds the chart as written', async () => {
    await expectPublished('pack', {
      'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.x\n  condition: redis.enabled\n',
      'web/values.yaml': 'replicas: 1\nredis:\n  enabled: false\n',
      'web/charts/redis/templates/_helpers.tpl': '{{- define "redis.fullname" -}}redis{{- end }}\n',
      'web/charts/redis/charts/common-2.0.0.tgz': COMMON_TGZ,
      'web/templates/deployment.yaml': 'kind: Deployment\nmetadata:\n  name: {{ include "redis.fullname" . }}\n  labels: {{ include "common.labels" . }}\n',
    });
  });

  // A helper the chart and a subchart define: Helm parses web/charts/redis/templates/_h.tpl after
  // web/templates/old/v1/_h.tpl (as many `/`, the smaller name last) and keeps its define; the chart's own, which
  // calls include without its context, never runs.
  it("a helper the chart and a subchart define, Helm keeping the subchart's: validate passes, push publishes", async () => {
    await expectPublished('kept', {
      'web/templates/old/v1/_h.tpl': '{{- define "web.labels" -}}\n{{ include "web.name" }}\n{{- end }}\n{{- define "web.name" -}}web{{- end }}\n',
      'web/templates/deployment.yaml': 'kind: Deployment\nmetadata:\n  labels:\n    {{- include "web.labels" . | nindent 4 }}\n',
      'web/charts/redis/templates/_h.tpl': '{{- define "web.labels" -}}\napp: web\n{{- end }}\n',
    });
  });
});

describe("templates Go's parser reads, however unusual", () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-helm-templates-') }));

  // Each form is one Go's text/template parses (a trailing `|`, as DataDog's datadog-operator chart has; `}}` in a
  // string; a raw string over lines; break/continue in range; else with; `=` to a declared variable; define/block).
  it('validate passes, push publishes, and the pulled pack holds the chart as written', async () => {
    const dir = await writeValidPack(join(w.root, 'pack'));
    const template = [
      'kind: Deployment',
      '{{- /* a comment */ -}}',
      'metadata:',
      '  name: {{ .Values.name | quote | }}',
      '  note: {{ "}}" }} {{ `a',
      '}}b` }} {{ -1 }} {{ 0x1F }} {{ 1e3 }} {{ $.Values.name }}',
      '{{- range $i, $v := .Values.list }}{{ if $i }}{{ break }}{{ end }}{{ continue }}{{ end }}',
      '{{- with .Values.a }}{{ . }}{{ else with .Values.b }}{{ . }}{{ else }}none{{ end }}',
      '{{ $x := 1 }}{{ $x = 2 }}{{ $x }}{{ (len (list 1 2)) }}',
      '{{ define "web.x" }}{{ $ }}{{ end }}{{ template "web.x" . }}{{ block "web.y" . }}{{ . }}{{ end }}',
      // Run only when a value says so (or not at all, with or): not judged.
      '{{ if .Values.never }}{{ include "web.undefined" . }}{{ end }}{{ or .Values.name (include "web.undefined" .) }}',
      '',
    ].join('\n');
    const chart = await tgz({ ...CHART_FILES, 'web/templates/deployment.yaml': template });
    await putFile(dir, 'charts/web-1.0.0.tgz', chart);
    const layout = join(w.root, 'layout');
    const { validate, push } = await validateThenPush(dir, layout);
    expect(validate.code, validate.stdout).toBe(0);
    expect(validate.stdout).toContain('1 pack checked: 1 passed, 0 failed (0 errors');
    expect(push.code, push.stderr).toBe(0);
    const out = join(w.root, 'pulled');
    const pull = await runCli(['pull', 'web:1.0.0', '--oci-layout', layout, '-o', out]);
    expect(pull.code, pull.stderr).toBe(0);
    expect((await readFile(join(out, 'charts/web-1.0.0.tgz'))).equals(chart)).toBe(true);
  });
});
