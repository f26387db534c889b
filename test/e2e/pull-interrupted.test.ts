import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitFor } from '../support/cli.js';
import { packTree, sharedProxiedRegistry } from '../support/push-setup.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { silentServer } from '../support/published.js';

/*
 * review (s19): a pull interrupted while its archive downloads leaves nothing where -o points, not even the
 * folders above it that the pull made (`-o new/deeper/out`: new/). Was: the exit handler removed only the
 * staging folder, and new/deeper/ stayed.
 */

// Both runs below are abandoned when the 5 s grace period is over: they wait it out side by side (each with a
// world of its own), not one after the other.
describe.concurrent('runs interrupted while a request never ends', () => {
describe('pull interrupted during the download', () => {
  const w = setup(async (stack) => ({ reg: await sharedProxiedRegistry(stack), work: await packTree(stack, 1, { seed: 19, prefix: 'pullint' }) }));

  it('exits 130 and leaves no folder it made for -o', async () => {
    const pack = w.work.packs[0]!;
    const base = `${w.reg.registry.base}/pullint`;
    const push = await runCli(['push', pack.dir, '--registry', `${w.reg.registry.host}/${base}`], { env: w.work.env });
    expect(push.code, push.stderr).toBe(0);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let asked = false;
    w.reg.proxy.onRequest = (req) => {
      if (req.kind !== 'blob-get' || !req.path.includes(`/archive/${pack.name}/blobs/`)) return 'pass';
      asked = true;
      return { holdAnswer: held };
    };
    const out = join(w.work.root, 'new', 'deeper', 'out');
    const run = spawnCli(['pull', `${pack.name}:${pack.version}`, '--registry', `${w.reg.proxy.host}/${base}`, '-o', out], { env: w.work.env });
    try {
      await waitFor(() => asked && existsSync(join(w.work.root, 'new', 'deeper')), 'the download to start');
      run.child.kill('SIGINT');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      // The download is given up at once: no grace is promised (was: "what is in flight may finish within 5 s").
      expect(result.stderr).toContain('SIGINT: stopping the pull now\n');
      expect(result.stderr).not.toContain('may finish within');
      // The held download is given up at once (the signal reaches the request: ffe8be2), not after the 5 s grace.
      // Pull's own truth, not publishing's "no tag was written for unfinished packs" (s20: it said that).
      expect(result.stderr).toMatch(new RegExp(`^error: pull of ${pack.name}:${pack.version.replace(/\./g, '\\.')} interrupted; nothing was written: the pack folder appears only once all of it is verified$`, 'm'));
      expect(result.stderr).not.toContain('abandoning');
      expect(result.stderr).not.toContain('tag');
      expect(stackLines(result.stderr)).toEqual([]);
      expect(existsSync(join(w.work.root, 'new'))).toBe(false);
    } finally {
      release();
      w.reg.proxy.onRequest = undefined;
      run.child.kill('SIGKILL');
    }
  });
});

describe('palette sync interrupted while Palette does not answer', () => {
  // A Palette that takes each request and never answers: the run is abandoned when the grace period is over.
  const w = setup(async (stack) => ({ reg: await sharedProxiedRegistry(stack), work: await packTree(stack, 1, { seed: 20, prefix: 'palint' }), ...(await silentServer(stack)) }));

  it('exits 130 saying what is true of a sync (nothing written to the registry), not that no tag was written', async () => {
    const pack = w.work.packs[0]!;
    const registry = `${w.reg.registry.host}/${w.reg.registry.base}/palint`;
    const push = await runCli(['push', pack.dir, '--registry', registry], { env: w.work.env });
    expect(push.code, push.stderr).toBe(0);
    const env = { ...w.work.env, SPECTROCLOUD_HOST: w.silent.url, SPECTROCLOUD_APIKEY: 'palint-key' };
    const run = spawnCli(['palette', 'sync', `${pack.name}:${pack.version}`, '--registry', registry], { env });
    try {
      await waitFor(() => w.asked.length > 0, 'palette sync to ask Palette');
      run.child.kill('SIGINT');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      // The Palette call in flight is given up at once (it was abandoned after the 5 s grace): said as such a run says it.
      expect(result.stderr).toMatch(
        /^error: interrupted while Palette was asked; nothing was written to the registry; a sync Palette has started goes on without packpub, and the packs not reported above are not confirmed$/m,
      );
      expect(result.stderr).not.toContain('abandoning requests');
      expect(result.stderr).not.toContain('no tag was written');
      expect(stackLines(result.stderr)).toEqual([]);
      expect(result.stdout).toBe('');
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
});
