import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArchive, listPackEntries, type WalkOptions } from '../../../src/archive/index.js';
import { PackpubError } from '../../../src/errors.js';
import { SMALL_PACK, listWithNode } from './fixtures.js';
import { makeFifo, type TreeSpec, writeFiles } from '../../support/files.js';
import { stage } from '../../support/stage.js';

const temp = stage();

/** A new folder named pack holding `files`. */
async function packFolder(files: TreeSpec): Promise<string> {
  const dir = join(await temp.tempDir(), 'pack');
  await writeFiles(dir, files);
  return dir;
}

/** A new pack: SMALL_PACK and `extra`. */
const newPack = (extra: TreeSpec = {}) => packFolder({ ...SMALL_PACK, ...extra });

async function paths(dir: string, options?: WalkOptions): Promise<string[]> {
  return (await listPackEntries(dir, options)).map((e) => e.archivePath);
}

async function refusal(promise: Promise<unknown>): Promise<PackpubError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(PackpubError);
    return err as PackpubError;
  }
  throw new Error('expected the walk to be refused');
}

describe('listPackEntries: what is left out', () => {
  /** A pack of SMALL_PACK and `files`: every path in `kept` is listed, and nothing listed starts with a path in `leftOut`. */
  it.each<{ name: string; files: TreeSpec; kept: string[]; leftOut: string[] }>([
    {
      name: 'leaves out .git, .DS_Store and ._* at any depth',
      files: {
        '.git/config': '[core]\n',
        '.git/objects/ab/cdef': 'x',
        '.DS_Store': 'mac',
        'manifests/.DS_Store': 'mac',
        '._pack.json': 'resource fork',
        'manifests/._hello.yaml': 'resource fork',
        'sub/.git': 'gitdir: ../.git/modules/sub\n',
        'sub/keep.yaml': 'k: v\n',
      },
      kept: ['pack/sub/keep.yaml', 'pack/manifests/hello.yaml'],
      leftOut: ['pack/.git', 'pack/.DS_Store', 'pack/manifests/.DS_Store', 'pack/._pack.json', 'pack/manifests/._hello.yaml', 'pack/sub/.git'],
    },
    {
      name: 'applies .packignore (gitignore syntax, negation, folder patterns) and leaves the file itself out',
      files: {
        '.packignore': '# build output\n*.tmp\n/notes.md\nbuild/\n!keep.tmp\ncharts/**/test/\n',
        'a.tmp': 'x',
        'manifests/b.tmp': 'x',
        'keep.tmp': 'kept',
        'notes.md': 'root notes',
        'manifests/notes.md': 'nested notes stay (pattern anchored at the root)',
        'build/out.bin': 'x',
        'charts/app/test/t.yaml': 'x',
        'charts/app/Chart.yaml': 'name: app\n',
      },
      kept: ['pack/keep.tmp', 'pack/manifests/notes.md', 'pack/charts/app/Chart.yaml'],
      leftOut: ['pack/.packignore', 'pack/a.tmp', 'pack/manifests/b.tmp', 'pack/notes.md', 'pack/build', 'pack/charts/app/test/'],
    },
    { name: 'matches .packignore patterns case-sensitively on every platform', files: { '.packignore': 'readme.md\n' }, kept: ['pack/README.md'], leftOut: [] },
  ])('$name', async ({ files, kept, leftOut }) => {
    const listed = await paths(await newPack(files));
    expect(kept.filter((p) => !listed.includes(p))).toEqual([]);
    expect(listed.filter((p) => leftOut.some((gone) => p.startsWith(gone)))).toEqual([]);
  });
});

