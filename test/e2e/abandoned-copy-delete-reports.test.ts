import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitFor, type SpawnedCli } from '../support/cli.js';
import { packTree, proxiedRegistry } from '../support/push-setup.js';
import { expectReportValid } from '../support/report-schema.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * review5 (s24): copy and delete abandoned after an interrupt (the grace period over, or a second signal: a CI job
 * cancelled) printed no --json report (push does, since s23): stdout was empty, a job reading the report found
 * nothing, and in GitHub Actions no annotation named what was not done. Now the report is printed, never ok
 * (`aborted` true): copy lists every version it selected (finished as finished, the one in flight `failed` ABORTED
 * "abandoned in flight: not copied", the others "not started"); delete says the version being deleted is perhaps
 * deleted and cancels the others. A version abandoned while its layer was copied, its config blob already there, was
 * reported "abandoned while writing its tag: perhaps copied" (copy counted the first blob done as "all blobs there"):
 * only the manifest write makes a version "perhaps copied".
 */

/** The digest of `{}`, every pack's config blob. */
const EMPTY_CONFIG = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

interface Report {
  ok: boolean;
  aborted?: boolean;
  operation: string;
  summary: Record<string, number>;
  results: Array<{ name: string; version: string; status: string; error?: { code: string; message: string } }>;
}

/** The second signal of a person stopping at once: sent again until heeded (one within 0.5 s of the first is its echo). */
async function abandon(run: SpawnedCli, signal: NodeJS.Signals): Promise<void> {
  run.child.kill(signal);
  await waitFor(() => run.stderr().includes(`${signal}: starting no new work`), 'the first signal to be seen');
  await waitFor(() => (run.child.kill(signal), run.stderr().includes(`${signal} again`)), `a later ${signal} to be heeded`);
}

