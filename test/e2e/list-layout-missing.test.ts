import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * `list --oci-layout <folder that does not exist>` (a typo in a CI step) said only "no packs in oci-layout X", as for
 * an empty layout: now it says there is no such folder. Still exit 0, as an empty listing (the default ./oci-packs
 * before the first push is no error), and nothing is made.
 */

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-list-layout-missing-') }));

describe('list of an OCI layout folder', () => {
  it('that does not exist: "no packs ... (no such folder)", exit 0, nothing made; an empty one: as before', async () => {
    const typo = join(w.root, 'oci-pakcs');
    const run = await runCli(['list', '--oci-layout', typo]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`no packs in oci-layout ${typo} (no such folder)\n`);
    expect((await runCli(['list', 'hello', '--oci-layout', typo])).stderr).toBe(`no pack hello in oci-layout ${typo} (no such folder)\n`);
    expect(existsSync(typo)).toBe(false);
    // review5 (s24): with --json too, the log says why the document's packs are empty (was: nothing on stderr).
    const json = await runCli(['list', '--oci-layout', typo, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ packs: [] });
    expect(json.stderr).toBe(`no packs in oci-layout ${typo} (no such folder)\n`);

    const empty = join(w.root, 'empty');
    await mkdir(empty);
    expect((await runCli(['list', '--oci-layout', empty])).stderr).toBe(`no packs in oci-layout ${empty}\n`);
  });
});