describe('listPackEntries: order and modes', () => {
  it('sorts bytewise by archive path with folder entries before their contents', async () => {
    const dir = await packFolder({ 'a/b': '1', 'a-b': '2', 'a.b': '3', B: '4', 'é': '5', 'z/𝒳': '6', 'z/\uffff': '7' });
    expect(await paths(dir)).toEqual(['pack/', 'pack/B', 'pack/a-b', 'pack/a.b', 'pack/a/', 'pack/a/b', 'pack/z/', 'pack/z/\uffff', 'pack/z/𝒳', 'pack/é']
      // Sorted as UTF-8 bytes: U+FFFF (ef bf bf) before U+1D4B3 (f0 9d 92 b3), "é" (c3 a9) after "z".
      .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    const entries = await paths(dir);
    expect(entries.indexOf('pack/z/\uffff')).toBeLessThan(entries.indexOf('pack/z/𝒳'));
    expect(entries.at(-1)).toBe('pack/é');
  });

  it('normalises modes: folders 0755, executables 0755, other files 0644', async () => {
    const dir = await newPack({
      'private.yaml': { content: 'x', mode: 0o600 },
      'group-exec.sh': { content: 'x', mode: 0o710 },
      'setuid.sh': { content: 'x', mode: 0o4755 },
    });
    const byPath = new Map((await listPackEntries(dir)).map((e) => [e.relativePath, e.mode]));
    expect(byPath.get('')).toBe(0o755);
    expect(byPath.get('manifests')).toBe(0o755);
    expect(byPath.get('private.yaml')).toBe(0o644);
    expect(byPath.get('group-exec.sh')).toBe(0o755);
    expect(byPath.get('setuid.sh')).toBe(0o755);
    expect(byPath.get('scripts/run.sh')).toBe(0o755);
  });
});

describe('listPackEntries: symlinks', () => {
  it('stores a symlink to a file inside the pack as that regular file', async () => {
    const dir = await newPack();
    await symlink('manifests/hello.yaml', join(dir, 'link.yaml'));
    const built = await buildArchive(dir, join(await temp.tempDir(), 'x.tar.gz'), { name: 'x', version: '1' });
    const link = (await listWithNode(built.path)).find((h) => h.name === 'x-1/link.yaml');
    expect(link?.type).toBe('file');
    expect(link?.size).toBe(Buffer.byteLength(SMALL_PACK['manifests/hello.yaml'] as string));
  });

  it('stores a symlink to a folder inside the pack as a folder with its files', async () => {
    const dir = await newPack();
    await symlink('manifests', join(dir, 'alias'));
    const listed = await paths(dir);
    expect(listed).toContain('pack/alias/');
    expect(listed).toContain('pack/alias/nested/deep.yaml');
  });

  it('refuses a symlink leaving the pack, naming it', async () => {
    const outside = await temp.tempDir();
    await writeFile(join(outside, 'secret.txt'), 'secret');
    const dir = await newPack();
    await symlink(join(outside, 'secret.txt'), join(dir, 'manifests', 'leak.yaml'));
    const err = await refusal(listPackEntries(dir));
    expect(err.code).toBe('PACK_FILE');
    expect(err.message).toContain('manifests/leak.yaml');
    expect(err.message).toContain('outside the pack');
    expect(err.hint).toBeTruthy();
  });

  it('lets .packignore exclude an escaping symlink', async () => {
    const dir = await newPack({ '.packignore': 'leak\n' });
    await symlink('/etc/hostname', join(dir, 'leak'));
    expect(await paths(dir)).not.toContain('pack/leak');
  });

  it.each<{ name: string; links: Array<[target: string, at: string]>; message: string | RegExp }>([
    { name: 'a relative symlink climbing out of the pack', links: [['../../..', 'manifests/up']], message: 'manifests/up' },
    { name: 'a dangling symlink', links: [['missing.yaml', 'dangling.yaml']], message: /dangling\.yaml is a dangling symlink/ },
    { name: 'a symlink loop between two links', links: [['b', 'a'], ['a', 'b']], message: /^a is a symlink loop/ },
    { name: 'a symlink to a folder that contains it', links: [['..', 'manifests/parent']], message: 'manifests/parent is a symlink loop' },
  ])('refuses $name', async ({ links, message }) => {
    const dir = await newPack();
    for (const [target, at] of links) await symlink(target, join(dir, at));
    const err = await refusal(listPackEntries(dir));
    expect(err.code).toBe('PACK_FILE');
    expect(err.message).toMatch(message);
  });
});

describe('listPackEntries: hostile packs', () => {
  it('refuses a fifo, naming it', async () => {
    const dir = await newPack();
    await makeFifo(join(dir, 'manifests', 'pipe'));
    const err = await refusal(listPackEntries(dir));
    expect(err.code).toBe('PACK_FILE');
    expect(err.message).toBe('manifests/pipe is a named pipe (fifo), which cannot be stored in a pack');
  });

  it('skips a fifo listed in .packignore', async () => {
    const dir = await newPack({ '.packignore': '*.pipe\n' });
    await makeFifo(join(dir, 'manifests', 'x.pipe'));
    expect(await paths(dir)).not.toContain('pack/manifests/x.pipe');
  });

  it('refuses a socket', async () => {
    const dir = await newPack();
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(join(dir, 'sock'), r));
    try {
      const err = await refusal(listPackEntries(dir));
      expect(err.message).toContain('sock is a socket');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses a file name that is not valid UTF-8, showing its bytes', async () => {
    const dir = await newPack();
    const bad = Buffer.concat([Buffer.from(join(dir, 'manifests', 'bad-')), Buffer.from([0xff, 0xfe]), Buffer.from('.yaml')]);
    await writeFile(bad, 'x');
    const err = await refusal(listPackEntries(dir));
    expect(err.code).toBe('PACK_FILE');
    expect(err.message).toBe('manifests/bad-\\xff\\xfe.yaml: the file name is not valid UTF-8');
  });

  it('refuses a file name with a backslash, which packpub pull (and Windows tools) would refuse or split', async () => {
    const dir = await newPack();
    await writeFile(join(dir, 'manifests', 'a\\b.yaml'), 'x');
    const err = await refusal(listPackEntries(dir));
    expect(err.code).toBe('PACK_FILE');
    expect(err.message).toBe('manifests/a\\b.yaml: the file name contains a backslash, which Windows tools and packpub pull read as a folder separator');
    expect(err.hint).toBe('rename it, or list it in .packignore');
  });

  it('refuses folders nested deeper than the limit', async () => {
    const dir = await newPack();
    await mkdir(join(dir, ...Array.from({ length: 6 }, (_, i) => `d${i}`)), { recursive: true });
    await expect(paths(dir, { maxDepth: 6 })).resolves.toContain('pack/d0/d1/d2/d3/d4/d5/');
    const err = await refusal(listPackEntries(dir, { maxDepth: 5 }));
    expect(err.message).toBe('d0/d1/d2/d3/d4/d5 is nested deeper than 5 folders');
  });

  it('refuses the default nesting limit (64) with the default options', async () => {
    const dir = await newPack();
    await mkdir(join(dir, ...Array.from({ length: 70 }, () => 'n')), { recursive: true });
    const err = await refusal(listPackEntries(dir));
    expect(err.message).toMatch(/nested deeper than 64 folders$/);
  });

  it('refuses paths longer than the limit', async () => {
    const dir = await newPack({ [`${'x'.repeat(200)}/${'y'.repeat(200)}`]: 'z' });
    await expect(paths(dir)).resolves.toHaveLength(13);
    const err = await refusal(listPackEntries(dir, { maxPathBytes: 300 }));
    expect(err.message).toMatch(/the path is longer than 300 bytes$/);
  });

  it('refuses an enormous file before reading it (sparse 5 GiB file against the 4 GiB default)', async () => {
    const dir = await newPack();
    await writeFile(join(dir, 'huge.bin'), '');
    await truncate(join(dir, 'huge.bin'), 5 * 1024 ** 3);
    const err = await refusal(listPackEntries(dir));
    expect(err.code).toBe('PACK_FILE');
    expect(err.message).toBe(`huge.bin is ${5 * 1024 ** 3} bytes, over the ${4 * 1024 ** 3}-byte limit for one file`);
  });

  it('refuses too many entries', async () => {
    const dir = await newPack();
    const err = await refusal(listPackEntries(dir, { maxEntries: 5 }));
    expect(err.message).toMatch(/more than 5 files and folders/);
  });

  it('refuses a missing pack folder with NOT_FOUND', async () => {
    const err = await refusal(listPackEntries(join(await temp.tempDir(), 'nope')));
    expect(err.code).toBe('NOT_FOUND');
  });
});
