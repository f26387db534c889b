import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { putFile, tempDir, tgz } from '../support/files.js';
import { CHART_FILES, writeValidPack } from '../support/packs.js';

/*
 * A Chart.yaml number halfway between two shortest float32 forms: sigs.k8s.io/yaml writes it with Go's
 * strconv.FormatFloat(v, 'g', -1, 32), whose last digit rounds half to even, so `appVersion: 1.00390625`
 * is the text "1.0039062" to Helm. validate passes the pack and names the text Helm reads.
 */
describe('validate: a Chart.yaml number halfway between two shortest forms', () => {
  it('says Helm reads it rounded half to even (exit 0)', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const dir = join(root, 'web');
      await writeValidPack(dir);
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: 1.00390625\n' }));
      const run = await runCli(['validate', dir, '--json']);
      expect(run.code, run.stderr).toBe(0);
      const [report] = JSON.parse(run.stdout) as Array<{ ok?: boolean; findings: Array<{ rule: string; message: string }> }>;
      expect(report?.findings.filter((f) => f.rule === 'chart-yaml-number').map((f) => f.message)).toEqual([
        'Chart.yaml: appVersion: 1.00390625 is a YAML number, which Helm reads as "1.0039062": quote it (appVersion: "1.00390625") so Helm reads what is written',
      ]);
    } finally {
      await cleanup();
    }
  });
});
