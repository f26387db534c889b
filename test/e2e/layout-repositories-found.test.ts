import { rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { treeOf } from '../support/files.js';
import { setup } from '../support/stage.js';

/*
 * An OCI layout keeps each pack's repository in its own folder, `spectro-packs/archive/<name>/`, beside its
 * `blobs/` folder. Looking for repositories, the walk skipped every folder named `blobs`, so a pack named `blobs`
 * (a valid name) was published, pulled and inspected, but never listed: `list` left it out and `copy --all` from
 * the layout copied the others, "1 copied", exit 0, the pack missing at the destination. Now only a repository's
 * own `blobs` folder is skipped. The same for a repository folder that is a link (a layout put together with
 * links): push, pull and inspect followed it, list and copy --all left it out. A link is never walked into.
 */

describe('packs an OCI layout holds in folders the walk for repositories skipped', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const packs = [await writePack(join(root, 'blobs'), { name: 'blobs', version: '1.0.0' }), await writePack(join(root, 'hello'), { name: 'hello', version: '2.0.0' })];
    return { root, packs, env: { PACKPUB_CACHE_DIR: join(root, 'cache'), SOURCE_DATE_EPOCH: '1700000000' } };
  });

  /** list of `layout` names blobs and hello (exit 0), copy --all copies both, and hello 2.0.0 pulled from the copy is the pack. */
  const expectListedAndCopied = async (layout: string, name: string): Promise<void> => {
    const list = await runCli(['list', '--oci-layout', layout, '--json'], { env: w.env });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { packs: { name: string }[] }).packs.map((p) => p.name)).toEqual(['blobs', 'hello']);
    const copied = join(w.root, `copied-${name}`);
    expectRun(await runCli(['copy', '--all', '--from', `oci:${layout}`, '--to', `oci:${copied}`], { env: w.env }), { code: 0, stdout: ['2 copied'] });
    const out = join(w.root, `pulled-${name}`);
    expectRun(await runCli(['pull', 'hello:2.0.0', '--oci-layout', copied, '-o', out], { env: w.env }), { code: 0 });
    expect(await treeOf(out)).toEqual(await treeOf(w.packs[1]!));
  };

  it('is listed and copied with --all like any other (was: left out, exit 0)', async () => {
    const layout = join(w.root, 'layout');
    expectRun(await runCli(['push', ...w.packs, '--oci-layout', layout], { env: w.env }), { code: 0, stdout: ['2 published'] });
    const list = await runCli(['list', '--oci-layout', layout, '--json'], { env: w.env });
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as { packs: { name: string; versions: { version: string }[] }[] };
    expect(listed.packs.map((p) => `${p.name}:${p.versions.map((v) => v.version).join(',')}`)).toEqual(['blobs:1.0.0', 'hello:2.0.0']);

    const copied = join(w.root, 'copied');
    expectRun(await runCli(['copy', '--all', '--from', `oci:${layout}`, '--to', `oci:${copied}`], { env: w.env }), { code: 0, stdout: ['2 copied'] });
    // Read with packpub itself (support/registry-reader's layoutHoldings skips every `blobs` folder as the old walk did).
    const again = await runCli(['list', '--oci-layout', copied, '--json'], { env: w.env });
    expect((JSON.parse(again.stdout) as typeof listed).packs.map((p) => p.name)).toEqual(['blobs', 'hello']);
    const out = join(w.root, 'pulled');
    expectRun(await runCli(['pull', 'blobs:1.0.0', '--oci-layout', copied, '-o', out], { env: w.env }), { code: 0 });
    expect(await treeOf(out)).toEqual(await treeOf(w.packs[0]!));
  });

  it('a repository folder that is a link (a layout put together with links) is listed and copied too (was: left out, exit 0)', async () => {
    const layout = join(w.root, 'linked');
    const elsewhere = join(w.root, 'elsewhere');
    expectRun(await runCli(['push', w.packs[0]!, '--oci-layout', layout], { env: w.env }), { code: 0 });
    expectRun(await runCli(['push', w.packs[1]!, '--oci-layout', elsewhere], { env: w.env }), { code: 0 });
    await symlink(join(elsewhere, 'spectro-packs', 'archive', 'hello'), join(layout, 'spectro-packs', 'archive', 'hello'));
    // A link to a folder that is no repository is not one, and is never walked into.
    await symlink('/', join(layout, 'spectro-packs', 'archive', 'root'));
    await expectListedAndCopied(layout, 'linked');
  });

  it('a repository folder without its oci-layout file (lost, or left out by another tool) is listed and copied too (was: list said nothing, exit 0; copy --all "nothing to copy")', async () => {
    const layout = join(w.root, 'no-layout-file');
    expectRun(await runCli(['push', ...w.packs, '--oci-layout', layout], { env: w.env }), { code: 0 });
    await rm(join(layout, 'spectro-packs', 'archive', 'hello', 'oci-layout'));
    await expectListedAndCopied(layout, 'no-layout-file');
  });
});
