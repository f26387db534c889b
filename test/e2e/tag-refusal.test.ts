import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { packVersions, registryAndLayout } from '../support/push-setup.js';
import { setup } from '../support/stage.js';

/*
 * issue 13 item 1: `tag` never moves a tag that names another version's digest without --force (Palette
 * caches digests); a tag that already names this digest is reported "already tagged" and not written again.
 * Checked on a real registry and on an OCI layout, by reading what each holds afterwards.
 */

describe('tag refuses to move an existing tag', () => {
  const w = setup((stack) => packVersions(stack, 'packpub-tag-', 'crossplane', ['2.2.1', '2.3.0']));

  it.each(registryAndLayout(w))('on %s', async (_what, target, holdings) => {
    const push = await runCli(['push', join(w.root, '2.2.1'), join(w.root, '2.3.0'), ...target(), '--json']);
    expect(push.code, push.stderr).toBe(0);
    const digest = Object.fromEntries((JSON.parse(push.stdout) as { results: Array<{ version: string; digest: string }> }).results.map((r) => [r.version, r.digest]));
    const held = async (tag: string) => [...(await holdings()).entries()].find(([k]) => k.endsWith(`/crossplane:${tag}`))?.[1];

    const refused = await runCli(['tag', 'crossplane:2.3.0', '2.2.1', '--allow-other-version', ...target()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`2.2.1 (${digest['2.2.1']}) already tags other content`);
    expect(refused.stderr).toContain('hint: Palette caches pack digests');
    expect(refused.stderr).toContain('--force');
    expect(refused.stdout).toBe('');
    expect(await held('2.2.1')).toBe(digest['2.2.1']);

    // one taken tag among several: nothing is written, not even the free one
    const mixed = await runCli(['tag', 'crossplane:2.3.0', '2.3.x', '2.2.1', '--allow-other-version', ...target()]);
    expect(mixed.code).toBe(1);
    expect(await held('2.3.x')).toBeUndefined();

    const first = await runCli(['tag', 'crossplane:2.3.0', '2.3.x', ...target()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/crossplane:2\.3\.0 \(sha256:[0-9a-f]{64}\): tagged as 2\.3\.x\n$/);
    expect(await held('2.3.x')).toBe(digest['2.3.0']);

    const again = await runCli(['tag', 'crossplane:2.3.0', '2.3.x', ...target()]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(': 2.3.x already tagged');

    const forced = await runCli(['tag', 'crossplane:2.3.0', '2.2.1', '--force', '--allow-other-version', ...target()]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`tagged as 2.2.1 (moved from ${digest['2.2.1']})`);
    expect(await held('2.2.1')).toBe(digest['2.3.0']);
  });
});
