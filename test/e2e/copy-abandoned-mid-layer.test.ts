import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitFor } from '../support/cli.js';
import { packTree, proxiedRegistry } from '../support/push-setup.js';
import { expectReportValid } from '../support/report-schema.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * A copy abandoned (a second signal) while a version's layer was still being copied, its `{}` config blob already
 * there: the version was reported "abandoned while writing its tag: perhaps copied" and stderr said "perhaps
 * published: ... (abandoned while writing the tag ...)", though no manifest had been sent. copy says each blob done,
 * and the first (the config) counted as "all blobs there". Now only the manifest write makes a version "perhaps
 * copied": this one is "abandoned in flight: not copied (no tag was written)", as the destination shows.
 */

/** The digest of `{}`, every pack's config blob. */
const EMPTY_CONFIG = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

describe('copy abandoned while a layer is being copied', () => {
  const w = setup(async (stack) => {
    const src = await sharedRegistry();
    const dst = await proxiedRegistry(stack);
    const work = await packTree(stack, 1, { seed: 2911, prefix: 'midl' });
    const from = `${src.host}/${src.base}/midl`;
    const pushed = await runCli(['push', work.tree, '--recursive', '--registry', from], { env: work.env });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { dst, work, from };
  });

  it('says "not copied (no tag was written)", exit 130, and the destination holds no tag (was: "perhaps copied")', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let configs = 0;
    let layers = 0;
    w.dst.proxy.onRequest = (req) => {
      if (req.kind !== 'upload-put' || !req.path.includes('/midc/spectro-packs/archive/')) return 'pass';
      if (req.path.includes(EMPTY_CONFIG.slice('sha256:'.length))) return configs++, 'pass';
      return layers++, { holdAnswer: held };
    };
    const run = spawnCli(['copy', '--all', '--from', w.from, '--to', `${w.dst.proxy.host}/midc`, '--json'], { env: w.work.env });
    try {
      await waitFor(() => layers > 0, 'the layer upload to be held');
      expect(configs).toBeGreaterThan(0);
      run.child.kill('SIGTERM');
      await waitFor(() => run.stderr().includes('SIGTERM: starting no new work'), 'the first signal to be seen');
      await waitFor(() => (run.child.kill('SIGTERM'), run.stderr().includes('SIGTERM again')), 'a later SIGTERM to be heeded');
      const done = await run.done;
      expect(done.code, done.stderr).toBe(130);
      const [pack] = w.work.packs;
      const id = `${pack?.name}:${pack?.version}`;
      expect(done.stderr).toContain(`not published: abandoned in flight: ${id} (no tag was written for them; run again to finish)`);
      expect(done.stderr).not.toContain('perhaps');
      const report = JSON.parse(done.stdout) as { results: Array<{ status: string; error?: { code: string; message: string } }> };
      expectReportValid(report);
      expect(report.results.map((r) => [r.status, r.error?.code, r.error?.message])).toEqual([['failed', 'ABORTED', 'abandoned in flight: not copied (no tag was written)']]);
      expect(w.dst.proxy.requests.filter((r) => r.kind === 'manifest-put' && r.path.includes('/midc/spectro-packs/archive/midl'))).toEqual([]);
      expect((await w.dst.reader.holdings('midc')).tags.size).toBe(0);
    } finally {
      release();
      w.dst.proxy.onRequest = undefined;
      run.child.kill('SIGKILL');
    }
  });
});
