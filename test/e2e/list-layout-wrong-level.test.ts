import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { helloPackAndEnv } from '../support/published.js';

/*
 * `list --oci-layout` given a folder inside a layout of packs (its spectro-packs/ or spectro-packs/archive/, or one
 * pack's repository folder, which is itself an OCI layout), or a file: "no packs in oci-layout X", exit 0, as for an
 * empty layout, while the packs were one or three folders up (a CI step reading the list then promoted nothing).
 * Now it says where to point. Still exit 0, as for an empty or missing folder.
 */

describe('list of a path that is not the top of an OCI layout of packs', () => {
  const w = setup(helloPackAndEnv);

  it('says to give the folder that holds spectro-packs/, or that it is not a folder (was: only "no packs")', async () => {
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env }), { code: 0 });
    for (const inside of ['spectro-packs', 'spectro-packs/archive', 'spectro-packs/archive/', 'spectro-packs/archive/hello']) {
      const path = join(layout, inside);
      const run = await runCli(['list', '--oci-layout', path], { env: w.env });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr, inside).toBe(`no packs in oci-layout ${path}: it is inside an OCI layout of packs, or one repository's layout; give the folder that holds spectro-packs/\n`);
    }
    const file = join(w.root, 'a-file');
    await writeFile(file, 'x');
    expect((await runCli(['list', '--oci-layout', file], { env: w.env })).stderr).toBe(`no packs in oci-layout ${file} (not a folder)\n`);
    // The top folder lists the pack, as before.
    expect((await runCli(['list', '--oci-layout', layout], { env: w.env })).stdout).toContain('hello  1.0.0');
  });
});
