import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, writeValidPackPerCase } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A chart's values.yaml with YAML documents after its first: Helm 3 reads only the first; Helm 4 (pkg/chart/v2/loader
 * LoadValues, v4.0.0 on) splits it at every `---` line, refuses a part that is no mapping or no YAML, or a `---` line
 * holding more than a comment, and merges the rest. Which Helm Palette runs is not public: a warning, never a refusal
 * (packpub said nothing).
 */

const CASES: Array<{ values: string; says: string }> = [
  { values: 'replicas: 1\n---\n- x\n', says: 'Helm 4 reads every one and refuses the chart ("cannot unmarshal yaml document: ... into Go value of type map[string]interface {}", as a document after the first is a list, not a mapping)' },
  { values: 'replicas: 1\n--- {port: 80}\n', says: 'refuses the chart ("error reading yaml document: invalid Yaml document separator: {port: 80}", as a --- line holds more than a comment)' },
  { values: 'replicas: 1\n---\nport: 80\n', says: 'Helm 4 reads every one and merges the values of the later one over the first\'s' },
];

/** A valid pack per case (case-<i>), its chart archive's values.yaml the case's `values`. */
function packPerValues(prefix: string, cases: ReadonlyArray<{ values: string | Buffer }>) {
  return setup(async (stack) => {
    const root = await stack.tempDir(prefix);
    await writeValidPackPerCase(root, cases, async (dir, c) => {
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/values.yaml': c.values }));
    });
    return { root };
  });
}

describe('a chart values.yaml of several YAML documents', () => {
  const w = packPerValues('packpub-e2e-chart-values-documents-', CASES);

  it.each(CASES.map((c, i) => ({ ...c, i })))('$values: validate exits 0 with a warning', async ({ i, says }) => {
    const dir = join(w.root, `case-${i}`);
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), {
      code: 0,
      stdout: ['  warning charts/web-1.0.0.tgz: values.yaml holds YAML documents after its first (--- lines): Helm 3 reads only the first; ', says, 'which Helm Palette installs with is not public', '(0 errors, 1 warning)'],
    });
  });
});

/*
 * A chart's values.yaml saved as UTF-16 (PowerShell 5's `>`): Helm 3 decodes the file at once; Helm 4 reads it line by
 * line (LineReader), putting a "\n" back after the last piece too, so a file whose last byte is not 0x0A (UTF-16LE
 * always: its newline is 0A 00) gains a byte and go-yaml refuses the odd length. A warning, as above.
 */

const utf16 = (text: string, order: 'le' | 'be'): Buffer => {
  const le = Buffer.from(text, 'utf16le');
  return Buffer.concat([Buffer.from(order === 'le' ? [0xff, 0xfe] : [0xfe, 0xff]), order === 'le' ? le : Buffer.from(le).swap16()]);
};

const UTF16: Array<{ name: string; values: Buffer; warned: boolean }> = [
  { name: 'UTF-16LE (what PowerShell 5 writes)', values: utf16('replicas: 1\n', 'le'), warned: true },
  { name: 'UTF-16BE without a final newline', values: utf16('replicas: 1', 'be'), warned: true },
  { name: 'UTF-16BE ending in a newline (its last byte 0x0A: Helm 4 reads it too)', values: utf16('replicas: 1\n', 'be'), warned: false },
];

describe('a chart values.yaml saved as UTF-16', () => {
  const w = packPerValues('packpub-e2e-chart-values-utf16-', UTF16);

  it.each(UTF16.map((c, i) => ({ ...c, i })))('$name: validate exits 0, warned: $warned', async ({ i, warned }) => {
    const dir = join(w.root, `case-${i}`);
    const warning =
      '  warning charts/web-1.0.0.tgz: values.yaml is UTF-16 text (it starts with a UTF-16 byte-order mark, as Windows PowerShell 5\'s `>` and `Out-File` write it): Helm 3 reads it; Helm 4 reads values.yaml line by line and refuses the chart ("cannot load values.yaml: cannot unmarshal yaml document: error converting YAML to JSON: yaml: incomplete UTF-16 character"); which Helm Palette installs with is not public: save it as UTF-8, then package the chart again';
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 0, stdout: warned ? [warning, '(0 errors, 1 warning)'] : ['(0 errors, 0 warnings)'] });
  });
});