describe('copy and delete abandoned after an interrupt', () => {
  const w = setup(async (stack) => {
    const src = await sharedRegistry();
    const dst = await proxiedRegistry(stack);
    const work = await packTree(stack, 3, { seed: 2424, prefix: 'abcd' });
    const from = `${src.host}/${src.base}/abcd`;
    const pushed = await runCli(['push', work.tree, '--recursive', '--registry', from], { env: work.env });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { dst, work, from };
  });

  it('copy --all --json: exit 130, the report lists every version, not ok (was: nothing on stdout); the one in flight, its config blob copied, is "not copied" (was: "perhaps copied")', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    let configs = 0;
    // The `{}` config blob goes through (a version whose first blob is there is no version being tagged); its layer is held.
    w.dst.proxy.onRequest = (req) => {
      if (req.kind !== 'upload-put' || !req.path.includes('/cpab/')) return 'pass';
      if (req.path.includes(EMPTY_CONFIG.slice('sha256:'.length))) return configs++, 'pass';
      return holding++, { holdAnswer: held };
    };
    const run = spawnCli(['copy', '--all', '--from', w.from, '--to', `${w.dst.proxy.host}/cpab`, '--concurrency', '1', '--json'], {
      env: { ...w.work.env, GITHUB_ACTIONS: 'true' },
    });
    try {
      await waitFor(() => holding > 0, 'a layer upload to be held');
      expect(configs).toBeGreaterThan(0);
      await abandon(run, 'SIGTERM');
      const done = await run.done;
      expect(done.code, done.stderr).toBe(130);
      expect(done.stderr).toMatch(/^not published: abandoned in flight: abcd-\S+:\S+; 2 not started \(no tag was written for them; run again to finish\)$/m);
      expect(done.stderr).not.toContain('perhaps');
      expect(w.dst.proxy.requests.filter((r) => r.kind === 'manifest-put' && r.path.includes('/cpab/spectro-packs/archive/abcd-'))).toEqual([]);
      const report = JSON.parse(done.stdout) as Report;
      expectReportValid(report);
      expect(report).toMatchObject({ operation: 'copy', ok: false, aborted: true });
      const names = w.work.packs.map((p) => `${p.name}:${p.version}`).sort();
      expect(report.results.map((r) => `${r.name}:${r.version}`).sort()).toEqual(names);
      expect(report.results.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
      const messages = report.results.map((r) => r.error?.message);
      expect(report.results.filter((r) => r.error?.message === 'abandoned in flight: not copied (no tag was written)').map((r) => r.error?.code)).toEqual(['ABORTED']);
      expect(messages.filter((m) => m === 'not started: the run was stopped')).toHaveLength(2);
      expect(report.summary).toMatchObject({ total: 3, failed: 3, copied: 0 });
      // Each version not copied is an annotation, as when the run ends by itself.
      expect(done.stderr.match(/^::error title=packpub failed::failed abcd-/gm)).toHaveLength(3);
      // The destination holds no tag.
      expect((await w.dst.reader.tagDigests('cpab')).size).toBe(0);
    } finally {
      release();
      w.dst.proxy.onRequest = undefined;
      run.child.kill('SIGKILL');
    }
  });

  it('delete --json: exit 130, the version being deleted perhaps deleted, the next cancelled, not ok (was: nothing on stdout)', async () => {
    const [a, b] = w.work.packs as [(typeof w.work.packs)[0], (typeof w.work.packs)[0]];
    const copied = await runCli(['copy', '--all', '--from', w.from, '--to', `${w.dst.registry.host}/delab`], { env: w.work.env });
    expect(copied.code, copied.stderr).toBe(0);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    w.dst.proxy.onRequest = (req) => (req.kind === 'manifest-delete' && req.path.includes('/delab/') ? (holding++, { holdAnswer: held }) : 'pass');
    const run = spawnCli(['delete', `${a.name}:${a.version}`, `${b.name}:${b.version}`, '--force', '--json', '--registry', `${w.dst.proxy.host}/delab`], { env: w.work.env });
    try {
      await waitFor(() => holding > 0, 'the first DELETE to be held');
      await abandon(run, 'SIGINT');
      const done = await run.done;
      expect(done.code, done.stderr).toBe(130);
      expect(done.stderr).toContain('SIGINT again: abandoning requests in flight; the versions listed above as deleted are gone, the one being deleted perhaps too, the others were not deleted');
      const report = JSON.parse(done.stdout) as Report;
      expectReportValid(report);
      expect(report).toMatchObject({ operation: 'delete', ok: false });
      expect(report.results.map((r) => [`${r.name}:${r.version}`, r.status, r.error?.code, r.error?.message])).toEqual([
        [`${a.name}:${a.version}`, 'failed', 'ABORTED', 'abandoned while being deleted: perhaps deleted'],
        [`${b.name}:${b.version}`, 'cancelled', 'CANCELLED', 'interrupted before this version was tried'],
      ]);
      // The registry acted on the DELETE it received (its answer was held): the first is gone, the second is not.
      const tags = [...(await w.dst.reader.tagDigests('delab')).keys()].map((t) => t.replace(/^.*\/archive\//, ''));
      expect(tags).not.toContain(`${a.name}:${a.version}`);
      expect(tags).toContain(`${b.name}:${b.version}`);
    } finally {
      release();
      w.dst.proxy.onRequest = undefined;
      run.child.kill('SIGKILL');
    }
  });

  it('delete interrupted during its last version, which it finishes: exit 0 as its report\'s ok says (was: 130 with ok true)', async () => {
    const c = w.work.packs[2]!;
    const copied = await runCli(['copy', `${c.name}:${c.version}`, '--from', w.from, '--to', `${w.dst.registry.host}/dellast`], { env: w.work.env });
    expect(copied.code, copied.stderr).toBe(0);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    w.dst.proxy.onRequest = (req) => (req.kind === 'manifest-delete' && req.path.includes('/dellast/') ? (holding++, { holdAnswer: held }) : 'pass');
    const run = spawnCli(['delete', `${c.name}:${c.version}`, '--force', '--json', '--registry', `${w.dst.proxy.host}/dellast`], { env: w.work.env });
    try {
      await waitFor(() => holding > 0, 'the DELETE to be held');
      run.child.kill('SIGINT');
      await waitFor(() => run.stderr().includes('SIGINT: starting no new work'), 'the signal to be seen');
      release();
      const done = await run.done;
      expect(done.code, done.stderr).toBe(0);
      const report = JSON.parse(done.stdout) as Report;
      expect(report.ok).toBe(true);
      expect(report.results.map((r) => r.status)).toEqual(['deleted']);
      expect((await w.dst.reader.tagDigests('dellast')).size).toBe(0);
    } finally {
      release();
      w.dst.proxy.onRequest = undefined;
      run.child.kill('SIGKILL');
    }
  });
});
