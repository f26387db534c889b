import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * IPv6 addresses ending in `::` inside a flow collection of values.yaml: go-yaml (Helm, yq, Palette) reads
 * `[10.0.0.0/8, fd00::]` as two strings and `{pool: fd00::}` as a mapping to "fd00::" (a `:` ends a plain
 * scalar only before a blank or a line break). packpub read the first as a list holding a mapping, so the
 * chart's schema (a list of strings) refused the pack, and the second as a syntax error: false refusals.
 */

describe('IPv6 addresses ending in :: in a flow collection', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-flow-colon-') }));

  it('in a list the chart schema holds to strings, and in a {...} mapping: validate exits 0 with no finding', async () => {
    const dir = await writeValidPack(join(w.root, 'pack'));
    const schema = JSON.stringify({ type: 'object', properties: { cidrs: { type: 'array', items: { type: 'string' } }, pool: { type: 'object', additionalProperties: { type: 'string' } } } });
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/values.yaml': 'replicas: 1\ncidrs: []\npool: {}\n', 'web/values.schema.json': schema }));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    cidrs: [10.0.0.0/8, fd00::]\n    pool: {v6: fd00::}\n'));
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`, '1 passed, 0 failed (0 errors, 0 warnings)'] });
  });
});

describe('an IPv6 loopback (::1) unquoted in a flow list', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-flow-colon-refused-') }));

  // Go reads a ':' that starts a value inside [...] as a value indicator: Helm and Palette refuse the file.
  it('validate exits 1 naming the line and column', async () => {
    const dir = await writeValidPack(join(w.root, 'pack'));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    noProxy: [127.0.0.1, ::1]\n'));
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 1, stdout: ['  error   values.yaml:10:26: not valid YAML: did not find expected node content', '1 error'] });
  });
});
