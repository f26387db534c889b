import { describe, expect, it } from 'vitest';
import { spawnCli, waitFor } from '../support/cli.js';
import { packTree, sharedProxiedRegistry } from '../support/push-setup.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * An interrupted push abandoned while a pack's manifest is on its way (a second SIGINT, or the grace period
 * of a CI runner's SIGTERM running out while a slow registry answers the manifest PUT). The registry has
 * the manifest and writes the tag whether or not packpub is still there to read the answer: the run must
 * not say that no tag was written for that pack. The proxy holds the registry's answer back, so the
 * abandon happens exactly in that window (kill-sigint.test.ts covers the other phases).
 */

describe('push abandoned while writing a tag', () => {
  const w = setup(async (stack) => {
    const reg = await sharedProxiedRegistry(stack);
    const work = await packTree(stack, 1, { seed: 31, prefix: 'sigtag' });
    return { reg, work };
  });

  it('says the pack may be published (the registry holds its tag), never that no tag was written', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const pack = w.work.packs[0]!;
    // The pack's own manifest (not the base repository's, written first).
    w.reg.proxy.onRequest = (req) => (req.kind === 'manifest-put' && req.path.includes(`/archive/${pack.name}/manifests/`) ? { holdAnswer: held } : 'pass');
    const tag = `${w.reg.registry.base}/tagging/spectro-packs/archive/${pack.name}:${pack.version}`;
    const run = spawnCli(['push', w.work.tree, '--recursive', '--registry', `${w.reg.proxy.host}/${w.reg.registry.base}/tagging`], { env: w.work.env });
    try {
      // The registry wrote the tag; packpub still waits for the answer.
      await waitFor(async () => (await w.reg.reader.holdings(`${w.reg.registry.base}/tagging`)).tags.has(tag), 'the registry to hold the tag');
      run.child.kill('SIGINT');
      await waitFor(() => run.stderr().includes('SIGINT: starting no new work'), 'the first signal to be seen');
      // Sent again until heeded: one within 0.5 s of the first is read as the same signal delivered twice.
      await waitFor(() => (run.child.kill('SIGINT'), run.stderr().includes('SIGINT again')), 'a later SIGINT to be heeded');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(stackLines(result.stderr)).toEqual([]);
      expect(result.stderr).toContain('SIGINT again: abandoning requests in flight; no tag was written for unfinished packs except perhaps those below');
      expect(result.stderr).toContain(`perhaps published: ${pack.name}:${pack.version} (abandoned while writing the tag`);
      expect(result.stderr).not.toContain(`abandoned in flight: ${pack.name}`);
      const holdings = await w.reg.reader.holdings(`${w.reg.registry.base}/tagging`);
      expect(holdings.problems).toEqual([]);
      expect([...holdings.tags.keys()]).toEqual([tag]);
    } finally {
      release();
      w.reg.proxy.onRequest = undefined;
      run.child.kill('SIGKILL');
    }
  });
});
