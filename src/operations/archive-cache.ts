import { mkdir, readFile } from 'node:fs/promises';
import type { Finding } from '../pack/findings.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { FileHashCache } from '../archive/index.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { writeFileAtomic } from '../util/fs.js';
import { VERSION } from '../version.js';

export interface CachedArchive {
  digest: Digest;
  size: number;
}

/** A pack that passed validation, remembered by content key. */
export interface CachedVerdict {
  name: string;
  version: string;
  warnings: number;
  /** The warnings themselves, so a run that skips validation still shows them. */
  findings?: Finding[];
}

/** File hashes kept between runs: at most this many entries (oldest dropped), ~150 bytes each. */
const MAX_FILE_HASHES = 500_000;

/** A cache that cannot be written only costs speed. */
async function writeAtomic(path: string, data: string): Promise<void> {
  await writeFileAtomic(path, data).catch(() => undefined);
}

/**
 * What lets a re-run on an unchanged tree skip work, all keyed by content and never trusted blindly:
 * - file hashes by stat signature, so a pack's content key costs stat calls instead of reads;
 * - the archive digest a content key produced, so an unchanged pack is recognised without compressing
 *   (and still checked against what each target holds);
 * - the validation verdict of a content key, per packpub version, so an unchanged pack is not validated
 *   again. Only passing verdicts are kept.
 */
export class ArchiveCache {
  private files: Map<string, [string, string]> | undefined;
  private filesChanged = false;

  constructor(private readonly dir: string) {}

  private entryPath(kind: 'archives' | 'verdicts', key: string): string {
    return kind === 'archives' ? join(this.dir, 'archives', key.slice(0, 2), `${key}.json`) : join(this.dir, 'verdicts', VERSION, key.slice(0, 2), `${key}.json`);
  }

  private async readJson(path: string): Promise<Record<string, unknown> | undefined> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  private async writeJson(path: string, value: unknown): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true }).catch(() => undefined);
    await writeAtomic(path, JSON.stringify(value));
  }

  async get(key: string): Promise<CachedArchive | undefined> {
    const value = await this.readJson(this.entryPath('archives', key));
    if (typeof value?.['digest'] === 'string' && isDigest(value['digest']) && Number.isSafeInteger(value['size'])) {
      return { digest: value['digest'], size: value['size'] as number };
    }
    return undefined;
  }

  async set(key: string, value: CachedArchive): Promise<void> {
    await this.writeJson(this.entryPath('archives', key), value);
  }

  async getVerdict(key: string, strict: boolean): Promise<CachedVerdict | undefined> {
    const value = await this.readJson(this.entryPath('verdicts', `${key}-${strict ? 'strict' : 'lax'}`));
    if (typeof value?.['name'] === 'string' && typeof value['version'] === 'string' && typeof value['warnings'] === 'number') {
      const findings = Array.isArray(value['findings']) ? (value['findings'] as Finding[]) : undefined;
      // A verdict that counts warnings but kept no text (written by an older packpub) is validated again.
      if (findings === undefined && value['warnings'] > 0) return undefined;
      return { name: value['name'], version: value['version'], warnings: value['warnings'], ...(findings === undefined ? {} : { findings }) };
    }
    return undefined;
  }

  async setVerdict(key: string, strict: boolean, verdict: CachedVerdict): Promise<void> {
    await this.writeJson(this.entryPath('verdicts', `${key}-${strict ? 'strict' : 'lax'}`), verdict);
  }

  /** The file-hash cache, loaded once per run; call save() at the end. */
  async fileHashes(): Promise<FileHashCache> {
    if (this.files === undefined) {
      this.files = new Map();
      const stored = await this.readJson(join(this.dir, 'file-hashes.json'));
      const entries = stored?.['files'];
      if (stored?.['version'] === 1 && Array.isArray(entries)) {
        for (const e of entries) {
          const [source, signature, hash] = Array.isArray(e) ? (e as unknown[]) : [];
          if (typeof source === 'string' && typeof signature === 'string' && typeof hash === 'string') this.files.set(source, [signature, hash]);
        }
      }
    }
    const files = this.files;
    return {
      get: (source, signature) => {
        const hit = files.get(source);
        return hit !== undefined && hit[0] === signature ? hit[1] : undefined;
      },
      set: (source, signature, sha256) => {
        files.delete(source); // re-insert: Map order is the age order used when trimming
        files.set(source, [signature, sha256]);
        this.filesChanged = true;
      },
    };
  }

  /** True when file hashes from an earlier run were loaded (else looking up content keys is pointless). */
  knowsFiles(): boolean {
    return (this.files?.size ?? 0) > 0;
  }

  /** Persist file hashes learned in this run (atomically; concurrent runs: the last one wins). */
  async save(): Promise<void> {
    if (this.files === undefined || !this.filesChanged) return;
    const all = [...this.files.entries()];
    const kept = all.slice(Math.max(0, all.length - MAX_FILE_HASHES)).map(([source, [sig, hash]]) => [source, sig, hash]);
    await mkdir(this.dir, { recursive: true }).catch(() => undefined);
    await writeAtomic(join(this.dir, 'file-hashes.json'), JSON.stringify({ version: 1, files: kept }));
    this.filesChanged = false;
  }
}

/** `PACKPUB_CACHE_DIR`, else `$XDG_CACHE_HOME/packpub`, else `~/.cache/packpub`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['PACKPUB_CACHE_DIR']) return env['PACKPUB_CACHE_DIR'];
  if (env['XDG_CACHE_HOME']) return join(env['XDG_CACHE_HOME'], 'packpub');
  return join(env['HOME'] || homedir(), '.cache', 'packpub');
}
