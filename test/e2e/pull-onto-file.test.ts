import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePackRef } from '../../src/oci/reference.js';
import { pullPack } from '../../src/operations/pull.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';
import { openTarget } from '../../src/targets/open.js';
import { staticProvider } from '../../src/credentials/chain.js';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { publishedLayout } from '../support/published.js';

/*
 * `pull -o PATH` where PATH is a file (or a link to one): the refusal said "PATH already exists and is not
 * empty", which reads as a folder with files in it. It now says it is not a folder, before anything is read,
 * and also when the file appears there while the pull downloads; the file is left as it was.
 */

const w = setup((stack) => publishedLayout(stack, 'packpub-pull-onto-file-'));

describe('pull -o onto something that is not a folder', () => {
  it('a file, a link to a file: exit 2 "already exists and is not a folder" (was: "is not empty"), the file kept', async () => {
    const file = join(w.root, 'a-file');
    await writeFile(file, 'mine');
    const link = join(w.root, 'a-link');
    await symlink(file, link);
    for (const out of [file, link]) {
      const run = await runCli(['pull', 'hello:1.0.0', '-o', out, '--oci-layout', w.layout]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toBe(`error: ${out} already exists and is not a folder\nhint: pass -o with a new directory, or an empty one: the pack is extracted into it\n`);
      expect(run.stdout).toBe('');
    }
    expect(await readFile(file, 'utf8')).toBe('mine');
    expect((await readdir(w.root)).sort()).toEqual(['a-file', 'a-link', 'layout', 'packs']);
  });

  it('a file that appears there while the pull downloads: "is not a folder", nothing left beside it', async () => {
    const out = join(w.root, 'raced-file');
    const target = await openTarget({ ociLayout: w.layout, credentials: staticProvider('none', undefined) });
    const store = Object.create(target.store) as ArtifactStore;
    store.fetchBlob = async (...args) => {
      await writeFile(out, 'written during the pull');
      return target.store.fetchBlob(...args);
    };
    try {
      const err = await pullPack({ ...target, store }, parsePackRef('hello:1.0.0'), { outDir: out }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'USAGE', message: `${out} already exists and is not a folder` });
      expect(await readFile(out, 'utf8')).toBe('written during the pull');
      expect((await readdir(w.root)).filter((n) => n.startsWith('.raced'))).toEqual([]);
    } finally {
      await target.store.close();
    }
  });

  it("a file another process writes into the empty folder during the download: refused, and the hint does not take this pull's own staging folder for an interrupted pull", async () => {
    const out = join(w.root, 'raced-folder');
    await mkdir(out);
    const target = await openTarget({ ociLayout: w.layout, credentials: staticProvider('none', undefined) });
    const store = Object.create(target.store) as ArtifactStore;
    store.fetchBlob = async (...args) => {
      await writeFile(join(out, 'theirs.txt'), 'written during the pull');
      return target.store.fetchBlob(...args);
    };
    try {
      const err = await pullPack({ ...target, store }, parsePackRef('hello:1.0.0'), { outDir: out }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'USAGE', message: `${out} already exists and is not empty`, hint: 'pass -o with a new directory' });
      expect(await readdir(out)).toEqual(['theirs.txt']);
    } finally {
      await target.store.close();
    }
  });

  it('an empty folder and a new one are still filled', async () => {
    const empty = join(w.root, 'empty');
    await mkdir(empty);
    for (const out of [empty, join(w.root, 'new/deeper')]) {
      const run = await runCli(['pull', 'hello:1.0.0', '-o', out, '--oci-layout', w.layout]);
      expect(run.code, run.stderr).toBe(0);
      expect(existsSync(join(out, 'pack.json'))).toBe(true);
    }
  });
});
