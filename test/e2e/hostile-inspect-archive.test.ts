import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { pushTestPack } from '../support/artifacts.js';
import { runBin, runCli, type CliRun } from '../support/cli.js';
import { craftTar, type CraftEntry } from '../support/files.js';
import { registryAdmin } from '../support/registry-admin.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * trust: `inspect` says what the pack.json inside a published archive is, and `pull` writes that archive out.
 * A hostile archive (pushed as a pack's one layer to a real registry) can name pack.json twice, in forms that
 * read alike to pull (`hello//pack.json`, `./hello/pack.json`), as a hard link or a contiguous file; inspect
 * must show the pack.json pull writes, never another one; an archive pull refuses (a symlink, a ".." path, a
 * file where a folder goes, no pack.json, another pack's) is no pack inspect shows with exit 0.
 */

/** Two pack.json of hello:<tag> that differ (what the archive's last word on pack.json decides). */
const GOOD = (tag: string) => JSON.stringify({ name: 'hello', version: tag, displayName: 'good' });
const EVIL = (tag: string) => JSON.stringify({ name: 'hello', version: tag, displayName: 'evil' });

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-inspect-archive-');
  // The worker's registry, this file's packs under a base path of its own.
  const registry = await sharedRegistry();
  const store = await openGenericRegistryStore({ host: registry.host, credentials: staticProvider('none', undefined) });
  stack.add({ close: () => store.close() });
  return { root, registry, store, admin: registryAdmin(registry), R: `${registry.host}/${registry.base}/h`, REPO: `${registry.base}/h/spectro-packs/archive/hello` };
});

let n = 0;
/** `entries` (made for the tag) as hello:<a new tag, or `tag`>'s one layer; the tag. */
async function published(entries: (tag: string) => CraftEntry[], tag = `1.0.${n++}`): Promise<string> {
  await pushTestPack(w.store, w.REPO, tag, gzipSync(await craftTar(entries(tag))));
  return tag;
}
function expectRun(run: CliRun, code: number): void {
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(stackLines(run.stderr)).toEqual([]);
}
/** inspect --json's pack.json, and the pack.json pull wrote (undefined: none). */
async function bothViews(tag: string): Promise<{ inspected: unknown; pulled: unknown }> {
  const inspect = await runCli(['inspect', `hello:${tag}`, '--registry', w.R, '--json']);
  expectRun(inspect, 0);
  const out = join(w.root, `pulled-${tag}`);
  expectRun(await runCli(['pull', `hello:${tag}`, '--registry', w.R, '-o', out]), 0);
  const text = await readFile(join(out, 'pack.json'), 'utf8').catch(() => undefined);
  return { inspected: (JSON.parse(inspect.stdout) as { packJson?: unknown }).packJson, pulled: text === undefined ? undefined : (JSON.parse(text) as unknown) };
}
/** inspect and pull of `ref` both exit 1 saying `says`; pull wrote nothing, an empty -o folder given stays empty. */
async function bothRefuse(ref: string, says: string): Promise<void> {
  const before = (await readdir(w.root)).sort();
  const empty = join(w.root, `empty-${n++}`);
  await mkdir(empty);
  for (const argv of [['inspect', ref], ['inspect', ref, '--json'], ['pull', ref, '-o', join(w.root, 'refused')], ['pull', ref, '-o', empty]]) {
    const run = await runCli([...argv, '--registry', w.R]);
    expectRun(run, 1);
    expect(run.stderr).toContain(`error: ${w.R}/spectro-packs/archive/${says}`);
    expect(run.stdout).toBe('');
  }
  expect(await readdir(empty)).toEqual([]);
  await rmdir(empty);
  expect((await readdir(w.root)).sort()).toEqual(before);
}

