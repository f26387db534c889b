import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * An OCI layout packpub did not write (an artifact downloaded in CI, a folder another tool or person made) is
 * input like a registry's answers: the digests its index and manifests name become paths under blobs/sha256/.
 * One that is no digest ("sha256:../../x") must never lead a command to read, or delete, a file elsewhere.
 */

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-hostile-layout-') }));

let n = 0;
/** A layout holding evil:1.0.0, a manifest whose config names `configDigest`; the layout's root. */
async function layoutNaming(configDigest: string): Promise<string> {
  const root = join(w.root, `layout-${n++}`);
  const repo = join(root, 'spectro-packs/archive/evil');
  await mkdir(join(repo, 'blobs/sha256'), { recursive: true });
  await writeFile(join(repo, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: 'application/vnd.unknown.config.v1+json', digest: configDigest, size: 2 }, layers: [] }));
  await writeFile(join(repo, 'blobs/sha256', sha256(manifest)), manifest);
  const entry = { mediaType: MANIFEST, digest: `sha256:${sha256(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1.0.0' } };
  await writeFile(join(repo, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
  return root;
}

describe('a layout naming blobs by something that is not a digest', () => {
  it('delete removes the tag and its manifest, never a file outside the layout (was: the file the config "digest" led to was deleted, exit 0)', async () => {
    const victim = join(w.root, `victim-${n++}`);
    await writeFile(victim, 'precious');
    const root = await layoutNaming(`sha256:${'../'.repeat(30)}${victim.slice(1)}`);
    const run = await runCli(['delete', 'evil:1.0.0', '--oci-layout', root, '--force']);
    expect(run.code, run.stderr).toBe(0);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(await readFile(victim, 'utf8')).toBe('precious');
    const repo = join(root, 'spectro-packs/archive/evil');
    expect((JSON.parse(await readFile(join(repo, 'index.json'), 'utf8')) as { manifests: unknown[] }).manifests).toEqual([]);
    expect(await readdir(join(repo, 'blobs/sha256'))).toEqual([]);
  });
});
