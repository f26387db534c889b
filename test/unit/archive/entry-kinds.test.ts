import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EntryKinds, extractArchive } from '../../../src/archive/extract.js';
import { PackpubError } from '../../../src/errors.js';
import { craftTar, readTree } from '../../support/files.js';
import { stage } from '../../support/stage.js';

/*
 * trust: the paths an archive's entries make, as pull places them and inspect reads them (EntryKinds). A hostile
 * registry serves the layer: deep paths must cost each entry its depth, not its depth times its path's length,
 * and the folders the paths imply count against the entry limit, so that neither pull nor inspect (which has no
 * size limit) runs its heap out on a small layer.
 */

const temp = stage();
const SEGMENT = 'a'.repeat(29);
/** A folder 127 levels deep, 3 800 bytes long. */
const DEEP = ['hello', ...Array<string>(126).fill(SEGMENT)];

describe('EntryKinds', () => {
  it('keeps the rules: a folder never where a file is, a file never over a folder, a later file over an earlier one', () => {
    const kinds = new EntryKinds();
    expect(kinds.addDir(['a', 'b'], '"a/b/"')).toBe(1);
    expect(kinds.addDir(['a', 'b'], '"a/b/"')).toBe(-1);
    expect(kinds.addFile(['a', 'b', 'f'], '"a/b/f"')).toEqual({ newDirs: false, replaces: false });
    expect(kinds.addFile(['a', 'b', 'f'], '"a/b/f"')).toEqual({ newDirs: false, replaces: true });
    expect(kinds.addFile(['a', 'c', 'g'], '"a/c/g"')).toEqual({ newDirs: true, replaces: false });
    expect([kinds.kind(['a']), kinds.kind(['a', 'b', 'f']), kinds.kind(['a', 'b', 'f', 'x']), kinds.kind(['z']), kinds.kind([])]).toEqual(['directory', 'file', undefined, undefined, undefined]);
    expect(() => kinds.addDir(['a', 'b', 'f', 'x'], '"a/b/f/x/"')).toThrow('archive entry "a/b/f/x/" needs a folder where an earlier entry wrote a file');
    expect(() => kinds.addFile(['a', 'b'], '"a/b"')).toThrow('archive entry "a/b" would replace a folder of the same name');
  });

  it('20 000 files in one folder 127 levels deep: well under a second of CPU (was: 15 s, each parent path made again per entry)', () => {
    const kinds = new EntryKinds();
    const start = process.cpuUsage();
    for (let i = 0; i < 20_000; i++) kinds.addFile([...DEEP, `f${i}`], `"f${i}"`);
    const { user, system } = process.cpuUsage(start);
    expect(kinds.kind([...DEEP, 'f19999'])).toBe('file');
    expect((user + system) / 1000).toBeLessThan(1500);
  });

  it('bounds the folders deep paths imply as the entries are (was: 3 000 entries, each in a deep folder of its own, ran a 400 MB heap out)', () => {
    const kinds = new EntryKinds(1000);
    let made = 0;
    const add = () => kinds.addFile([`b${made}`, ...DEEP.slice(1), 'f'], `"b${made++}/.../f"`);
    for (let i = 0; i < 7; i++) add();
    expect(add).toThrow("the paths of the archive's entries imply more than 1000 folders");
    expect(made).toBe(8);
  });
});

describe('pull of an archive whose paths imply more folders than the entry limit', () => {
  it('is refused before anything is placed (was: extracted, 3 entries under a limit of 100)', async () => {
    const parent = await temp.tempDir();
    const target = `${parent}/target`;
    const entries = [0, 1, 2].map((i) => ({ name: `hello/b${i}/${Array<string>(40).fill('x').join('/')}/f`, content: 'x' }));
    const before = await readTree(parent);
    let caught: unknown;
    try {
      await extractArchive(Readable.from([gzipSync(await craftTar(entries))]), target, { maxEntries: 100 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PackpubError);
    expect((caught as PackpubError).code).toBe('UNSAFE_ARCHIVE');
    expect((caught as PackpubError).message).toBe("the paths of the archive's entries imply more than 100 folders");
    expect(await readTree(parent)).toEqual(before);
  });
});
