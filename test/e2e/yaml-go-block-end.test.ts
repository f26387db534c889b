import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, writeValidPack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * A block scalar (`|`, `>`) whose last line ends the file, with no line break after it, is read as Go reads
 * it (go-yaml v2.4.0 and v3, scannerc.go yaml_parser_scan_block_scalar: Helm, yq and Palette): without a
 * final "\n". packpub read one, and refused a chart whose Chart.yaml ends in `version: >` + `  1.0.0`
 * ("1.0.0\n" is no semantic version) that Helm installs, and warned about pack values a chart's schema
 * holds to an exact text.
 */

describe('a block scalar ending the file', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-yaml-block-end-') }));

  it('Chart.yaml ending in a folded version with no final line break: validate exits 0, push publishes the pack', async () => {
    const dir = await writeValidPack(join(w.root, 'chart-version'));
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: >\n  1.0.0' }));
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`, '1 passed, 0 failed (0 errors, 0 warnings)'] });
    const layout = join(w.root, 'layout');
    expect((await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } })).code).toBe(0);
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
  });

  it("values.yaml ending in a literal value with no final line break: the chart's schema sees the value Go reads (no warning)", async () => {
    const dir = await writeValidPack(join(w.root, 'values-last'));
    const schema = JSON.stringify({ type: 'object', properties: { greeting: { type: 'string', pattern: '^hello$' } } });
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/values.yaml': 'replicas: 1\ngreeting: hello\n', 'web/values.schema.json': schema }));
    const values = ['pack:', '  namespace: web', '  content:', '    images:', '      - image: ghcr.io/example/web:1.0.0', 'manifests:', '  extra:', '    message: hi', 'charts:', '  web:', '    greeting: |', '      hello'].join('\n');
    await putFile(dir, 'values.yaml', values);
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`, '1 passed, 0 failed (0 errors, 0 warnings)'] });
  });
});
