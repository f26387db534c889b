import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { pushTestPack } from '../support/artifacts.js';
import { runBin, runCli, type CliRun } from '../support/cli.js';
import { craftTar, type CraftEntry } from '../support/files.js';
import { registryAdmin } from '../support/registry-admin.js';
import { startRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * trust: `inspect` says what the pack.json inside a published archive is, and `pull` writes that archive out.
 * A hostile archive (pushed as a pack's one layer to a real registry) can name pack.json twice, in forms that
 * read alike to pull (`hello//pack.json`, `./hello/pack.json`), as a hard link or a contiguous file; inspect
 * must show the pack.json pull writes, or none, never another one; and an archive pull refuses (a symlink,
 * a ".." path, a file where a folder goes) is no pack inspect shows with exit 0.
 */

const REPO = 'h/spectro-packs/archive/hello';
const GOOD = '{"name":"hello","version":"1.0.0"}';
const EVIL = '{"name":"evil","version":"6.6.6"}';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-inspect-archive-');
  const registry = stack.add(await startRegistry());
  const store = await openGenericRegistryStore({ host: registry.host, credentials: staticProvider('none', undefined) });
  stack.add({ close: () => store.close() });
  return { root, registry, store, admin: registryAdmin(registry), R: `${registry.host}/h` };
});

let n = 0;
/** `entries` as hello:<a new tag>'s one layer; the tag. */
async function published(entries: CraftEntry[]): Promise<string> {
  const tag = `1.0.${n++}`;
  await pushTestPack(w.store, REPO, tag, gzipSync(await craftTar(entries)));
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

describe('inspect shows the pack.json pull writes', () => {
  it.each<[string, () => CraftEntry[]]>([
    ['a second pack.json named hello//pack.json', () => [{ name: 'hello/pack.json', content: GOOD }, { name: 'hello//pack.json', content: EVIL }]],
    ['a second pack.json named hello/./pack.json', () => [{ name: 'hello/pack.json', content: GOOD }, { name: 'hello/./pack.json', content: EVIL }]],
    ['a second pack.json as a contiguous file', () => [{ name: 'hello/pack.json', content: GOOD }, { name: 'hello/pack.json', type: 'contiguous-file', content: EVIL }]],
    ['every name written ./hello/...', () => [{ name: './hello/pack.json', content: EVIL }, { name: './hello/README.md', content: '# hi' }]],
  ])('%s: the same pack.json in both (was: inspect showed the first, or none, exit 0)', async (_what, entries) => {
    const { inspected, pulled } = await bothViews(await published(entries()));
    expect(pulled).toEqual(JSON.parse(EVIL));
    expect(inspected).toEqual(pulled);
  });

  it('top folders that each hold a large pack.json: inspect keeps only the one pull could write, and ends (was: every one kept, heap out of memory, exit 134)', async () => {
    // `[{},{},...]` of 1 MiB is ~20 MiB of heap once parsed: 12 of them overran the 160 MB heap given. With more
    // than one top entry pull writes the archive's top pack.json, so only that one can be the answer.
    const big = `[${Array.from({ length: 349_000 }, () => '{}').join(',')}]`;
    const tag = await published([
      { name: 'pack.json', content: GOOD },
      // incompressible bytes keep the layer under pull's 500x inflation ratio (1 MiB of '{},' alone is ~1000x)
      { name: 'noise.bin', content: randomBytes(64 * 1024) },
      ...Array.from({ length: 12 }, (_, i) => ({ name: `d${i}/pack.json`, content: big })),
    ]);
    // A process of its own, for a heap of its own size.
    const run = await runBin(['inspect', `hello:${tag}`, '--registry', w.R, '--json'], { nodeArgs: ['--max-old-space-size=160'] });
    expectRun(run, 0);
    const shown = JSON.parse(run.stdout) as { packJson?: unknown; folder?: string };
    expect(shown.folder).toBeUndefined();
    expect(shown.packJson).toEqual(JSON.parse(GOOD));
  });

  it('a pack.json replaced by a hard link to another file: inspect shows none rather than the one replaced (was: the first, exit 0)', async () => {
    const tag = await published([
      { name: 'hello/pack.json', content: GOOD },
      { name: 'hello/x.json', content: EVIL },
      { name: 'hello/pack.json', type: 'link', linkname: 'hello/x.json' },
    ]);
    const { inspected, pulled } = await bothViews(tag);
    expect(pulled).toEqual(JSON.parse(EVIL));
    expect(inspected).toBeUndefined();
    const text = await runCli(['inspect', `hello:${tag}`, '--registry', w.R]);
    expectRun(text, 0);
    expect(text.stdout).toContain('  folder    hello\n  pack.json\n    null\n');
  });

  it('the pack.json of the one top folder, not of a folder beside it; none when there are several (was: the first entry\'s folder, another folder\'s pack.json)', async () => {
    const tag = await published([
      { name: 'a/README.md', content: '# a' },
      { name: 'b/pack.json', content: EVIL },
    ]);
    const { inspected, pulled } = await bothViews(tag);
    expect(pulled).toBeUndefined();
    expect(inspected).toBeUndefined();
    const json = JSON.parse((await runCli(['inspect', `hello:${tag}`, '--registry', w.R, '--json'])).stdout) as { folder?: string };
    expect(json.folder).toBeUndefined();
  });
});

describe('an archive pull refuses is no pack inspect shows', () => {
  it.each<[string, () => CraftEntry[], string]>([
    ['a symlink', () => [{ name: 'hello/pack.json', content: GOOD }, { name: 'hello/link', type: 'symlink', linkname: '/etc' }], 'archive entry "hello/link" is a symbolic link (to "/etc"); pack archives must not contain links'],
    ['a ".." path', () => [{ name: 'hello/pack.json', content: GOOD }, { name: 'hello/../../x', content: 'x' }], 'archive entry "hello/../../x" contains a ".." segment (path traversal)'],
    ['a folder where a file was', () => [{ name: 'hello/pack.json', content: GOOD }, { name: 'hello/pack.json/x', content: 'x' }], 'archive entry "hello/pack.json/x" needs a folder where an earlier entry wrote a file'],
    ['a fifo', () => [{ name: 'hello/pack.json', content: GOOD }, { name: 'hello/p', type: 'fifo' }], 'archive entry "hello/p" is a named pipe (fifo)'],
  ])('%s: inspect exits 1 with pull\'s words (was: exit 0, the pack.json shown)', async (_what, entries, says) => {
    const tag = await published(entries());
    const before = (await readdir(w.root)).sort();
    for (const argv of [['inspect', `hello:${tag}`], ['pull', `hello:${tag}`, '-o', join(w.root, 'refused')]]) {
      const run = await runCli([...argv, '--registry', w.R]);
      expectRun(run, 1);
      expect(run.stderr).toContain(`error: ${says}`);
      expect(run.stdout).toBe('');
    }
    expect((await readdir(w.root)).sort()).toEqual(before);
    // The registry still holds what was published: inspect and pull only read.
    expect(await w.admin.digestOf(REPO, tag)).toMatch(/^sha256:/);
  });
});
