import { cp, lstat, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { makeFifo } from '../support/files.js';

/*
 * What another user (or an accident) can put in packpub's cache folder where the code cache of the built CLI
 * (bin/code-cache.cjs) looks for its files: a FIFO, a link to a device. A run must do what it does without a
 * cache, and never hang on or read such a thing. Real processes of the built CLI, starting from a copy of one
 * warm cache folder. Files anyone may write, or another user's: code-cache.test.ts.
 */

const world = setup(async (stack) => {
  const root = await stack.tempDir();
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  return { root, pack };
});

/** `validate` of the pack with `cache` as packpub's cache folder, killed if it has not ended in 30 s. */
async function validateWith(cache: string): Promise<CliRun & { killed: boolean }> {
  const run = spawnCli(['validate', world.pack], { env: { PACKPUB_CACHE_DIR: cache }, ownCodeCache: true });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    run.child.kill('SIGKILL');
  }, 30_000);
  try {
    return { ...(await run.done), killed };
  } finally {
    clearTimeout(timer);
  }
}

let warmed: Promise<{ cache: string; names: string[]; entry: string[]; stdout: string }> | undefined;
function warm() {
  warmed ??= (async () => {
    const cache = join(world.root, 'cache-warm');
    const first = await validateWith(cache);
    expect(first.code, first.stderr).toBe(0);
    const names = (await readdir(join(cache, 'v8-code'))).sort();
    expect(names.length).toBeGreaterThan(2);
    // The entry chunks every run loads (which others a run loads depends on the machine's load: workers, checks ahead).
    const entry = names.filter((name) => name.startsWith('packpub'));
    expect(entry.length).toBe(2);
    return { cache, names, entry, stdout: first.stdout.replace(/\d+(\.\d+)? ?m?s\b/g, 'T') };
  })();
  return warmed;
}

async function warmCopy(name: string) {
  const w = await warm();
  const cache = join(world.root, name);
  await cp(w.cache, cache, { recursive: true });
  return { ...w, cache, dir: join(cache, 'v8-code') };
}

async function expectSameRun(cache: string): Promise<void> {
  const w = await warm();
  const run = await validateWith(cache);
  expect(run.killed, 'the run hung and was killed').toBe(false);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toBe('');
  expect(run.stdout.replace(/\d+(\.\d+)? ?m?s\b/g, 'T')).toBe(w.stdout);
}

describe('the code cache and what others may put in its folder', () => {
  // FIFOs and links to a device in one run: the entry chunks (loaded by every run) one of each, the other files
  // taking turns; the run must read none of them (a FIFO waits for a writer for ever, /dev/zero never ends).
  it('a FIFO or a link to a device in place of each cache file: the run neither hangs on nor reads them (as root, /dev/zero would be read without end), and writes its files in their place', async () => {
    const c = await warmCopy('cache-fifo-device');
    const fifos = [c.entry[0] ?? '', ...c.names.filter((name) => !c.entry.includes(name)).filter((_, i) => i % 2 === 0)];
    for (const name of c.names) await rm(join(c.dir, name));
    await makeFifo(...fifos.map((name) => join(c.dir, name)));
    for (const name of c.names.filter((n) => !fifos.includes(n))) await symlink('/dev/zero', join(c.dir, name));
    expect((await lstat(join(c.dir, c.entry[0] ?? ''))).isFIFO()).toBe(true);
    expect((await lstat(join(c.dir, c.entry[1] ?? ''))).isSymbolicLink()).toBe(true);
    await expectSameRun(c.cache);
    for (const name of c.entry) expect((await lstat(join(c.dir, name))).isFile(), name).toBe(true);
  });
});
