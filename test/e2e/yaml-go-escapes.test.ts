import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * Escapes in double-quoted YAML scalars read as Go reads them (go-yaml v2.4.0 and v3, scannerc.go
 * yaml_parser_scan_flow_scalar: Helm, yq and Palette), not as YAML 1.2 does: `\'` is a quote (packpub
 * refused the pack: a false refusal), `\/` and a `\u` surrogate are refused (packpub passed the pack, and
 * Helm then refused the chart's or the pack's values), and so is a value whose line ends in an escaped quote
 * (`"C:\\"`: Go reads the value on into the next lines).
 */

describe('double-quoted escapes Go reads', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-yaml-escapes-') }));

  it("`\\'` in the pack's and the chart's values.yaml: validate exits 0 reading it as a quote, push publishes the pack as it is", async () => {
    const dir = await writeValidPack(join(w.root, 'quote'));
    // The chart's schema holds the value to what Go reads ("don't"): read as `don\'t`, the pack would fail it.
    const schema = JSON.stringify({ type: 'object', properties: { greeting: { type: 'string', pattern: "^it's$" }, quote: { type: 'string', pattern: "^don't$" } } });
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/values.yaml': 'replicas: 1\nquote: ""\ngreeting: "it\\\'s"\n', 'web/values.schema.json': schema }));
    const values = VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    quote: "don\\\'t"\n');
    await putFile(dir, 'values.yaml', values);
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`, '1 passed, 0 failed (0 errors, 0 warnings)'] });

    const layout = join(w.root, 'layout-quote');
    expect((await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } })).code).toBe(0);
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    const repo = join(layout, 'spectro-packs/archive/web');
    const manifest = JSON.parse(await readFile(join(repo, 'blobs/sha256', held.tags.get('spectro-packs/archive/web:1.0.0')!.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
    const layer = join(repo, 'blobs/sha256', manifest.layers[0]!.digest.slice(7));
    expect(execFileSync('tar', ['-xzOf', layer, 'web-1.0.0/values.yaml']).toString()).toBe(values);
  });

  it("`\\/` in the pack's values.yaml: validate exits 1 naming the line and column, push publishes nothing", async () => {
    const dir = await writeValidPack(join(w.root, 'slash'));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    route: "^\\/api\\/.*"\n'));
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 1, stdout: ['  error   values.yaml:10:14: not valid YAML: found unknown escape character', '1 error'] });
    const layout = join(w.root, 'layout-slash');
    const push = await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } });
    expect(push.code).toBe(1);
    expect(push.stdout + push.stderr).toContain('INVALID web:1.0.0: 1 error(s) in validation');
    await expect(access(join(layout, 'spectro-packs/archive/web'))).rejects.toThrow();
  });

  it("a Windows path ending in `\\\"` in the pack's values.yaml: validate exits 1, as Go reads the value on into the next line", async () => {
    const dir = await writeValidPack(join(w.root, 'escaped-quote'));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    path: "C:\\"\n    name: "web"\n'));
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 1, stdout: ['  error   values.yaml:11:12: not valid YAML', '1 error'] });
  });

  it("a `\\u` surrogate in the chart's values.yaml: validate exits 1 with Helm's refusal", async () => {
    const dir = await writeValidPack(join(w.root, 'surrogate'));
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/values.yaml': 'replicas: 1\nsmile: "\\uD83D\\uDE00"\n' }));
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), {
      code: 1,
      stdout: ['  error   charts/web-1.0.0.tgz: ', 'Helm refuses this chart ("cannot load values.yaml": not valid YAML: found invalid Unicode character escape code'],
    });
  });
});
