import { existsSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { parsePackRef } from '../../src/oci/reference.js';
import { pullPack } from '../../src/operations/pull.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';
import { openTarget } from '../../src/targets/open.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * pull -o never replaces what the user has: a folder with files in it or a file is refused before the
 * download, and a folder that gets files while the pull downloads (another process, a second pull) is
 * refused at the end instead of being deleted to make room. An empty folder is filled.
 */

const ENV = { SOURCE_DATE_EPOCH: '1700000000' };

/**
 * Fault injection: the second rename placing something at or in `into` fails (a full disk, EIO), once.
 * node:fs/promises' own `rename` is replaced for the test and its ES-module exports synced
 * (syncBuiltinESMExports), so src/'s `import { rename }` sees the replacement: unlike vi.mock, this works
 * in a worker shared with files that loaded src/ before, so this file needs no worker of its own.
 */
const faults = { into: undefined as string | undefined, seen: 0 };
const fsPromises = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises');
const realRename = fsPromises.rename;
function injectRenameFault(into: string): void {
  faults.into = into;
  faults.seen = 0;
  fsPromises.rename = async (from, to) => {
    if (faults.into !== undefined && (String(to) === faults.into || String(to).startsWith(`${faults.into}/`)) && ++faults.seen === 2) {
      faults.into = undefined;
      throw Object.assign(new Error(`EIO: i/o error, rename '${String(from)}' -> '${String(to)}'`), { code: 'EIO' });
    }
    return realRename(from, to);
  };
  syncBuiltinESMExports();
}
function removeRenameFault(): void {
  faults.into = undefined;
  fsPromises.rename = realRename;
  syncBuiltinESMExports();
}

describe('pull --output keeps what is already there', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-pull-out-');
    const layout = join(root, 'layout');
    const pack = await writePack(join(root, 'packs/hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    const pushed = await runCli(['push', pack, '--oci-layout', layout], { env: ENV });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { root, layout };
  });

  it('refuses a folder with files and a file, and fills an empty folder', async () => {
    const used = join(w.root, 'used');
    await mkdir(used);
    await writeFile(join(used, 'notes.txt'), 'mine');
    const refused = await runCli(['pull', 'hello:1.0.0', '-o', used, '--oci-layout', w.layout]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error: ${used} already exists and is not empty`);
    expect(await readdir(used)).toEqual(['notes.txt']);

    const file = join(w.root, 'a-file');
    await writeFile(file, 'mine');
    const onFile = await runCli(['pull', 'hello:1.0.0', '-o', file, '--oci-layout', w.layout]);
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toContain(`error: ${file} already exists and is not a folder`);
    expect(await readFile(file, 'utf8')).toBe('mine');

    const empty = join(w.root, 'empty');
    await mkdir(empty);
    const filled = await runCli(['pull', 'hello:1.0.0', '-o', empty, '--oci-layout', w.layout]);
    expect(filled.code, filled.stderr).toBe(0);
    expect(filled.stdout).toContain(`into ${empty}:`);
    expect(JSON.parse(await readFile(join(empty, 'pack.json'), 'utf8'))).toMatchObject({ name: 'hello', version: '1.0.0' });
  });

  it("keeps the user's empty folder when moving the pack into it fails: it was removed before the move", async () => {
    const out = join(w.root, 'kept');
    await mkdir(out);
    injectRenameFault(out);
    try {
      const run = await runCli(['pull', 'hello:1.0.0', '-o', out, '--oci-layout', w.layout]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`error: cannot write ${out}: input/output error (EIO)`);
      expect(faults.into).toBeUndefined(); // the fault did fire, on the second entry moved in
    } finally {
      removeRenameFault();
    }
    // The folder is there, empty as it was: no half pack, no staging folder inside or beside it.
    expect(await readdir(out)).toEqual([]);
    expect((await readdir(w.root)).filter((n) => n.startsWith('.kept'))).toEqual([]);
    // The next pull fills it.
    const again = await runCli(['pull', 'hello:1.0.0', '-o', out, '--oci-layout', w.layout]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'))).toMatchObject({ name: 'hello', version: '1.0.0' });
    expect((await readdir(out)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('does not delete files that appear in the output folder while the pull downloads', async () => {
    const out = join(w.root, 'raced');
    const target = await openTarget({ ociLayout: w.layout, credentials: staticProvider('none', undefined) });
    // Another process creates the folder and writes into it while the blob is downloading.
    const store = Object.create(target.store) as ArtifactStore;
    store.fetchBlob = async (...args) => {
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'theirs.txt'), 'written during the pull');
      return target.store.fetchBlob(...args);
    };
    try {
      const err = await pullPack({ ...target, store }, parsePackRef('hello:1.0.0'), { outDir: out }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'USAGE', message: `${out} already exists and is not empty` });
      expect(await readdir(out)).toEqual(['theirs.txt']);
      expect(await readFile(join(out, 'theirs.txt'), 'utf8')).toBe('written during the pull');
      // nothing left beside it
      expect((await readdir(w.root)).filter((n) => n.startsWith('.raced'))).toEqual([]);
      expect(existsSync(join(out, 'pack.json'))).toBe(false);
    } finally {
      await target.store.close();
    }
  });
});
