import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { publishedLayout } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * `packpub pull REF -o "$DEST"` or `packpub build PACK -o "$OUT"` with the variable unset: -o "" was the working
 * directory. pull filled an empty one with the pack, build wrote <name>-<version>.tar.gz there, both exit 0 (a later
 * step reading $DEST found nothing). Refused as every other path flag given empty is: exit 2, nothing written.
 */

const w = setup(async (stack) => {
  const published = await publishedLayout(stack, 'packpub-output-empty-');
  const pack = await writePack(join(published.root, 'pack'), { name: 'emptyout', version: '1.0.0' });
  return { ...published, pack };
});

describe('-o given empty', () => {
  it('pull and build: exit 2, "--output is empty", the working directory left as it was (was: the pack or archive written there, exit 0)', async () => {
    const cwd = join(w.root, 'cwd');
    await mkdir(cwd);
    const refused = { code: 2, stdout: '' as const, stderr: ['error: --output is empty', 'hint: give a value (an unset CI variable often leaves it empty), or leave --output out'] };
    for (const value of ['', '  ']) {
      expectRun(await runCli(['pull', 'hello:1.0.0', '--oci-layout', w.layout, '-o', value], { cwd }), refused);
      expectRun(await runCli(['build', w.pack, '-o', value], { cwd }), refused);
    }
    expect(await readdir(cwd)).toEqual([]);
  });
});
