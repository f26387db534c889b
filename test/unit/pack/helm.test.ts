import { deflateRawSync, gzipSync } from 'node:zlib';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteReader, gunzipChunks, readTar } from '../../../src/pack/chart-archive.js';
import { chunksOf } from './fixtures.js';
import { Prng } from '../../support/prng.js';
import { packChartDirectory } from '../../../src/archive/chart-package.js';
import { ChartError, readChart } from '../../../src/pack/chart.js';
import { goMatch, parseHelmIgnore } from '../../../src/pack/helmignore.js';
import { failure } from '../../support/errors.js';
import { tgzNames, writeTgz, writeFiles as put, tempDir, writeFiles } from '../../support/files.js';
import { setup } from '../../support/stage.js';
import { valuesSchemaRefusals } from '../../../src/pack/values-schema.js';
import { goSemverConstraintProblem, goSemverConstraintTakesPrerelease, goSemverMatches, goSemverProblem } from '../../../src/pack/go-semver.js';
import { findImages } from '../../../src/pack/chart-images.js';
import { parseYamlTree } from '../../../src/pack/yaml-tree.js';

/*
 * The tests of Helm's rules as src/pack/ follows them (chart archives, .helmignore, tar headers,
 * values.schema.json, Go's semver), a describe per module (each was a test file of its own): each test file costs
 * vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-setup.ts).
 */

describe('chart-archive', () => {
  /*
   * A worker thread inflates a gzip member in itself when its deflate data sits in one piece (issue 16);
   * anything else goes through the streaming inflater. Both must give the same bytes, the same counts and
   * the same error, for every shape of input, read whole or in small chunks.
   */

  interface Outcome {
    bytes: string;
    counted: number;
    error?: string;
  }

  /** Read all of a gzip stream: the inflated bytes (base64), what was counted, the error. */
  async function gunzipAll(bytes: Buffer, chunk: number, limit: number, inThread: boolean): Promise<Outcome> {
    let counted = 0;
    const count = (n: number): void => {
      counted += n;
      if (counted > limit) throw new Error(`over the limit at ${counted}`);
    };
    const room = inThread ? () => limit - counted : undefined;
    const inflated = gunzipChunks(new ByteReader(chunksOf(bytes, chunk)), count, room);
    const out: Buffer[] = [];
    try {
      for (let next = await inflated.next(); next !== undefined; next = await inflated.next()) out.push(Buffer.from(next));
      return { bytes: Buffer.concat(out).toString('base64'), counted };
    } catch (err) {
      return { bytes: Buffer.concat(out).toString('base64'), counted, error: (err as Error).message };
    } finally {
      inflated.close();
    }
  }

  describe('gunzipChunks inflating in the thread', () => {
    const prng = new Prng(16);
    // Incompressible: its deflate data is larger than one streaming piece (256 KiB), so read in small chunks it
    // spans them (read whole it is inflated in the thread), and it inflates to two chunks (256 KiB each) with
    // the 300 KiB limit between them.
    const noise = Buffer.alloc(320 * 1024);
    for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE(prng.u32(), i);
    const text = Buffer.from('apiVersion: v2\nname: c\nversion: 1.0.0\n'.repeat(20_000));
    const small = gzipSync(text.subarray(0, 5000));
    const flip = (g: Buffer, at: number): Buffer => {
      const copy = Buffer.from(g);
      copy[at] = (copy[at] as number) ^ 0xff;
      return copy;
    };
    /** The member with its trailer's length (the in-thread inflater's output size guess) off by `by`. */
    const sizeOff = (g: Buffer, by: number): Buffer => {
      const copy = Buffer.from(g);
      copy.writeUInt32LE(copy.readUInt32LE(copy.length - 4) + by, copy.length - 4);
      return copy;
    };
    const cases: Record<string, Buffer> = {
      small: small,
      'text inflating to several chunks': gzipSync(text),
      'noise spanning pieces': gzipSync(noise),
      'two members': Buffer.concat([small, gzipSync(text)]),
      'bytes after the member': Buffer.concat([small, Buffer.from('junk')]),
      'a damaged CRC': flip(small, small.length - 8),
      'a damaged length': flip(small, small.length - 2),
      'a length one short': sizeOff(gzipSync(text), -1),
      'a length one over': sizeOff(gzipSync(text), 1),
      'a length 50 KiB over': sizeOff(gzipSync(text), 50 * 1024),
      'a cut trailer': small.subarray(0, small.length - 3),
      'cut deflate data': small.subarray(0, 40),
      'damaged deflate data': flip(gzipSync(text), 30),
      'deflate data only up to its end': small.subarray(0, small.length - 8),
      'a bare deflate stream': deflateRawSync(text),
      'noise after small': Buffer.concat([small, noise.subarray(0, 3000)]),
      empty: Buffer.alloc(0),
    };

    // Read in 100-byte chunks, the noise member (0.6 CPU-s: 3300 chunks a read) takes the path 7000-byte chunks
    // take: it spans chunks, so the in-thread inflater declines it and both sides run the streaming one (issue 11).
    const chunkSizes = (name: string): number[] => (name === 'noise spanning pieces' ? [4 * 1024 * 1024, 7000] : [4 * 1024 * 1024, 100, 7000]);

    it.each(Object.keys(cases))('%s: the same bytes, counts and error either way', async (name) => {
      const bytes = cases[name] as Buffer;
      for (const chunk of chunkSizes(name)) {
        for (const limit of [100 * 1024 * 1024, 300 * 1024, 4000]) {
          const streaming = await gunzipAll(bytes, chunk, limit, false);
          const inThread = await gunzipAll(bytes, chunk, limit, true);
          expect({ chunk, limit, ...inThread }).toEqual({ chunk, limit, ...streaming });
        }
      }
    });

    it("keeps Go's answers", async () => {
      expect((await gunzipAll(gzipSync(text), 1 << 22, 1 << 30, true)).bytes).toBe(text.toString('base64'));
      expect(await gunzipAll(cases['a damaged CRC'] as Buffer, 1 << 22, 1 << 30, true)).toMatchObject({ error: 'incorrect data check' });
      expect(await gunzipAll(cases['a damaged length'] as Buffer, 1 << 22, 1 << 30, true)).toMatchObject({ error: 'incorrect length check' });
      expect(await gunzipAll(cases['bytes after the member'] as Buffer, 1 << 22, 1 << 30, true)).toMatchObject({ error: 'bytes after the gzip data that are not another gzip member' });
      expect(await gunzipAll(gzipSync(text), 1 << 22, 4000, true)).toMatchObject({ error: expect.stringContaining('over the limit') });
      // Damaged deflate data is refused, and the read ends (the streaming inflater once waited forever here).
      expect(await gunzipAll(cases['damaged deflate data'] as Buffer, 100, 1 << 30, true)).toMatchObject({ error: 'invalid bit length repeat' });
    });
  });
});

