import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, TEST_CACHE_DIR } from '../support/cli.js';
import { stage } from '../support/stage.js';
import { runChildText } from '../support/spawner.js';

/** The bash completion script as `packpub completion bash` prints it (written once, sourced by every `complete`). */
let bashScript: string;
const stack = stage();
beforeAll(async () => {
  bashScript = join(await stack.tempDir('packpub-completion-'), 'packpub.bash');
  const run = await runCli(['completion', 'bash']);
  expect(run.code, run.stderr).toBe(0);
  await writeFile(bashScript, run.stdout);
});

/** Source the bash completion (as a user who saved it to a file does), then ask it to complete `words` (the last one being typed). */
async function complete(words: string[]): Promise<string[]> {
  const script = [
    `source "${bashScript}"`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_packpub',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const { stdout } = await runChildText('bash', ['--noprofile', '--norc', '-c', script]);
  return stdout.split('\n').filter((l) => l !== '');
}

describe('packpub completion', () => {
  it('bash loads the script and registers packpub', async () => {
    const { stdout } = await runChildText('bash', ['--noprofile', '--norc', '-c', `source <("${process.execPath}" "${BIN}" completion bash) && complete -p packpub`], {
      // the test's cache folder (the CLI keeps its code cache there), never the user's ~/.cache/packpub
      env: { ...process.env, PACKPUB_CACHE_DIR: TEST_CACHE_DIR },
    });
    expect(stdout.trim()).toBe('complete -o default -F _packpub packpub');
  });

  it('completes commands, then the flags of the command typed (positionals are no flags)', async () => {
    expect(await complete(['packpub', 'pu'])).toEqual(['push', 'pull']);
    expect(await complete(['packpub', '--debug', 'comp'])).toEqual(['completion']);
    expect(await complete(['packpub', 'push', 'packs/', '--reg'])).toEqual(['--registry', '--registry-config', '--registry-type']);
    expect(await complete(['packpub', 'push', '--js'])).toEqual(['--json', '--json-lines']);
    expect(await complete(['packpub', 'validate', '--'])).not.toContain('--pack-dir');
  });

  it('zsh and fish scripts name the same commands and flags', async () => {
    const zsh = await runCli(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef packpub\n/);
    expect(zsh.stdout).toContain('bashcompinit');
    expect(zsh.stdout).toContain('complete -o default -F _packpub packpub');
    const fish = await runCli(['completion', 'fish']);
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("complete -c packpub -n __fish_use_subcommand -f -a push -d 'Validate, build and publish packs");
    expect(fish.stdout).toContain("complete -c packpub -n '__fish_seen_subcommand_from push' -l registry -r");
    expect(fish.stdout).toContain("complete -c packpub -n '__fish_seen_subcommand_from push' -l dry-run\n");
  });

  it('refuses an unknown shell (exit 2)', async () => {
    const run = await runCli(['completion', 'tcsh']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Invalid values');
    expect(run.stdout).toBe('');
  });
});
