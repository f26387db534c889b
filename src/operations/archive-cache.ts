import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isDigest, type Digest } from '../oci/digest.js';

export interface CachedArchive {
  digest: Digest;
  size: number;
}

/**
 * Remembers which archive digest a pack's content key (archive/content-key.ts) produced, so a re-run can
 * recognise an unchanged pack by hashing its files instead of compressing them. Only digests are kept,
 * never archives: a hit is still checked against what the target holds, and a miss just builds.
 */
export class ArchiveCache {
  constructor(private readonly dir: string) {}

  private path(key: string): string {
    return join(this.dir, 'archives', key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CachedArchive | undefined> {
    try {
      const value = JSON.parse(await readFile(this.path(key), 'utf8')) as Partial<CachedArchive>;
      if (typeof value.digest === 'string' && isDigest(value.digest) && Number.isSafeInteger(value.size)) {
        return { digest: value.digest, size: value.size as number };
      }
    } catch {
      // missing or unreadable: a miss
    }
    return undefined;
  }

  async set(key: string, value: CachedArchive): Promise<void> {
    const path = this.path(key);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(join(this.dir, 'archives', key.slice(0, 2)), { recursive: true });
      await writeFile(tmp, JSON.stringify(value));
      await rename(tmp, path);
    } catch {
      await rm(tmp, { force: true }); // a cache that cannot be written only costs speed
    }
  }
}

/** `PACKPUB_CACHE_DIR`, else `$XDG_CACHE_HOME/packpub`, else `~/.cache/packpub`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['PACKPUB_CACHE_DIR']) return env['PACKPUB_CACHE_DIR'];
  if (env['XDG_CACHE_HOME']) return join(env['XDG_CACHE_HOME'], 'packpub');
  return join(env['HOME'] || homedir(), '.cache', 'packpub');
}
