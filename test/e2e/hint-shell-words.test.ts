import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellWord } from '../../src/util/shell-word.js';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * The commands a hint or a next step shows for pasting name the pack folder as one shell word: a folder with a space,
 * an ampersand or a quote in its name pasted as `packpub validate /x/it's a pack` was a broken command (an unclosed
 * quote, or `&` running the rest in the background). The target's flags in hints were quoted already (hintFlags).
 */

const w = setup(async (stack) => ({ root: await stack.tempDir() }));

describe('a pack folder whose name a shell would split', () => {
  it("push and build of an invalid pack: the hint's validate command quotes the folder; nothing published or written", async () => {
    const dir = await writePack(join(w.root, "it's a pack & co"), { name: 'quoted', version: '1.0.0' });
    await appendFile(join(dir, 'values.yaml'), 'broken: [\n');
    const layout = join(w.root, 'layout');
    const quoted = `'${w.root}/it'\\''s a pack & co'`;
    expect(shellWord(dir)).toBe(quoted);
    expectRun(await runCli(['push', dir, '--oci-layout', layout]), { code: 1, stdout: ['1 invalid'], stderr: ['INVALID quoted:1.0.0', `hint: run: packpub validate ${quoted}`] });
    expect(existsSync(join(layout, 'spectro-packs', 'archive', 'quoted', 'index.json'))).toBe(false);
    const out = join(w.root, 'quoted.tar.gz');
    expectRun(await runCli(['build', dir, '-o', out]), { code: 1, stderr: [`hint: run: packpub validate ${quoted}`] });
    expect(existsSync(out)).toBe(false);
  });

  it("init's next step quotes the folder it made; a plain name stays as it is", async () => {
    const made = await runCli(['init', 'new pack', '--name', 'spaced', '--version', '1.0.0'], { cwd: w.root });
    expectRun(made, { code: 0, stdout: ["packpub validate 'new pack' --strict, then packpub push 'new pack'"] });
    const plain = await runCli(['init', 'plain-pack', '--name', 'plain', '--version', '1.0.0'], { cwd: w.root });
    expectRun(plain, { code: 0, stdout: ['packpub validate plain-pack --strict, then packpub push plain-pack'] });
  });
});
