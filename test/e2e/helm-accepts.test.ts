import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { appendedTgz, putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, packJsonWith, writeValidPackPerCase } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';
import { runChild } from '../support/spawner.js';

/*
 * Packs Helm and Palette load that packpub used to refuse: YAML that Go's reader (go-yaml v2 through
 * sigs.k8s.io/yaml in Helm 3; the same libyaml scanner in v3) reads, checked against go-yaml v2.4.0
 * and v3 on the same bytes; and packs that Palette, pack-central's validator, Helm and ORAS all take
 * but packpub refused (errors with no upstream refusal behind them), now a warning saying what may go
 * wrong. validate exits 0 and push publishes the pack as it is on disk.
 */
const NEL = '\u0085';
const LS = '\u2028';

const CASES: Array<{ name: string; chart?: Record<string, string>; files?: Record<string, string | Buffer>; remove?: string; warning?: string; warnings?: number }> = [
  {
    // Helm never renders crds/, so text like {{ .Name }} inside quotes or a block scalar is only text.
    name: 'a CRD whose descriptions hold template-like text, and empty documents between --- lines',
    chart: {
      'web/crds/widgets.yaml': '---\n# generated\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  description: "domain: {{ .Name }}.{{ .Namespace }}"\n  example: |\n    {{ .Name }}-{{ .Namespace }}\n---\n',
      'web/crds/gadgets.json': '{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "gadgets.example.com"}}',
      'web/crds/README.md': '{{ not read: Helm applies .yaml, .yml and .json files only }}\n',
    },
  },
  {
    // Clusters before Kubernetes 1.22 serve apiextensions.k8s.io/v1beta1 CRDs: a warning, not a refusal.
    name: 'a chart whose crds/ hold apiextensions.k8s.io/v1beta1 CRDs',
    chart: {
      'web/crds/widgets.yaml': 'apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n',
      'web/crds/gadgets.yaml': 'apiVersion: "apiextensions.k8s.io/v1beta1"\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.example.com\n',
      'web/crds/things.yaml': 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.example.com\n  annotations:\n    note: apiextensions.k8s.io/v1beta1\n',
    },
    warning: 'warning charts/web-1.0.0.tgz: crds/widgets.yaml, crds/gadgets.yaml hold apiextensions.k8s.io/v1beta1 CustomResourceDefinitions, an API Kubernetes 1.22 and later no longer serve: Helm\'s install of this chart fails on such clusters ("failed to install CRD crds/widgets.yaml: ... no matches for kind "CustomResourceDefinition" in version "apiextensions.k8s.io/v1beta1""); use a chart version whose CRDs are apiextensions.k8s.io/v1',
  },
  {
    // Helm outputs no partial (_*) and no *NOTES.txt, skips empty and comment-only documents, and reads JSON as YAML.
    name: 'templates without actions that Helm outputs as Kubernetes objects, or not at all',
    chart: {
      'web/templates/ns.yaml': '# generated\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\n\n',
      'web/templates/blank.yaml': '\n  \n',
      'web/templates/_README.md': '# Web\n\nread with .Files.Get\n',
      'web/templates/INSTALL-NOTES.txt': 'Thanks for installing.\n',
      'web/templates/role.json': '{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web"}}\n',
    },
  },
  {
    // Go checks a call's arguments only when it runs: a helper run only when a value turns it on (bitnami janusgraph's
    // volume-permissions container, include without its context) fails only those installs.
    name: 'a helper calling include without its context, run only under an if',
    chart: {
      'web/templates/_helpers.tpl': '{{- define "web.image" -}}nginx{{- end }}\n{{- define "web.init" -}}\n- image: {{ include "web.image" }}\n{{- end }}\n',
      'web/templates/deployment.yaml': 'kind: Deployment\nspec:\n{{- if .Values.init }}\n  initContainers:\n    {{- include "web.init" . | nindent 4 }}\n{{- end }}\n',
    },
  },
  {
    name: 'a chart values.yaml with NEL line ends (is_break: NEL ends a line)',
    chart: { 'web/values.yaml': `replicas: 1${NEL}image:${NEL}  tag: "1.0"${NEL}` },
  },
  {
    name: 'a chart values.yaml with an LS line break',
    chart: { 'web/values.yaml': `replicas: 1${LS}note: |${LS}  a${LS}  b\n` },
  },
  {
    name: 'a Chart.yaml description in quotes continued at column 1',
    chart: { 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\ndescription: "A web\nserver"\n' },
  },
  {
    name: 'a chart values.yaml with a block scalar header alone on the line after its key',
    chart: { 'web/values.yaml': 'replicas: 1\nconfig:\n|\n  port: 80\n' },
  },
  {
    name: 'plain scalars Go reads as strings where YAML 1.1 reads NaN (`.`, `e5`) or Infinity (`1e999`)',
    chart: {
      'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\nx: 1e999\ndependencies:\n- name: lib\n  import-values:\n  - child: a\n    parent: .\n',
      'web/charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\n',
      'web/values.yaml': 'replicas: 1\nseparator: .\nfamily: e2\nnote: ".nan stays quoted"\n',
    },
  },
  {
    name: "the pack's values.yaml with a quoted value continued at column 1",
    files: { 'values.yaml': `${VALID_VALUES}notes:\n  text: 'one\ntwo'\n` },
  },
  {
    // Go's encoding/json and jq read each invalid byte as U+FFFD; they refuse neither.
    name: 'a pack.json saved as Windows-1252 (an "é" in displayName)',
    files: { 'pack.json': Buffer.from(packJsonWith((json) => (json['displayName'] = 'Web caf\u00e9')), 'latin1') },
    warning: 'warning pack.json:16:26: not valid UTF-8 (saved in another encoding, e.g. Windows-1252?)',
  },
  {
    // Helm's loader fills one Metadata from every Chart.yaml entry in turn: the appended one keeps the version.
    name: 'a chart archive appended to (`tar -r`) with a second Chart.yaml lacking the version',
    files: { 'charts/web-1.0.0.tgz': await appendedTgz(CHART_FILES, { 'web/Chart.yaml': 'apiVersion: v2\nname: web\ndescription: patched\n' }) },
  },
  {
    // sigs.k8s.io/yaml hands Helm's string fields numbers as Go writes them: 1.20 is "1.2" (and 0x10 is "16"), both semver-free fields here.
    name: 'a Chart.yaml appVersion written as an unquoted number, and a subchart version in hex',
    chart: { 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: 1.20\n', 'web/charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0x10\n' },
    warning: 'warning charts/web-1.0.0.tgz: Chart.yaml: appVersion: 1.20 is a YAML number, which Helm reads as "1.2": quote it (appVersion: "1.20") so Helm reads what is written',
    warnings: 2,
  },
  {
    // pack-central checks only that logo.png exists (`[ -f logo.png ]`).
    name: 'an empty logo.png',
    files: { 'logo.png': '' },
    warning: "warning logo.png: not a PNG image: it is empty; Palette would show a broken image as the pack's logo",
  },
  {
    // Palette does without a README; pack-central's `[ -f README.md ]` fails a folder as it fails none.
    name: 'README.md that is a folder',
    remove: 'README.md',
    files: { 'README.md/index.md': '# Web\n' },
    warning: 'warning README.md: a directory, not a file, so Palette shows no README',
  },
  {
    // Go reads it into an int64 or (rounded) a float64; jq and pack-central's schema take any number.
    name: 'an integer past 2^53 in pack.json',
    files: { 'pack.json': packJsonWith(() => undefined).replace('"minLimit": 100', '"minLimit": 9007199254740993') },
    warning: 'warning pack.json:33:21 constraints.resources[0].minLimit: integer 9007199254740993 is beyond 2^53-1',
  },
  {
    // go-yaml reads a nil key; only sigs.k8s.io/yaml's JSON step refuses it ("unsupported map key of type: <nil>"), once it reaches a chart.
    name: "the pack's values.yaml with a null key (Palette's reader is not public)",
    files: { 'values.yaml': `${VALID_VALUES}notes:\n  ~: left over\n` },
    warning: 'warning values.yaml:15:3 notes["~"]: the key notes["~"] is null (~, null or nothing before the colon), which Go\'s YAML reader reads as no value and sigs.k8s.io/yaml cannot make a JSON key ("unsupported map key of type: <nil>"): Helm refuses such values if they reach a chart; quote the key ("~":) or remove it',
  },
  {
    // A tagged key is the key Go makes of it: !!float 1e7 is "1e+07" (float32 'g' text), which the chart's schema allows.
    name: "a tagged key in the pack's values.yaml, checked against the chart's values.schema.json as Helm holds it",
    chart: { 'web/values.schema.json': JSON.stringify({ type: 'object', properties: { replicas: { type: 'integer' }, '1e+07': { type: 'string' } }, additionalProperties: false }) },
    files: { 'values.yaml': VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    !!float 1e7: ten million\n') },
    warning: 'warning values.yaml:10:13 charts.web["1e+07"]: charts.web["1e+07"] is not a value of chart "web" 1.0.0',
  },
];

describe('YAML Helm accepts', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-helm-ok-');
    await writeValidPackPerCase(root, CASES, async (dir, c) => {
      if (c.chart !== undefined) await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...c.chart }));
      if (c.remove !== undefined) await rm(join(dir, c.remove));
      for (const [rel, text] of Object.entries(c.files ?? {})) await putFile(dir, rel, text);
    });
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name: validate exits 0, push publishes the pack', async ({ i, files, warning, warnings = 1 }) => {
    const dir = join(w.root, `case-${i}`);
    const validate = await runCli(['validate', dir], { env: { NO_COLOR: '1' } });
    const verdict = warning === undefined ? [`${dir}: web:1.0.0 OK\n`, '1 passed, 0 failed (0 errors, 0 warnings)'] : [warning, `1 passed, 0 failed (0 errors, ${warnings} warning${warnings === 1 ? '' : 's'})`];
    expectRun(validate, { code: 0, stdout: verdict });

    const layout = join(w.root, `layout-${i}`);
    const push = await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } });
    expect(push.code).toBe(0);
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
    // The pack layer (its folder named <name>-<version>) holds the files byte for byte.
    const repo = join(layout, 'spectro-packs/archive/web');
    const manifest = JSON.parse(await readFile(join(repo, 'blobs/sha256', held.tags.get('spectro-packs/archive/web:1.0.0')!.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
    const layer = join(repo, 'blobs/sha256', manifest.layers[0]!.digest.slice(7));
    for (const [rel, content] of Object.entries(files ?? {})) expect((await runChild('tar', ['-xzOf', layer, `web-1.0.0/${rel}`])).stdout).toEqual(Buffer.from(content));
  });
});
