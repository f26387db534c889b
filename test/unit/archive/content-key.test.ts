import { chmod, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArchive, cachedPackContentKey, packContentKey, type FileHashCache } from '../../../src/archive/index.js';
import { SMALL_PACK, TRUST_RECENT } from './fixtures.js';
import { writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';

const temp = stage();

async function pack(name = 'hello-pack'): Promise<string> {
  const dir = join(await temp.tempDir(), name);
  await writeFiles(dir, SMALL_PACK);
  return dir;
}

describe('packContentKey', () => {
  it('is a 64-hex key that ignores mtimes and non-execute permission bits, like the archive', async () => {
    const a = await pack();
    const b = await pack();
    await utimes(join(b, 'values.yaml'), new Date('2015-01-01'), new Date('2015-01-01'));
    await chmod(join(b, 'pack.json'), 0o600);
    const keyA = await packContentKey(a);
    expect(keyA).toMatch(/^[a-f0-9]{64}$/);
    expect(await packContentKey(b)).toBe(keyA);
  });

  it('changes when content changes but size and mtime do not', async () => {
    const dir = await pack();
    const before = await packContentKey(dir);
    const st = new Date('2020-02-02');
    await writeFile(join(dir, 'values.yaml'), 'pack:\n  namespace: HELLO\n');
    await utimes(join(dir, 'values.yaml'), st, st);
    expect(await packContentKey(dir)).not.toBe(before);
  });

  it('changes with anything else that changes the archive bytes', async () => {
    const dir = await pack();
    const base = await packContentKey(dir);
    expect(await packContentKey(dir, { mtime: new Date('2024-01-01T00:00:00Z') })).not.toBe(base);
    expect(await packContentKey(dir, { level: 9 })).not.toBe(base);
    expect(await packContentKey(dir, { blockSize: 64 * 1024 })).not.toBe(base);

    await chmod(join(dir, 'values.yaml'), 0o755);
    const exec = await packContentKey(dir);
    expect(exec).not.toBe(base);
    await chmod(join(dir, 'values.yaml'), 0o644);

    await rename(join(dir, 'README.md'), join(dir, 'README.txt'));
    expect(await packContentKey(dir)).not.toBe(base);
    await rename(join(dir, 'README.txt'), join(dir, 'README.md'));
    expect(await packContentKey(dir)).toBe(base);
  });

  it('does not depend on the folder name: the archive top folder is <name>-<version> from pack.json', async () => {
    const one = await pack('one');
    const two = await pack('two');
    expect(await packContentKey(one)).toBe(await packContentKey(two));
    const out = await temp.tempDir();
    const a = await buildArchive(one, join(out, 'one.tgz'), { name: 'hello', version: '1.0.0' });
    const b = await buildArchive(two, join(out, 'two.tgz'), { name: 'hello', version: '1.0.0' });
    expect(a.digest).toBe(b.digest);
    expect(a.contentKey).toBe(b.contentKey);
  });

  it('agrees with the archive: equal keys, equal digests; different keys, different digests', async () => {
    const a = await pack();
    const b = await pack();
    const out = await temp.tempDir();
    const opts = { name: 'hello', version: '1.0.0' };
    expect(await packContentKey(a)).toBe(await packContentKey(b));
    expect((await buildArchive(a, join(out, 'a.tgz'), opts)).digest).toBe((await buildArchive(b, join(out, 'b.tgz'), opts)).digest);
    await writeFile(join(b, 'extra.yaml'), 'x: 1\n');
    expect(await packContentKey(a)).not.toBe(await packContentKey(b));
    expect((await buildArchive(a, join(out, 'c.tgz'), opts)).digest).not.toBe((await buildArchive(b, join(out, 'd.tgz'), opts)).digest);
  });
});

describe('content keys from a build and from remembered file hashes', () => {
  function memoryCache(): FileHashCache {
    const map = new Map<string, string>();
    return {
      get(source, signature) {
        return map.get(`${source}\0${signature}`);
      },
      set(source, signature, sha256) {
        map.set(`${source}\0${signature}`, sha256);
      },
    };
  }

  it('buildArchive reports the same key packContentKey computes, and remembers every file', async () => {
    const dir = await pack();
    const cache = memoryCache();
    const built = await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', fileHashes: cache, walk: TRUST_RECENT });
    expect(built.contentKey).toBe(await packContentKey(dir));
    expect(await cachedPackContentKey(dir, cache, { walk: TRUST_RECENT })).toBe(built.contentKey);
  });

  it('knows nothing once a file changed (new signature), so the pack is rebuilt', async () => {
    const dir = await pack();
    const cache = memoryCache();
    await buildArchive(dir, join(await temp.tempDir(), 'out.tar.gz'), { name: 'hello', version: '1.0.0', fileHashes: cache, walk: TRUST_RECENT });
    await writeFile(join(dir, 'values.yaml'), 'pack:\n  namespace: changed\n');
    expect(await cachedPackContentKey(dir, cache, { walk: TRUST_RECENT })).toBeUndefined();
    const fresh = await packContentKey(dir, { fileHashes: cache, walk: TRUST_RECENT });
    expect(await cachedPackContentKey(dir, cache, { walk: TRUST_RECENT })).toBe(fresh);
  });
});
