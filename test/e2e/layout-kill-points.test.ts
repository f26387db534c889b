import { cp, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli, spawnCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * chaos s22: a push or a delete on an OCI layout SIGKILLed at the exact points where its order matters (a preload
 * kills the process right before a chosen rename or removal: a point the process reaches, not a time). Swept by
 * hand at every rename and unlink of a 4-pack push and a 3-version delete; these are the boundaries: right before
 * the first blob, the manifest blob (the last blob) and index.json (the tag) of a push, and right before a delete
 * removes the first blob its tag no longer needs. At each, no tag may point at a missing or partial blob, and a
 * re-run converges: the push publishes what is missing (the blobs already there are not written again) and the
 * next run finds it unchanged; the delete's re-run finds the version gone.
 * kill-sigkill.test.ts kills at random points in time and requests; this pins the order itself.
 */

const KILL = resolve('test/fixtures/node-options/kill-on-fs-call.cjs');
const REPO = 'spectro-packs/archive/killpt';

describe('an OCI layout write SIGKILLed at the points where its order matters', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const packs = {
      v1: await writePack(join(root, 'v1'), { name: 'killpt', version: '1.0.0' }),
      v2: await writePack(join(root, 'v2'), { name: 'killpt', version: '2.0.0' }),
    };
    const env = { PACKPUB_CACHE_DIR: join(root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' };
    // A layout holding v1, copied for each kill.
    const base = join(root, 'base');
    expectRun(await runCli(['push', packs.v1, '--oci-layout', base], { env }), { code: 0 });
    return { root, packs, env, base };
  });

  /** The push of v2 into a copy of the base layout, killed right before the `at`-th rename into `where` of the repository. */
  async function killedPush(name: string, where: 'blobs' | 'repository', at: number): Promise<string> {
    const layout = join(w.root, name);
    await cp(w.base, layout, { recursive: true });
    const dir = join(layout, REPO, ...(where === 'blobs' ? ['blobs', 'sha256'] : []));
    const run = spawnCli(['push', w.packs.v2, '--oci-layout', layout], { env: { ...w.env, PACKPUB_TEST_KILL_DIR: dir, PACKPUB_TEST_KILL_AT: String(at) }, nodeArgs: ['--require', KILL] });
    const done = await run.done;
    expect(done.signal, `${name}: ${done.stderr}`).toBe('SIGKILL');
    return layout;
  }

  it('push: killed before its first blob, its manifest blob, or index.json: v1 stays whole, no v2 tag; the re-run publishes v2 without writing the blobs again', async () => {
    // The repository holds v1, so v2 writes two blobs (its layer, its manifest; the config is v1's) and index.json.
    for (const [name, where, at] of [
      ['before-layer', 'blobs', 1],
      ['before-manifest', 'blobs', 2],
      ['before-tag', 'repository', 1],
    ] as const) {
      const layout = await killedPush(name, where, at);
      const held = await layoutHoldings(layout);
      expect(held.problems, name).toEqual([]);
      expect([...held.tags.keys()], name).toEqual([`${REPO}:1.0.0`]);
      expect(await readFile(join(layout, REPO, 'index.json'), 'utf8'), name).toBe(await readFile(join(w.base, REPO, 'index.json'), 'utf8'));

      const again = await runCli(['push', w.packs.v2, '--oci-layout', layout], { env: w.env });
      expectRun(again, { code: 0, stdout: [`published killpt:2.0.0 -> oci:${layout}/${REPO}:2.0.0`] });
      // The blobs the killed run wrote in full are kept, not written again.
      if (name === 'before-tag') expect(again.stdout).toContain('uploaded 0 B');
      const after = await layoutHoldings(layout);
      expect(after.problems, name).toEqual([]);
      expect([...after.tags.keys()].sort(), name).toEqual([`${REPO}:1.0.0`, `${REPO}:2.0.0`]);
      expectRun(await runCli(['push', w.packs.v2, '--oci-layout', layout], { env: w.env }), { code: 0, stdout: ['unchanged killpt:2.0.0'] });
    }
  });

  it('delete: killed before it removes the first blob its tag no longer needs: the tag is gone, the other whole; the re-run finds the version gone', async () => {
    const layout = join(w.root, 'delete');
    await cp(w.base, layout, { recursive: true });
    expectRun(await runCli(['push', w.packs.v2, '--oci-layout', layout], { env: w.env }), { code: 0 });
    const run = spawnCli(['delete', 'killpt:2.0.0', '--oci-layout', layout, '--force'], {
      env: { ...w.env, PACKPUB_TEST_KILL_DIR: join(layout, REPO, 'blobs', 'sha256'), PACKPUB_TEST_KILL_AT: '1', PACKPUB_TEST_KILL_CALL: 'rm' },
      nodeArgs: ['--require', KILL],
    });
    const done = await run.done;
    expect(done.signal, done.stderr).toBe('SIGKILL');
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual([`${REPO}:1.0.0`]);

    expectRun(await runCli(['delete', 'killpt:2.0.0', '--oci-layout', layout, '--force', '--ignore-missing'], { env: w.env }), { code: 0 });
    expectRun(await runCli(['push', w.packs.v1, '--oci-layout', layout], { env: w.env }), { code: 0, stdout: ['unchanged killpt:1.0.0'] });
  });
});
