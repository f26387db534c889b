import type { PathLike } from 'node:fs';
import fsPromises, { link, readFile, readdir, stat } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PackpubError } from '../../../src/errors.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { OciLayoutStore, SMALL_BLOB_BYTES } from '../../../src/targets/oci-layout.js';
import { setup } from '../../support/stage.js';

/*
 * The layout never shows a half-written blob or index.json (trust). kill-sigkill.test.ts cannot tell: its
 * kills never land inside a short write. Here the source stream is ours, so the test stops it midway and
 * looks: the bytes written so far are only in a temp file beside the blob (`<hex>.tmp-<pid>-<random>`), never
 * at blobs/sha256/<hex>; a failed write leaves no temp file and index.json as it was. index.json is replaced
 * by rename (a hard link to the old file keeps the old bytes), and an update that fails after the lock, the
 * read and the change leaves the previous index.json whole. CONTENT is larger than SMALL_BLOB_BYTES, so it streams
 * into its temp file; a smaller blob is read whole before anything is written (its own tests at the end).
 */

const TYPE = 'application/vnd.oci.image.manifest.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar';
const CONTENT = Buffer.alloc(SMALL_BLOB_BYTES + 64 * 1024, 'packpub layer bytes ');
const DESC = { mediaType: LAYER, digest: sha256Digest(CONTENT), size: CONTENT.length };
const HALF = 16 * 1024;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Wait (event-loop turns, bounded) until a file in `dir` holds `size` bytes; its name. */
async function fileOfSize(dir: string, size: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    for (const name of await readdir(dir)) {
      if ((await stat(join(dir, name)).catch(() => undefined))?.size === size) return name;
    }
    if (Date.now() > deadline) throw new Error(`no file of ${size} bytes appeared in ${dir}: ${(await readdir(dir)).join(', ')}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('OCI layout writes are atomic', () => {
  const w = setup(async (stack) => ({ dir: await stack.tempDir('packpub-layout-atomic-') }));

  /** A layout holding one tag, and the bytes of its index.json. */
  let n = 0;
  async function layout(): Promise<{ repo: string; store: OciLayoutStore; blobs: string; indexPath: string; index: Buffer }> {
    const repo = `r${++n}`;
    const store = new OciLayoutStore(w.dir);
    await store.pushManifest(repo, '1.0.0', Buffer.from('{"schemaVersion":2}'), TYPE);
    const indexPath = join(w.dir, repo, 'index.json');
    return { repo, store, blobs: join(w.dir, repo, 'blobs', 'sha256'), indexPath, index: await readFile(indexPath) };
  }

  async function expectUntouched(l: { blobs: string; indexPath: string; index: Buffer }): Promise<void> {
    // Only the manifest pushed by layout(): no blob at its final name, no temp file left.
    expect(await readdir(l.blobs)).toEqual([sha256Digest(Buffer.from('{"schemaVersion":2}')).slice(7)]);
    expect((await readFile(l.indexPath)).equals(l.index)).toBe(true);
    expect(await readdir(join(l.blobs, '..', '..'))).not.toContain('index.json.lock');
  }

  async function expectWholeWriteWorks(l: { repo: string; store: OciLayoutStore; blobs: string }): Promise<void> {
    await l.store.pushBlob(l.repo, DESC, () => Readable.from([CONTENT]));
    expect(await l.store.hasBlob(l.repo, DESC.digest)).toBe(true);
    expect((await readAll(await l.store.fetchBlob(l.repo, DESC))).equals(CONTENT)).toBe(true);
    expect((await readdir(l.blobs)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  }

  it('a source that fails midway: the bytes so far are only in a temp file, which is removed; the blob can be written again', async () => {
    const l = await layout();
    const final = join(l.blobs, DESC.digest.slice(7));
    const broke = new PackpubError('REGISTRY', 'the source broke after 16 KiB');
    let seen: { name: string; finalExists: boolean } | undefined;
    const source = Readable.from(
      (async function* () {
        yield CONTENT.subarray(0, HALF);
        const name = await fileOfSize(l.blobs, HALF);
        seen = { name, finalExists: await stat(final).then(() => true, () => false) };
        throw broke;
      })(),
    );
    await expect(l.store.pushBlob(l.repo, DESC, () => source)).rejects.toBe(broke);
    // Mid-write, the half-written bytes were in a temp file beside the blob, never at its final name.
    expect(seen?.finalExists).toBe(false);
    expect(seen?.name).toMatch(new RegExp(`^${DESC.digest.slice(7)}\\.tmp-${process.pid}-[0-9a-f]{8}$`));
    await expectUntouched(l);
    expect(await l.store.hasBlob(l.repo, DESC.digest)).toBe(false);
    await expectWholeWriteWorks(l);
  });

  it('a source that fails before its first byte (the temp file may still be opening): no blob, no temp file', async () => {
    const l = await layout();
    for (let i = 0; i < 20; i++) {
      const broke = new PackpubError('REGISTRY', `the source broke at once (${i})`);
      const source = i % 2 === 0 ? new Readable({ read() { this.destroy(broke); } }) : Readable.from((async function* () { yield* []; throw broke; })());
      await expect(l.store.pushBlob(l.repo, DESC, () => source)).rejects.toBe(broke);
      await expectUntouched(l);
    }
    await expectWholeWriteWorks(l);
  });

  it.each([
    ['other bytes of the same size', Buffer.alloc(CONTENT.length, 'PACKPUB LAYER BYTES ')],
    ['a shorter body', CONTENT.subarray(0, HALF)],
    ['a longer body', Buffer.concat([CONTENT, Buffer.from('!')])],
  ])('a source whose bytes do not match the digest (%s): DIGEST_MISMATCH, nothing at the final name, no temp file', async (_what, body) => {
    const l = await layout();
    await expect(l.store.pushBlob(l.repo, DESC, () => Readable.from([body]))).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
      message: expect.stringContaining(`expected ${DESC.digest} (${DESC.size} bytes), got ${sha256Digest(body)} (${body.length} bytes)`),
    });
    await expectUntouched(l);
    await expectWholeWriteWorks(l);
  });

  it('index.json is replaced by rename: the old file (held by a hard link) keeps its bytes', async () => {
    const l = await layout();
    const old = join(w.dir, `${l.repo}-index-before.json`);
    await link(l.indexPath, old);
    await l.store.pushManifest(l.repo, '2.0.0', Buffer.from('{"schemaVersion":2,"n":2}'), TYPE);
    expect((await readFile(old)).equals(l.index)).toBe(true);
    expect(JSON.parse(await readFile(l.indexPath, 'utf8')).manifests).toHaveLength(2);
    expect((await readdir(join(w.dir, l.repo))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('an index.json update that fails after the lock, the read and the change leaves the previous index.json whole', async () => {
    // The rename that puts the new index.json in place fails (EIO, as a full disk or an I/O error would fail it):
    // node:fs/promises' rename replaced on Node's module object for this layout's index.json only, and pushed to
    // the product's imports with syncBuiltinESMExports(); put back after. (A symbolic link at index.json no longer
    // makes the write fail: the store replaces such a link rather than writing through it.)
    const l = await layout();
    const realRename = fsPromises.rename;
    const failed: string[] = [];
    fsPromises.rename = (async (from: PathLike, to: PathLike) => {
      if (String(to) === l.indexPath) {
        failed.push(String(from));
        throw Object.assign(new Error(`EIO: i/o error, rename '${String(from)}' -> '${String(to)}'`), { code: 'EIO', errno: -5, syscall: 'rename' });
      }
      return realRename(from, to);
    }) as typeof fsPromises.rename;
    syncBuiltinESMExports();
    try {
      await expect(l.store.pushManifest(l.repo, '2.0.0', Buffer.from('{"schemaVersion":2,"n":2}'), TYPE)).rejects.toMatchObject({ code: 'LOCAL_WRITE', message: expect.stringContaining(`cannot write ${l.indexPath}`) });
    } finally {
      fsPromises.rename = realRename;
      syncBuiltinESMExports();
    }
    expect(failed).toHaveLength(1);
    expect((await readFile(l.indexPath)).equals(l.index)).toBe(true);
    expect(JSON.parse(await readFile(l.indexPath, 'utf8')).manifests).toHaveLength(1);
    expect(await l.store.listTags(l.repo)).toEqual(['1.0.0']);
    // Neither the temp file the rename was to move nor the lock is left.
    expect((await readdir(join(w.dir, l.repo))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    // A later update works and keeps the first tag.
    await l.store.pushManifest(l.repo, '2.0.0', Buffer.from('{"schemaVersion":2,"n":2}'), TYPE);
    expect(await l.store.listTags(l.repo)).toEqual(['1.0.0', '2.0.0']);
  });
  describe('a small blob (at most SMALL_BLOB_BYTES: a pack\'s config, most archives) is read whole before anything is written', () => {
    const SMALL = CONTENT.subarray(0, 64 * 1024);
    const SMALL_DESC = { mediaType: LAYER, digest: sha256Digest(SMALL), size: SMALL.length };

    async function expectSmallWriteWorks(l: { repo: string; store: OciLayoutStore; blobs: string }): Promise<void> {
      await l.store.pushBlob(l.repo, SMALL_DESC, () => Readable.from([SMALL.subarray(0, HALF), SMALL.subarray(HALF)]));
      expect(await l.store.hasBlob(l.repo, SMALL_DESC.digest, SMALL_DESC.size)).toBe(true);
      expect((await readAll(await l.store.fetchBlob(l.repo, SMALL_DESC))).equals(SMALL)).toBe(true);
      expect((await readdir(l.blobs)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    }

    it('a source that fails midway: nothing in the blobs folder then or after, no temp file; the blob can be written again', async () => {
      const l = await layout();
      const broke = new PackpubError('REGISTRY', 'the source broke after 16 KiB');
      let during: string[] | undefined;
      const source = Readable.from(
        (async function* () {
          yield SMALL.subarray(0, HALF);
          during = await readdir(l.blobs);
          throw broke;
        })(),
      );
      await expect(l.store.pushBlob(l.repo, SMALL_DESC, () => source)).rejects.toBe(broke);
      expect(during).toEqual([sha256Digest(Buffer.from('{"schemaVersion":2}')).slice(7)]);
      await expectUntouched(l);
      await expectSmallWriteWorks(l);
    });

    it.each([
      ['other bytes of the same size', Buffer.alloc(64 * 1024, 'PACKPUB LAYER BYTES ')],
      ['a shorter body', SMALL.subarray(0, HALF)],
      ['a longer body', Buffer.concat([SMALL, Buffer.from('!')])],
      ['a body far longer than said', CONTENT],
    ])('a source whose bytes do not match the digest (%s): DIGEST_MISMATCH naming what came, nothing written', async (_what, body) => {
      const l = await layout();
      await expect(l.store.pushBlob(l.repo, SMALL_DESC, () => Readable.from([body]))).rejects.toMatchObject({
        code: 'DIGEST_MISMATCH',
        message: expect.stringContaining(`expected ${SMALL_DESC.digest} (${SMALL_DESC.size} bytes), got ${sha256Digest(body)} (${body.length} bytes)`),
      });
      await expectUntouched(l);
      await expectSmallWriteWorks(l);
    });
  });
});
