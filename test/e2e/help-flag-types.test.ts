import { describe, expect, it } from 'vitest';
import { NUMBER_RANGES } from '../../src/cli/target-flags.js';
import { runCli } from '../support/cli.js';

/*
 * trust11 (s20): --help labelled every numeric flag [string] (--concurrency, --retry-attempts, --max-size, ...:
 * they are read as text so that a mistake is quoted as typed), and a variadic positional "[default: []]"
 * ("[required] [default: []]" for validate's pack folders; push's packs said "default: packs of packpub.yaml",
 * then "[default: []]"). Now numbers are [number] and no positional shows a default yargs invented. The Palette
 * waits are checked as the other numbers: --palette-timeout 3000000 was taken (a timer past 2^31 ms fires at once).
 */

const COMMANDS = ['push', 'validate', 'build', 'list', 'inspect', 'pull', 'tag', 'delete', 'copy', 'login', 'logout', 'init', 'palette', 'completion'];

describe('--help tells each flag as it is read', () => {
  it.each(COMMANDS)('%s --help: numeric flags are [number], no positional shows [default: []]', async (command) => {
    const run = await runCli([command, '--help']);
    expect(run.code, run.stderr).toBe(0);
    const text = run.stdout;
    expect(text).not.toContain('[default: []]');
    // Each flag's entry: from its switch (indented two spaces) to the next one; the type label ends the entry. A
    // wrapped line of a description that starts with a flag it names ("copy\n --all also waits") is no new entry. A
    // group's last entry ends at the blank line before the next group (logout's Network group, then Positionals).
    const entries = text.split(/\n(?=  (?:-[A-Za-z], )?--[a-z])|\n\n/);
    for (const name of Object.keys(NUMBER_RANGES)) {
      for (const entry of entries.filter((e) => new RegExp(`^\\s+(?:-[A-Za-z], )?--(?:from-|to-)?${name}\\s`).test(e))) {
        expect(entry, `${command} --${name}`).toMatch(/\[number\]\s*$/m);
        expect(entry, `${command} --${name}`).not.toContain('[string]');
      }
    }
  });

  it('the Palette waits are ranged and quoted as typed, as the other numbers', async () => {
    for (const [flag, value, range] of [
      ['--palette-timeout', '3000000', 'a number above 0 and at most 86400'],
      ['--palette-poll-interval', 'abc', 'a number above 0 and at most 3600'],
      ['--palette-timeout', '', 'a number above 0 and at most 86400'],
    ] as const) {
      const run = await runCli(['palette', 'sync', '--registry', '127.0.0.1:9/x', flag, value], { env: { SPECTROCLOUD_APIKEY: 'k' } });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${flag} must be ${range}, got "${value}"\n`);
    }
  });
});
