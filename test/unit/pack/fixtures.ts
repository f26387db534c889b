import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

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
