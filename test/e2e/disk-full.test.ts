import { randomBytes } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectLocalWriteRefused, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { stage } from '../support/stage.js';
import { runChildText } from '../support/spawner.js';

/*
 * chaos s22: a disk that fills while packpub writes (the layout folder, the work folder under TMPDIR, the cache
 * folder), as a CI runner's disk does. Each run that could not write: exit 1, LOCAL_WRITE naming what it was
 * writing, the target holding exactly what it held before (every tag whole, no temp file), and the run after
 * space was freed publishes what is missing. The cache is only an aid: a full cache folder fails nothing. Real
 * tmpfs mounts of a few hundred KiB (the tests run as root, as CI does), grown with `remount,size=` to free space.
 */

const stack = stage();

/** A temp folder of the test's own (`root`) and in it `disk`, a tmpfs of its own of `size` (mount's size=), unmounted when the file's tests end. */
async function smallDisk(name: string, size: string): Promise<{ root: string; disk: string }> {
  const root = await stack.tempDir('packpub-disk-full-');
  const disk = join(root, name);
  await mkdir(disk);
  await runChildText('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', disk]);
  stack.defer(() => runChildText('umount', [disk]));
  return { root, disk };
}

const grow = (dir: string) => runChildText('mount', ['-o', 'remount,size=8m', dir]);

/** A small valid pack whose archive is about `bytes` (incompressible payload). */
async function packOf(root: string, name: string, version: string, bytes: number): Promise<string> {
  return writePack(join(root, `${name}-${version}`), { name, version, files: { 'payload.bin': randomBytes(bytes) } });
}

/** Every file under `dir` whose name says a run left it mid-write (temp file, lock). */
async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).filter((p) => /\.tmp-|\.lock$/.test(p));
}

describe('a disk that fills while packpub writes', () => {
  it('the layout folder: exit 1 naming the blob, the layout keeps its old tag whole; after space is freed the re-run publishes', async () => {
    const { root, disk } = await smallDisk('layout-disk', '384k');
    const layout = join(disk, 'layout');
    const env = { PACKPUB_CACHE_DIR: join(root, 'cache') };
    const v1 = await packOf(root, 'full-lay', '1.0.0', 60_000);
    const v2 = await packOf(root, 'full-lay', '1.1.0', 400_000);
    const first = await runCli(['push', v1, '--oci-layout', layout], { env });
    expect(first.code, first.stderr).toBe(0);

    const full = await runCli(['push', v2, '--oci-layout', layout, '--json'], { env });
    expectLocalWriteRefused(full, join(layout, 'spectro-packs/archive/full-lay/blobs/sha256/'), 'no space left on the device (ENOSPC)', 'free space on that filesystem');
    expect(JSON.parse(full.stdout)).toMatchObject({ results: [{ status: 'failed', error: { code: 'LOCAL_WRITE' } }] });
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/full-lay:1.0.0']);
    expect(await leftovers(disk)).toEqual([]);

    await grow(disk);
    const again = await runCli(['push', v1, v2, '--oci-layout', layout], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('2 pack(s) to oci-layout');
    expect(again.stdout).toMatch(/1 published, 1 unchanged/);
    const after = await layoutHoldings(layout);
    expect(after.problems).toEqual([]);
    expect([...after.tags.keys()].sort()).toEqual(['spectro-packs/archive/full-lay:1.0.0', 'spectro-packs/archive/full-lay:1.1.0']);
  });

  it('the work folder (TMPDIR): exit 1 naming the archive being built there, nothing tagged; with room the re-run publishes', async () => {
    const { root, disk: tmp } = await smallDisk('tmp-disk', '256k');
    const layout = join(root, 'layout');
    const env = { PACKPUB_CACHE_DIR: join(root, 'cache') };
    // Above 1 MiB an archive is built into a file of the work folder, not in memory (push.ts IN_MEMORY_ARCHIVE_BYTES).
    const pack = await packOf(root, 'full-work', '1.0.0', 1_300_000);
    const full = await runCli(['push', pack, '--oci-layout', layout], { env, tmpdir: tmp });
    expectLocalWriteRefused(full, join(tmp, 'packpub-work'), 'no space left on the device (ENOSPC)', 'TMPDIR');
    expect(full.stderr).toContain('full-work__full-work-1.0.0.tar.gz');
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual([]);

    await grow(tmp);
    const again = await runCli(['push', pack, '--oci-layout', layout], { env, tmpdir: tmp });
    expect(again.code, again.stderr).toBe(0);
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/full-work:1.0.0']);
    // The run's work folder went with it, and so did the failed one's.
    expect(await readdir(join(tmp, 'packpub-work'))).toEqual([]);
  });

  it('the cache folder: the push stands (exit 0, nothing said), and the re-run finds the tag unchanged', async () => {
    const { root, disk } = await smallDisk('cache-disk', '64k');
    await runChildText('dd', ['if=/dev/zero', `of=${join(disk, 'filler')}`, 'bs=4096', 'count=64']).catch(() => undefined);
    const layout = join(root, 'layout');
    const env = { PACKPUB_CACHE_DIR: join(disk, 'cache') };
    const pack = await packOf(root, 'full-cache', '1.0.0', 20_000);
    const run = await runCli(['push', pack, '--oci-layout', layout], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('published full-cache:1.0.0');
    const again = await runCli(['push', pack, '--oci-layout', layout], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('unchanged full-cache:1.0.0');
    expect((await layoutHoldings(layout)).problems).toEqual([]);
  });
});
