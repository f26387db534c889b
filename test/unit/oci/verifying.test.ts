import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sha256Digest, verified } from '../../../src/oci/digest.js';
import { OciLayoutStore } from '../../../src/targets/oci-layout.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const CONTENT = Buffer.from('the one digest-verifying stream');
const DESC = { digest: sha256Digest(CONTENT), size: CONTENT.length };

describe('verified (oci/digest.ts)', () => {
  it('passes content that matches its descriptor through unchanged', async () => {
    expect((await readAll(verified(Readable.from([CONTENT]), DESC))).equals(CONTENT)).toBe(true);
  });

  it.each([
    ['other bytes of the same size', Buffer.from('THE one digest-verifying stream'), /does not match its digest \(got sha256:/],
    ['a shorter body', CONTENT.subarray(0, 5), /is 5 bytes, its descriptor says 31/],
    ['a longer body', Buffer.concat([CONTENT, Buffer.from('!')]), /is larger than its descriptor's 31 bytes/],
  ])('fails with DIGEST_MISMATCH on %s', async (_what, body, message) => {
    await expect(readAll(verified(Readable.from([body]), DESC))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', message: expect.stringMatching(message) });
  });
});

describe('fetchBlob verifies inside the store', () => {
  it('an OCI layout whose blob file was altered fails the read with DIGEST_MISMATCH, callers need not check', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'packpub-verify-'));
    try {
      const store = new OciLayoutStore(dir);
      await store.pushBlob('r', { mediaType: 'application/octet-stream', ...DESC }, () => Readable.from([CONTENT]));
      expect((await readAll(await store.fetchBlob('r', { mediaType: 'application/octet-stream', ...DESC }))).equals(CONTENT)).toBe(true);
      const blobs = join(dir, 'r', 'blobs', 'sha256');
      const [file] = await readdir(blobs);
      await writeFile(join(blobs, file!), Buffer.from('THE one digest-verifying stream'));
      await expect(readAll(await store.fetchBlob('r', { mediaType: 'application/octet-stream', ...DESC }))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