describe('helmignore', () => {
  /*
   * .helmignore as Helm's directory loader applies it. Every expected value below came from a throwaway Go
   * program running Helm's pkg/ignore rules over Go's filepath.Match (with its check of the whole pattern),
   * which also agreed with helmignore.ts on 40,000 random patterns and 20,000 random rule files (not committed).
   */

  const w = setup(async (stack) => ({ work: await stack.tempDir('packpub-helmignore-') }));

  describe("Go's filepath.Match", () => {
    it.each([
      ['*.lock', 'Chart.lock', true],
      ['*', 'a/b', false],
      ['a/*', 'a/b', true],
      ['a/*', 'a/b/c', false],
      ['[a-c]x', 'bx', true],
      ['[^a-c]x', 'dx', true],
      ['[^a-c]x', 'bx', false],
      ['\\*x', '*x', true],
      ['a?c', 'a/c', false],
      ['[/]', '/', true],
      ['x*[', 'abc', 'bad'],
      ['a[', 'a', 'bad'],
      ['[]a]', ']', 'bad'],
      ['[-a]', 'a', 'bad'],
      ['a\\', 'a', 'bad'],
      ['*b*', 'abc', true],
      ['é?', 'éa', true],
    ] as const)('%s on %s: %s', (pattern, name, expected) => {
      expect(goMatch([...pattern], [...name])).toBe(expected);
    });
  });

  describe('.helmignore rules', () => {
    it.each([
      ['Chart.lock', [['Chart.lock', false], ['charts/sub/Chart.lock', false], ['Chart.lock', true]], [true, true, true]],
      ['/Chart.lock', [['Chart.lock', false], ['charts/sub/Chart.lock', false]], [true, false]],
      ['charts/sub/Chart.lock', [['charts/sub/Chart.lock', false], ['Chart.lock', false]], [true, false]],
      ['locks/', [['locks', true], ['locks', false], ['a/locks', true]], [true, false, true]],
      // Helm's `!`: everything the rule does not match is ignored (Chart.yaml too), not a re-inclusion.
      ['!templates', [['Chart.yaml', false], ['templates', true], ['a/templates', true]], [true, false, false]],
      ['!templates/', [['templates', true], ['templates/x.yaml', false], ['other', true]], [false, true, true]],
      // Helm's own rule, templates/.?*: dot files right under the top chart's templates/.
      ['', [['templates/.hidden', false], ['templates/a/.hidden', false], ['charts/s/templates/.x', false], ['templates/.', false], ['.helmignore', false]], [true, false, false, false, false]],
      ['\uFEFF# c\n  *.bak  \r\nsecrets/', [['x.bak', false], ['secrets', true], ['secrets', false], ['# c', false]], [true, true, false, false]],
    ] as const)('%j', (text, paths, expected) => {
      const rules = parseHelmIgnore(text);
      expect(paths.map(([path, dir]) => rules.ignores(path, dir))).toEqual(expected);
    });

    it('refuses what Helm refuses: ** and malformed patterns', () => {
      expect(() => parseHelmIgnore('a/**')).toThrow('double-star (**) syntax is not supported');
      expect(() => parseHelmIgnore('ok\n[')).toThrow('rule "[": syntax error in pattern');
    });
  });

  const CHART = 'apiVersion: v2\nname: web\nversion: 1.0.0\n';
  /** A Chart.lock Helm's loader cannot read (its `generated` is not RFC 3339): it refuses a chart that loads it. */
  const BAD_LOCK = 'dependencies: []\ndigest: sha256:00\ngenerated: "2024-01-31"\n';

  describe('an unpacked chart: what .helmignore lists is neither read nor checked (Helm does not load it)', () => {
    it('a Chart.lock Helm cannot read, listed in .helmignore: the chart reads and packs; not listed: refused', async () => {
      const listed = join(w.work, 'listed');
      await put(listed, { 'Chart.yaml': CHART, 'Chart.lock': BAD_LOCK, '.helmignore': '*.lock\n' });
      expect((await readChart(listed)).name).toBe('web');
      const out = join(w.work, 'listed.tgz');
      await packChartDirectory(listed, out);
      expect((await readChart(out)).name).toBe('web');

      const unlisted = join(w.work, 'unlisted');
      await put(unlisted, { 'Chart.yaml': CHART, 'Chart.lock': BAD_LOCK });
      const err = await failure(readChart(unlisted));
      expect(err.message).toContain('cannot load Chart.lock');
    });

    it("subchart folders are matched by their path from the top chart; a subchart's own .helmignore is an ordinary file", async () => {
      // A chart with subchart folder charts/db holding a Chart.lock Helm cannot read, and one .helmignore file.
      const withDb = async (name: string, helmignore: Record<string, string>) => {
        const dir = join(w.work, name);
        await put(dir, { 'Chart.yaml': CHART, 'charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 0.1.0\n', 'charts/db/Chart.lock': BAD_LOCK, ...helmignore });
        return readChart(dir);
      };
      expect((await withDb('by-top', { '.helmignore': 'charts/db/Chart.lock\n' })).subcharts.map((s) => s.name)).toEqual(['db']);
      expect((await failure(withDb('by-own', { 'charts/db/.helmignore': 'Chart.lock\n' }))).message).toContain('charts/db/Chart.lock');

      // A subchart folder or archive listed in .helmignore is not loaded at all.
      const gone = join(w.work, 'gone');
      await put(gone, { 'Chart.yaml': CHART, '.helmignore': 'db/\ncache-*.tgz\n', 'charts/db/Chart.yaml': 'not: [a chart', 'charts/db/Chart.lock': BAD_LOCK });
      await writeTgz(join(gone, 'charts/cache-1.0.0.tgz'), { 'cache/Chart.yaml': 'apiVersion: v2\nname: cache\nversion: 1.0.0\n', 'cache/Chart.lock': BAD_LOCK });
      expect((await readChart(gone)).subcharts).toEqual([]);
    });

    it('values.yaml and templates listed in .helmignore are not read', async () => {
      const dir = join(w.work, 'values-ignored');
      await put(dir, { 'Chart.yaml': CHART, 'values.yaml': 'a: [unclosed\n', 'templates/x.yaml': '{{ .Values.shown }}', 'templates/old/y.yaml': '{{ .Values.hidden }}', '.helmignore': 'values.yaml\ntemplates/old/\n' });
      const chart = await readChart(dir);
      expect(chart.valuesText).toBe('');
      expect(chart.templateValuePaths).toEqual([['shown']]);
    });

    it('refuses what Helm refuses: Chart.yaml listed in .helmignore, a ** rule', async () => {
      const noChart = join(w.work, 'no-chart');
      await put(noChart, { 'Chart.yaml': CHART, '.helmignore': 'Chart.*\n' });
      const err = await failure(readChart(noChart));
      expect(err).toBeInstanceOf(ChartError);
      expect(err.message).toBe(`${noChart}: Chart.yaml is listed in .helmignore, so Helm does not load it (Helm: "Chart.yaml file is missing")`);

      const star = join(w.work, 'double-star');
      await put(star, { 'Chart.yaml': CHART, '.helmignore': 'docs/**\n' });
      expect((await failure(readChart(star))).message).toBe(
        `${join(star, '.helmignore')}: rule "docs/**": double-star (**) syntax is not supported, so Helm refuses to load the chart`,
      );
    });

    it('packing leaves out what Helm leaves out: its templates/.?* rule, ignored folders, an ignored symlink out of the chart', async () => {
      const dir = join(w.work, 'pack-rules');
      await put(dir, { 'Chart.yaml': CHART, 'templates/.notes': 'x', 'templates/a.yaml': 'kind: A\n', 'docs/a.md': 'a', 'keep.md': 'k', '.helmignore': 'docs/\nlink\n' });
      await symlink('/etc/hostname', join(dir, 'link'));
      const out = join(w.work, 'pack-rules.tgz');
      await packChartDirectory(dir, out);
      expect(await tgzNames(out)).toEqual(['web/.helmignore', 'web/Chart.yaml', 'web/keep.md', 'web/templates/a.yaml']);
    });
  });

  describe('a chart archive: .helmignore inside it is not applied (Helm: "not evaluated when reading out of an archive")', () => {
    it('a Chart.lock Helm cannot read is refused even when the archive lists it in .helmignore', async () => {
      const file = join(w.work, 'archived.tgz');
      await writeTgz(file, { 'web/Chart.yaml': CHART, 'web/.helmignore': 'Chart.lock\n', 'web/Chart.lock': BAD_LOCK });
      expect((await failure(readChart(file))).message).toContain('cannot load Chart.lock');
    });
  });
});

