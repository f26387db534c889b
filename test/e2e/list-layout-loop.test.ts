import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * `list --oci-layout` of a path behind a symbolic link loop (a -> b -> a): "ELOOP: too many symbolic links encountered,
 * stat ...", "this is a bug in packpub" (INTERNAL, exit 1), where push and copy through the same loop name it. Now it
 * says so beside "no packs", exit 0, as it says "(no such folder)" and "(not a folder)": nothing can be listed there.
 */

describe('list of an OCI layout behind a symbolic link loop', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir() }));

  it('says the loop, exit 0, no packs (was: "this is a bug in packpub", exit 1)', async () => {
    await symlink(join(w.root, 'b'), join(w.root, 'a'));
    await symlink(join(w.root, 'a'), join(w.root, 'b'));
    for (const path of [join(w.root, 'a'), join(w.root, 'a', 'layout')]) {
      const run = await runCli(['list', '--oci-layout', path]);
      expectRun(run, { code: 0, stdout: '' });
      expect(run.stderr).toBe(`no packs in oci-layout ${path} (a symbolic link on its way leads back to itself)\n`);
    }
  });
});
