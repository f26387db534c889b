import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * push's re-run reads each remembered version conditionally (If-None-Match with the digest it published). A
 * proxy or cache answering that 304 while naming another manifest (its ETag) contradicts itself; push took the
 * 304 alone and said "unchanged", exit 0, over a version another publisher had replaced. A real registry holds
 * the packs; the proxy in front of it gives the 304.
 */

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-304-');
  const registry = await sharedRegistry();
  const proxy = stack.add(await startRecordingProxy(registry.host));
  return { root, registry, proxy, reader: new RegistryReader(registry.url), REPO: `${registry.base}/c304/spectro-packs/archive/c304` };
});

describe('a 304 naming another manifest than the one push remembers', () => {
  it('push reads the version again and tells the conflict, exit 1 (was: "unchanged", exit 0, the registry holding the other publisher\'s manifest)', async () => {
    const mine = await writePack(join(w.root, 'mine'), { name: 'c304', version: '1.0.0' });
    const theirs = await writePack(join(w.root, 'theirs'), { name: 'c304', version: '1.0.0', packJson: { displayName: 'theirs' } });
    const env = { PACKPUB_CACHE_DIR: join(w.root, 'cache-mine') };
    const P = `${w.proxy.host}/${w.registry.base}/c304`;
    const first = await runCli(['push', mine, '--registry', P], { env });
    expect(first.code, first.stderr).toBe(0);
    // Another publisher (its own cache) replaces the version.
    const other = await runCli(['push', theirs, '--registry', `${w.registry.host}/${w.registry.base}/c304`, '--force'], { env: { PACKPUB_CACHE_DIR: join(w.root, 'cache-theirs') } });
    expect(other.code, other.stderr).toBe(0);
    const held = sha256((await w.reader.manifest(w.REPO, '1.0.0')) as Buffer);
    let conditional = 0;
    w.proxy.onRequest = (r) => {
      if (r.method !== 'GET' || !r.path.endsWith('/c304/manifests/1.0.0') || r.headers['if-none-match'] === undefined) return 'pass';
      conditional++;
      return { status: 304, headers: { etag: `"${held}"` } };
    };
    try {
      const again = await runCli(['push', mine, '--registry', P], { env });
      expect(conditional).toBeGreaterThan(0);
      expect(again.code, again.stdout + again.stderr).toBe(1);
      expect(stackLines(again.stderr)).toEqual([]);
      expect(again.stdout + again.stderr).not.toMatch(/unchanged/);
      expect(again.stderr).toContain("CONFLICT c304:1.0.0");
    } finally {
      w.proxy.onRequest = undefined;
    }
    expect(sha256((await w.reader.manifest(w.REPO, '1.0.0')) as Buffer)).toBe(held);
  });
});
