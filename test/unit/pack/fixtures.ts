import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createGzip, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { NextChunk } from '../../../src/pack/chart-archive.js';

/** A gzip'd tar with one entry of `size` zero bytes: a small file that inflates hugely. */
export async function zeroBombTgz(size: number): Promise<Buffer> {
  const pack = tar.pack();
  const out = buffer(pack.pipe(createGzip({ level: 1 })));
  const entry = pack.entry({ name: 'bomb/zeros.bin', size, mode: 0o644, mtime: new Date(0) });
  const block = Buffer.alloc(1024 * 1024);
  await new Promise<void>((resolve, reject) => {
    let left = size;
    Readable.from(
      (function* () {
        while (left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          yield n === block.length ? block : block.subarray(0, n);
        }
      })(),
    )
      .pipe(entry)
      .on('finish', resolve)
      .on('error', reject);
  });
  pack.finalize();
  return out;
}

/**
 * A gzip'd tar in the pre-POSIX V7 format (`tar --format=v7`): ustar headers with the magic and
 * version fields zeroed and the checksum recomputed. Go's archive/tar (Helm) reads it.
 */
export async function v7Tgz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const raw = buffer(pack);
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const bytes = await raw;
  for (let at = 0; at + 512 <= bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
    header.fill(0, 257, 265); // magic "ustar\0" and version "00"
    header.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return gzipSync(bytes);
}

/** `bytes` handed over in chunks of at most `size` bytes each, then undefined (chart-archive.ts's NextChunk). */
export function chunksOf(bytes: Buffer, size: number): NextChunk {
  let at = 0;
  return async () => {
    if (at >= bytes.length) return undefined;
    const chunk = bytes.subarray(at, at + size);
    at += chunk.length;
    return chunk;
  };
}
