import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * push --tag with a tag that reads as a version, allowed with --allow-other-version: the tag is checked for
 * other content once before the version is written (keepVersionTags) and read back once at the end of the run.
 * It was read a third time between the version's write and its own (issue 16's cleanup in push.ts).
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-vtag-reads-');
  const registry = await sharedRegistry();
  const proxy = stack.add(await startRecordingProxy(registry.host));
  const pack = await writePack(join(root, 'amb'), { name: 'amb', version: '6.6.0' });
  return { registry, proxy, pack };
});

describe('push --tag <version-like> --allow-other-version', () => {
  it('reads the tag twice (the check before the write, the read-back after) and leaves it on the version', async () => {
    const repo = `${w.registry.base}/vreads`;
    w.proxy.clear();
    const push = await runCli(['push', w.pack, '--registry', `${w.proxy.host}/${repo}`, '--tag', '9.9.9', '--allow-other-version', '--tag', 'stable', '--json']);
    expect(push.code, push.stderr).toBe(0);
    const result = (JSON.parse(push.stdout) as { results: Array<{ status: string; digest: string }> }).results;
    expect(result.map((r) => r.status)).toEqual(['published']);
    const tagReads = w.proxy.requests.filter((r) => (r.kind === 'manifest-get' || r.kind === 'manifest-head') && r.path.endsWith('/manifests/9.9.9'));
    expect(tagReads).toHaveLength(2); // was 3
    // Written once, and holding the version's manifest, as the label does.
    expect(w.proxy.count((r) => r.kind === 'manifest-put' && r.path.endsWith('/manifests/9.9.9'))).toBe(1);
    const tags = (await new RegistryReader(w.registry.url).tagDigests(repo));
    const held = new Map([...tags.entries()].map(([k, v]) => [k.slice(k.lastIndexOf(':') + 1), v]));
    expect(held.get('9.9.9')).toBe(result[0]?.digest);
    expect(held.get('stable')).toBe(result[0]?.digest);
    expect(held.get('6.6.0')).toBe(result[0]?.digest);
  });
});