describe('inspect shows the pack.json pull writes', () => {
  it.each<[string, (tag: string) => CraftEntry[]]>([
    ['a second pack.json named hello//pack.json', (t) => [{ name: 'hello/pack.json', content: GOOD(t) }, { name: 'hello//pack.json', content: EVIL(t) }]],
    ['a second pack.json named hello/./pack.json', (t) => [{ name: 'hello/pack.json', content: GOOD(t) }, { name: 'hello/./pack.json', content: EVIL(t) }]],
    ['a second pack.json as a contiguous file', (t) => [{ name: 'hello/pack.json', content: GOOD(t) }, { name: 'hello/pack.json', type: 'contiguous-file', content: EVIL(t) }]],
    ['every name written ./hello/...', (t) => [{ name: './hello/pack.json', content: EVIL(t) }, { name: './hello/README.md', content: '# hi' }]],
  ])('%s: the same pack.json in both (was: inspect showed the first, or none, exit 0)', async (_what, entries) => {
    const tag = await published(entries);
    const { inspected, pulled } = await bothViews(tag);
    expect(pulled).toEqual(JSON.parse(EVIL(tag)));
    expect(inspected).toEqual(pulled);
  });

  it('top folders that each hold a large pack.json: inspect keeps only the one pull could write, and ends (was: every one kept, heap out of memory, exit 134)', async () => {
    // `[{},{},...]` of 1 MiB is ~20 MiB of heap once parsed: 12 of them overran the 160 MB heap given. With more
    // than one top entry pull writes the archive's top pack.json, so only that one can be the answer.
    const big = `[${Array.from({ length: 349_000 }, () => '{}').join(',')}]`;
    const tag = await published((t) => [
      { name: 'pack.json', content: GOOD(t) },
      // incompressible bytes keep the layer under pull's 500x inflation ratio (1 MiB of '{},' alone is ~1000x)
      { name: 'noise.bin', content: randomBytes(64 * 1024) },
      ...Array.from({ length: 12 }, (_, i) => ({ name: `d${i}/pack.json`, content: big })),
    ]);
    // A process of its own, for a heap of its own size.
    const run = await runBin(['inspect', `hello:${tag}`, '--registry', w.R, '--json'], { nodeArgs: ['--max-old-space-size=160'] });
    expectRun(run, 0);
    const shown = JSON.parse(run.stdout) as { packJson?: unknown; folder?: string };
    expect(shown.folder).toBeUndefined();
    expect(shown.packJson).toEqual(JSON.parse(GOOD(tag)));
  });

  it.each<[string, (tag: string) => CraftEntry[]]>([
    ['in the same folder', (t) => [{ name: 'hello/pack.json', content: GOOD(t) }, { name: 'hello/x.json', content: EVIL(t) }, { name: 'hello/pack.json', type: 'link', linkname: 'hello/x.json' }]],
    ['to a file of another top folder (the archive has no single top folder)', (t) => [{ name: 'pack.json', content: GOOD(t) }, { name: 'd/x.json', content: EVIL(t) }, { name: 'pack.json', type: 'link', linkname: 'd/x.json' }]],
    ['to a hard link to another file', (t) => [{ name: 'hello/y.json', content: EVIL(t) }, { name: 'hello/x.json', type: 'link', linkname: 'hello/y.json' }, { name: 'hello/y.json', content: GOOD(t) }, { name: 'hello/pack.json', type: 'link', linkname: 'hello/x.json' }]],
  ])('a pack.json that is a hard link %s: inspect shows the file pull writes (was: none, exit 0, while pull wrote it)', async (_what, entries) => {
    const tag = await published(entries);
    const { inspected, pulled } = await bothViews(tag);
    expect(pulled).toEqual(JSON.parse(EVIL(tag)));
    expect(inspected).toEqual(pulled);
    const text = await runCli(['inspect', `hello:${tag}`, '--registry', w.R]);
    expectRun(text, 0);
    expect(text.stdout).toContain('    "displayName": "evil"\n');
  });
});

