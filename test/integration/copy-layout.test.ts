import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { skopeoInspectLayout } from '../support/registry.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { sha256Digest } from '../../src/oci/digest.js';

const ENV = { SOURCE_DATE_EPOCH: '1700000000' };
const ARCHIVE = 'spectro-packs/archive';

async function tags(layout: string, name: string): Promise<string[]> {
  const path = join(layout, ARCHIVE, name, 'index.json');
  if (!existsSync(path)) return [];
  const index = JSON.parse(await readFile(path, 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
  return index.manifests.flatMap((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? []).sort();
}

describe('copy between OCI layouts', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let src: string;
  /** The source's manifests as skopeo reads them, by `name:version`: what every copy must hold byte for byte. */
  const srcRaw = new Map<string, Buffer>();

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('packpub-copy-'));
    src = join(root, 'staging');
    const packs = [
      await writePack(join(root, 'packs/hello-1.0.0'), { name: 'hello', version: '1.0.0' }),
      await writePack(join(root, 'packs/hello-1.1.0'), { name: 'hello', version: '1.1.0' }),
      await writePack(join(root, 'packs/world-2.0.0'), { name: 'world', version: '2.0.0' }),
    ];
    const pushed = await runCli(['push', ...packs, '--oci-layout', src], { env: ENV });
    expect(pushed.code, pushed.stderr).toBe(0);
    for (const [name, version] of [['hello', '1.0.0'], ['hello', '1.1.0'], ['world', '2.0.0']] as const) srcRaw.set(`${name}:${version}`, await skopeoInspectLayout(src, name, version));
  });
  afterAll(async () => cleanup());

  it('copies one version byte for byte and reports a re-run as unchanged', async () => {
    const dst = join(root, 'prod-one');
    const first = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${src}`, '--to', `oci:${dst}`], { cwd: root });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`copied hello:1.0.0 -> oci:${join(dst, ARCHIVE, 'hello')}:1.0.0`);
    expect(first.stdout).toContain('1 version(s) from');
    const b = await skopeoInspectLayout(dst, 'hello', '1.0.0');
    expect(b.equals(srcRaw.get('hello:1.0.0') ?? Buffer.alloc(0))).toBe(true);
    expect(await tags(dst, 'hello')).toEqual(['1.0.0']);

    const indexBefore = await readFile(join(dst, ARCHIVE, 'hello', 'index.json'), 'utf8');
    const again = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${src}`, '--to', `oci:${dst}`], { cwd: root });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('unchanged hello:1.0.0');
    expect(again.stdout).toContain('copied 0 B');
    expect(await readFile(join(dst, ARCHIVE, 'hello', 'index.json'), 'utf8')).toBe(indexBefore);
  });

  it('--all copies every version of a pack, or every pack without a name', async () => {
    const dst = join(root, 'prod-all');
    const one = await runCli(['copy', 'hello', '--all', '--from', `oci:${src}`, '--to', `oci:${dst}`], { cwd: root });
    expect(one.code, one.stderr).toBe(0);
    expect(await tags(dst, 'hello')).toEqual(['1.0.0', '1.1.0']);
    expect(await tags(dst, 'world')).toEqual([]);

    const every = await runCli(['copy', '--all', '--from', `oci:${src}`, '--to', `oci:${dst}`, '--json'], { cwd: root });
    expect(every.code, every.stderr).toBe(0);
    const report = JSON.parse(every.stdout) as { operation: string; ok: boolean; summary: Record<string, number>; results: Array<{ name: string; version: string; status: string; digest: string }> };
    expect(report.operation).toBe('copy');
    expect(report.ok).toBe(true);
    expect(report.summary).toMatchObject({ total: 3, copied: 1, unchanged: 2, failed: 0 });
    expect(report.results.map((r) => `${r.name}:${r.version}:${r.status}`)).toEqual(['hello:1.0.0:unchanged', 'hello:1.1.0:unchanged', 'world:2.0.0:copied']);
    for (const r of report.results) {
      const raw = await skopeoInspectLayout(dst, r.name, r.version);
      expect(srcRaw.get(`${r.name}:${r.version}`)?.equals(raw)).toBe(true);
    }
  });

  it('a different manifest at the destination is a conflict unless --skip-existing or --force', async () => {
    const dst = join(root, 'prod-conflict');
    const changed = await writePack(join(root, 'packs-changed/hello-1.0.0'), { name: 'hello', version: '1.0.0', files: { 'README.md': '# changed\n' } });
    expect((await runCli(['push', changed, '--oci-layout', dst], { env: ENV })).code).toBe(0);
    const theirs = await skopeoInspectLayout(dst, 'hello', '1.0.0');
    // What dst's hello:1.0.0 is now, read straight from the layout (index.json, every blob checked against its
    // digest): skopeo has read this manifest once above, the checks below only need its digest to stay.
    const heldDigest = async (): Promise<string | undefined> => {
      const held = await layoutHoldings(dst);
      expect(held.problems).toEqual([]);
      return held.tags.get(`${ARCHIVE}/hello:1.0.0`);
    };

    const refused = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${src}`, '--to', `oci:${dst}`], { cwd: root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CONFLICT hello:1.0.0');
    expect(refused.stderr).toContain('Palette caches pack digests');
    expect(await heldDigest()).toBe(sha256Digest(theirs));

    const plan = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${src}`, '--to', `oci:${dst}`, '--dry-run'], { cwd: root });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('plan conflict hello:1.0.0');

    const skipped = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${src}`, '--to', `oci:${dst}`, '--skip-existing'], { cwd: root });
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain('skipped hello:1.0.0');
    expect(await heldDigest()).toBe(sha256Digest(theirs));

    const forced = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${src}`, '--to', `oci:${dst}`, '--force'], { cwd: root });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('overwritten hello:1.0.0');
    expect((await skopeoInspectLayout(dst, 'hello', '1.0.0')).equals(srcRaw.get('hello:1.0.0') ?? Buffer.alloc(0))).toBe(true);
  });

  it('--dry-run prints the plan and bytes to copy, and writes nothing', async () => {
    const dst = join(root, 'prod-dry');
    const plan = await runCli(['copy', '--all', '--from', `oci:${src}`, '--to', `oci:${dst}`, '--dry-run', '--json'], { cwd: root });
    expect(plan.code, plan.stderr).toBe(0);
    const report = JSON.parse(plan.stdout) as { results: Array<{ status: string; plan: string; bytesToCopy: number; size: number }> };
    expect(report.results).toHaveLength(3);
    for (const r of report.results) {
      expect(r).toMatchObject({ status: 'planned', plan: 'new' });
      expect(r.bytesToCopy).toBe(r.size);
      expect(r.bytesToCopy).toBeGreaterThan(2);
    }
    expect(existsSync(dst)).toBe(false);
  });

  it('refuses corrupted source content and writes no tag', async () => {
    const bad = join(root, 'corrupt');
    const dst = join(root, 'prod-corrupt');
    const pack = await writePack(join(root, 'packs-corrupt/solo-1.0.0'), { name: 'solo', version: '1.0.0' });
    expect((await runCli(['push', pack, '--oci-layout', bad], { env: ENV })).code).toBe(0);
    const manifestDigest = (await layoutHoldings(bad)).tags.get(`${ARCHIVE}/solo:1.0.0`) ?? '';
    const manifest = JSON.parse(await readFile(join(bad, ARCHIVE, 'solo', 'blobs', 'sha256', manifestDigest.slice(7)), 'utf8')) as { layers: Array<{ digest: string; size: number }> };
    const layer = manifest.layers[0];
    if (layer === undefined) throw new Error('no layer');
    // Same length, different bytes: only the digest check can notice.
    await writeFile(join(bad, ARCHIVE, 'solo', 'blobs', 'sha256', layer.digest.slice(7)), Buffer.alloc(layer.size, 1));
    const result = await runCli(['copy', 'solo:1.0.0', '--from', `oci:${bad}`, '--to', `oci:${dst}`], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FAILED solo:1.0.0');
    expect(result.stderr).toMatch(/does not match its (descriptor|digest)/);
    expect(await tags(dst, 'solo')).toEqual([]);
    const blobs = existsSync(join(dst, ARCHIVE, 'solo', 'blobs', 'sha256')) ? await readdir(join(dst, ARCHIVE, 'solo', 'blobs', 'sha256')) : [];
    expect(blobs).not.toContain(layer.digest.slice(7));
  });

  it('reports a missing version as a failure and bad usage as exit 2', async () => {
    const dst = join(root, 'prod-missing');
    const missing = await runCli(['copy', 'hello:9.9.9', '--from', `oci:${src}`, '--to', `oci:${dst}`], { cwd: root });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('FAILED hello:9.9.9');
    expect(missing.stderr).toContain('does not exist');

    const noRef = await runCli(['copy', '--from', `oci:${src}`, '--to', `oci:${dst}`], { cwd: root });
    expect(noRef.code).toBe(2);
    expect(noRef.stderr).toContain('name what to copy');

    const noVersion = await runCli(['copy', 'hello', '--from', `oci:${src}`, '--to', `oci:${dst}`], { cwd: root });
    expect(noVersion.code).toBe(2);
    expect(noVersion.stderr).toContain('add --all');

    const twoStdin = await runCli(
      ['copy', 'hello:1.0.0', '--from', 'a.example.com/p', '--to', 'b.example.com/p', '--from-username', 'a', '--from-password-stdin', '--to-username', 'b', '--to-password-stdin'],
      { cwd: root, stdin: 'secret\n' },
    );
    expect(twoStdin.code).toBe(2);
    expect(twoStdin.stderr).toContain('cannot both read standard input');
    expect(twoStdin.stderr).not.toContain('secret');
  });

  it('accepts target names from packpub.yaml for --from and --to', async () => {
    const dir = join(root, 'configured');
    await writePack(join(dir, 'unused'), { name: 'unused', version: '0.0.1' });
    await writeFile(join(dir, 'packpub.yaml'), `targets:\n  staging:\n    ociLayout: ${src}\n  prod:\n    ociLayout: ./prod-layout\n`);
    const result = await runCli(['copy', 'world:2.0.0', '--from', 'staging', '--to', 'prod'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('copied world:2.0.0');
    expect((await skopeoInspectLayout(join(dir, 'prod-layout'), 'world', '2.0.0')).equals(srcRaw.get('world:2.0.0') ?? Buffer.alloc(0))).toBe(true);
  });
});
