import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, spawnCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * push into an OCI layout interrupted while it wrote a layer (Ctrl-C with PACKPUB_INTERRUPT_GRACE=0, or the grace over:
 * the run ends through process.exit) left `blobs/sha256/<hex>.tmp-<pid>-<hex>` (9.7 MB of a 191 MB layer when seen),
 * which only a run writing there an hour later removed. Now the run removes the temp files it has in flight as it ends.
 */

const SIGNAL_AFTER_OPEN = resolve('test/fixtures/node-options/signal-after-open.cjs');

const w = setup(async (stack) => {
  const root = await stack.tempDir();
  // A layer over the 1 MiB written in one call: streamed through a temp file, in flight when the signal is handled.
  return { root, pack: await writePack(join(root, 'pack'), { name: 'tmpflight', version: '1.0.0', files: { 'manifests/data.bin': randomBytes(6 * 1024 * 1024) } }) };
});

describe('push to an OCI layout interrupted while it writes a layer', () => {
  it('exit 130, no tag, and no temp file left in the layout (was: the layer\'s temp file, kept for an hour)', async () => {
    const layout = join(w.root, 'layout');
    const blobs = join(layout, 'spectro-packs', 'archive', 'tmpflight', 'blobs', 'sha256');
    const run = await spawnCli(['push', w.pack, '--oci-layout', layout, '--no-cache'], {
      nodeArgs: ['--require', SIGNAL_AFTER_OPEN],
      env: { PACKPUB_TEST_SIGNAL_PREFIX: `${blobs}/`, PACKPUB_INTERRUPT_GRACE: '0' },
    }).done;
    expectRun(run, { code: 130, stderr: ['not published: abandoned in flight: tmpflight:1.0.0'] });
    expect((await readdir(blobs)).filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(existsSync(join(blobs, '..', '..', 'index.json'))).toBe(false);
  });
});
