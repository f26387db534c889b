import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * The built CLI compiles its bundle with V8's code cache, kept in packpub's cache folder (bin/code-cache.js).
 * A run must do exactly what it does without one whatever the folder holds: a damaged file, a file made for
 * other code of the same length (V8 itself checks only the length), or a folder it cannot write. Real
 * processes: the cache is read before the program runs.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const execFileP = promisify(execFile);
/** How long something took, the only part of a run's output that differs from run to run. */
const DURATION = /\b\d+(\.\d+)? ?m?s\b/g;

const world = setup(async (stack) => {
  const root = await stack.tempDir();
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  return { root, pack };
});

let n = 0;

/** Push the pack to a new OCI layout with `cache` as packpub's cache folder; the run and the layout. */
async function pushTo(cache: string, run: (args: string[], env: NodeJS.ProcessEnv) => Promise<CliRun> = (args, env) => runBin(args, { env })) {
  const layout = join(world.root, `layout-${n++}`);
  const result = await run(['push', world.pack, '--oci-layout', layout], { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: cache });
  return { result, layout, stdout: result.stdout.split(layout).join('LAYOUT') };
}

/** The manifest digest the layout's tag names. */
async function tagged(layout: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layout, 'spectro-packs/archive/hello/index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  expect(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['1.0.0']);
  return index.manifests[0]?.digest ?? '';
}

/** The cache files, and whether each is whole: its header's sizes, then the source and two equal copies of the code. */
async function cacheFiles(cache: string): Promise<Array<{ name: string; whole: boolean }>> {
  const dir = join(cache, 'v8-code');
  const files = [];
  for (const name of (await readdir(dir)).sort()) {
    const bytes = await readFile(join(dir, name));
    const end = bytes.indexOf(10, bytes.indexOf(10) + 1);
    let whole = false;
    try {
      const head = JSON.parse(bytes.toString('utf8', bytes.indexOf(10) + 1, end)) as { source: number; data: number };
      const data = end + 1 + head.source;
      whole = bytes.length === data + 2 * head.data && bytes.subarray(data, data + head.data).equals(bytes.subarray(data + head.data));
    } catch {
      whole = false;
    }
    files.push({ name, whole });
  }
  return files;
}

describe("the bundle's code cache never changes what a run does", () => {
  it('a damaged cache file (cut short, changed code, junk) is not used: the same run, and the file is written whole again', async () => {
    const cache = join(world.root, 'cache-damaged');
    const first = await pushTo(cache);
    expectRun(first.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    const files = await cacheFiles(cache);
    expect(files.length).toBeGreaterThan(3);
    expect(files.every((f) => f.whole)).toBe(true);
    const at = (i: number) => join(cache, 'v8-code', files[i]?.name ?? '');
    // Cut short; one byte of the code changed (V8 would take it: it checks the header, not the code);
    // junk of the same size; a header alone.
    await truncate(at(0), Math.floor((await readFile(at(0))).length / 2));
    const changed = await readFile(at(1));
    changed[changed.length - 100] = (changed[changed.length - 100] ?? 0) ^ 0x55;
    await writeFile(at(1), changed);
    await writeFile(at(2), Buffer.alloc((await readFile(at(2))).length, 0x41));
    const headOnly = await readFile(at(3));
    await writeFile(at(3), headOnly.subarray(0, headOnly.indexOf(10, headOnly.indexOf(10) + 1) + 1));
    expect((await cacheFiles(cache)).slice(0, 4).map((f) => f.whole)).toEqual([false, false, false, false]);

    const again = await pushTo(cache);
    expectRun(again.result, { code: 0, stderr: '' });
    expect(again.stdout.replace(DURATION, 'T')).toBe(first.stdout.replace(DURATION, 'T'));
    expect(await tagged(again.layout)).toBe(await tagged(first.layout));
    expect((await cacheFiles(cache)).map((f) => f.whole)).toEqual(files.map(() => true));
  });

  it('a cache made for other code of the same length is not used: the run executes the code on disk', async () => {
    // A copy of the program whose text of one line is then changed, keeping every file's length.
    const prog = join(world.root, 'program');
    await mkdir(join(prog, 'dist'), { recursive: true });
    await cp(join(ROOT, 'bin'), join(prog, 'bin'), { recursive: true });
    await cp(join(ROOT, 'dist/bundle'), join(prog, 'dist/bundle'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(prog, 'package.json'));
    await symlink(join(ROOT, 'node_modules'), join(prog, 'node_modules'));
    const runCopy = async (args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> => {
      try {
        const { stdout, stderr } = await execFileP(process.execPath, [join(prog, 'bin/packpub.js'), ...args], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env } });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const cache = join(world.root, 'cache-other');
    const first = await pushTo(cache, runCopy);
    expectRun(first.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    const layout = first.layout;
    const rerun = await runCopy(['push', world.pack, '--oci-layout', layout], { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: cache });
    expectRun(rerun, { code: 0, stdout: ['unchanged hello:1.0.0: already published at oci:'], stderr: '' });

    const bundle = join(prog, 'dist/bundle');
    const chunk = (await readdir(bundle)).find((f) => f.endsWith('.cjs') && f.startsWith('render-'));
    expect(chunk).toBeDefined();
    const text = await readFile(join(bundle, chunk ?? ''), 'utf8');
    expect(text).toContain(': already published at ');
    await writeFile(join(bundle, chunk ?? ''), text.replace(': already published at ', ': ALREADY published at '));
    const changed = await runCopy(['push', world.pack, '--oci-layout', layout], { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: cache });
    expectRun(changed, { code: 0, stdout: ['unchanged hello:1.0.0: ALREADY published at oci:'], stderr: '' });
    expect(await tagged(layout)).toBe(await tagged(first.layout));
  });

  it('a cache folder that cannot be written: the same run, nothing cached', async () => {
    const reference = await pushTo(join(world.root, 'cache-reference'));
    expectRun(reference.result, { code: 0, stdout: ['published hello:1.0.0 -> oci:'], stderr: '' });
    // The code cache's folder is a file: neither read nor written (the archive cache beside it still works).
    const cache = join(world.root, 'cache-blocked');
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, 'v8-code'), 'not a folder\n');
    for (const round of [1, 2]) {
      const run = await pushTo(cache);
      expectRun(run.result, { code: 0, stderr: '' });
      expect(run.stdout.replace(DURATION, 'T'), `round ${round}`).toBe(reference.stdout.replace(DURATION, 'T'));
      expect(await tagged(run.layout)).toBe(await tagged(reference.layout));
    }
    expect(await readFile(join(cache, 'v8-code'), 'utf8')).toBe('not a folder\n');
  });
});
