import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * review s21 F5: two pack folders of one name:version (a folder copied to start a new version, its pack.json
 * not bumped) stop a push: exit 2, "A and B are both <name>:<version>". With --shard the folders were split
 * before any pack.json was read, the two landed in different shards, and each shard published its own: exit 0
 * twice (in one registry, under --force, the version then held whichever shard wrote last).
 */

describe('push --shard of a tree where two folders are one name:version', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const tree = join(root, 'tree');
    await writePack(join(tree, 'a-twin'), { name: 'twin', version: '1.0.0' });
    await writePack(join(tree, 'b-twin-copy'), { name: 'twin', version: '1.0.0', files: { 'README.md': 'copied, version not bumped\n' } });
    await writePack(join(tree, 'c-other'), { name: 'other', version: '1.0.0' });
    await writePack(join(tree, 'd-more'), { name: 'more', version: '1.0.0' });
    return { root, tree };
  });

  it('every shard refuses the run as the whole tree does, naming both folders; nothing is published (was: each shard published its own, exit 0)', async () => {
    const layout = join(w.root, 'layout');
    const whole = await runCli(['push', w.tree, '--recursive', '--oci-layout', layout]);
    expectRun(whole, { code: 2, stderr: [`${join(w.tree, 'a-twin')} and ${join(w.tree, 'b-twin-copy')} are both twin:1.0.0`] });
    for (const shard of ['1/2', '2/2', '1/3', '2/3', '3/3']) {
      const run = await runCli(['push', w.tree, '--recursive', '--shard', shard, '--oci-layout', layout, '--force']);
      expectRun(run, { code: 2, stderr: [`${join(w.tree, 'a-twin')} and ${join(w.tree, 'b-twin-copy')} are both twin:1.0.0`, 'change its pack.json version'] });
    }
    expect((await layoutHoldings(layout)).tags.size).toBe(0);
  });

  it('without such a pair, the shards still split the tree and together publish every pack once', async () => {
    const layout = join(w.root, 'layout-ok');
    const tree = join(w.root, 'tree-ok');
    for (const [dir, name] of [['a', 'one'], ['b', 'two'], ['c', 'three']] as const) await writePack(join(tree, dir), { name, version: '1.0.0' });
    const runs = [await runCli(['push', tree, '--recursive', '--shard', '1/2', '--oci-layout', layout]), await runCli(['push', tree, '--recursive', '--shard', '2/2', '--oci-layout', layout])];
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs.map((r) => (r.stdout.match(/^published /gm) ?? []).length)).toEqual([2, 1]);
    expect([...(await layoutHoldings(layout)).tags.keys()].sort()).toEqual(['one', 'three', 'two'].map((n) => `spectro-packs/archive/${n}:1.0.0`));
  });
  it('an invalid pack stops its own shard only (exit 1); the other shard publishes its packs (exit 0), as --help and README say', async () => {
    const layout = join(w.root, 'layout-invalid');
    const tree = join(w.root, 'tree-invalid');
    for (const [dir, name] of [['a', 'one'], ['b', 'two'], ['c', 'three']] as const) await writePack(join(tree, dir), { name, version: '1.0.0' });
    await writePack(join(tree, 'd'), { name: 'Not_Valid', version: '1.0.0' });
    // Sorted a b c d: shard 1/2 holds a and c, shard 2/2 b and the invalid d.
    const first = await runCli(['push', tree, '--recursive', '--shard', '1/2', '--oci-layout', layout]);
    const second = await runCli(['push', tree, '--recursive', '--shard', '2/2', '--oci-layout', layout]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(1);
    expect(`${second.stdout}${second.stderr}`).toContain('INVALID Not_Valid:1.0.0');
    expect(`${second.stdout}${second.stderr}`).toContain('1 valid pack not pushed because 1 is invalid');
    expect([...(await layoutHoldings(layout)).tags.keys()].sort()).toEqual(['one', 'three'].map((n) => `spectro-packs/archive/${n}:1.0.0`));
  });
});
