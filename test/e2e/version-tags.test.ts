import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { RegistryReader } from '../support/registry-reader.js';
import { packVersions, registryAndLayout } from '../support/push-setup.js';
import { setup } from '../support/stage.js';

/*
 * trust11 (s20): Palette lists the tags of spectro-packs/archive/<name> as the pack's versions. `packpub tag
 * hello:1.1.0 1.2.0` ended 0 and published pack.json version 1.1.0 as version 1.2.0 (pull and inspect accept such
 * a tag since s19: it holds the version's own manifest). A tag that reads as another version is now refused
 * (usage, exit 2, nothing written) unless --allow-other-version; parent tags, labels and `v1.1.0` stay allowed.
 * Checked on a real registry and on an OCI layout, by reading what each holds afterwards.
 */

describe('tag refuses a tag that names another version than the pack.json', () => {
  const w = setup((stack) => packVersions(stack, 'packpub-vtag-', 'hello', ['1.0.0', '1.1.0']));

  it.each(registryAndLayout(w, 'vtag'))('on %s', async (_what, target, holdings) => {
    const push = await runCli(['push', join(w.root, '1.0.0'), join(w.root, '1.1.0'), ...target(), '--json']);
    expect(push.code, push.stderr).toBe(0);
    const digest = Object.fromEntries((JSON.parse(push.stdout) as { results: Array<{ version: string; digest: string }> }).results.map((r) => [r.version, r.digest]));
    const tags = async () => new Map([...(await holdings()).entries()].map(([k, v]) => [k.slice(k.lastIndexOf(':') + 1), v]));
    const before = await tags();
    expect([...before.keys()].sort()).toEqual(['1.0.0', '1.1.0']);

    // was: exit 0, 1.2.0 held pack.json version 1.1.0
    const refused = await runCli(['tag', 'hello:1.1.0', '1.2.0', ...target()]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: tag "1\.2\.0" names another version than the pack\.json of \S*hello:1\.1\.0 \(version "1\.1\.0"\): Palette would list the pack as that version too\n/);
    expect(refused.stderr).toContain('hint: nothing was written; a parent tag (1.1.x), a label (stable, lts) or the pack\'s own version names it; pass --allow-other-version to tag it so anyway');
    expect(await tags()).toEqual(before);

    // With a free tag among them, none is written; a parent tag as the reference reads the archive's version.
    for (const argv of [['hello:1.1.0', '1.1.x', '1.2.0-rc.1'], ['hello:1.0.0', '2.0.0-lts']]) {
      const run = await runCli(['tag', ...argv, ...target()]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('names another version than the pack.json of');
      expect(await tags()).toEqual(before);
    }
    // --force moves a tag, it does not make a version tag name another version (was: exit 0, 1.0.0 held 1.1.0).
    const forced = await runCli(['tag', 'hello:1.1.0', '1.0.0', '--force', ...target()]);
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain('tag "1.0.0" names another version than the pack.json of');
    expect(await tags()).toEqual(before);

    // Parent tags, labels and the version spelt with a v are no other version.
    const fine = await runCli(['tag', 'hello:1.1.0', '1.1.x', '1.1', 'stable', 'v1.1.0', ...target()]);
    expect(fine.code, fine.stderr).toBe(0);
    const parent = await runCli(['tag', 'hello:1.1.x', '1.2.0', ...target()]);
    expect(parent.code).toBe(2);
    expect(parent.stderr).toContain('(version "1.1.0")');
    expect(await tags()).toEqual(new Map([...before, ...['1.1.x', '1.1', 'stable', 'v1.1.0'].map((t) => [t, digest['1.1.0']] as [string, string])]));

    // Asked for: written, and pull gives the pack back under it.
    const allowed = await runCli(['tag', 'hello:1.1.0', '1.2.0', '--allow-other-version', ...target()]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('tagged as 1.2.0');
    expect((await tags()).get('1.2.0')).toBe(digest['1.1.0']);
    const moved = await runCli(['tag', 'hello:1.1.0', '1.0.0', '--force', '--allow-other-version', ...target()]);
    expect(moved.code, moved.stderr).toBe(0);
    expect((await tags()).get('1.0.0')).toBe(digest['1.1.0']);
  });
});

describe('push --tag refuses a tag that names another version than the pack.json, as tag does', () => {
  const w = setup((stack) => packVersions(stack, 'packpub-vtag-push-', 'amb', ['6.5.0', '6.6.0']));

  it('exit 2 before anything is written; labels and the own version pass; --allow-other-version writes it (was: exit 0, 9.9.9 listed as a version)', async () => {
    const target = ['--registry', `${w.registry.host}/${w.registry.base}/vtagpush`];
    const tags = async () => new Map([...(await new RegistryReader(w.registry.url).tagDigests(`${w.registry.base}/vtagpush`)).entries()].map(([k, v]) => [k.slice(k.lastIndexOf(':') + 1), v]));
    const refused = await runCli(['push', join(w.root, '6.6.0'), ...target, '--tag', '9.9.9', '--tag', 'stable']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error: --tag "9.9.9" names another version than the pack.json of ${join(w.root, '6.6.0')} (version "6.6.0"): Palette would list the pack as that version too\n`);
    expect(refused.stderr).toContain('hint: nothing was written; a parent tag (6.6.x), a label (stable, lts) or the pack\'s own version names it; pass --allow-other-version');
    expect((await tags()).size).toBe(0);
    // One tag for two packs of different versions names another version for one of them (was: 6.6.0 held 6.5.0).
    const both = await runCli(['push', join(w.root, '6.5.0'), join(w.root, '6.6.0'), ...target, '--tag', '6.6.0']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--tag "6.6.0" names another version than the pack.json of');
    expect((await tags()).size).toBe(0);
    // A label on two versions of the pack in one run, or in one sharded tree (each shard's job tagging its own): the
    // tag held whichever version was written last, exit 0 (was: `stable` on 6.5.0 as often as on 6.6.0).
    for (const args of [[join(w.root, '6.5.0'), join(w.root, '6.6.0'), '--tag', 'stable'], [w.root, '--recursive', '--shard', '2/2', '--tag', 'stable', '--tag', '6.x']]) {
      const twice = await runCli(['push', ...args, ...target]);
      expect(twice.code).toBe(2);
      expect(twice.stdout).toBe('');
      expect(twice.stderr).toContain(`error: --tag "stable" would go on two versions of amb pushed in this ${args.includes('--shard') ? 'sharded tree' : 'run'}, ${join(w.root, '6.5.0')} (amb:6.5.0) and ${join(w.root, '6.6.0')} (amb:6.6.0): a tag holds one version, whichever was written last\n`);
      expect(twice.stderr).toContain(`hint: nothing was written; push the version the tag is for with --tag and the other in a run without it, or tag it afterwards (packpub tag amb:<version> ${args.includes('6.x') ? 'stable 6.x' : 'stable'})`);
      expect((await tags()).size).toBe(0);
    }
    const fine = await runCli(['push', join(w.root, '6.6.0'), ...target, '--tag', 'stable', '--tag', '6.6.x', '--tag', '6.6.0', '--json']);
    expect(fine.code, fine.stderr).toBe(0);
    const digest = (JSON.parse(fine.stdout) as { results: Array<{ digest: string }> }).results[0]?.digest;
    expect(await tags()).toEqual(new Map(['6.6.0', 'stable', '6.6.x'].map((t) => [t, digest])));
    const allowed = await runCli(['push', join(w.root, '6.6.0'), ...target, '--tag', '6.6.0-ci.7', '--allow-other-version']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect((await tags()).get('6.6.0-ci.7')).toBe(digest);

    // Allowed, a --tag still never writes one pack of the run over another's version (was: exit 1 blaming "another
    // publisher", 6.6.0 holding 6.5.0's pack) ...
    const before = await tags();
    const sameRun = await runCli(['push', join(w.root, '6.5.0'), join(w.root, '6.6.0'), ...target, '--tag', '6.6.0', '--allow-other-version']);
    expect(sameRun.code).toBe(2);
    expect(sameRun.stderr).toContain(`error: --tag "6.6.0" is the version of ${join(w.root, '6.6.0')} (amb:6.6.0), pushed in this run too: it would put ${join(w.root, '6.5.0')} (amb:6.5.0) under that version\n`);
    expect(await tags()).toEqual(before);
    // ... nor moves a published version without --force (was: exit 0, 6.6.0 holding 6.5.0's pack); nothing is written,
    // and a dry run plans it as the conflict it is.
    const planned = await runCli(['push', join(w.root, '6.5.0'), ...target, '--tag', '6.6.0', '--allow-other-version', '--dry-run', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = (JSON.parse(planned.stdout) as { results: Array<{ plan?: string; warnings?: Array<{ message: string }> }> }).results[0];
    expect(plan?.plan).toBe('conflict');
    expect(plan?.warnings?.[0]?.message).toContain('a real run would refuse this pack (CONFLICT, exit 1): ');
    expect(plan?.warnings?.[0]?.message).toContain('amb:6.6.0 already holds other content');
    const moved = await runCli(['push', join(w.root, '6.5.0'), ...target, '--tag', '6.6.0', '--allow-other-version']);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toContain(`spectro-packs/archive/amb:6.6.0 already holds other content (${digest}): --tag moves a tag that reads as a version only with --force`);
    expect(await tags()).toEqual(before);
    const forced = await runCli(['push', join(w.root, '6.5.0'), ...target, '--tag', '6.6.0', '--allow-other-version', '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    const digest650 = (JSON.parse(forced.stdout) as { results: Array<{ digest: string }> }).results[0]?.digest;
    expect((await tags()).get('6.6.0')).toBe(digest650);
    expect((await tags()).get('6.5.0')).toBe(digest650);
  });
});
