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

describe('a chart values.yaml of several YAML documents', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-chart-values-documents-');
    await writeValidPackPerCase(root, CASES, async (dir, c) => {
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/values.yaml': c.values }));
    });
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$values: validate exits 0 with a warning', async ({ i, says }) => {
    const dir = join(w.root, `case-${i}`);
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), {
      code: 0,
      stdout: ['  warning charts/web-1.0.0.tgz: values.yaml holds YAML documents after its first (--- lines): Helm 3 reads only the first; ', says, 'which Helm Palette installs with is not public', '(0 errors, 1 warning)'],
    });
  });
});
