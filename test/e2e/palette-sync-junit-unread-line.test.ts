import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * palette sync --junit FILE on a line refused before the command could read it (an unknown flag): the file kept
 * what an earlier run wrote there, which a CI job keeping its workspace read as this run's. push and validate
 * already wrote the refused run's report (main.ts reportUnreadLine); palette sync now does too.
 */

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-sync-unread-') }));

describe('palette sync --junit, a line refused before the command reads it', () => {
  it('exit 2, and the file holds the refusal, not an earlier run\'s report', async () => {
    const junit = join(w.root, 'junit.xml');
    await writeFile(junit, '<testsuites name="an earlier run"/>\n');
    const run = await runCli(['palette', 'sync', '--junit', junit, '--no-such-flag'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: unknown flag --no-such-flag');
    const xml = await readFile(junit, 'utf8');
    expect(xml).not.toContain('an earlier run');
    expect(xml).toContain('<testsuite name="refused" tests="1" failures="0" errors="1"');
    expect(xml).toContain('unknown flag --no-such-flag');
  });
});
