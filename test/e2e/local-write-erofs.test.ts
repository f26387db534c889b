import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectLocalWriteRefused, runCli, type CliRun } from '../support/cli.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { writePack } from '../support/packs.js';
import { stage } from '../support/stage.js';
import { runChildText } from '../support/spawner.js';

/*
 * A read-only file system where packpub writes (EROFS): a real tmpfs mounted read-only (the tests run as
 * root, as CI does). Every write target: exit 1, LOCAL_WRITE naming what was being written, never exit 0,
 * and the target holding what it held before.
 */

const stack = stage();

/** A folder on its own tmpfs, made read-only after `prepare` (which may fill it first); unmounted when the file's tests end. */
async function readOnlyDisk(root: string, prepare: (dir: string) => Promise<void> = async () => undefined): Promise<string> {
  const dir = join(root, 'ro');
  await mkdir(dir);
  await runChildText('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
  stack.defer(() => runChildText('umount', [dir]));
  await prepare(dir);
  await runChildText('mount', ['-o', 'remount,ro', dir]);
  return dir;
}

async function world(name: string, version = '1.0.0'): Promise<{ root: string; pack: string; env: NodeJS.ProcessEnv }> {
  const root = await stack.tempDir('packpub-erofs-');
  const pack = await writePack(join(root, 'pack'), { name, version });
  return { root, pack, env: { PACKPUB_CACHE_DIR: join(root, 'cache') } };
}

function expectReadOnly(run: CliRun, path: string): void {
  expectLocalWriteRefused(run, path, 'read-only file system (EROFS)', 'remount it read-write');
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('a read-only file system (EROFS)', () => {
  it('push --oci-layout into a new layout on it: exit 1, LOCAL_WRITE naming the layout, nothing written', async () => {
    const w = await world('erofs-new');
    const disk = await readOnlyDisk(w.root);
    const layout = join(disk, 'layout');
    const run = await runCli(['push', w.pack, '--oci-layout', layout, '--json'], { env: w.env });
    expectReadOnly(run, layout);
    const result = (JSON.parse(run.stdout) as { results: Array<{ status: string; error?: { code: string } }> }).results[0];
    expect(result).toMatchObject({ status: 'failed', error: { code: 'LOCAL_WRITE' } });
    expect(await filesUnder(disk)).toEqual([]);
  });

  it('push --oci-layout of a new version into a layout made read-only: exit 1, the layout keeps only its old tag', async () => {
    const w = await world('erofs-old');
    let before: string[] = [];
    const disk = await readOnlyDisk(w.root, async (dir) => {
      const first = await runCli(['push', w.pack, '--oci-layout', join(dir, 'layout')], { env: w.env });
      expect(first.code, first.stderr).toBe(0);
      before = await filesUnder(dir);
    });
    const layout = join(disk, 'layout');
    const v2 = await writePack(join(w.root, 'pack2'), { name: 'erofs-old', version: '2.0.0' });
    const run = await runCli(['push', v2, '--oci-layout', layout], { env: w.env });
    expectReadOnly(run, join(layout, 'spectro-packs/archive/erofs-old'));
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual(['spectro-packs/archive/erofs-old:1.0.0']);
    expect(await filesUnder(disk)).toEqual(before);
  });

  it('pull -o onto it: exit 1 naming the folder asked for, nothing written', async () => {
    const w = await world('erofs-pull');
    const layout = join(w.root, 'layout');
    const pushed = await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env });
    expect(pushed.code, pushed.stderr).toBe(0);
    const disk = await readOnlyDisk(w.root);
    const out = join(disk, 'pulled');
    const run = await runCli(['pull', `oci:${layout}/spectro-packs/archive/erofs-pull:1.0.0`, '-o', out], { env: w.env });
    expectReadOnly(run, out);
    expect(await filesUnder(disk)).toEqual([]);
  });

  it('build -o onto it: exit 1 naming the output file', async () => {
    const w = await world('erofs-build');
    const disk = await readOnlyDisk(w.root);
    const out = join(disk, 'pack.tar.gz');
    const run = await runCli(['build', w.pack, '-o', out], { env: w.env });
    expectReadOnly(run, out);
    expect(await filesUnder(disk)).toEqual([]);
  });

  it('TMPDIR on it: a pack built in memory publishes (exit 0), with nothing written there', async () => {
    const w = await world('erofs-tmp');
    const disk = await readOnlyDisk(w.root);
    const layout = join(w.root, 'layout');
    // Was: exit 2, nothing published, though an archive within 1 MiB never touches the temp folder.
    // In-process, with os.tmpdir() the read-only folder while it runs (as a child given TMPDIR would have it).
    const run = await runCli(['push', w.pack, '--oci-layout', layout], { env: w.env, tmpdir: disk });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(await layoutHoldings(layout).then((h) => [...h.tags.keys()])).toEqual(['spectro-packs/archive/erofs-tmp:1.0.0']);
    expect(await filesUnder(disk)).toEqual([]);
  });

  it('the cache folder on it: the push stands (exit 0, the layout holds the tag); the cache is only an aid', async () => {
    const w = await world('erofs-cache');
    const disk = await readOnlyDisk(w.root);
    const layout = join(w.root, 'layout');
    const run = await runCli(['push', w.pack, '--oci-layout', layout], { env: { PACKPUB_CACHE_DIR: join(disk, 'cache') } });
    expect(run.code, run.stderr).toBe(0);
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual(['spectro-packs/archive/erofs-cache:1.0.0']);
  });
});
