import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPack, writeValidPackPerCase } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Chart archives Helm's loader refuses, so Palette cannot install the pack: validate fails them with
 * Helm's words and exit 1, and push publishes nothing. Each case changes one file of a valid chart.
 */
const CASES: Array<{ name: string; files: Record<string, string | Buffer>; says: string }> = [
  {
    name: 'Chart.yaml keywords as one string',
    files: { 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\nkeywords: monitoring\n' },
    says: 'Helm refuses this chart ("cannot load Chart.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field Metadata.keywords of type []string")',
  },
  {
    name: 'a Latin-1 Chart.yaml',
    files: { 'web/Chart.yaml': Buffer.from('apiVersion: v2\nname: web\nversion: 1.0.0\ndescription: caf\xe9\n', 'latin1') },
    says: 'Helm refuses this chart ("cannot load Chart.yaml: error converting YAML to JSON: yaml: invalid UTF-8"): line 4 is not UTF-8 text; save Chart.yaml as UTF-8',
  },
  {
    name: 'a values.yaml that does not parse',
    files: { 'web/values.yaml': 'replicas: [1\n' },
    says: 'Helm refuses this chart ("cannot load values.yaml": not valid YAML',
  },
  {
    name: 'a values.yaml holding a .inf',
    files: { 'web/values.yaml': 'replicas: 1\ntimeout: .inf\n' },
    says: 'Helm refuses this chart ("cannot load values.yaml": error converting YAML to JSON: json: unsupported value: timeout is .inf or .nan)',
  },
  {
    name: 'a values.yaml with a line holding only a tab',
    files: { 'web/values.yaml': 'replicas: 1\n\t\nimage: web\n' },
    says: 'Helm refuses this chart ("cannot load values.yaml": not valid YAML: found a tab character that violates indentation',
  },
  {
    name: 'a values.yaml with an !!int tag on a word',
    files: { 'web/values.yaml': 'replicas: !!int abc\n' },
    says: 'Helm refuses this chart ("cannot load values.yaml": not valid YAML: cannot decode !!str `abc` as a !!int (Go\'s YAML reader, which Helm uses, refuses it)',
  },
  {
    name: 'a Chart.yaml with bad !!binary base64',
    files: { 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\ndescription: !!binary aGk\n' },
    says: '!!binary value contains invalid base64 data',
  },
  {
    name: 'a Chart.lock generated on a date only',
    files: { 'web/Chart.lock': 'dependencies: []\ndigest: sha256:00\ngenerated: "2024-01-31"\n' },
    says: 'web-1.0.0.tgz/Chart.lock: Helm refuses this chart ("cannot load Chart.lock: error unmarshaling JSON: while decoding JSON: parsing time "2024-01-31" as "2006-01-02T15:04:05Z07:00": not an RFC 3339 time',
  },
];

describe('chart archives Helm refuses to load', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-helm-');
    await writeValidPackPerCase(root, CASES, async (dir, c) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...c.files })));
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name: validate exits 1 with what Helm says, push publishes nothing', async ({ i, says }) => {
    const dir = join(w.root, `case-${i}`);
    const validate = await runCli(['validate', dir], { env: { NO_COLOR: '1' } });
    expectRun(validate, { code: 1, stdout: [`${dir}: web:1.0.0 FAILED\n`, `  error   charts/web-1.0.0.tgz: `, says] });

    const layout = join(w.root, `layout-${i}`);
    const push = await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } });
    expect(push.code).toBe(1);
    expect(push.stdout + push.stderr).toContain('INVALID web:1.0.0: 1 error(s) in validation');
    await expect(access(join(layout, 'spectro-packs/archive/web'))).rejects.toThrow();
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
    const validate = await runCli(['validate', dir], { env: { NO_COLOR: '1' } });
    expectRun(validate, {
      code: 1,
      stdout: [`${dir}: web:1.0.0 FAILED\n`, '  error   values.yaml:10:21: not valid YAML: cannot decode !!str `maybe` as a !!bool (Go\'s YAML reader, which Helm uses, refuses it)'],
    });

    const layout = join(w.root, 'layout');
    const push = await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } });
    expect(push.code).toBe(1);
    expect(push.stdout + push.stderr).toContain('INVALID web:1.0.0: 1 error(s) in validation');
    await expect(access(join(layout, 'spectro-packs/archive/web'))).rejects.toThrow();
  });
});
