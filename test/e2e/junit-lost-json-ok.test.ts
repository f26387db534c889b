import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * docs/report.md: `ok` is true exactly when the exit code is 0. A JUnit report that could not be written after
 * the push (a full disk: /dev/full here) makes the exit code 1, but the --json report printed before it said
 * "ok": true. Now the JSON report comes after the JUnit file and says ok false when it was lost.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-junit-lost-');
  await writePack(join(root, 'packs/a'), { name: 'a', version: '1.0.0' });
  return { root };
});

describe('a lost JUnit report and the JSON report agree with the exit code', () => {
  it('--junit /dev/full: exit 1, "ok": false, the pack published', async () => {
    const run = await runCli(['push', 'packs/a', '--oci-layout', 'layout', '--json', '--junit', '/dev/full'], { cwd: w.root });
    expect(run.stderr).toContain('error: cannot write the JUnit report /dev/full: ENOSPC');
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as { ok: boolean; summary: { published: number } };
    expect(doc.ok).toBe(false);
    expect(doc.summary.published).toBe(1);
    const list = await runCli(['list', '--oci-layout', 'layout', '--json'], { cwd: w.root });
    expect(JSON.parse(list.stdout)).toMatchObject({ packs: [{ name: 'a' }] });
  });
});
