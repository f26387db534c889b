import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';

/*
 * Terminal output on a terminal, and the switch that turns it off: `--no-tty`, and `--tty` like any other
 * switch: `--tty=false` is how the message for `--no-tty=<value>` says to turn terminal output off, so it must
 * do what `--no-tty` does, not be read and then ignored.
 */
/** The tags of the OCI layout push wrote at `layout`, when it is whole. */
async function taggedIn(layout: string): Promise<string[]> {
  const { tags, problems } = await layoutHoldings(layout);
  expect(problems).toEqual([]);
  return [...tags.keys()];
}

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  await writePack(join(root, 'p'), { name: 'ttyoff', version: '1.0.0' });
});
afterAll(async () => cleanup?.());

describe('--no-tty', () => {
  it('draws no live progress or escape codes even on a terminal', async () => {
    const tty = await runCli(['push', join(root, 'p'), '--oci-layout', join(root, 'live')], { tty: true, env: { TERM: 'xterm' } });
    expect(tty.stderr).toContain('\u001b[K');
    const run = await runCli(['push', join(root, 'p'), '--oci-layout', join(root, 'notty'), '--no-tty'], { tty: true, env: { TERM: 'xterm' } });
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('\u001b[');
    expect(run.stdout).toContain('published ttyoff:1.0.0');
  });
});

describe('--tty=false', () => {
  it('draws no live progress or escape codes on a terminal, as --no-tty', async () => {
    const run = await runCli(['push', join(root, 'p'), '--oci-layout', join(root, 'a'), '--tty=false'], { tty: true, env: { TERM: 'xterm' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('\u001b[');
    expect(run.stdout).toContain('published ttyoff:1.0.0');
    expect(await taggedIn(join(root, 'a'))).toEqual(['spectro-packs/archive/ttyoff:1.0.0']);
  });

  it('as two words (--tty false), as the parser reads it', async () => {
    const run = await runCli(['push', join(root, 'p'), '--oci-layout', join(root, 'c'), '--tty', 'false'], { tty: true, env: { TERM: 'xterm' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('\u001b[');
    expect(await taggedIn(join(root, 'c'))).toEqual(['spectro-packs/archive/ttyoff:1.0.0']);
  });

  it('is what the refusal of --no-tty=<value> tells to write', async () => {
    const run = await runCli(['push', join(root, 'p'), '--oci-layout', join(root, 'b'), '--no-tty=yes'], { tty: true, env: { TERM: 'xterm' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--no-tty is a switch and takes no value, got "yes"');
    expect(run.stderr).toContain('--tty=false');
    await expect(readdir(join(root, 'b'))).rejects.toThrow(/ENOENT/);
  });
});
