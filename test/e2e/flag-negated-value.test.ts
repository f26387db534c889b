import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * `--no-NAME` of a flag that takes a value: the parser read it as NAME=false and the command got the text "false":
 * `push --no-junit` wrote its JUnit report to a file named `false`, `--no-oci-layout` and `pull --no-output` crashed with
 * a TypeError (path.startsWith is not a function), `--no-registry` looked up a host named `false`. Refused before any work.
 */
describe('--no- of a flag that takes a value, and a lone - as its value', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-negated-');
    const pack = await writePack(join(root, 'pack'), { name: 'neg', version: '1.0.0' });
    return { root, pack };
  });

  it.each([
    [['push', 'pack', '--no-junit'], 'junit'],
    [['push', 'pack', '--no-oci-layout'], 'oci-layout'],
    [['pull', 'neg:1.0.0', '--no-output'], 'output'],
  ])('%j is refused, exit 2, and writes nothing', async (args, flag) => {
    const run = await runCli(args, { cwd: w.root });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe(`error: --no-${flag}: --${flag} takes a value, and has no --no- form\nhint: leave --${flag} out to use its default, or give it a value (--${flag} VALUE)\n`);
    // No report named `false`, no layout: the folder holds the pack alone.
    expect(await readdir(w.root)).toEqual(['pack']);
  });

  it.each([[['push', 'pack', '--oci-layout', '-']], [['list', '--registry', 'r.example.com/p', '--ca-file=-']], [['push', 'pack', '--annotation-file', '-']]])('%j is refused, exit 2: - is no file for it (was: a layout folder named "-", or "--ca-file is empty")', async (args) => {
    const flag = args.includes('--oci-layout') ? 'oci-layout' : args.includes('--annotation-file') ? 'annotation-file' : 'ca-file';
    const run = await runCli(args, { cwd: w.root });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe(`error: --${flag} - names standard input or output, which --${flag} does not read or write\nhint: give a path (./- for one named "-")\n`);
    expect(await readdir(w.root)).toEqual(['pack']);
  });

  it('validate --junit - is refused, exit 2, and writes no file named "-" (was: the report in a file named "-", exit 0)', async () => {
    const run = await runCli(['validate', 'pack', '--junit', '-'], { cwd: w.root });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain("error: --junit - is standard output, which carries the run's own lines (or its --json report) too\n");
    expect(await readdir(w.root)).toEqual(['pack']);
  });

  // A lone `-` after a long flag was left to the parser, which took it for a positional and the flag for empty.
  it.each([[['-o', '-']], [['--output', '-']]])('pull %j is refused, exit 2: a pull writes a folder (was: a folder named "-")', async (flag) => {
    const run = await runCli(['pull', 'neg:1.0.0', ...flag], { cwd: w.root });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe('error: pull -o - names standard output, and a pull writes a folder\nhint: give the folder to create (./- for one named "-"), or use packpub build -o - for an archive on standard output\n');
    expect(await readdir(w.root)).toEqual(['pack']);
  });
});
