import { randomBytes } from 'node:crypto';
import { chmod, rename, rm, writeFile } from 'node:fs/promises';

/** A temp name beside `path`, unique per process and call, for write-then-rename. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Write a file atomically: a temp file beside it, then rename, so readers never see half a file and an
 * interrupted write leaves the old content. With `mode`, the file gets exactly that mode whatever the umask.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data, options.mode === undefined ? {} : { mode: options.mode });
    if (options.mode !== undefined) await chmod(tmp, options.mode);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
