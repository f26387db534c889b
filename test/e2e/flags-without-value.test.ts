import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * review s21 F6: a flag left without its value, as the shell leaves `--target $TARGET` when TARGET is unset (or a
 * CI template an empty expression last on the line). `--target ""` was refused, but a list flag with no value at
 * all read as "not given": `push --target` published to defaults.target (or the local layout), `--tag` and
 * `--annotation` were left out, exit 0. A number flag without its value ended as "a bug in packpub" (exit 1),
 * `--junit` without one published and then failed writing the report. Each is now exit 2 before anything runs.
 */

describe('a flag given without its value (an unset CI variable)', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir();
    const pack = await writePack(join(root, 'packs', 'flagless'), { name: 'flagless', version: '1.0.0' });
    await writePack(join(root, 'packs', 'other'), { name: 'other', version: '1.0.0' });
    await writeFile(join(root, 'packpub.yaml'), 'packs: [packs/flagless]\ndefaults:\n  target: prod\ntargets:\n  prod:\n    ociLayout: ./prod\n  staging:\n    ociLayout: ./staging\n');
    return { root, pack };
  });
  const run = (args: string[]) => runCli(args, { cwd: w.root });
  const published = async () => (await readdir(w.root)).filter((f) => ['prod', 'staging', 'oci-packs', 'layout'].includes(f)).sort();

  it('an empty pack folder (push "$PACKS", validate "$DIR", build "$DIR" with the variable empty): exit 2, nothing published or built (was: push published the file\'s packs, validate and build read the working directory)', async () => {
    for (const [args, command] of [
      [['push', ''], 'push'], // was: published packs/flagless to prod, exit 0
      [['push', ' ', '--dry-run'], 'push'],
      [['push', '', w.pack, '--oci-layout', 'layout'], 'push'], // was: published flagless alone, exit 0
      [['validate', ''], 'validate'], // was: validated the working directory (exit 1, "pack.json: missing")
      [['validate', w.pack, ''], 'validate'],
      [['build', '', '-o', 'built/'], 'build'],
    ] as Array<[string[], string]>) {
      expectRun(await run(args), { code: 2, stdout: '', stderr: [`error: packpub ${command} was given an empty pack folder ("")`, 'an unset CI variable often leaves it empty'] });
    }
    expect(await published()).toEqual([]);
    expect((await readdir(w.root)).filter((f) => f === 'built')).toEqual([]);
  });

  it('several pack folders in one argument ("$PACKS" of a list, "$(cat packs.txt)"): exit 2, the argument quoted, said to hold several (was: the message split by its line break, a trailing blank unseen)', async () => {
    const other = join(w.root, 'packs', 'other');
    for (const [arg, hint] of [
      [`${w.pack}\n${other}\n`, 'hint: it holds 2 folders in one argument: give each as an argument of its own'],
      [`${w.pack} ${other}`, 'hint: it holds 2 folders in one argument'],
      [`${w.pack} `, "hint: check the blanks or line breaks in it (a variable holding more than the folder's name?)"],
    ] as Array<[string, string]>) {
      expectRun(await run(['push', arg, '--oci-layout', 'layout']), { code: 2, stdout: '', stderr: [`error: ${JSON.stringify(arg)}: no such directory\n`, hint] });
    }
    expect(await published()).toEqual([]);
  });

  it('a list flag (--target, --tag, --annotation, --resolve, --ecr-tag): exit 2 naming it, nothing published (was: read as not given, exit 0)', async () => {
    const cases: Array<[string[], string]> = [
      [['push', '--target'], '--target'], // was: published to defaults.target (prod)
      [['push', '--target', '--dry-run'], '--target'],
      [['push', '-t'], '--target'],
      [['push', w.pack, '--oci-layout', 'layout', '--tag'], '--tag'], // was: published without the tag
      [['push', w.pack, '--oci-layout', 'layout', '--tag', '--force'], '--tag'],
      [['push', w.pack, '--oci-layout', 'layout', '--annotation'], '--annotation'],
      [['push', w.pack, '--oci-layout', 'layout', '--ecr-tag'], '--ecr-tag'],
      [['list', '--oci-layout', 'layout', '--resolve'], '--resolve'],
    ];
    for (const [args, flag] of cases) expectRun(await run(args), { code: 2, stdout: '', stderr: [`error: ${flag} is given without a value`, 'an unset CI variable'] });
    expect(await published()).toEqual([]);
    // Given, the same flags work, and the file's packs still go where defaults.target says.
    expectRun(await run(['push', '--target', 'staging', '--tag', 'stable', '--annotation', 'a=b']), { code: 0, stdout: ['published flagless:1.0.0'] });
    expectRun(await run(['push']), { code: 0, stdout: [`published flagless:1.0.0 -> oci:${join(w.root, 'prod')}/`] });
    expect(await published()).toEqual(['prod', 'staging']);
  });

  it('a comma list with an empty name (--target "prod,$EXTRA", --target ,): exit 2, nothing published (was: the empty name dropped, exit 0)', async () => {
    for (const value of [',', 'staging,', ',staging', 'staging,,prod', 'staging, ']) {
      expectRun(await run(['push', '--target', value]), { code: 2, stdout: '', stderr: [`error: --target "${value}" has an empty name between its commas`] });
    }
    expectRun(await run(['push', w.pack, '--registry', '127.0.0.1:1/a,']), { code: 2, stderr: ['error: --registry "127.0.0.1:1/a," has an empty name between its commas'] });
  });

  it('a number flag: exit 2 quoting the empty value (was: "a bug in packpub", exit 1); --junit and -H: "is empty" before anything runs', async () => {
    for (const [args, words] of [
      [['push', w.pack, '--oci-layout', 'layout', '--concurrency'], '--concurrency must be a whole number from 1 to 64, got ""'],
      [['push', w.pack, '--oci-layout', 'layout', '--retry-attempts', '--dry-run'], '--retry-attempts must be a whole number from 1 to 100, got ""'],
      [['pull', 'flagless:1.0.0', '--oci-layout', 'layout', '--max-size'], '--max-size must be a number above 0'],
      [['push', w.pack, '--oci-layout', 'layout', '--junit'], '--junit is empty'], // was: published, then exit 1
      [['list', '--registry', '127.0.0.1:1/base', '-H'], '--header is empty'],
    ] as Array<[string[], string]>) {
      const r = await run(args);
      expectRun(r, { code: 2, stderr: [words] });
      expect(r.stderr).not.toContain('bug in packpub');
    }
    expect((await published()).filter((f) => f === 'layout')).toEqual([]);
  });
});
