import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * GitHub takes at most 1 MiB of job summary from a step and drops a larger one whole ("upload aborted"). Each
 * failed pack's row held the registry's whole error message (up to 64 KiB): 20 packs refused with a 60 KB
 * message wrote a 1.2 MB summary, so the job showed none. Now a reason is cut at 500 characters, saying how
 * much more the JSON report holds, and the table stops before the limit.
 */

const PACKS = 20;
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-summary-size-');
  const hostile = stack.add(await startHostileRegistry({}));
  const dirs: string[] = [];
  for (let i = 0; i < PACKS; i++) dirs.push(await writePack(join(root, `packs/p${i}`), { name: `p${i}`, version: '1.0.0' }));
  return { root, hostile, dirs };
});

describe('the job summary stays under GitHub\'s 1 MiB', () => {
  it('20 packs refused with a 60 KB message each: every row, each reason cut, the JSON report whole', async () => {
    const message = `manifest refused: ${'x'.repeat(60_000)}`;
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message }] });
    w.hostile.behaviour = { answer: (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { status: 400, headers: { 'content-type': 'application/json' }, body } : undefined) };
    const summary = join(w.root, 'summary.md');
    await writeFile(summary, '');
    const run = await runCli(['push', ...w.dirs, '--registry', `${w.hostile.host}/big`, '--no-cache', '--json'], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.root },
    });
    w.hostile.behaviour = {};
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; summary: { failed: number }; results: { error?: { message: string } }[] };
    expect(report.ok).toBe(false);
    expect(report.summary.failed).toBe(PACKS);
    expect(report.results.every((r) => r.error?.message.includes(message) === true)).toBe(true);
    expect((await stat(summary)).size).toBeLessThan(1024 * 1024);
    const md = await readFile(summary, 'utf8');
    expect(md.split('\n')[0]).toBe('### packpub push: failed');
    const rows = md.split('\n').filter((l) => /^\| p\d+ \| 1\.0\.0 \|/.test(l));
    expect(rows).toHaveLength(PACKS);
    for (const row of rows) {
      expect(row).toMatch(/\| failed \|  \| \d+ B \| \S.* manifest refused: x+\.\.\. \(\d+ more characters in the JSON report\) \|$/);
      expect(row.length).toBeLessThan(1000);
    }
  });
});
