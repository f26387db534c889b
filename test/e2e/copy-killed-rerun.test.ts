import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitFor } from '../support/cli.js';
import { packTree, proxiedRegistry } from '../support/push-setup.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';
import type { ProxyRequestInfo } from '../support/recording-proxy.js';

/*
 * chaos s22: `copy --all` between two registries SIGKILLed (a cancelled promotion job) right after the destination
 * stored a blob, and right after it stored a version's manifest, in both cases before copy heard the answer (the
 * proxy holds it; the kill comes once the registry is seen holding what was written). The destination never holds
 * a tag over a missing blob, and the re-run converges: it copies what is missing and says `unchanged` only for the
 * versions the destination holds. Swept by hand at every write request of a 3-version copy (1..20): the same.
 */

const SOURCE = 'cpkill';

describe('copy between registries, SIGKILLed after the destination acted', () => {
  const w = setup(async (stack) => {
    const src = await sharedRegistry();
    const dst = await proxiedRegistry(stack);
    const work = await packTree(stack, 3, { seed: 2206, prefix: 'cpk', payloadBytes: [20_000, 40_000] });
    const from = `${src.host}/${src.base}/${SOURCE}`;
    const pushed = await runCli(['push', work.tree, '--recursive', '--registry', from], { env: work.env });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { src, dst, work, from };
  });

  /** Copy every version to `base` on the destination, SIGKILLed once `written` says the registry holds what the first matching request wrote. */
  async function killedCopy(base: string, matches: (req: ProxyRequestInfo) => boolean, written: (req: ProxyRequestInfo, reader: RegistryReader) => Promise<boolean>): Promise<void> {
    let seen: ProxyRequestInfo | undefined;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    w.dst.proxy.onRequest = (req) => {
      if (seen !== undefined || !matches(req)) return 'pass';
      seen = req;
      return { holdAnswer: held };
    };
    const run = spawnCli(['copy', '--all', '--from', w.from, '--to', `${w.dst.proxy.host}/${base}`], { env: w.work.env });
    try {
      await waitFor(async () => seen !== undefined && (await written(seen, w.dst.reader)), 'the destination to hold the write');
      run.child.kill('SIGKILL');
      const done = await run.done;
      expect(done.signal, done.stderr).toBe('SIGKILL');
    } finally {
      w.dst.proxy.onRequest = undefined;
      release();
    }
  }

  async function rerun(base: string): Promise<string> {
    const again = await runCli(['copy', '--all', '--from', w.from, '--to', `${w.dst.proxy.host}/${base}`], { env: w.work.env });
    expect(again.code, again.stderr).toBe(0);
    const held = await w.dst.reader.holdings(base);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()].sort()).toEqual(w.work.packs.map((p) => `${base}/spectro-packs/archive/${p.name}:${p.version}`).sort());
    return again.stdout;
  }

  it('after a blob was stored: no tag; the re-run copies every version', async () => {
    const base = 'blob';
    const digestOf = (req: ProxyRequestInfo) => new URLSearchParams(req.path.split('?')[1] ?? '').get('digest') ?? '';
    await killedCopy(
      base,
      (req) => req.kind === 'upload-put' && req.path.includes('/cpk-'),
      async (req, reader) => (await reader.blobSize(req.path.slice('/v2/'.length, req.path.indexOf('/blobs/uploads/')), digestOf(req))) !== undefined,
    );
    const held = await w.dst.reader.holdings(base);
    expect(held.problems).toEqual([]);
    expect(held.tags.size).toBe(0);
    expect(await rerun(base)).toMatch(/: 3 copied;/);
  });

  it("after a version's manifest was stored: that tag is whole; the re-run says it is unchanged and copies the others", async () => {
    const base = 'manifest';
    let tag = '';
    await killedCopy(
      base,
      (req) => req.kind === 'manifest-put' && req.path.includes('/cpk-'),
      async (req, reader) => {
        const at = req.path.indexOf('/manifests/');
        tag = `${req.path.slice('/v2/'.length, at)}:${req.path.slice(at + '/manifests/'.length)}`;
        return (await reader.manifest(req.path.slice('/v2/'.length, at), req.path.slice(at + '/manifests/'.length))) !== undefined;
      },
    );
    const held = await w.dst.reader.holdings(base);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toContain(tag);
    const stdout = await rerun(base);
    // Other versions may have been written too before the kill (3 at once, only the first manifest's answer held):
    // each is copied or unchanged, never both; all three may be there already.
    expect(stdout).toMatch(/: (?:[12] copied, [12] unchanged|3 unchanged);/);
    expect(stdout).toContain(`unchanged ${tag.split('/').pop()}`);
  });
});
