import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openTarget } from '../../src/targets/open.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli } from '../support/cli.js';
import { craftTar } from '../support/files.js';
import { tempPack } from '../support/packs.js';
import { stage } from '../support/stage.js';

/*
 * review (s19): a tag packpub itself puts on a published version (push --tag, packpub tag) holds that pack:
 * pull and inspect give it back. 07eb0d9 compared pack.json's version with every tag that reads as a semantic
 * version, so a CI build tag (1.0.0-ci.7) or an LTS label (2.0.0-lts), accepted by push and tag with exit 0,
 * was refused: "holds another pack ... the tag was pushed or moved by hand". Such a tag holds the very manifest
 * the version's own tag holds; an archive pushed by hand under another version does not, and is still refused,
 * leaving nothing behind, not even the folders above -o the pull made.
 */

const stack = stage();

describe('pull and inspect of a tag packpub put on a pack', () => {
  it('give back the pack pushed with --tag 1.0.0-ci.7 and tagged 2.0.0-lts (was: exit 1, "holds another pack")', async () => {
    const { root, pack } = await tempPack(stack, { name: 'hello', version: '1.0.0' });
    const layout = join(root, 'layout');
    const push = await runCli(['push', pack, '--oci-layout', layout, '--tag', '1.0.0-ci.7', '--allow-other-version']);
    expect(push.code, push.stderr).toBe(0);
    const tag = await runCli(['tag', 'hello:1.0.0', '2.0.0-lts', '--allow-other-version', '--oci-layout', layout]);
    expect(tag.code, tag.stderr).toBe(0);
    for (const version of ['1.0.0-ci.7', '2.0.0-lts']) {
      const inspect = await runCli(['inspect', `hello:${version}`, '--oci-layout', layout, '--json']);
      expect(inspect.code, inspect.stderr).toBe(0);
      expect((JSON.parse(inspect.stdout) as { packJson: { version: string } }).packJson.version).toBe('1.0.0');
      const out = join(root, `pulled-${version}`);
      const pull = await runCli(['pull', `hello:${version}`, '--oci-layout', layout, '-o', out]);
      expect(pull.code, pull.stderr).toBe(0);
      expect(JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'))).toMatchObject({ name: 'hello', version: '1.0.0' });
    }
  });

  it('refuse another version pushed by hand under a version tag, and leave no folder made for -o (was: new/deeper/ stayed)', async () => {
    const { root, pack } = await tempPack(stack, { name: 'hello', version: '1.1.0' });
    const layout = join(root, 'layout');
    expect((await runCli(['push', pack, '--oci-layout', layout])).code).toBe(0);
    // 1.2.0 holds pack.json 1.1.0 in an archive of its own: the tag 1.1.0 holds another manifest.
    const target = await openTarget({ ociLayout: layout });
    try {
      await pushTestPack(target.store, 'spectro-packs/archive/hello', '1.2.0', gzipSync(await craftTar([{ name: 'hello/pack.json', content: '{"name":"hello","version":"1.1.0"}' }])));
    } finally {
      await target.store.close();
    }
    const before = await readdir(root);
    for (const argv of [['inspect', 'hello:1.2.0'], ['pull', 'hello:1.2.0', '-o', join(root, 'new', 'deeper', 'hello')]]) {
      const run = await runCli([...argv, '--oci-layout', layout]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain('hello:1.2.0 holds another pack: the pack.json of its archive has name "hello", version "1.1.0"');
    }
    expect(existsSync(join(root, 'new'))).toBe(false);
    expect(await readdir(root)).toEqual(before);
  });
});
