import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { HOSTILE_PACK_REPO, hostileWithPack } from '../support/hostile-registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A tag of a pack's repository whose manifest is over the 4 MiB limit (registries take none larger; a stand-in
 * serves one, as a registry without the limit or a proxy rewriting the answer would): no pack. list showed
 * nothing and failed, exit 1, for one such tag among the versions; now it lists the others and names that one.
 */

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const REPO = HOSTILE_PACK_REPO;

const w = setup(async (stack) => {
  const { hostile, registry: R } = await hostileWithPack(stack, 'packpub-list-oversized-');
  const manifest = JSON.parse(await (await fetch(`${hostile.url}/v2/${REPO}/manifests/1.0.0`, { headers: { accept: MANIFEST } })).text()) as Record<string, unknown>;
  hostile.putManifest(REPO, '2.0.0', Buffer.from(JSON.stringify({ ...manifest, annotations: { big: 'x'.repeat(5 << 20) } })), MANIFEST);
  return { R, hostile, root: await stack.tempDir('packpub-list-oversized-out-') };
});

describe('list with a tag whose manifest is over 4 MiB', () => {
  it('lists the packs and names that tag as no pack, exit 0 (was: "manifest 2.0.0 ... more than the 4 MiB limit", exit 1, nothing listed)', async () => {
    const run = await runCli(['list', 'hello', '--registry', w.R]);
    expect(run.code, run.stderr).toBe(0);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(run.stdout).toContain('1.0.0');
    expect(run.stderr).toContain('note: hello:2.0.0 is not a pack (a manifest larger than 4 MiB)');
    const json = await runCli(['list', 'hello', '--registry', w.R, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as { packs: Array<{ versions: Array<{ version: string; digest?: string; notPack?: string }> }> };
    expect(doc.packs[0]?.versions).toEqual([
      expect.objectContaining({ version: '1.0.0', digest: expect.stringMatching(/^sha256:/) }),
      expect.objectContaining({ version: '2.0.0', notPack: 'a manifest larger than 4 MiB' }),
    ]);
    expect(doc.packs[0]?.versions[0]?.notPack).toBeUndefined();
  });

  it('pull and inspect of that tag still refuse it, exit 1', async () => {
    for (const args of [['inspect', 'hello:2.0.0'], ['pull', 'hello:2.0.0', '-o', 'never-made']]) {
      const run = await runCli([...args, '--registry', w.R]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('more than the 4 MiB limit');
    }
  });

  it('a Content-Length over 4 MiB on a small manifest (cut off on the way): read again: list names the digest of the version, copy copies it (was: list "not a pack", exit 0; copy "more than the 4 MiB limit", exit 1)', async () => {
    const lies = (versions: string[]) => {
      const left = new Set(versions);
      w.hostile.behaviour = {
        answer: (r) => {
          const version = /\/manifests\/(.+)$/.exec(r.path)?.[1] ?? '';
          if (r.method !== 'GET' || !r.path.startsWith(`/v2/${REPO}/manifests/`) || !left.delete(version)) return undefined;
          // A Content-Length of 5 MiB, a few bytes, then the connection closes (a proxy's lie, or an answer cut short).
          return { status: 200, headers: { 'content-type': MANIFEST, 'content-length': String(5 << 20) }, body: (res) => void res.write('{"schemaVersion":2}', () => res.destroy()) };
        },
      };
    };
    lies(['1.0.0']);
    const listed = await runCli(['list', 'hello', '--registry', w.R, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const doc = JSON.parse(listed.stdout) as { packs: Array<{ versions: Array<{ version: string; digest?: string; notPack?: string }> }> };
    const held = await (await fetch(`${w.hostile.url}/v2/${REPO}/manifests/1.0.0`, { method: 'HEAD', headers: { accept: MANIFEST } })).headers.get('docker-content-digest');
    expect(doc.packs[0]?.versions[0]).toEqual(expect.objectContaining({ version: '1.0.0', digest: held }));
    expect(doc.packs[0]?.versions[0]?.notPack).toBeUndefined();
    lies(['1.0.0']);
    const layout = `${w.root}/copied`;
    const copied = await runCli(['copy', 'hello:1.0.0', '--from', w.R, '--to', `oci:${layout}`]);
    w.hostile.behaviour = {};
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stdout).toMatch(/^copied hello:1\.0\.0 /m);
    const inspected = await runCli(['inspect', 'hello:1.0.0', '--oci-layout', layout, '--json']);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect((JSON.parse(inspected.stdout) as { manifest: { digest: string } }).manifest.digest).toBe(held);
  });
});
