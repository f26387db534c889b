import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPackPerCase } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * Packs Helm and Palette load that packpub used to refuse: YAML that Go's reader (go-yaml v2 through
 * sigs.k8s.io/yaml in Helm 3; the same libyaml scanner in v3) reads, checked against go-yaml v2.4.0
 * and v3 on the same bytes. validate exits 0 and push publishes the pack.
 */
const NEL = '\u0085';
const LS = '\u2028';

const CASES: Array<{ name: string; chart?: Record<string, string>; files?: Record<string, string> }> = [
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
];

describe('YAML Helm accepts', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-helm-ok-');
    await writeValidPackPerCase(root, CASES, async (dir, c) => {
      if (c.chart !== undefined) await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...c.chart }));
      for (const [rel, text] of Object.entries(c.files ?? {})) await putFile(dir, rel, text);
    });
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name: validate exits 0, push publishes the pack', async ({ i }) => {
    const dir = join(w.root, `case-${i}`);
    const validate = await runCli(['validate', dir], { env: { NO_COLOR: '1' } });
    expectRun(validate, { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`, '1 passed, 0 failed (0 errors, 0 warnings)'] });

    const layout = join(w.root, `layout-${i}`);
    const push = await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } });
    expect(push.code).toBe(0);
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
  });
});
