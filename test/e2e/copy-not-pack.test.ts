import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { openTarget } from '../../src/targets/open.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli } from '../support/cli.js';
import { craftTar } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings, RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * trust11 (s20): copy copied an archive with no pack.json, or another pack's, byte for byte into
 * spectro-packs/archive (exit 0), though pull and inspect refuse it ("is not a pack", "holds another pack"):
 * Palette got what packpub itself will not give back. copy now reads the source's pack.json as pull does before
 * writing: such a version fails (exit 1, nothing written at the destination); a tag packpub put on a version
 * (tag --allow-other-version, push --tag) is still copied, as pull accepts it.
 */

const REPO = 'spectro-packs/archive/hello';

describe('copy refuses what pull refuses', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-copy-notpack-');
    const registry = await sharedRegistry();
    await writePack(join(root, 'hello'), { name: 'hello', version: '1.1.0' });
    const src = `${registry.host}/${registry.base}/src`;
    await writePack(join(root, 'other'), { name: 'other', version: '1.0.0' });
    const push = await runCli(['push', join(root, 'hello'), join(root, 'other'), '--registry', src]);
    if (push.code !== 0) throw new Error(push.stderr);
    const tag = await runCli(['tag', 'hello:1.1.0', '1.1.0-ci.1', '--allow-other-version', '--registry', src]);
    if (tag.code !== 0) throw new Error(tag.stderr);
    const opened = await openTarget({ registry: src, credentials: staticProvider('none', undefined) });
    try {
      const archive = async (entries: Array<{ name: string; content?: string }>) => gzipSync(await craftTar(entries));
      // No pack.json; another pack's; another version's under a version tag of its own (pushed by hand).
      await pushTestPack(opened.store, `${registry.base}/src/${REPO}`, '2.0.0', await archive([{ name: 'hello/README.md', content: 'hi' }]));
      await pushTestPack(opened.store, `${registry.base}/src/${REPO}`, '3.0.0', await archive([{ name: 'hello/pack.json', content: '{"name":"evil","version":"3.0.0"}' }]));
      await pushTestPack(opened.store, `${registry.base}/src/${REPO}`, '1.2.0', await archive([{ name: 'hello/pack.json', content: '{"name":"hello","version":"1.1.0"}' }]));
      // A tag that is no version, holding an archive with no pack.json: --all leaves it out, as other artifacts.
      await pushTestPack(opened.store, `${registry.base}/src/spectro-packs/archive/other`, 'notes', await archive([{ name: 'notes/README.md', content: 'hi' }]));
    } finally {
      await opened.store.close();
    }
    return { root, registry, src };
  });

  const refusals: Array<[string, string]> = [
    ['2.0.0', 'hello:2.0.0 is not a pack: its archive holds no pack.json in its folder "hello"'],
    ['3.0.0', 'hello:3.0.0 holds another pack: the pack.json of its archive has name "evil", version "3.0.0"'],
    ['1.2.0', 'hello:1.2.0 holds another pack: the pack.json of its archive has name "hello", version "1.1.0"'],
  ];

  it.each(refusals)('named: %s fails, nothing is written at the destination (was: copied, exit 0)', async (version, message) => {
    const layout = join(w.root, `layout-${version}`);
    for (const extra of [['--dry-run'], []]) {
      const run = await runCli(['copy', `hello:${version}`, '--from', w.src, '--to', `oci:${layout}`, ...extra]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(message);
    }
    expect((await layoutHoldings(layout)).tags.size).toBe(0);
  });

  it('--all copies the pack and the tag packpub put on it, fails the others, and exits 1', async () => {
    const dst = `${w.registry.base}/dst`;
    // One at a time: 1.1.0-ci.1 comes before 1.1.0, and waits for it (pull at the destination needs 1.1.0 there).
    const planned = await runCli(['copy', 'hello', '--all', '--from', w.src, '--to', `${w.registry.host}/${dst}`, '--json', '--dry-run', '--concurrency', '1']);
    const plans = (JSON.parse(planned.stdout) as { results: Array<{ version: string; status: string; plan?: string }> }).results;
    expect(Object.fromEntries(plans.map((r) => [r.version, r.plan ?? r.status]))).toEqual({ '1.1.0': 'new', '1.1.0-ci.1': 'new', '1.2.0': 'failed', '2.0.0': 'failed', '3.0.0': 'failed' });
    const run = await runCli(['copy', 'hello', '--all', '--from', w.src, '--to', `${w.registry.host}/${dst}`, '--json', '--concurrency', '1']);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as { results: Array<{ version: string; status: string; error?: { code: string; message: string } }> };
    const status = Object.fromEntries(report.results.map((r) => [r.version, r.status]));
    expect(status).toEqual({ '1.1.0': 'copied', '1.1.0-ci.1': 'copied', '1.2.0': 'failed', '2.0.0': 'failed', '3.0.0': 'failed' });
    for (const [version, message] of refusals) {
      expect(report.results.find((r) => r.version === version)?.error).toMatchObject({ code: 'REGISTRY' });
      expect(report.results.find((r) => r.version === version)?.error?.message).toContain(message);
    }
    const held = (await new RegistryReader(w.registry.url).tagDigests(dst));
    expect([...held.keys()].map((k) => k.slice(k.lastIndexOf(':') + 1)).sort()).toEqual(['1.1.0', '1.1.0-ci.1']);
  });

  it('a tag of a version (1.1.0-ci.1) named alone needs the version at the destination, as pull there does (was: copied, then pull there refused it)', async () => {
    const dst = `${w.registry.host}/${w.registry.base}/dst-ci`;
    const alone = await runCli(['copy', 'hello:1.1.0-ci.1', '--from', w.src, '--to', dst]);
    expect(alone.code, alone.stderr).toBe(1);
    expect(alone.stderr).toContain(`hello:1.1.0-ci.1 is a tag of version 1.1.0 (its tag holds the same manifest there), and ${dst}/spectro-packs/archive/hello:1.1.0 does not exist: pull would refuse ${dst}/spectro-packs/archive/hello:1.1.0-ci.1`);
    expect(alone.stderr).toContain('hint: copy hello:1.1.0 first');
    expect((await new RegistryReader(w.registry.url).tagDigests(`${w.registry.base}/dst-ci`)).size).toBe(0);
    for (const ref of ['hello:1.1.0', 'hello:1.1.0-ci.1']) {
      const run = await runCli(['copy', ref, '--from', w.src, '--to', dst]);
      expect(run.code, run.stderr).toBe(0);
    }
    const pull = await runCli(['pull', 'hello:1.1.0-ci.1', '--registry', dst, '-o', join(w.root, 'pulled-ci')]);
    expect(pull.code, pull.stderr).toBe(0);
  });

  it('--all leaves out a tag that is no version whose archive pull refuses, naming why, and exits 0 (named, it fails)', async () => {
    const dst = `${w.registry.base}/dst-other`;
    const run = await runCli(['copy', 'other', '--all', '--from', w.src, '--to', `${w.registry.host}/${dst}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`skipped other:notes: ${w.src}/spectro-packs/archive/other:notes is not a pack (an archive pull refuses: its archive holds no pack.json in its folder "notes"); --all leaves it out`);
    const held = (await new RegistryReader(w.registry.url).tagDigests(dst));
    expect([...held.keys()].map((k) => k.slice(k.lastIndexOf(':') + 1))).toEqual(['1.0.0']);
    const named = await runCli(['copy', 'other:notes', '--from', w.src, '--to', `${w.registry.host}/${dst}`]);
    expect(named.code).toBe(1);
    expect(named.stderr).toContain('other:notes is not a pack: its archive holds no pack.json in its folder "notes"');
    expect((await new RegistryReader(w.registry.url).tagDigests(dst)).size).toBe(1);
  });
});

describe('a layer of other bytes than its digest names', () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-copy-corrupt-') }));

  it('is told as such by inspect, and by copy, which reads the archive before writing (without a second read: "could not read the archive ... incorrect header check")', async () => {
    const layout = join(w.root, 'src');
    await writePack(join(w.root, 'solo'), { name: 'solo', version: '1.0.0' });
    expect((await runCli(['push', join(w.root, 'solo'), '--oci-layout', layout])).code).toBe(0);
    const blobs = join(layout, 'spectro-packs/archive/solo/blobs/sha256');
    const manifestDigest = (await layoutHoldings(layout)).tags.get('spectro-packs/archive/solo:1.0.0') ?? '';
    const layer = (JSON.parse(await readFile(join(blobs, manifestDigest.slice(7)), 'utf8')) as { layers: Array<{ digest: string; size: number }> }).layers[0]!;
    await writeFile(join(blobs, layer.digest.slice(7)), Buffer.alloc(layer.size, 1));
    const inspect = await runCli(['inspect', 'solo:1.0.0', '--oci-layout', layout]);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr.startsWith(`error: blob ${layer.digest} does not match its digest (got sha256:`), inspect.stderr).toBe(true);
    const copy = await runCli(['copy', 'solo:1.0.0', '--from', `oci:${layout}`, '--to', `oci:${join(w.root, 'dst')}`, '--dry-run']);
    expect(copy.code).toBe(1);
    expect(copy.stderr).toContain(`blob ${layer.digest} does not match its digest`);
    expect((await layoutHoldings(join(w.root, 'dst'))).tags.size).toBe(0);
  });
});
