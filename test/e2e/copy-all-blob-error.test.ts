import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { openTarget } from '../../src/targets/open.js';
import { pushTestPack } from '../support/artifacts.js';
import { craftTar } from '../support/files.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { startRecordingProxy, type ProxyAction } from '../support/recording-proxy.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * review (s20): copy --all leaves out a tag that is no version whose archive pull refuses (68bb7b5). A registry
 * that fails to serve that tag's layer (500 every time) is no such archive: the tag (a label packpub itself
 * writes, `stable`) was not copied, so copy must not end 0 calling it "an archive pull refuses".
 */

describe('copy --all and a label whose layer the registry fails to serve', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-review-copyall-');
    const registry = await sharedRegistry();
    const src = `${registry.host}/${registry.base}/review-copyall`;
    await writePack(join(root, 'p160'), { name: 'hello', version: '1.6.0' });
    const push = await runCli(['push', join(root, 'p160'), '--registry', src]);
    if (push.code !== 0) throw new Error(push.stderr);
    // `stable`: a label holding a pack (hello 1.5.0) whose version tag is gone, so its layer is its own.
    const opened = await openTarget({ registry: src, credentials: staticProvider('none', undefined) });
    try {
      const archive = gzipSync(await craftTar([{ name: 'hello/pack.json', content: '{"name":"hello","version":"1.5.0"}' }]));
      await pushTestPack(opened.store, `${registry.base}/review-copyall/spectro-packs/archive/hello`, 'stable', archive);
    } finally {
      await opened.store.close();
    }
    const proxy = stack.add(await startRecordingProxy(registry.host));
    return { root, registry, proxy };
  });

  const faults: Array<[string, ProxyAction]> = [
    ['500', { status: 500, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNKNOWN","message":"unknown error"}]}' }],
    ['a body cut short', 'truncate'],
    ['a reset', 'reset'],
  ];

  it.each(faults)('%s: fails the label (exit 1), not "skipped ... an archive pull refuses", exit 0', async (_what, action) => {
    // The layer of `stable` alone: 1.6.0's layer is another blob.
    const stable = await runCli(['inspect', 'hello:stable', '--registry', `${w.registry.host}/${w.registry.base}/review-copyall`, '--json']);
    expect(stable.code, stable.stderr).toBe(0);
    const layer = (JSON.parse(stable.stdout) as { layer: { digest: string } }).layer.digest;
    w.proxy.onRequest = (req) => (req.kind === 'blob-get' && req.path.includes(layer) ? action : 'pass');
    const layout = join(w.root, `dst-${_what.replace(/ /g, '-')}`);
    const run = await runCli(['copy', 'hello', '--all', '--from', `${w.proxy.host}/${w.registry.base}/review-copyall`, '--to', `oci:${layout}`, '--retry-attempts', '1']);
    w.proxy.onRequest = undefined;
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stderr).not.toContain('an archive pull refuses');
    expect([...(await layoutHoldings(layout)).tags.keys()].map((k) => k.slice(k.lastIndexOf(':') + 1))).toEqual(['1.6.0']);
  });
});
