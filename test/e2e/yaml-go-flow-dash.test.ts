import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile } from '../support/files.js';
import { VALID_VALUES, writeValidPack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * `{sep: -}` in the pack's values.yaml: Go (go-yaml v2.4.0 and v3: Helm, yq, Palette) reads the value "-"; packpub
 * refused the pack ("Block collections are not allowed within flow collections"), a false refusal.
 */

describe('a dash value in a flow mapping', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-yaml-flow-dash-') }));

  it('validate exits 0 and push publishes the pack', async () => {
    const dir = await writeValidPack(join(w.root, 'dash'));
    await putFile(dir, 'values.yaml', VALID_VALUES.replace('  extra:\n', '  extra:\n    args: {sep: -, mode: split}\n'));
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`] });
    const layout = join(w.root, 'layout');
    expect((await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } })).code).toBe(0);
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
  });
});