describe('tar-reader', () => {
  /*
   * packpub's tar reader (readTar), two things it does for speed (issue 16) pinned to what it did before:
   * - a tar header's checksum, as Go's archive/tar (Helm) checks it: the sum of the header's 512 bytes with the
   *   checksum field read as eight spaces, either unsigned or with every byte signed (old tars wrote the signed
   *   sum), computed in a function of its own;
   * - headers, data and padding that sit in the current chunk are taken without a promise (ByteReader.readNow,
   *   skipNow), the rest as before: the same entries and bytes whatever the chunks.
   */

  /** A ustar header of a regular file `a.yaml` of 0 bytes, `fill` written over its free-text fields (link name, user and group names). */
  function header(fill: (block: Buffer) => void, name = 'a.yaml'): Buffer {
    const block = Buffer.alloc(512);
    block.write(name, 0, 'latin1');
    block.write('0000644\0', 100, 'latin1');
    block.write('0000000\0', 108, 'latin1');
    block.write('0000000\0', 116, 'latin1');
    block.write('00000000000\0', 124, 'latin1');
    block.write('00000000000\0', 136, 'latin1');
    block[156] = 0x30;
    block.write('ustar\u000000', 257, 'latin1');
    block.write('0000000\0', 329, 'latin1');
    block.write('0000000\0', 337, 'latin1');
    fill(block);
    return block;
  }

  /** The two sums Go accepts, computed the plain way (field 148-155 as spaces). */
  function sums(block: Buffer): { unsigned: number; signed: number } {
    let unsigned = 0;
    let signed = 0;
    for (let i = 0; i < 512; i++) {
      const c = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
      unsigned += c;
      signed += c >= 0x80 ? c - 256 : c;
    }
    return { unsigned, signed };
  }

  function withChecksum(block: Buffer, sum: number): Buffer {
    const out = Buffer.from(block);
    out.write(`${(sum >>> 0).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return out;
  }

  /** `tar` in chunks of `size` bytes. */
  function chunked(tar: Buffer, size: number): ByteReader {
    return new ByteReader(chunksOf(tar, size));
  }

  /** What readTar hands over for `tar` read in chunks of `size`: each entry's name, size and (when `read`) data; or its error. */
  async function entriesOf(tar: Buffer, size: number, read: (name: string) => boolean): Promise<string[]> {
    const seen: string[] = [];
    try {
      await readTar(chunked(tar, size), async (entry, data) => {
        seen.push(read(entry.name) ? `${entry.name} ${entry.size} ${(await data.bytes()).toString('latin1')}` : `${entry.name} ${entry.size} -`);
      });
    } catch (err) {
      seen.push(`error: ${(err as Error).message}`);
    }
    return seen;
  }

  /** The names readTar visits in `tar` (a header, then the end-of-archive blocks), or its error message. */
  async function namesOf(block: Buffer): Promise<string[] | string> {
    const tar = Buffer.concat([block, Buffer.alloc(1024)]);
    let given = false;
    const reader = new ByteReader(async () => {
      if (given) return undefined;
      given = true;
      return tar;
    });
    const names: string[] = [];
    try {
      await readTar(reader, (entry) => {
        names.push(entry.name);
      });
    } catch (err) {
      return (err as Error).message;
    }
    return names;
  }

  describe('tar header checksum', () => {
    const highBytes = (block: Buffer): void => {
      block.fill(0xe9, 157, 200); // link name
      block.fill(0xff, 265, 290); // user name
    };

    it('accepts the unsigned sum and the signed sum of a header with bytes of 0x80 and more', async () => {
      const block = header(highBytes);
      const { unsigned, signed } = sums(block);
      expect(signed).toBeLessThan(unsigned);
      expect(await namesOf(withChecksum(block, unsigned))).toEqual(['a.yaml']);
      expect(await namesOf(withChecksum(block, signed))).toEqual(['a.yaml']);
    });

    it('refuses a checksum one off either sum', async () => {
      const block = header(highBytes);
      const { unsigned, signed } = sums(block);
      for (const wrong of [unsigned + 1, unsigned - 1, signed + 1, signed - 1]) {
        expect(await namesOf(withChecksum(block, wrong))).toBe('invalid tar header');
      }
    });

    it('agrees with the plain sums on random free-text bytes', async () => {
      const prng = new Prng(16);
      for (let round = 0; round < 50; round++) {
        const block = header((b) => {
          for (let i = 157; i < 257; i++) b[i] = prng.int(0, 255);
          for (let i = 265; i < 329; i++) b[i] = prng.int(0, 255);
        });
        const { unsigned, signed } = sums(block);
        expect(await namesOf(withChecksum(block, unsigned))).toEqual(['a.yaml']);
        expect(await namesOf(withChecksum(block, signed))).toEqual(['a.yaml']);
        if (unsigned !== signed) expect(await namesOf(withChecksum(block, unsigned + 256))).toBe('invalid tar header');
      }
    });
  });

  /** A file entry: header (checksum set), data, padding. */
  function fileEntry(name: string, data: string): Buffer {
    const block = header((b) => b.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1'), name);
    const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
    padded.write(data, 'latin1');
    return Buffer.concat([withChecksum(block, sums(block).unsigned), padded]);
  }

  describe('tar entries across chunks', () => {
    const files: Array<[string, string]> = [
      ['empty.txt', ''],
      ['one.txt', 'x'],
      ['block.txt', 'b'.repeat(512)],
      ['odd.txt', 'o'.repeat(1000)],
      ['big.txt', Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('')],
      ['last.txt', 'end'],
    ];
    const tar = Buffer.concat([...files.map(([name, data]) => fileEntry(name, data)), Buffer.alloc(1024)]);

    it('hands over the same entries and bytes, read or skipped, whatever the chunk size', async () => {
      const whole = await entriesOf(tar, tar.length, () => true);
      expect(whole).toEqual(files.map(([name, data]) => `${name} ${data.length} ${data}`));
      const every = (name: string): boolean => name !== 'odd.txt';
      const wholeSkipping = await entriesOf(tar, tar.length, every);
      for (const size of [1, 7, 100, 511, 512, 513, 1024, 1500, 4096]) {
        expect(await entriesOf(tar, size, () => true)).toEqual(whole);
        expect(await entriesOf(tar, size, every)).toEqual(wholeSkipping);
      }
    });

    it('still finds an archive cut inside data or padding, whatever the chunk size', async () => {
      // In block.txt's data, in odd.txt's data: Go's "unexpected EOF"; in last.txt's padding: the end (Go stops there).
      const outcomes: Array<[number, string]> = [
        [512 * 4 + 3, 'error: unexpected end of data'],
        [512 * 6 + 100, 'error: unexpected end of data'],
        [tar.length - 1024 - 300, 'last.txt 3 -'],
      ];
      for (const [cut, last] of outcomes) {
        const short = tar.subarray(0, cut);
        const whole = await entriesOf(short, short.length, () => false);
        expect(whole.at(-1)).toBe(last);
        for (const size of [1, 7, 511, 512, 513, 4096]) expect(await entriesOf(short, size, () => false)).toEqual(whole);
      }
    });
  });

  /** A ustar entry of type `flag` (a character) holding `data`, its link name `link`. */
  function typedEntry(name: string, flag: string, data: string, link = ''): Buffer {
    const block = header((b) => {
      b.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
      b[156] = flag.charCodeAt(0);
      b.write(link, 157, 'latin1');
    }, name);
    const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
    padded.write(data, 'latin1');
    return Buffer.concat([withChecksum(block, sums(block).unsigned), padded]);
  }

  describe('link entries', () => {
    it('names what a hard or symbolic link points to (ustar field, pax linkpath, GNU long link) and hands over no data, as Go does', async () => {
      const long = `../${'d/'.repeat(60)}values.yaml`;
      const pax = `${(`linkpath=${long}\n`.length + 4).toString()} linkpath=${long}\n`;
      const tar = Buffer.concat([
        fileEntry('c/values.yaml', 'replicas: 1\n'),
        typedEntry('c/copy.yaml', '1', '', 'c/values.yaml'),
        typedEntry('c/templates/a.yaml', '2', '', '../files/a.yaml'),
        typedEntry('././@PaxHeader', 'x', pax),
        typedEntry('c/templates/b.yaml', '2', '', 'short'),
        typedEntry('././@LongLink', 'K', `${long}\0`),
        typedEntry('c/templates/c.yaml', '2', '', 'short'),
        typedEntry('c/templates/', '5', ''),
        Buffer.alloc(1024),
      ]);
      const seen: string[] = [];
      await readTar(chunked(tar, tar.length), async (entry, data) => {
        seen.push(`${entry.name} ${entry.size} ${entry.link === undefined ? '-' : `${entry.link.hard ? 'hard' : 'symlink'}:${entry.link.target}`} [${(await data.bytes()).toString('latin1')}]`);
      });
      expect(seen).toEqual([
        'c/values.yaml 12 - [replicas: 1\n]',
        'c/copy.yaml 0 hard:c/values.yaml []',
        'c/templates/a.yaml 0 symlink:../files/a.yaml []',
        `c/templates/b.yaml 0 symlink:${long} []`,
        `c/templates/c.yaml 0 symlink:${long} []`,
        'c/templates/ 0 - []',
      ]);
    });
  });
});

describe('values-schema-helm', () => {
  /*
   * The values Helm 3 checks a chart's values.schema.json against (pkg/chartutil coalesce.go, dependencies.go),
   * where its versions agree.
   *
   * import-values as Helm 3 processes them (pkg/chartutil dependencies.go processImportValues): a subchart's
   * table (`child`, or `exports.<name>` for the short form) copied into the parent's values (`parent`, the top
   * for the short form) before the install coalesces and checks the schemas. Where the parent's own values.yaml
   * sets the same key, Helm versions disagree on which wins (3.0-3.8: the parent, but a short-form import wins;
   * 3.9-3.12 and 3.13.1 and later: the parent; 3.13.0: the import): only what every version refuses is reported.
   */

  let work: Awaited<ReturnType<typeof tempDir>>;
  let charts = 0;

  beforeAll(async () => void (work = await tempDir('packpub-values-schema-')));
  afterAll(() => work.cleanup());

  interface Chart {
    /** Lines under the one dependency (db 1.0.0) of chart web. */
    dependency: string;
    webValues?: string;
    webSchema?: object;
    dbValues: string;
    dbSchema?: object;
  }

  /** The refusals (chart name, failing pointers) of chart web with subchart db, given `given`. */
  async function refusals(c: Chart, given?: object): Promise<Array<{ chart: string; pointers: string[] }>> {
    const dir = join(work.dir, `web-${charts++}`);
    await writeFiles(dir, {
      'Chart.yaml': `apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: db\n    version: 1.0.0\n${c.dependency}`,
      'values.yaml': c.webValues ?? 'replicas: 1\n',
      'values.schema.json': JSON.stringify(c.webSchema ?? { properties: { replicas: { type: 'integer' } } }),
      'charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
      'charts/db/values.yaml': c.dbValues,
      ...(c.dbSchema === undefined ? {} : { 'charts/db/values.schema.json': JSON.stringify(c.dbSchema) }),
    });
    const found = await valuesSchemaRefusals(await readChart(dir), given);
    return found.map((r) => ({ chart: r.chart, pointers: r.errors.map((e) => e.pointer) }));
  }

  describe('a null the pack gives', () => {
    // Helm coalesces a given table over a default one key of the default at a time (coalesceTablesFullKey):
    // a given key the defaults lack is kept as given, null included, by every Helm 3.
    it('over no default, nested: every Helm keeps the null for the schema to see', async () => {
      const webSchema = { properties: { conf: { type: 'object', properties: { label: { type: 'string' } } } } };
      expect(await refusals({ dependency: '', webSchema, webValues: 'conf:\n  other: 1\n', dbValues: 'port: 1\n' }, { conf: { label: null } })).toEqual([{ chart: 'web', pointers: ['/conf/label'] }]);
      const dbSchema = { properties: { label: { type: 'string' } } };
      expect(await refusals({ dependency: '', webValues: 'db:\n  other: 1\n', dbValues: 'port: 1\n', dbSchema }, { db: { label: null } })).toEqual([{ chart: 'web/db', pointers: ['/label'] }]);
    });

    it('over a default the parent gives a subchart: deleted up to 3.19, kept by 3.20 (versions disagree: not judged)', async () => {
      const dbSchema = { properties: { label: { type: 'string' } } };
      expect(await refusals({ dependency: '', webValues: 'db:\n  label: x\n', dbValues: 'port: 1\n', dbSchema }, { db: { label: null } })).toEqual([]);
    });
  });

  const PORT = { properties: { conn: { type: 'object', required: ['port'], properties: { port: { type: 'integer' } } } } };
  const MAP = '    import-values:\n      - child: conn\n        parent: conn\n';

  describe('import-values before the schema check', () => {
    it("a map entry fills a key the parent's values lack: every Helm checks the imported value", async () => {
      expect(await refusals({ dependency: MAP, webSchema: PORT, dbValues: 'conn:\n  port: five\n' })).toEqual([{ chart: 'web', pointers: ['/conn/port'] }]);
      expect(await refusals({ dependency: MAP, webSchema: PORT, dbValues: 'conn:\n  port: 5432\n' })).toEqual([]);
    });

    it('the imported table is the one under the alias the dependency goes by', async () => {
      const dependency = `    alias: primary\n${MAP}`;
      expect(await refusals({ dependency, webSchema: PORT, dbValues: 'conn:\n  port: five\n' })).toEqual([{ chart: 'web', pointers: ['/conn/port'] }]);
    });

    it('the values Palette passes still win over an imported default', async () => {
      expect(await refusals({ dependency: MAP, webSchema: PORT, dbValues: 'conn:\n  port: five\n' }, { conn: { port: 80 } })).toEqual([]);
      expect(await refusals({ dependency: MAP, webSchema: PORT, dbValues: 'conn:\n  port: 5432\n' }, { conn: { port: 'eighty' } })).toEqual([{ chart: 'web', pointers: ['/conn/port'] }]);
    });

    it("a key both the parent's values.yaml and an import set: versions disagree, not judged either way", async () => {
      // 3.13.0 takes the import's, every other the parent's.
      expect(await refusals({ dependency: MAP, webSchema: PORT, webValues: 'conn:\n  port: 1\n', dbValues: 'conn:\n  port: five\n' })).toEqual([]);
      expect(await refusals({ dependency: MAP, webSchema: PORT, webValues: 'conn:\n  port: one\n', dbValues: 'conn:\n  port: 5432\n' })).toEqual([]);
      // Where none disagrees, the parent's own value is judged as before.
      expect(await refusals({ dependency: MAP, webSchema: { properties: { replicas: { type: 'integer' } } }, webValues: 'replicas: one\n', dbValues: 'conn:\n  port: 1\n' })).toEqual([{ chart: 'web', pointers: ['/replicas'] }]);
    });

    it("the short form copies the subchart's exports to the parent's top", async () => {
      const schema = { required: ['host'], properties: { host: { type: 'string' }, replicas: { type: 'integer' } } };
      expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, dbValues: 'exports:\n  conn:\n    host: 5\n' })).toEqual([{ chart: 'web', pointers: ['/host'] }]);
      expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, dbValues: 'exports:\n  conn:\n    host: db\n' })).toEqual([]);
      // 3.0-3.8 let a short-form import override the parent's value, later ones keep the parent's.
      expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, webValues: 'host: web\n', dbValues: 'exports:\n  conn:\n    host: 5\n' })).toEqual([]);
      // The rest of the parent's values are judged.
      expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, dbValues: 'exports:\n  conn:\n    host: db\n' }, { replicas: 'two' })).toEqual([{ chart: 'web', pointers: ['/replicas'] }]);
    });

    it('an import of a table the subchart lacks imports nothing (Helm logs a warning)', async () => {
      const schema = { required: ['host'], properties: { host: { type: 'string' } } };
      expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, dbValues: 'exports:\n  other:\n    host: db\n' })).toEqual([{ chart: 'web', pointers: [''] }]);
      expect(await refusals({ dependency: '    import-values:\n      - child: conn.port\n        parent: conn\n', webSchema: PORT, dbValues: 'conn:\n  port: 1\n' })).toEqual([]);
    });

    it("an import into the parent's global reaches the subchart's schema", async () => {
      const dependency = '    import-values:\n      - child: conn\n        parent: global.conn\n';
      const dbSchema = { properties: { global: { properties: { conn: { properties: { host: { type: 'string' } } } } } } };
      expect(await refusals({ dependency, dbValues: 'conn:\n  host: 5\n', dbSchema })).toEqual([{ chart: 'web/db', pointers: ['/global/conn/host'] }]);
      expect(await refusals({ dependency, dbValues: 'conn:\n  host: db\n', dbSchema })).toEqual([]);
    });

    it('an entry whose child or parent is no string is not judged (a panic up to Helm 3.20, its text since)', async () => {
      const dependency = '    import-values:\n      - child: 1\n        parent: conn\n';
      expect(await refusals({ dependency, webSchema: PORT, dbValues: 'conn:\n  port: 1\n' }, { replicas: 'two' })).toEqual([]);
    });
  });

  describe('import-values that share a table many times over', () => {
    /**
     * Chart c0 over c1 over ... c<levels-1>: each imports its child's table into ten keys (the leaf's `t`, the
     * others' `w`), so the top's values hold the leaf's table 10^(levels-2) times, shared; c0 has a schema.
     */
    async function chain(levels: number): Promise<Array<{ chart: string; pointers: string[] }>> {
      const files: Record<string, string> = {};
      let path = '';
      for (let i = 0; i < levels; i++) {
        const child = i + 1 < levels ? `c${i + 1}` : undefined;
        const key = i + 2 === levels ? 't' : 'w';
        const imports = child === undefined ? '' : `dependencies:\n  - name: ${child}\n    version: 1.0.0\n    import-values:\n${Array.from({ length: 10 }, (_, k) => `      - child: ${key}\n        parent: w.c${i}${k}\n`).join('')}`;
        files[`${path}Chart.yaml`] = `apiVersion: v2\nname: c${i}\nversion: 1.0.0\n${imports}`;
        files[`${path}values.yaml`] = child === undefined ? `t:\n  k: "${'v'.repeat(100)}"\n` : 'w: {}\n';
        if (child !== undefined) path += `charts/${child}/`;
      }
      files['values.schema.json'] = JSON.stringify({ properties: { w: { type: 'object' }, zz: { type: 'string' } } });
      const dir = join(work.dir, `chain-${charts++}`);
      await writeFiles(dir, files);
      const found = await valuesSchemaRefusals(await readChart(dir), { zz: 5 });
      return found.map((r) => ({ chart: r.chart, pointers: r.errors.map((e) => e.pointer) }));
    }

    it('a few levels: judged as any chart', async () => {
      expect(await chain(4)).toEqual([{ chart: 'c0', pointers: ['/zz'] }]);
    });

    it('seven levels (10^5 copies of one table): not judged, at once (was: ~17 s of CPU and 1.5 GB; eight levels filled the heap)', async () => {
      expect(await chain(7)).toEqual([]);
    });
  });
});

describe('go-semver', () => {
  /*
   * Masterminds semver v3 NewVersion (Helm's Chart.yaml version, Palette's order of pack versions) reads each
   * numeric part with strconv.ParseUint(part, 10, 64): a part up to 2^64-1 is read, leading zeros or not; one
   * past it fails ("Error parsing version segment"). Prerelease and build parts are not numbers to it.
   */
  describe('goSemverProblem: numeric parts as uint64', () => {
    it.each(['18446744073709551615.0.0', '1.18446744073709551615', 'v0.0.18446744073709551615', '000000018446744073709551615.1.1', '1.0.0-18446744073709551616', '1.0.0+99999999999999999999'])('%s is read', (version) => {
      expect(goSemverProblem(version)).toBeUndefined();
    });

    it.each([
      ['18446744073709551616.0.0', '18446744073709551616'],
      ['1.99999999999999999999', '99999999999999999999'],
      ['v1.2.100000000000000000000-rc.1', '100000000000000000000'],
    ])('%s is refused, naming %s', (version, part) => {
      expect(goSemverProblem(version)).toBe(`the number ${part} is larger than 18446744073709551615, the largest it reads`);
    });
  });

  // Masterminds semver v3 NewConstraint, as Helm reads a chart's kubeVersion at install.
  describe('goSemverConstraintProblem', () => {
    it.each([
      '>= 1.21.0-0',
      '>=1.21.0-0',
      '>=v1.23.0-0',
      '^1.8.0-0',
      '>=1.19-0',
      '~1.2.x',
      '1.x',
      '*',
      '>= 1.20, < 1.30',
      '>= 1.20 < 1.30',
      '>=1.20.0-0 <1.30.0-0 || >=2.0.0',
      '1.19 - 1.30',
      '=> 1.2.3',
      '!=1.2.3',
      '\t>= 1.21.0\n',
      '>= 1.21.0+build.1',
    ])('%s is read', (constraint) => {
      expect(goSemverConstraintProblem(constraint)).toBeUndefined();
    });

    it.each<[string, string]>([
      ['1.20+', 'improper constraint: 1.20+'],
      ['>= 1.21.0,, < 2', 'improper constraint: >= 1.21.0,, < 2'],
      ['>=1.21 &&  <2', 'improper constraint: >=1.21 && <2'],
      ['v1.2x', 'constraint parser error'],
      ['>=1.21.0-01', 'constraint parser error'],
      ['>=1.2|3', 'constraint parser error'],
      ['>= 99999999999999999999.0', 'constraint parser error'],
      ['latest', 'improper constraint: latest'],
      ['>= 1.21 ||', 'improper constraint: '],
      ['\v>= 1.21', 'improper constraint: \v>= 1.21'],
    ])('%j is refused: %s', (constraint, problem) => {
      expect(goSemverConstraintProblem(constraint)).toBe(problem);
    });

    it('reads a long run of pairs in linear time', () => {
      const long = Array.from({ length: 400 }, () => '>=1.0   ').join('') + '!';
      const start = process.cpuUsage();
      expect(goSemverConstraintProblem(long)).toMatch(/^improper constraint/);
      const used = process.cpuUsage(start);
      expect(used.user + used.system).toBeLessThan(2_000_000);
    });
  });

  /*
   * Helm's IsCompatibleRange (Masterminds semver v3 NewConstraint + Check): whether a dependency's version
   * constraint takes the subchart vendored under its name, so that its alias applies.
   */
  describe('goSemverMatches', () => {
    it.each([
      ['4.12.17', '4.12.17', true],
      ['4.12.17', '4.14.7', false],
      ['7.x.x', '16.4.0', false],
      ['16.x.x', '16.4.0', true],
      ['~16.4', '16.4.9', true],
      ['~16.4', '16.5.0', false],
      ['^1.2.3', '1.9.0', true],
      ['^1.2.3', '2.0.0', false],
      ['^0.2.3', '0.2.9', true],
      ['^0.2.3', '0.3.0', false],
      ['^0.0.3', '0.0.4', false],
      ['>= 1.2, < 2', '1.9.9', true],
      ['>=1.2 <2', '2.0.0', false],
      ['1.0.0 - 1.4.0', '1.4.0', true],
      ['1.0.0 - 1.4.0', '1.4.1', false],
      ['< 2 || >= 3', '3.1.0', true],
      ['< 2 || >= 3', '2.5.0', false],
      ['*', '12.0.0', true],
      ['>=1.0.0', '1.2.0-rc.1', false],
      ['>=1.0.0-0', '1.2.0-rc.1', true],
      ['!=1.2.x', '1.2.7', false],
      ['!=1.2.x', '1.3.0', true],
      ['>1.2.x', '1.3.0', true],
      ['>1.2.x', '1.2.9', false],
      ['<=1.2.x', '1.2.9', true],
      ['<=1.2.x', '1.3.0', false],
      ['v1.2.3', '1.2.3', true],
      ['=1.2', '1.2.5', true],
    ])('%j takes %s: %s', (constraint, version, want) => {
      expect(goSemverMatches(constraint, version)).toBe(want);
    });

    it('an empty or unreadable constraint, or an unreadable version, matches nothing (Helm: IsCompatibleRange false)', () => {
      expect(goSemverMatches('', '1.0.0')).toBe(false);
      expect(goSemverMatches('>=1.21 && <2', '1.22.0')).toBe(false);
      expect(goSemverMatches('1.x', 'one')).toBe(false);
    });

    it('a constraint too long to judge is not judged', () => {
      expect(goSemverMatches(`${'>=1.0.0, '.repeat(500)}<2`, '1.5.0')).toBeUndefined();
    });
  });

  /*
   * A chart's kubeVersion against a cluster reporting a pre-release version (EKS v1.29.4-eks-036c24b): only a
   * `||` part holding a pre-release lets one through, in every Masterminds semver Helm 3 and 4 used.
   */
  describe('goSemverConstraintTakesPrerelease', () => {
    it.each([
      ['>= 1.21.0', false],
      ['>=1.19', false],
      ['^1.10.0', false],
      ['1.20.0 - 1.30.0', false],
      ['v1.25.0', false],
      ['*', false],
      ['>= 1.21.0-0', true],
      ['>=1.19-0', true],
      ['^1.10.0-0', true],
      ['>= 1.21.0 || >= 1.21.0-0', true],
      // These two: taken since Masterminds semver v3.4.0 (Helm 3.19), where one pre-release counts for its whole part;
      // goSemverMatches reads constraints as the earlier ones, where `<1.40.0` (`<= 1.30.0`) alone refuses it.
      ['>=v1.23.0-0 <1.40.0', true],
      ['1.20.0-0 - 1.30.0', true],
    ])('%j: %s', (constraint, want) => {
      expect(goSemverConstraintTakesPrerelease(constraint)).toBe(want);
      // What Helm's check says of an EKS cluster of a version each of these takes otherwise.
      if (!['v1.25.0', '>=v1.23.0-0 <1.40.0', '1.20.0-0 - 1.30.0'].includes(constraint)) expect(goSemverMatches(constraint, '1.29.4-eks-036c24b')).toBe(want);
    });

    it('an unreadable constraint, or one too long, is not judged', () => {
      expect(goSemverConstraintTakesPrerelease('>=1.21 && <2')).toBeUndefined();
      expect(goSemverConstraintTakesPrerelease(`${'>=1.0.0, '.repeat(500)}<2`)).toBeUndefined();
    });
  });
});

describe('chart-images', () => {
  const find = (yaml: string, appVersion?: string) => findImages(parseYamlTree(yaml), appVersion === undefined ? {} : { appVersion });

  describe('findImages', () => {
    it('composes registry/repository:tag maps and reads plain image strings, in document order', () => {
      const images = find(`
image:
  registry: docker.io
  repository: bitnami/redis
  tag: 7.2.4
sidecar:
  image: ghcr.io/org/sidecar:1.0.0
metrics:
  exporter:
    image:
      repository: quay.io/prom/exporter
      tag: v0.15.0
      digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
workers:
  - name: a
    image: registry.k8s.io/pause:3.9
description: "see docs/image:1"
`);
      expect(images).toEqual([
        { image: 'docker.io/bitnami/redis:7.2.4', path: 'image' },
        { image: 'ghcr.io/org/sidecar:1.0.0', path: 'sidecar.image' },
        { image: 'quay.io/prom/exporter:v0.15.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', path: 'metrics.exporter.image' },
        { image: 'registry.k8s.io/pause:3.9', path: 'workers[0].image' },
      ]);
    });

    it('flags images whose tag is empty, missing, templated or latest', () => {
      const images = find(
        `
app:
  image:
    repository: example/app
    tag: ""
tool:
  image:
    repository: example/tool
    pullPolicy: Always
job:
  image:
    repository: example/job
    tag: "{{ .Chart.AppVersion }}"
debug:
  image: busybox:latest
init:
  initImage: example/init
`,
        '2.0.0',
      );
      expect(images.map((i) => [i.image, i.review])).toEqual([
        ['example/app:2.0.0', "the chart leaves the tag empty; packpub assumed the chart's appVersion (2.0.0), which most charts default to"],
        ['example/tool:2.0.0', "the chart leaves the tag empty; packpub assumed the chart's appVersion (2.0.0), which most charts default to"],
        ['example/job:{{ .Chart.AppVersion }}', 'the tag is templated; write the version it renders to'],
        ['busybox:latest', '"latest" is not a fixed version; pin a tag'],
        ['example/init', 'no tag: pin the version the chart deploys'],
      ]);
      expect(find('image:\n  repository: example/x\n  tag: ""\n')[0]?.review).toBe('the chart does not set a tag; pin the version the chart deploys');
    });

    it('lists an image once, and leaves aliases and non-image values alone', () => {
      const images = find(`
a:
  image: &img
    repository: example/a
    tag: "1"
b:
  image: *img
c:
  image: example/a:1
d:
  repository: not-an-image-without-tag-or-image-key
e:
  image: "http://example.com/not/an/image"
`);
      expect(images.map((i) => i.image)).toEqual(['example/a:1']);
    });
  });
});
