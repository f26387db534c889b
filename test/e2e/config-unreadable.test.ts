import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A packpub.yaml (or packpub.yml) in the working directory that is there but cannot be read as a file,
 * such as a link into a submodule the CI checkout left out or a folder of that name, was taken as "no configuration
 * file": the run used none of its targets and published to the local layout ./oci-packs, exit 0.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-config-unreadable-');
  const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  await mkdir(join(root, 'shared'));
  return { root, pack };
});
const env = () => ({ HOME: join(w.root, 'home') });
const layoutHolds = (dir: string) => existsSync(join(w.root, dir, 'spectro-packs/archive/hello'));

describe('a configuration file in the working directory that cannot be read', () => {
  it('a link to a missing file: exit 2 naming it, nothing published (was: published to ./oci-packs, exit 0)', async () => {
    const link = join(w.root, 'packpub.yaml');
    await symlink(join('shared', 'packpub.yaml'), link);
    try {
      const run = await runCli(['push', w.pack], { env: env(), cwd: w.root });
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: packpub.yaml in ${w.root} cannot be read: it is a link to a file that does not exist`);
      expect(layoutHolds('oci-packs')).toBe(false);
      // Once the file is there, its target is used.
      await writeFile(join(w.root, 'shared', 'packpub.yaml'), 'targets:\n  local:\n    ociLayout: released\ndefaults:\n  target: local\n');
      const again = await runCli(['push', w.pack], { env: env(), cwd: w.root });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(layoutHolds('oci-packs')).toBe(false);
      expect(layoutHolds('released')).toBe(true);
    } finally {
      await rm(link, { force: true });
    }
  });

  it('a folder named packpub.yml: exit 2 naming it, nothing published (was: published to ./oci-packs, exit 0)', async () => {
    const dir = join(w.root, 'packpub.yml');
    await mkdir(dir);
    try {
      const run = await runCli(['push', w.pack, '--dry-run'], { env: env(), cwd: w.root });
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: packpub.yml in ${w.root} cannot be read: it is a folder`);
      expect(layoutHolds('oci-packs')).toBe(false);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('no file at all: the local layout, as before', async () => {
    const run = await runCli(['push', w.pack], { env: env(), cwd: w.root });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(layoutHolds('oci-packs')).toBe(true);
  });
});
