import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * review34 (s35): GitHub's runner keeps the first 4096 characters of an annotation's message and drops the rest
 * without a word (actions/runner, ExecutionContext _maxIssueMessageLength). A registry refusing a manifest with a
 * 60 KB message made the pack's ::error hold all of it: the annotation GitHub showed ended mid-message, its hint (what
 * to do) gone. Now the message is cut to fit, saying how much more packpub's output holds, and the hint line stays.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-annotation-length-');
  const hostile = stack.add(await startHostileRegistry({}));
  const dir = await writePack(join(root, 'packs/p0'), { name: 'p0', version: '1.0.0' });
  return { root, hostile, dir };
});

/** The message of a workflow command line as the runner reads it (GitHub Docs: %25, %0D, %0A in data). */
function data(line: string): string {
  return line.slice(line.indexOf('::', 2) + 2).replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
}

describe("an annotation fits the runner's 4096 characters, its hint kept", () => {
  it('a manifest refused with a 60 KB message: exit 1, the ::error cut saying so, hint last; the JSON report whole', async () => {
    const message = `manifest refused: ${'x'.repeat(60_000)}`;
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message }] });
    w.hostile.behaviour = { answer: (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { status: 400, headers: { 'content-type': 'application/json' }, body } : undefined) };
    const run = await runCli(['push', w.dir, '--registry', `${w.hostile.host}/big`, '--no-cache', '--json'], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root },
    });
    w.hostile.behaviour = {};
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: { status: string; error?: { message: string; hint?: string } }[] };
    expect(report.ok).toBe(false);
    const [result] = report.results;
    expect(result?.status).toBe('failed');
    expect(result?.error?.message).toContain(message);
    const hint = result?.error?.hint;
    expect(hint).toBeTruthy();
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('::error file=packs/p0/pack.json,title=packpub failed::'));
    expect(lines).toHaveLength(1);
    const said = data(lines[0] ?? '');
    expect(said.length).toBeLessThanOrEqual(4096);
    const cut = /^failed p0:1\.0\.0 .*manifest refused: (x+)\.\.\. \((\d+) more characters in packpub's output\)\nhint: (.*)$/s.exec(said);
    expect(cut?.[3]).toBe(hint);
    // What was kept and what it says is left out add up to the whole message.
    const error = result?.error?.message ?? '';
    const start = said.indexOf(error.slice(0, 40));
    expect(start).toBeGreaterThan(0);
    expect(Number(cut?.[2])).toBe(start + error.length - said.indexOf("... ("));
  });
});

describe('an annotation shows control characters as U+XXXX', () => {
  // review34 (s35): a registry's error holding ESC [8m (conceal) went raw into the ::error, which the job log shows
  // through a terminal emulator: the rest of the line hidden. The log line beside it (printable) already showed U+001B.
  it('a manifest refused with ESC and BEL in its message: exit 1, the ::error showing U+001B and U+0007, no raw control', async () => {
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'refused \u001b[8mhidden\u001b[0m \u0007 now' }] });
    w.hostile.behaviour = { answer: (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { status: 400, headers: { 'content-type': 'application/json' }, body } : undefined) };
    const run = await runCli(['push', w.dir, '--registry', `${w.hostile.host}/esc`, '--no-cache', '--json'], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root },
    });
    w.hostile.behaviour = {};
    expect(run.code, run.stderr).toBe(1);
    expect((JSON.parse(run.stdout) as { results: { status: string }[] }).results.map((r) => r.status)).toEqual(['failed']);
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('::error file=packs/p0/pack.json,title=packpub failed::'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('refused U+001B[8mhiddenU+001B[0m U+0007 now');
    // eslint-disable-next-line no-control-regex
    expect(run.stderr).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
  });
});

describe("the error that ends a run fits the runner's 4096 characters", () => {
  it('--shard with a 5000-character value: exit 2, the ::error cut saying so, its hint kept; nothing written', async () => {
    const shard = `${'1'.repeat(5000)}/2`;
    const run = await runCli(['push', w.dir, '--oci-layout', 'layout-shard', '--shard', shard], { cwd: w.root, env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root } });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`error: --shard "${shard}"`);
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('::error title=packpub::'));
    expect(lines).toHaveLength(1);
    const said = data(lines[0] ?? '');
    expect(said.length).toBeLessThanOrEqual(4096);
    expect(said).toMatch(/^--shard "1+\.\.\. \(\d+ more characters in packpub's output\)\nhint: e\.g\. --shard 2\/3 for the second of three jobs$/);
    await expect(stat(join(w.root, 'layout-shard'))).rejects.toThrow(/ENOENT/);
  });
});
