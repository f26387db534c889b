import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { runChildText } from '../support/spawner.js';

/*
 * bash completion completed commands and flags only: `packpub palette <TAB>` offered nothing (its action is
 * doctor, register or sync), nor did `--registry-type <TAB>` or `init --layer <TAB>`. Now the first positional
 * of a fixed set and the values of a flag with a fixed set are completed (fish too), from the same choices the
 * parser refuses others with.
 */

const w = setup(async (stack) => {
  const script = join(await stack.tempDir('packpub-completion-values-'), 'packpub.bash');
  const run = await runCli(['completion', 'bash']);
  expect(run.code, run.stderr).toBe(0);
  await writeFile(script, run.stdout);
  return { script };
});

async function complete(words: string[]): Promise<string[]> {
  const script = [`source "${w.script}"`, `COMP_WORDS=(${words.map((x) => `'${x}'`).join(' ')})`, `COMP_CWORD=${words.length - 1}`, '_packpub', 'printf "%s\\n" "${COMPREPLY[@]}"'].join('\n');
  const { stdout } = await runChildText('bash', ['--noprofile', '--norc', '-c', script]);
  return stdout.split('\n').filter((l) => l !== '');
}

describe('completion of fixed values', () => {
  it.each([
    [['packpub', 'palette', ''], ['doctor', 'register', 'sync']],
    [['packpub', '--debug', 'palette', '--json', 'r'], ['register']],
    [['packpub', 'palette', 'sync', ''], []],
    [['packpub', 'completion', ''], ['bash', 'zsh', 'fish']],
    [['packpub', 'push', '--registry-type', ''], ['generic', 'harbor', 'ecr']],
    [['packpub', 'init', 'p', '--layer', 'c'], ['cni', 'csi']],
    [['packpub', 'copy', '--to-registry-type', 'h'], ['harbor']],
    [['packpub', 'push', '--ju'], ['--junit']],
  ])('%j -> %j', async (words, expected) => {
    expect(await complete(words)).toEqual(expected);
  });

  it('fish offers the same values', async () => {
    const run = await runCli(['completion', 'fish']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("complete -c packpub -n '__fish_seen_subcommand_from palette' -f -a 'doctor register sync'\n");
    expect(run.stdout).toContain("complete -c packpub -n '__fish_seen_subcommand_from push' -l registry-type -r -f -a 'generic harbor ecr'\n");
  });
});