describe('an archive that is not the pack named: pull and inspect refuse it alike, and pull writes nothing', () => {
  it('no pack.json in its one folder (was: pulled, exit 0; inspect showed pack.json null)', async () => {
    const tag = await published(() => [{ name: 'hello/README.md', content: '# hi' }, { name: 'hello/values.yaml', content: 'a: 1\n' }]);
    await bothRefuse(`hello:${tag}`, `hello:${tag} is not a pack: its archive holds no pack.json in its folder "hello"`);
  });

  it('the pack.json of a folder beside another: none at the top pull writes (was: pulled, exit 0)', async () => {
    const tag = await published((t) => [{ name: 'a/README.md', content: '# a' }, { name: 'b/pack.json', content: GOOD(t) }]);
    await bothRefuse(`hello:${tag}`, `hello:${tag} is not a pack: its archive holds no pack.json at its top (it has no single top folder)`);
  });

  it('a pack.json of another pack (was: pulled into ./hello-<version>, exit 0)', async () => {
    const tag = await published(() => [{ name: 'evil/pack.json', content: '{"name":"evil","version":"6.6.6"}' }]);
    await bothRefuse(`hello:${tag}`, `hello:${tag} holds another pack: the pack.json of its archive has name "evil", version "6.6.6"`);
    // A name of 100 000 characters is quoted cut short (was: the whole of it on stderr).
    const long = await published(() => [{ name: 'x/pack.json', content: JSON.stringify({ name: 'n'.repeat(100_000), version: '1' }) }]);
    await bothRefuse(`hello:${long}`, `hello:${long} holds another pack: the pack.json of its archive has name "${'n'.repeat(128)}...", version "1"`);
    // Named by digest: the name is still compared.
    const digest = await w.admin.digestOf(w.REPO, tag);
    await bothRefuse(`hello@${digest}`, `hello@${digest} holds another pack: the pack.json of its archive has name "evil", version "6.6.6"`);
  });

  it('a pack.json whose "Version" or "NAME" (a key Go\'s JSON reader takes for the field, the later winning) names another pack: refused (was: pulled, exit 0); the same value twice is pulled', async () => {
    const version = await published((t) => [{ name: 'hello/pack.json', content: `{"name":"hello","version":"${t}","Version":"6.6.6"}` }]);
    await bothRefuse(`hello:${version}`, `hello:${version} holds another pack to Go's JSON reader: the pack.json of its archive has keys that differ from "name" or "version" only in case, read by Go's encoding/json (the later key winning) as name "hello", version "6.6.6"`);
    const name = await published((t) => [{ name: 'hello/pack.json', content: `{"name":"hello","version":"${t}","na\u017fme":"x","NAME":"evil"}` }]);
    await bothRefuse(`hello:${name}`, `hello:${name} holds another pack to Go's JSON reader: the pack.json of its archive has keys that differ from "name" or "version" only in case, read by Go's encoding/json (the later key winning) as name "evil", version "${name}"`);
    const twice = await published((t) => [{ name: 'hello/pack.json', content: `{"name":"hello","version":"${t}","VERSION":"${t}"}` }]);
    const { inspected, pulled } = await bothViews(twice);
    expect(pulled).toEqual({ name: 'hello', version: twice, VERSION: twice });
    expect(inspected).toEqual(pulled);
  });

  it('a pack.json of another version under a version tag; a parent tag or a digest holds whichever version (was: pulled, exit 0)', async () => {
    const tag = await published(() => [{ name: 'hello/pack.json', content: GOOD('1.0.0') }], '2.5.0');
    await bothRefuse(`hello:${tag}`, `hello:2.5.0 holds another pack: the pack.json of its archive has name "hello", version "1.0.0"`);
    const parent = await published(() => [{ name: 'hello/pack.json', content: GOOD('1.0.0') }], '1.0.x');
    const { inspected, pulled } = await bothViews(parent);
    expect(pulled).toEqual(JSON.parse(GOOD('1.0.0')));
    expect(inspected).toEqual(pulled);
  });

  it.each<[string, string, string]>([
    ['not JSON', '{"name":"hello",', 'the pack.json of its archive is not valid JSON'],
    ['JSON that is no object', '["hello"]', 'the pack.json of its archive is not a JSON object'],
    ['with a byte-order mark (Go\'s JSON reader, Palette\'s, refuses it)', `\uFEFF${GOOD('1.0.0')}`, 'the pack.json of its archive is not valid JSON'],
    ['arrays nested 100 000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'the pack.json of its archive is not a JSON object'],
    ['nested 100 levels inside the object', `{"name":"hello","version":"1.0.0","x":${'['.repeat(100)}${']'.repeat(100)}}`, 'the pack.json of its archive nests deeper than 64 levels'],
  ])('a pack.json %s (was: pulled, exit 0)', async (_what, content, says) => {
    const tag = await published(() => [{ name: 'hello/pack.json', content }], `1.0.0-b${n++}`);
    // These have the tag's version nowhere: any tag does.
    await bothRefuse(`hello:${tag}`, `hello:${tag} is not a pack: ${says}`);
  });

  it('a pack.json larger than 4 MiB is not read (was: pulled, exit 0)', async () => {
    const big = (t: string) => `{"name":"hello","version":"${t}","x":"${'a'.repeat(4 * 1024 * 1024)}"}`;
    const tag = await published((t) => [{ name: 'hello/pack.json', content: big(t) }]);
    await bothRefuse(`hello:${tag}`, `hello:${tag} is not a pack: the pack.json of its archive is ${big(tag).length} bytes, more than a pack.json (4 MiB at most)`);
  });
});

describe('an archive pull refuses is no pack inspect shows', () => {
  it.each<[string, () => CraftEntry[], string]>([
    ['a symlink', () => [{ name: 'hello/pack.json', content: GOOD('1') }, { name: 'hello/link', type: 'symlink', linkname: '/etc' }], 'archive entry "hello/link" is a symbolic link (to "/etc"); pack archives must not contain links'],
    ['a ".." path', () => [{ name: 'hello/pack.json', content: GOOD('1') }, { name: 'hello/../../x', content: 'x' }], 'archive entry "hello/../../x" contains a ".." segment (path traversal)'],
    ['a folder where a file was', () => [{ name: 'hello/pack.json', content: GOOD('1') }, { name: 'hello/pack.json/x', content: 'x' }], 'archive entry "hello/pack.json/x" needs a folder where an earlier entry wrote a file'],
    ['a fifo', () => [{ name: 'hello/pack.json', content: GOOD('1') }, { name: 'hello/p', type: 'fifo' }], 'archive entry "hello/p" is a named pipe (fifo)'],
  ])('%s: inspect exits 1 with pull\'s words (was: exit 0, the pack.json shown)', async (_what, entries, says) => {
    const tag = await published(entries);
    const before = (await readdir(w.root)).sort();
    for (const argv of [['inspect', `hello:${tag}`], ['pull', `hello:${tag}`, '-o', join(w.root, 'refused')]]) {
      const run = await runCli([...argv, '--registry', w.R]);
      expectRun(run, 1);
      expect(run.stderr).toContain(`error: ${says}`);
      expect(run.stdout).toBe('');
    }
    expect((await readdir(w.root)).sort()).toEqual(before);
    // The registry still holds what was published: inspect and pull only read.
    expect(await w.admin.digestOf(w.REPO, tag)).toMatch(/^sha256:/);
  });
});
