import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { openTarget } from '../../src/targets/open.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli } from '../support/cli.js';
import { stage } from '../support/stage.js';
import { v7Tgz } from '../unit/pack/fixtures.js';

/*
 * A pack whose layer is a tar in the pre-POSIX V7 format (no ustar magic): Go's archive/tar, and so Palette,
 * reads it, so inspect and pull read it too.
 */

const temp = stage();

describe('a pack archive in the V7 tar format', () => {
  it('is shown by inspect and written out by pull', async () => {
    const root = await temp.tempDir();
    const layout = join(root, 'layout');
    const packJson = '{"name":"old","version":"1.0.0","layer":"addon","addonType":"system app","cloudTypes":["all"]}';
    const layer = await v7Tgz({ 'old/pack.json': packJson, 'old/values.yaml': 'pack:\n  namespace: old\n' });
    const target = await openTarget({ ociLayout: layout, credentials: staticProvider('none', undefined) });
    try {
      await pushTestPack(target.store, 'spectro-packs/archive/old', '1.0.0', layer);
    } finally {
      await target.store.close();
    }

    const shown = await runCli(['inspect', 'old:1.0.0', '--oci-layout', layout, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ packJson: { name: 'old', version: '1.0.0' } });

    const out = join(root, 'out');
    const pulled = await runCli(['pull', 'old:1.0.0', '-o', out, '--oci-layout', layout]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await readFile(join(out, 'pack.json'), 'utf8')).toBe(packJson);
    expect(await readFile(join(out, 'values.yaml'), 'utf8')).toBe('pack:\n  namespace: old\n');
  });
});
