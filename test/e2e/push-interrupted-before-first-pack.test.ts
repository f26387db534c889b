import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli, waitFor } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { silentServer } from '../support/published.js';
import { packTree } from '../support/push-setup.js';
import { expectReportValid } from '../support/report-schema.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * review7 (s26; review6's left item): a push interrupted before its first pack started (its target's probe of a
 * registry that does not answer, retried up to --retry-deadline; --check-images) exited 130 saying only "SIGTERM:
 * interrupted": no --json report, no job summary or annotation, and a JUnit file holding only the `unfinished` case
 * (a CI user cancelling a hung job saw no report). Now it stops at once with the reports of an abandoned run: every
 * pack `failed` ABORTED "not started: the run was stopped", the JUnit `interrupted` suite, the summary "interrupted".
 */

const NOT_STARTED = 'not started: the run was stopped';

describe.concurrent('push (and copy) interrupted before its first pack', () => {
  const w = setup(async (stack) => ({ work: await packTree(stack, 2, { seed: 26, prefix: 'early' }), ...(await silentServer(stack)), unasked: await silentServer(stack), copyTo: await silentServer(stack) }));

  it('SIGTERM while the registry target is probed: exit 130 at once, the --json report, JUnit and job summary say interrupted, nothing published', async () => {
    const junit = join(w.work.root, 'probe.xml');
    const summary = join(w.work.root, 'probe.md');
    await writeFile(summary, '');
    const target = `registry ${w.silent.host}/early`;
    const run = spawnCli(['push', w.work.tree, '--recursive', '--registry', `${w.silent.host}/early`, '--plain-http', '--json', '--junit', junit], {
      env: { ...w.work.env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: w.work.root },
    });
    try {
      // The target's probe (Harbor's systeminfo, the /v2/ ping), not the image check of the case beside it.
      await waitFor(() => w.asked.some((a) => a === 'GET /v2/' || a.startsWith('GET /api/v2.0/systeminfo')), 'the probe to reach the silent registry');
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain('SIGTERM: interrupted before the first pack started; nothing was published\ninterrupted: 0 of 2 finished\nnot published: 2 not started (no tag was written for them; run again to finish)\n');
      expect(result.stderr).not.toContain('may finish within');
      expect(stackLines(result.stderr)).toEqual([]);
      for (const p of w.work.packs) expect(result.stderr).toContain(`::error file=${relative(w.work.root, join(p.dir, 'pack.json'))},title=packpub failed::failed ${p.dir}: ${NOT_STARTED}\n`);
      const report = JSON.parse(result.stdout) as { ok: boolean; aborted: boolean; target: string; summary: { total: number; failed: number }; results: Array<{ dir: string; target: string; status: string; error: { code: string; message: string } }> };
      expectReportValid(report);
      expect(report).toMatchObject({ ok: false, aborted: true, target, summary: { total: 2, failed: 2 } });
      expect(report.results.map((r) => [r.dir, r.target, r.status, r.error.code, r.error.message]).sort()).toEqual(w.work.packs.map((p) => [p.dir, target, 'failed', 'ABORTED', NOT_STARTED]).sort());
      const xml = await readFile(junit, 'utf8');
      expect(xml).not.toContain('unfinished');
      expect(xml).toContain('<error message="interrupted: SIGTERM: interrupted before the first pack started; nothing was published" type="INTERRUPTED">');
      expect(xml.match(/<failure message="failed: not started: the run was stopped" type="ABORTED">/g)).toHaveLength(2);
      const md = await readFile(summary, 'utf8');
      expect(md).toContain('### packpub push: interrupted\n');
      expect(md).toContain('- SIGTERM: interrupted before the first pack started; nothing was published\n');
      // Only the probe reached the registry: no pack was looked up or written.
      expect(w.asked.filter((a) => a.includes('spectro-packs'))).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('SIGINT while --check-images waits for an image registry: exit 130, --json-lines gives each pack and an aborted summary, the layout is not written', async () => {
    const root = join(w.work.root, 'images');
    const image = `${w.silent.host}/team/app:1.0.0`;
    const values = ['pack:', '  namespace: imgs', '  content:', '    images:', `      - image: ${image}`, 'manifests:', '  app:', '    replicas: 1', ''].join('\n');
    const pack = await writePack(join(root, 'imgs'), { name: 'imgs', version: '1.0.0', files: { 'values.yaml': values } });
    const layout = join(w.work.root, 'layout');
    const junit = join(w.work.root, 'images.xml');
    const run = spawnCli(['push', pack, '--oci-layout', layout, '--check-images', '--json-lines', '--junit', junit], { env: w.work.env });
    try {
      await waitFor(() => w.asked.some((a) => a.includes('/v2/team/app/manifests/')), 'the image check to reach the silent registry');
      run.child.kill('SIGINT');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain('SIGINT: interrupted before the first pack started; nothing was published\n');
      expect(stackLines(result.stderr)).toEqual([]);
      const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([
        expect.objectContaining({ type: 'result', dir: pack, target: `oci-layout ${layout}`, status: 'failed', error: { code: 'ABORTED', message: NOT_STARTED } }),
        expect.objectContaining({ type: 'summary', target: `oci-layout ${layout}`, aborted: true, summary: expect.objectContaining({ total: 1, failed: 1 }) }),
      ]);
      expect(await readFile(junit, 'utf8')).toContain('<error message="interrupted: SIGINT: interrupted before the first pack started; nothing was published" type="INTERRUPTED">');
      expect(existsSync(join(layout, 'index.json'))).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
  it('a PACKPUB_INTERRUPT_GRACE that is no number of seconds is refused before the target is probed (was: after the probe)', async () => {
    const junit = join(w.work.root, 'grace.xml');
    const run = spawnCli(['push', w.work.tree, '--recursive', '--registry', `${w.unasked.silent.host}/grace`, '--plain-http', '--json', '--junit', junit], {
      env: { ...w.work.env, PACKPUB_INTERRUPT_GRACE: 'soon' },
    });
    try {
      const result = await run.done;
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('error: PACKPUB_INTERRUPT_GRACE must be a number of seconds from 0 to 300, got "soon"\n');
      expect(await readFile(junit, 'utf8')).toContain('PACKPUB_INTERRUPT_GRACE must be a number of seconds');
      expect(w.unasked.asked).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
  it('copy: SIGTERM while its destination is probed: exit 130 at once, the --json report says aborted, not ok, nothing copied (was: no report)', async () => {
    const run = spawnCli(['copy', 'early-000:1.0.0', '--from', `oci:${join(w.work.root, 'no-layout')}`, '--to', `${w.copyTo.silent.host}/dst`, '--json'], { env: w.work.env });
    try {
      await waitFor(() => w.copyTo.asked.length > 0, 'the probe to reach the silent destination');
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain('SIGTERM: interrupted while the source and destination were opened; nothing was copied\n');
      expect(stackLines(result.stderr)).toEqual([]);
      const report = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({ operation: 'copy', to: `registry ${w.copyTo.silent.host}/dst`, ok: false, aborted: true, results: [] });
      expect(w.copyTo.asked.filter((a) => a.includes('/dst/'))).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
