import { readdirSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArchive, extractArchive, packContentKey } from '../../src/archive/index.js';
import { run } from '../unit/archive/fixtures.js';
import { readTree } from '../support/files.js';
import { CORPUS_DIR, CORPUS_SAME_PATH, HAVE_CORPUS } from '../support/packs.js';
import { stage } from '../support/stage.js';

// Every pack but those whose path another takes (CORPUS_SAME_PATH; the 'gzip' tests of test/unit/archive/archive.test.ts
// check 6 members at concurrency 1 and 4).
const packs = HAVE_CORPUS
  ? readdirSync(CORPUS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !CORPUS_SAME_PATH.has(d.name))
      .map((d) => d.name)
      .sort()
  : [];

const temp = stage();

describe.skipIf(!HAVE_CORPUS)('archives of the real packs in the shared corpus', () => {
  it.each(packs)('%s: deterministic, one top-level folder, byte-identical round trip', async (folder) => {
    const dir = join(CORPUS_DIR, folder);
    const out = await temp.tempDir();
    const opts = { name: 'corpus', version: '1.0.0' };
    const a = await buildArchive(dir, join(out, 'a.tar.gz'), { ...opts, concurrency: 1 });
    const b = await buildArchive(dir, join(out, 'b.tar.gz'), { ...opts, concurrency: 2 });
    expect(b.digest).toBe(a.digest);
    // The key a build computes while it reads the files is the one packContentKey computes from the folder
    // (the archive cache relies on it): both builds and one separate walk agree.
    expect(b.contentKey).toBe(a.contentKey);
    expect(await packContentKey(dir)).toBe(a.contentKey);

    const listed = await run('tar', ['-tzf', a.path]);
    expect(listed.code).toBe(0);
    const names = listed.stdout.trim().split('\n');
    // The top folder is <name>-<version> (here the options'), not the corpus folder's name.
    expect(names[0]).toBe('corpus-1.0.0/');
    expect(names.every((n) => n.startsWith('corpus-1.0.0/'))).toBe(true);
    expect(names).toHaveLength(a.entries);

    const target = await temp.tempDir();
    const result = await extractArchive(createReadStream(a.path), target, { expectedDigest: a.digest });
    expect(result.topLevel).toEqual(['corpus-1.0.0']);
    const strip = (tree: Map<string, { type: string; sha256?: string }>) => [...tree].map(([p, i]) => [p, i.type, i.sha256 ?? '']);
    expect(strip(await readTree(join(target, 'corpus-1.0.0')))).toEqual(strip(await readTree(dir)));
  });
});
