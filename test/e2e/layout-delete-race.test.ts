import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OciLayoutStore } from '../../src/targets/oci-layout.js';
import { expectRun, runBin, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * review s21 F3: `delete` on an OCI layout removes, under the index lock, the blobs no remaining tag references:
 * the `{}` config blob every version of a pack shares included. A push of another version into the same
 * repository found that blob there before (outside the lock) and skipped it, then tagged its manifest: both runs
 * exited 0, and the new version's config blob was gone (copy and skopeo then fail on it; a re-push said
 * "unchanged"). Here the delete, a process of its own, runs between the push's uploads and its manifest write,
 * where a slow layer upload leaves room for it.
 */

describe('delete of one version while a push of another writes into the same layout repository', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    return { root, old: await writePack(join(root, 'old'), { name: 'race', version: '1.0.1' }), next: await writePack(join(root, 'next'), { name: 'race', version: '1.0.9' }) };
  });
  afterEach(() => vi.restoreAllMocks());

  it('never leaves the pushed version tagged over a blob the delete removed (was: both exit 0, its config blob gone)', async () => {
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', w.old, '--oci-layout', layout]), { code: 0, stdout: ['published race:1.0.1'] });

    const original = OciLayoutStore.prototype.pushManifest;
    let deleted: Awaited<ReturnType<typeof runBin>> | undefined;
    vi.spyOn(OciLayoutStore.prototype, 'pushManifest').mockImplementation(async function (this: OciLayoutStore, ...args) {
      // The uploads are done (the config blob was found there and skipped): another publisher deletes 1.0.1 now.
      if (args[1] === '1.0.9' && deleted === undefined) deleted = await runBin(['delete', 'race:1.0.1', '--force', '--oci-layout', layout]);
      return original.apply(this, args);
    });
    const pushed = await runCli(['push', w.next, '--oci-layout', layout]);
    expect(deleted?.code, deleted?.stderr).toBe(0);

    // Whatever the push says, no tag of the layout may point at a missing blob.
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    if (pushed.code === 0) {
      // Published: the version is whole, and a copy of it reads every blob.
      expect(held.tags.get('spectro-packs/archive/race:1.0.9')).toBeDefined();
      expectRun(await runCli(['copy', 'race:1.0.9', '--from', `oci:${layout}`, '--to', `oci:${join(w.root, 'copy')}`]), { code: 0, stdout: ['copied race:1.0.9'] });
    } else {
      // Refused: nothing tagged, the reason named, and a second run publishes it whole.
      expectRun(pushed, { code: 1, stderr: ['race:1.0.9', 'run again'] });
      expect(held.tags.has('spectro-packs/archive/race:1.0.9')).toBe(false);
      vi.restoreAllMocks();
      expectRun(await runCli(['push', w.next, '--oci-layout', layout]), { code: 0, stdout: ['published race:1.0.9'] });
      expect((await layoutHoldings(layout)).problems).toEqual([]);
    }
  });
});
