import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/oci/digest.js';
import { OciLayoutStore } from '../../../src/targets/oci-layout.js';
import { setup } from '../../support/stage.js';

/*
 * The layout store reuses its parse of an unchanged index.json for lookups (list looks up every version);
 * a change another writer makes, even one that keeps the file's size or edits it in place, is seen by the next
 * lookup.
 */

const TYPE = 'application/vnd.oci.image.manifest.v1+json';
const manifest = (n: number) => Buffer.from(JSON.stringify({ schemaVersion: 2, n }));

describe('OCI layout lookups', () => {
  const w = setup(async (stack) => ({ dir: await stack.tempDir('packpub-layout-lookups-') }));

  it('see tags another writer moves, adds and deletes', async () => {
    const reader = new OciLayoutStore(w.dir);
    const writer = new OciLayoutStore(w.dir);
    await writer.pushManifest('r', '1.0.0', manifest(1), TYPE);
    expect((await reader.getManifest('r', '1.0.0'))?.descriptor.digest).toBe(sha256Digest(manifest(1)));

    // Moved to content of the same size: index.json keeps its length, only the digest changes.
    await writer.pushManifest('r', '1.0.0', manifest(2), TYPE);
    expect((await reader.getManifest('r', '1.0.0'))?.descriptor.digest).toBe(sha256Digest(manifest(2)));
    expect((await reader.headManifest('r', '1.0.0'))?.digest).toBe(sha256Digest(manifest(2)));

    await writer.pushManifest('r', '1.0.1', manifest(3), TYPE);
    expect((await reader.headManifest('r', '1.0.1'))?.digest).toBe(sha256Digest(manifest(3)));
    await writer.deleteTag({ repository: 'r', tag: '1.0.1', digest: sha256Digest(manifest(3)), otherTags: [] });
    expect(await reader.headManifest('r', '1.0.1')).toBeUndefined();
    expect(await reader.getManifest('r', '1.0.1')).toBeUndefined();
    expect(await reader.listTags('r')).toEqual(['1.0.0']);
  });

  it('see an index.json edited in place (same file, same size)', async () => {
    const reader = new OciLayoutStore(w.dir);
    const writer = new OciLayoutStore(w.dir);
    await writer.pushManifest('e', '1.0.0', manifest(1), TYPE);
    await writer.pushManifest('e', '2.0.0', manifest(2), TYPE);
    expect((await reader.headManifest('e', '1.0.0'))?.digest).toBe(sha256Digest(manifest(1)));

    // A hand edit that swaps the two tags: the file keeps its inode and its length.
    const path = join(w.dir, 'e', 'index.json');
    const text = await readFile(path, 'utf8');
    const swapped = text.replace('"1.0.0"', '"x.0.0"').replace('"2.0.0"', '"1.0.0"').replace('"x.0.0"', '"2.0.0"');
    expect(swapped).not.toBe(text);
    expect(swapped.length).toBe(text.length);
    await writeFile(path, swapped);
    expect((await reader.headManifest('e', '1.0.0'))?.digest).toBe(sha256Digest(manifest(2)));
    expect((await reader.getManifest('e', '2.0.0'))?.descriptor.digest).toBe(sha256Digest(manifest(1)));
  });
});
