import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A pack without logo.png: Spectro's pack structure table (librarium registries-and-packs.md, the OCI-era page:
 * "Mandatory / Optional") lists logo.png as optional beside the mandatory pack.json and values.yaml; only
 * pack-central's CI refuses a pack without one. So a warning, as for a missing README (packpub refused it).
 */
describe('a pack without logo.png', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-logo-optional-');
    const pack = await writePack(join(root, 'nologo-1.0.0'), { name: 'nologo', version: '1.0.0' });
    await rm(join(pack, 'logo.png'));
    return { root, pack };
  });

  it('validate exits 0 with a warning that names pack-central', async () => {
    expectRun(await runCli(['validate', w.pack], { env: { NO_COLOR: '1' } }), {
      code: 0,
      stdout: [
        "  warning logo.png: missing; Palette's pack structure lists the logo as optional, but pack-central requires it: add the logo Palette shows for the pack, as a PNG file named logo.png",
        '(0 errors, 1 warning)',
      ],
    });
  });

  it('validate --strict refuses it', async () => {
    expectRun(await runCli(['validate', w.pack, '--strict'], { env: { NO_COLOR: '1' } }), { code: 1, stdout: ['nologo:1.0.0 FAILED', "  warning logo.png: missing; Palette's pack structure", '(0 errors, 1 warning, warnings fail with --strict)'] });
  });

  it('push publishes it: the layout holds the version', async () => {
    const layout = join(w.root, 'store');
    const result = await runCli(['push', w.pack, '--oci-layout', layout], { env: { NO_COLOR: '1' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`published nologo:1.0.0 -> oci:${layout}/spectro-packs/archive/nologo:1.0.0`);
    const index = JSON.parse(await readFile(join(layout, 'spectro-packs/archive/nologo/index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['1.0.0']);
    expect((await readdir(join(layout, 'spectro-packs/archive/nologo/blobs/sha256'))).length).toBe(3);
  });
});
