import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli, waitFor } from '../support/cli.js';
import { packTree, sharedProxiedRegistry } from '../support/push-setup.js';
import { setup } from '../support/stage.js';

/*
 * review5 (s24): a push killed before it wrote its --junit report (SIGKILL: GitLab's shell executor, a runner's kill
 * after its grace period, out of memory) left the file as it was: in a kept workspace (Jenkins) an earlier run's
 * report, every pack passed, which the junit step then read as this run's; else no file. Now --junit holds, from
 * the start of the run until its report replaces it, one error case saying the run has not finished its report.
 */

const GREEN = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="packpub push" tests="1" failures="0" errors="0"><testsuite name="old" tests="1"><testcase name="old:1.0.0" classname="old"/></testsuite></testsuites>\n';

describe('--junit of a push killed before its report', () => {
  const w = setup(async (stack) => ({ reg: await sharedProxiedRegistry(stack), work: await packTree(stack, 1, { seed: 2470, prefix: 'jkill' }) }));

  it('SIGKILL while uploading: the file says the run did not finish its report (was: the earlier run\'s, all passed)', async () => {
    const junit = join(w.work.root, 'junit.xml');
    await writeFile(junit, GREEN);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    w.reg.proxy.onRequest = (req) => (req.kind === 'upload-put' && req.path.includes('/jkill/') ? (holding++, { holdAnswer: held }) : 'pass');
    const run = spawnCli(['push', w.work.tree, '--recursive', '--registry', `${w.reg.proxy.host}/${w.reg.registry.base}/jkill`, '--junit', junit], { env: w.work.env });
    try {
      await waitFor(() => holding > 0, 'an upload to be held');
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
    } finally {
      release();
      w.reg.proxy.onRequest = undefined;
    }
    const xml = await readFile(junit, 'utf8');
    expect(xml).not.toContain('old:1.0.0');
    expect(xml).toContain('<testsuites name="packpub" tests="1" failures="0" errors="1"');
    expect(xml).toMatch(/<error message="unfinished: packpub started at \S+ and has not written this report: it is still running, or it was stopped \(interrupted or killed\) before it could" type="UNFINISHED">/);
  });
});
