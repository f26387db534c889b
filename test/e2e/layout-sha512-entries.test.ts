import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { publishedLayout } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * An OCI layout another tool wrote may name a manifest by a sha512 digest, the image spec's other registered algorithm
 * (descriptor.md; its blob at blobs/sha512/<hex>). One such index.json entry failed `list` of the whole layout, exit
 * 1, "names a blob by ..., which is not a sha256 digest; the layout was not written by packpub or another OCI tool", and
 * so every read of any tag of that repository (inspect, pull, tag, delete). Now its manifest is read, checked by its
 * sha512, and named by its sha256 (as a registry serves those bytes); one naming its layer by sha512 is no pack's, and
 * pull says so (was: "manifest is not an OCI image manifest").
 */

type Index = { manifests: Array<{ mediaType: string; digest: string; size: number; annotations?: Record<string, string> }> };

const sha512 = (bytes: Buffer) => createHash('sha512').update(bytes).digest('hex');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const w = setup(async (stack) => {
  const { root, layout } = await publishedLayout(stack, 'packpub-layout-sha512-');
  const repo = join(layout, 'spectro-packs', 'archive', 'hello');
  const indexPath = join(repo, 'index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as Index;
  const first = index.manifests[0]!;
  const manifest = await readFile(join(repo, 'blobs', 'sha256', first.digest.slice('sha256:'.length)));
  await mkdir(join(repo, 'blobs', 'sha512'));
  // 2.0.0: the same manifest, named by its sha512.
  await writeFile(join(repo, 'blobs', 'sha512', sha512(manifest)), manifest);
  index.manifests.push({ mediaType: first.mediaType, digest: `sha512:${sha512(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '2.0.0' } });
  // 3.0.0: a manifest naming its layer by sha512 too.
  const doc = JSON.parse(manifest.toString()) as { layers: Array<{ digest: string }> };
  const layer = await readFile(join(repo, 'blobs', 'sha256', doc.layers[0]!.digest.slice('sha256:'.length)));
  await writeFile(join(repo, 'blobs', 'sha512', sha512(layer)), layer);
  doc.layers[0]!.digest = `sha512:${sha512(layer)}`;
  const third = Buffer.from(JSON.stringify(doc));
  await writeFile(join(repo, 'blobs', 'sha512', sha512(third)), third);
  index.manifests.push({ mediaType: first.mediaType, digest: `sha512:${sha512(third)}`, size: third.length, annotations: { 'org.opencontainers.image.ref.name': '3.0.0' } });
  await writeFile(indexPath, JSON.stringify(index));
  return { root, layout, repo, manifest, third };
});

describe('an OCI layout naming manifests by sha512 digests', () => {
  it('list, inspect and pull read them (was: exit 1 for every tag); one naming its layer by sha512 is no pack; delete removes the tag only', async () => {
    const list = await runCli(['list', 'hello', '--oci-layout', w.layout]);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.split('\n').filter((line) => line.startsWith('hello '));
    expect(rows.map((row) => row.split(/\s+/).slice(1, 3))).toEqual([
      ['1.0.0', `sha256:${sha256(w.manifest).slice(0, 12)}`],
      ['2.0.0', `sha256:${sha256(w.manifest).slice(0, 12)}`],
      ['3.0.0', `sha256:${sha256(w.third).slice(0, 12)}`],
    ]);

    expectRun(await runCli(['inspect', 'hello:2.0.0', '--oci-layout', w.layout]), { code: 0, stdout: [`manifest  sha256:${sha256(w.manifest)}`] });
    const pulled = join(w.root, 'pulled');
    expectRun(await runCli(['pull', 'hello:2.0.0', '--oci-layout', w.layout, '-o', pulled]), { code: 0, stdout: [`(sha256:${sha256(w.manifest)}) into ${pulled}`] });
    expect(existsSync(join(pulled, 'pack.json'))).toBe(true);

    const refused = join(w.root, 'refused');
    const third = await runCli(['pull', 'hello:3.0.0', '--oci-layout', w.layout, '-o', refused]);
    expect(third.code, third.stderr).toBe(1);
    expect(third.stderr).toContain('hello:3.0.0 is not a pack: manifest names its layer by a sha512 digest: packpub reads sha256 digests only');
    expect(existsSync(refused)).toBe(false);

    expectRun(await runCli(['delete', 'hello:2.0.0', '--oci-layout', w.layout, '--force']), { code: 0, stdout: ['deleted hello:2.0.0'] });
    const after = JSON.parse(await readFile(join(w.repo, 'index.json'), 'utf8')) as Index;
    expect(after.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['1.0.0', '3.0.0']);
    expectRun(await runCli(['pull', 'hello:1.0.0', '--oci-layout', w.layout, '-o', join(w.root, 'first')]), { code: 0 });

    // push --force over the version a sha512 entry names: replaced (the entry's held manifest read by its sha512, not
    // taken for another publisher's change of the tag).
    const next = await writePack(join(w.root, 'next'), { name: 'hello', version: '3.0.0' });
    const forced = await runCli(['push', next, '--oci-layout', w.layout, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const replaced = JSON.parse(await readFile(join(w.repo, 'index.json'), 'utf8')) as Index;
    const thirdEntry = replaced.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === '3.0.0');
    expect(thirdEntry).toHaveLength(1);
    expect(thirdEntry[0]?.digest).toMatch(/^sha256:/);
    expect(forced.stdout).toContain(`(${thirdEntry[0]?.digest.slice(0, 'sha256:'.length + 12)}`);
  });
});
