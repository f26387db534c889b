import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HOSTILE_PACK_REPO, hostileWithPack } from '../support/hostile-registry.js';
import { runCli, spawnCli, type CliRun } from '../support/cli.js';
import { craftTar, type CraftEntry } from '../support/files.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * pull (and inspect) of a layer whose tar the tar parser cannot read, or whose names no filesystem holds: the
 * other hostile archive tests (hostile-reads, hostile-inspect-archive, unit/archive/extract) cover names that reach
 * out, links, devices and bombs. Each run ends with a refusal of the archive, never "a bug in packpub", and
 * writes nothing.
 */

const REPO = HOSTILE_PACK_REPO;
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

const w = setup(async (stack) => {
  const { hostile, registry: R, root } = await hostileWithPack(stack, 'packpub-hostile-pull-tar-');
  const manifest = await (await fetch(`${hostile.url}/v2/${REPO}/manifests/1.0.0`, { headers: { accept: MANIFEST_TYPE } })).text();
  const doc = JSON.parse(manifest) as { layers: Array<Record<string, unknown>> };
  return { root, hostile, R, doc };
});

let n = 0;
/** Store `gz` as the one layer of hello:<version>, with the real manifest's config; the tag is the version. */
function publish(version: string, gz: Buffer): void {
  const digest = w.hostile.putBlob(REPO, gz);
  expect(digest).toBe(`sha256:${createHash('sha256').update(gz).digest('hex')}`);
  const doc = { ...w.doc, layers: [{ ...w.doc.layers[0], digest, size: gz.length }] };
  w.hostile.putManifest(REPO, version, Buffer.from(JSON.stringify(doc)), MANIFEST_TYPE);
}
const packJson = (version: string): CraftEntry => ({ name: 'hello/pack.json', content: JSON.stringify({ name: 'hello', version }) });
function expectClear(run: CliRun, says: string): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toContain(`error: ${says}`);
  expect(run.stderr).not.toContain('this is a bug in packpub');
  expect(stackLines(run.stderr)).toEqual([]);
}
/** pull of hello:<version> exits 1 saying `says` (and `hint`), and leaves nothing in the folder it runs in. */
async function pullRefused(version: string, says: string, hint: string): Promise<void> {
  const before = (await readdir(w.root)).sort();
  const run = await runCli(['pull', `hello:${version}`, '--registry', w.R, '-o', join(w.root, `pulled-${version}`)]);
  expectClear(run, says);
  expect(run.stderr).toContain(`hint: ${hint}`);
  expect((await readdir(w.root)).sort()).toEqual(before);
}

describe('a tar the parser cannot read', () => {
  it.each<[string, (version: string) => Promise<Buffer>, string]>([
    [
      'cut in the middle of a file (the gzip whole)',
      async (v) => (await craftTar([packJson(v), { name: 'hello/values.yaml', content: 'a: 1\n'.repeat(400) }])).subarray(0, 1024 + 700),
      'Unexpected end of data',
    ],
    ['a header that is no tar header', async (v) => Buffer.concat([(await craftTar([packJson(v)])).subarray(0, 1024), Buffer.alloc(1024, 0x41)]), 'Invalid tar header'],
    ['a pax header larger than the parser takes (4 MiB)', async (v) => craftTar([packJson(v), { name: 'hello/x.yaml', pax: { comment: 'c'.repeat(5 << 20) }, content: 'x' }]), 'Header exceeds max size'],
  ])('%s: pull exits 1 refusing the archive (was: "this is a bug in packpub", "Stream was destroyed" for a cut file)', async (_what, tar, says) => {
    const version = `9.1.${n++}`;
    publish(version, gzipSync(await tar(version)));
    await pullRefused(version, `the archive is not a valid tar archive: ${says}`, 'check that the blob is a .tar.gz pack archive, whole');
    const inspect = await runCli(['inspect', `hello:${version}`, '--registry', w.R]);
    expectClear(inspect, `could not read the archive of ${w.R.replace('/evil', '')}/${REPO}:${version}: ${says}`);
    expect(inspect.stderr).toContain('hint: its bytes are the ones its digest names, but no readable .tar.gz: the published archive itself is broken; publish the version again from its pack folder (push --force)');
  });
});

