import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { conflictingPacks } from '../support/published.js';

/*
 * review4 (s23): the job summary of `push --dry-run` (a pull-request job) was headed "packpub push: succeeded",
 * read as published though nothing was, and a version the real run would refuse (a planned conflict, which a dry
 * run does not fail on: exit 0) was one row of the table. Now the heading says it is a dry run and how many
 * versions would conflict.
 */

describe('the job summary of a dry run', () => {
  const w = setup((stack) => conflictingPacks(stack, 'dry', { name: 'dry-other', version: '1.0.0' }));

  async function summaryOf(argv: string[], code: number): Promise<string> {
    const file = join(w.root, `summary-${code}-${argv.length}.md`);
    await writeFile(file, '');
    expectRun(await runCli(argv, { cwd: w.root, env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: file, GITHUB_WORKSPACE: w.root } }), { code });
    return readFile(file, 'utf8');
  }

  it('new versions: "dry run, nothing published" (was: "succeeded"); a planned conflict is counted in the heading', async () => {
    const layout = join(w.root, 'layout');
    expect((await summaryOf(['push', w.one, '--oci-layout', layout, '--dry-run'], 0)).split('\n')[0]).toBe('### packpub push: dry run, nothing published');
    expectRun(await runCli(['push', w.one, '--oci-layout', layout]), { code: 0 });
    const md = await summaryOf(['push', w.two, w.other, '--oci-layout', layout, '--dry-run'], 0);
    expect(md.split('\n')[0]).toBe('### packpub push: dry run, nothing published; 1 would conflict (the real run would fail)');
    expect(md).toMatch(/^\| dry \| 1\.0\.0 \| .* \| planned conflict \|/m);
    // The real run says what it does.
    expect((await summaryOf(['push', w.other, '--oci-layout', layout], 0)).split('\n')[0]).toBe('### packpub push: succeeded');
  });
});
