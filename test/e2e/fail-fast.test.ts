import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * push --fail-fast in a tree: after the first failure every pack not started yet printed a line of its own, "FAILED
 * <pack>: not started: the run was stopped" (read as an interrupt), and in GitHub Actions took one of the step's 10
 * error annotations each, crowding out the failure itself. Now one cause, one line and one annotation, naming
 * --fail-fast; the JSON report keeps a result per pack (ABORTED).
 */
const w = setup(async (stack) => {
  const root = await stack.tempDir();
  for (const name of ['a-clash', 'b', 'c', 'd']) await writePack(join(root, 'packs', name), { name, version: '1.0.0' });
  const layout = join(root, 'layout');
  expectRun(await runCli(['push', join(root, 'packs', 'a-clash'), '--oci-layout', layout]), { code: 0 });
  await writeFile(join(root, 'packs', 'a-clash', 'README.md'), '# changed after publishing\n');
  return { root, layout };
});

it('the packs --fail-fast kept from starting are one line and one annotation naming it (was: a line and an annotation each, "the run was stopped")', async () => {
  const before = await layoutHoldings(w.layout);
  const run = await runCli(['push', 'packs', '--recursive', '--oci-layout', w.layout, '--fail-fast', '--concurrency', '1', '--json'], {
    cwd: w.root,
    env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root },
  });
  expectRun(run, { code: 1, stderr: ['CONFLICT a-clash:1.0.0', '\n3 packs not started: --fail-fast stopped the run after a failure (b:1.0.0, c:1.0.0, d:1.0.0)\n'] });
  expect(run.stderr).not.toContain('the run was stopped');
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('::error'));
  expect(errors).toHaveLength(2);
  expect(errors[0]).toMatch(/^::error file=packs\/a-clash\/pack\.json,title=packpub conflict::/);
  expect(errors[1]).toBe('::error title=packpub push::3 packs not started: --fail-fast stopped the run after a failure (b:1.0.0, c:1.0.0, d:1.0.0)');
  const report = JSON.parse(run.stdout) as { aborted: boolean; results: Array<{ name: string; status: string; error?: { code: string; message: string } }> };
  expect(report.aborted).toBe(true);
  expect(report.results.map((r) => `${r.name} ${r.status} ${r.error?.code ?? ''} ${r.error?.message ?? ''}`)).toEqual([
    expect.stringMatching(/^a-clash conflict CONFLICT /),
    ...['b', 'c', 'd'].map((n) => `${n} failed ABORTED not started: --fail-fast stopped the run after a failure`),
  ]);
  // Nothing else written: the clashing version still holds what it held, no other pack is there.
  expect(await layoutHoldings(w.layout)).toEqual(before);
  expect([...before.tags.keys()].map((t) => t.split('/').at(-1))).toEqual(['a-clash:1.0.0']);
});
