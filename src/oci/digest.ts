import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { PackpubError } from '../errors.js';

/** `sha256:<64 hex>`. Only sha256 is produced; other registered algorithms are rejected on input. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

export function parseDigest(value: string): Digest {
  if (!isDigest(value)) {
    throw new PackpubError('REFERENCE', `"${value}" is not a sha256 digest (expected sha256:<64 lowercase hex>)`);
  }
  return value;
}

export function sha256Digest(data: Uint8Array | string): Digest {
  // One-shot hash: no Hash object (less than half the CPU of createHash for a manifest; issue 16).
  return `sha256:${hashOnce('sha256', data, 'hex')}`;
}

/** A pass-through stream that hashes and counts what flows through it. */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private result: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = `sha256:${this.hash.digest('hex')}`;
    callback();
  }

  /** Available once the stream has ended. */
  get digest(): Digest {
    if (this.result === undefined) throw new Error('DigestStream: digest read before end of stream');
    return this.result;
  }

  get size(): number {
    return this.bytes;
  }
}

/** Hash a file or stream to a digest without buffering it. */
export async function digestStream(source: AsyncIterable<Uint8Array>): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

const OTHER_CONTENT_HINT = 'the registry or something between served other content; try again, and report it to the registry owner if it persists';

export interface VerifyOptions {
  /** Sees the running total, for progress. */
  onBytes?: (total: number) => void;
  /** Ends a mismatch message. */
  note?: () => string;
  /** A mismatch's hint: where the bytes came from decides the fix (default: a registry's answer). */
  hint?: string;
}

/**
 * A pass-through that verifies content against its descriptor (OCI image-spec descriptor.md: "the
 * content MUST be verified against the digest"): it errors with DIGEST_MISMATCH as soon as more bytes
 * than `descriptor.size` arrive, or at the end when the digest or size differ. A consumer that reads it
 * to the end has verified content.
 */
export function verifying(descriptor: { digest: string; size: number }, options: VerifyOptions = {}): Transform {
  const { onBytes, note, hint = OTHER_CONTENT_HINT } = options;
  const hash = createHash('sha256');
  let size = 0;
  const mismatch = (what: string) => new PackpubError('DIGEST_MISMATCH', `blob ${descriptor.digest} ${what}${note?.() ?? ''}`, { hint });
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      size += chunk.length;
      if (size > descriptor.size) {
        callback(mismatch(`is larger than its descriptor's ${descriptor.size} bytes`));
        return;
      }
      hash.update(chunk);
      onBytes?.(size);
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
}

/** `source` through `verifying(descriptor)`; an error on either side reaches the consumer (pipeline destroys both). */
export function verified(source: Readable, descriptor: { digest: string; size: number }, options: VerifyOptions = {}): Readable {
  return pipeline(source, verifying(descriptor, options), () => undefined);
}
