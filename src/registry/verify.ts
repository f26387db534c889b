import { createHash } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { PackpubError } from '../errors.js';
import type { Descriptor } from '../oci/manifest.js';

/**
 * Pass a blob stream through a sha256 check against its descriptor. The returned stream errors with
 * DIGEST_MISMATCH as soon as more bytes than `descriptor.size` arrive, or at the end when the digest or
 * size differ, so a consumer that reads to the end has verified content (OCI image-spec descriptor.md:
 * "the content MUST be verified against the digest").
 */
export function verifyBlobStream(source: Readable, descriptor: Pick<Descriptor, 'digest' | 'size'>): Readable {
  const hash = createHash('sha256');
  let size = 0;
  const mismatch = (what: string) =>
    new PackpubError('DIGEST_MISMATCH', `blob ${descriptor.digest} ${what}`, {
      hint: 'the registry or something between served other content; try again, and report it to the registry owner if it persists',
    });
  const verifier = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      size += chunk.length;
      if (size > descriptor.size) {
        callback(mismatch(`is larger than its descriptor's ${descriptor.size} bytes`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (size !== descriptor.size) {
        callback(mismatch(`is ${size} bytes, its descriptor says ${descriptor.size}`));
        return;
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== descriptor.digest) {
        callback(mismatch(`does not match its digest (got ${actual})`));
        return;
      }
      callback();
    },
  });
  // pipeline destroys every stage on failure, so an error upstream reaches the consumer too.
  return pipeline(source, verifier, () => undefined);
}