describe('a name no filesystem holds', () => {
  it('a file name of 300 bytes: pull and inspect refuse it alike (was: pull "ENAMETOOLONG" naming its staging folder, "this is a bug in packpub")', async () => {
    const version = `9.2.${n++}`;
    publish(version, gzipSync(await craftTar([packJson(version), { name: `hello/${'b'.repeat(300)}.yaml`, content: 'x' }])));
    const says = `archive entry "hello/${'b'.repeat(73)}... has a file or folder name longer than 255 bytes, which no filesystem holds`;
    await pullRefused(version, says, 'do not use this archive; ask its publisher to rebuild it with packpub build');
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });

  it('names whose bytes are not UTF-8 (a\\xff, a\\xfe): pull and inspect refuse them (was: exit 0, both written as one file "a\uFFFD", the later kept; Go, Palette\'s reader, writes two files under their bytes)', async () => {
    const version = `9.2.${n++}`;
    const tar = await craftTar([packJson(version), { name: 'hello/a~', content: 'first\n' }, { name: 'hello/a^', content: 'second\n' }]);
    // The names' last byte made 0xff and 0xfe, each header's checksum made again.
    for (const [from, to] of [['hello/a~', 0xff], ['hello/a^', 0xfe]] as const) {
      const at = tar.indexOf(from);
      expect(at % 512, 'a name field starts its header').toBe(0);
      tar[at + from.length - 1] = to;
      checksummed(tar, at);
    }
    publish(version, gzipSync(tar));
    const says = `archive entry "hello/a\uFFFD" has bytes in its name that are not UTF-8: pull cannot write it under the name Palette's reader gives it`;
    await pullRefused(version, says, 'do not use this archive; ask its publisher to rebuild it with packpub build');
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });

  it('a name holding U+FFFD itself (valid UTF-8, which push publishes) is pulled (was: refused as bytes that are not UTF-8)', async () => {
    const version = `9.2.${n++}`;
    publish(version, gzipSync(await craftTar([packJson(version), { name: 'hello/a\uFFFD.yaml', content: 'x: 1\n' }])));
    const out = join(w.root, `pulled-${version}`);
    const run = await runCli(['pull', `hello:${version}`, '--registry', w.R, '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['a\uFFFD.yaml', 'pack.json']);
    expect(await readFile(join(out, 'a\uFFFD.yaml'), 'utf8')).toBe('x: 1\n');
  });

  it('names of 255 bytes are pulled', async () => {
    const version = `9.2.${n++}`;
    const name = `hello/${'c'.repeat(250)}.yaml`;
    publish(version, gzipSync(await craftTar([packJson(version), { name, content: 'x: 1\n' }])));
    const out = join(w.root, `pulled-${version}`);
    const run = await runCli(['pull', `hello:${version}`, '--registry', w.R, '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['c'.repeat(250) + '.yaml', 'pack.json']);
  });
});

/** The checksum of the header at byte `at` made again, as tar computes it (its own field read as spaces). */
function checksummed(out: Buffer, at: number): Buffer {
  out.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += out[i] as number;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
  return out;
}
/** `tar` with the size field of the header at block `block` set to `size` (octal, as tar writes it). */
function withSize(tar: Buffer, block: number, size: number): Buffer {
  const out = Buffer.from(tar);
  out.write(`${size.toString(8).padStart(11, '0')}\0`, block * 512 + 124, 'latin1');
  return checksummed(out, block * 512);
}

describe('hard links, which pull writes as copies of their file', () => {
  it('a 4 MiB file of zeros and 5 links to it (a layer of a few KB): pull and inspect refuse it by the ratio guard once past 16 MiB (the third link) (was: 24 MiB written, exit 0; 200 links of a 6 KB layer wrote 804 MiB)', async () => {
    const version = `9.5.${n++}`;
    const links = [1, 2, 3, 4, 5].map((i): CraftEntry => ({ name: `hello/copy-${i}`, type: 'link', linkname: 'hello/big' }));
    const gz = gzipSync(await craftTar([packJson(version), { name: 'hello/big', content: Buffer.alloc(4 << 20) }, ...links]), { level: 9 });
    expect(gz.length).toBeLessThan(32 * 1024);
    publish(version, gz);
    const says = `hard link "hello/copy-3" would bring the extracted size over 500 times the archive's compressed size (decompression-bomb guard: a hard link is written as a copy of its file)`;
    await pullRefused(version, says, 'do not use this archive; ask its publisher to rebuild it with packpub build');
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });
});

describe('a folder header that says it holds data', () => {
  it('size 1 on the pack folder: pulled as Go (Palette) reads it, no data for a folder (was: the extraction waited for ever: the CLI stopped with "an operation never completed", a bug, exit 1; a library pullPack never settled)', async () => {
    const version = `9.3.${n++}`;
    const tar = withSize(await craftTar([{ name: 'hello/', type: 'directory' }, packJson(version)]), 0, 1);
    publish(version, gzipSync(tar));
    const out = join(w.root, `pulled-${version}`);
    // A child process: the old code's extraction never ended (an in-process run would hold the test worker; a child's
    // event loop runs empty, which the CLI tells as a bug).
    const run = await spawnCli(['pull', `hello:${version}`, '--registry', w.R, '-o', out]).done;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'))).toEqual({ name: 'hello', version });
    expect(await readdir(out)).toEqual(['pack.json']);
    const inspect = await runCli(['inspect', `hello:${version}`, '--registry', w.R]);
    expect(inspect.code, inspect.stderr).toBe(0);
  });
});

describe('a hard link whose header says it holds data', () => {
  it('the next entries (another pack.json) read as its data: refused by pull and inspect (was: exit 0 showing the first pack.json; Go\'s archive/tar, Palette\'s, reads the other)', async () => {
    const version = `9.4.${n++}`;
    // Blocks: 0 folder, 1-2 pack.json, 3 the link, 4-5 a later pack.json: Go and GNU tar read it (the last entry of a
    // name wins); tar-stream took its two blocks for the link's 1024 bytes.
    const entries: CraftEntry[] = [{ name: 'hello/', type: 'directory' }, packJson(version), { name: 'hello/hl', type: 'link', linkname: 'hello/pack.json' }, packJson('6.6.6')];
    publish(version, gzipSync(withSize(await craftTar(entries), 3, 1024)));
    const says = 'archive entry "hello/hl" is a hard link whose header says it holds 1024 bytes, which tar readers read differently (Palette\'s reads them as further entries)';
    await pullRefused(version, says, 'do not use this archive; ask its publisher to rebuild it with packpub build');
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });
});

describe('a sparse file (GNU tar --sparse, pax format 1.0)', () => {
  it('is refused by pull and inspect (was: exit 0, pulled as hello/GNUSparseFile.1/big holding the hole map, where Go\'s archive/tar, Palette\'s, reads a 1 MiB hello/big)', async () => {
    const version = `9.5.${n++}`;
    // As GNU tar writes a 1 MiB file of one hole and 5 bytes: a map block ("1 part: offset 1048576, 5 bytes"), then the bytes.
    const map = Buffer.alloc(512);
    map.write('1\n1048576\n5\n');
    const sparse: CraftEntry = {
      name: 'hello/GNUSparseFile.1/big',
      pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'hello/big', 'GNU.sparse.realsize': '1048581' },
      content: Buffer.concat([map, Buffer.from('tail\n')]),
    };
    publish(version, gzipSync(await craftTar([packJson(version), sparse])));
    const says = 'archive entry "hello/big" is a sparse file (GNU tar --sparse), which pull does not expand';
    await pullRefused(version, says, 'rebuild the archive with packpub build (or tar without --sparse)');
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });
});

/** `tar` with the type flag of the header at block `block` set to `flag` ('g': pax global header, 'x': pax header). */
function withType(tar: Buffer, block: number, flag: string): Buffer {
  const out = Buffer.from(tar);
  out.write(flag, block * 512 + 156, 'latin1');
  return checksummed(out, block * 512);
}
/** A pax record as tar writes it: "<length> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = rest.length + 1;
  while (`${length}${rest}`.length !== length) length++;
  return `${length}${rest}`;
}

describe('a pax global header', () => {
  it('naming the entries after it: refused by pull and inspect (was: a later hello/pack.json with a pax header of its own renamed hello/decoy, pull and inspect exit 0 showing the first; Go\'s archive/tar, Palette\'s, reads the later one)', async () => {
    const version = `9.6.${n++}`;
    // Blocks: 0-1 pack.json, 2-3 the global header (g), 4-5 a pax header (x) without a path, 6-7 the other pack.json.
    const entries: CraftEntry[] = [packJson(version), { name: 'pax_global_header', content: paxRecord('path', 'hello/decoy') }, { name: 'PaxHeader', content: paxRecord('comment', 'x') }, packJson('6.6.6')];
    publish(version, gzipSync(withType(withType(await craftTar(entries), 2, 'g'), 4, 'x')));
    const says = 'the archive has a pax global header setting "path" for the entries after it, which tar readers apply differently (Palette\'s to none)';
    await pullRefused(version, says, 'do not use this archive; ask its publisher to rebuild it with packpub build');
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });

  it('with a comment only (git archive writes one): pulled', async () => {
    const version = `9.6.${n++}`;
    const entries: CraftEntry[] = [{ name: 'pax_global_header', content: paxRecord('comment', 'f00d') }, { name: 'hello/', type: 'directory' }, { name: 'PaxHeader', content: paxRecord('comment', 'x') }, packJson(version)];
    publish(version, gzipSync(withType(withType(await craftTar(entries), 0, 'g'), 3, 'x')));
    const out = join(w.root, `pulled-${version}`);
    const run = await runCli(['pull', `hello:${version}`, '--registry', w.R, '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(await readdir(out)).toEqual(['pack.json']);
  });
});

describe('a GNU long name and a pax path before the same entry', () => {
  it('the long name wins, as in Go: the later pack.json it names is the one pull and inspect judge (was: the pax path won, pull and inspect exit 0 with the first pack.json; Palette reads the later)', async () => {
    const version = `9.7.${n++}`;
    // Blocks: 0-1 pack.json, 2-3 a GNU long name (L) "hello/pack.json", 4-5 a pax header (x) path=hello/decoy.json, 6-7 another pack.json.
    const entries: CraftEntry[] = [packJson(version), { name: '././@LongLink', content: 'hello/pack.json\0' }, { name: 'PaxHeader', content: paxRecord('path', 'hello/decoy.json') }, { ...packJson('6.6.6'), name: 'whatever' }];
    publish(version, gzipSync(withType(withType(await craftTar(entries), 2, 'L'), 4, 'x')));
    const says = `${w.R.replace('/evil', '')}/${REPO}:${version} holds another pack: the pack.json of its archive has name "hello", version "6.6.6"`;
    const before = (await readdir(w.root)).sort();
    expectClear(await runCli(['pull', `hello:${version}`, '--registry', w.R, '-o', join(w.root, `pulled-${version}`)]), says);
    expect((await readdir(w.root)).sort()).toEqual(before);
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });
});

describe("entries Go's archive/tar (Palette's reader) reads otherwise", () => {
  it('after the end-of-archive marker (two tars one after the other): pull and inspect read the first, as Go (was: exit 0 with the later pack.json; then refused as read differently)', async () => {
    const version = `9.8.${n++}`;
    publish(version, gzipSync(Buffer.concat([await craftTar([packJson('6.6.6')]), await craftTar([packJson(version)])])));
    // Palette's reader stops at the first tar's end marker: its pack.json is 6.6.6's, which is no pack of this tag.
    const says = `${w.R}/spectro-packs/archive/hello:${version} holds another pack: the pack.json of its archive has name "hello", version "6.6.6"`;
    await pullRefused(version, says, 'nothing was written; the tag was pushed or moved by hand');
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });

  it('a pax record over 1 MiB (Go refuses it; tar-stream takes up to 4 MiB): refused as Go reads it', async () => {
    const version = `9.8.${n++}`;
    publish(version, gzipSync(await craftTar([packJson(version), { name: 'hello/x.yaml', pax: { comment: 'c'.repeat(2 << 20) }, content: 'x' }])));
    const says = "the archive is not a valid tar archive as Go's archive/tar (Palette's reader) reads it: a tar header record is too long";
    await pullRefused(version, says, 'check that the blob is a .tar.gz pack archive, whole');
    expectClear(await runCli(['inspect', `hello:${version}`, '--registry', w.R]), says);
  });
});
