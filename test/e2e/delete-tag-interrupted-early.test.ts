import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitFor } from '../support/cli.js';
import { silentServer } from '../support/published.js';
import { packTree, proxiedRegistry } from '../support/push-setup.js';
import { expectReportValid } from '../support/report-schema.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * review8 (s26; review7's left item): delete interrupted while its registry was probed or its versions looked up, and
 * tag and pull interrupted while their registry was probed, said "SIGINT: interrupted" alone: no --json report (a CI job reading
 * it found nothing), no annotation, nothing said about what was done. Now they stop at once (nothing was changed
 * yet) saying so; delete prints its report, every version `cancelled`, not ok; exit 130.
 */

interface Report {
  ok: boolean;
  operation: string;
  target: string;
  summary: Record<string, number>;
  results: Array<{ name: string; version: string; reference: string; status: string; error?: { code: string; message: string } }>;
}

const NOT_TRIED = 'interrupted before this version was tried';

describe.concurrent('delete and tag interrupted before they change anything', () => {
  const w = setup(async (stack) => {
    const reg = await proxiedRegistry(stack);
    const work = await packTree(stack, 1, { seed: 826, prefix: 'early' });
    const pushed = await runCli(['push', work.tree, '--recursive', '--registry', `${reg.registry.host}/del`], { env: work.env });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { reg, work, deleteProbe: await silentServer(stack), tagProbe: await silentServer(stack), pullProbe: await silentServer(stack), digestProbe: await silentServer(stack) };
  });

  it('delete --json: SIGTERM while the registry is probed: exit 130 at once, the report cancels every version, not ok', async () => {
    const host = w.deleteProbe.silent.host;
    const result = await signalledAtProbe(['delete', 'early-000:1.0.0', 'other:2.0.0', '--registry', `${host}/del`, '--plain-http', '--force', '--json'], w.deleteProbe, 'SIGTERM', w.work.env);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGTERM: interrupted while the target was opened; nothing was deleted\n');
    expect(stackLines(result.stderr)).toEqual([]);
    const report = JSON.parse(result.stdout) as Report;
    expectReportValid(report);
    expect(report).toMatchObject({ operation: 'delete', ok: false, target: `registry ${host}/del`, summary: { total: 2, cancelled: 2 } });
    expect(report.results.map((r) => [r.reference, r.status, r.error?.message])).toEqual([
      [`${host}/del/spectro-packs/archive/early-000:1.0.0`, 'cancelled', NOT_TRIED],
      [`${host}/del/spectro-packs/archive/other:2.0.0`, 'cancelled', NOT_TRIED],
    ]);
  });

  it('delete --json: SIGINT while its versions are looked up: exit 130 at once, the report, the version still published', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    w.reg.proxy.onRequest = (req) => ((req.kind === 'manifest-get' || req.kind === 'manifest-head') && req.path.includes('/early-000/') ? (holding++, { holdAnswer: held }) : 'pass');
    const run = spawnCli(['delete', 'early-000:1.0.0', '--registry', `${w.reg.proxy.host}/del`, '--force', '--json'], { env: w.work.env });
    try {
      await waitFor(() => holding > 0, 'the look-up to be held');
      run.child.kill('SIGINT');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain('SIGINT: interrupted while the versions to delete were looked up; nothing was deleted\n');
      expect(stackLines(result.stderr)).toEqual([]);
      const report = JSON.parse(result.stdout) as Report;
      expectReportValid(report);
      expect(report).toMatchObject({ operation: 'delete', ok: false, summary: { total: 1, cancelled: 1 } });
      expect(report.results.map((r) => [r.reference, r.status, r.error?.message])).toEqual([[`${w.reg.proxy.host}/del/spectro-packs/archive/early-000:1.0.0`, 'cancelled', NOT_TRIED]]);
    } finally {
      release();
      run.child.kill('SIGKILL');
    }
    expect(await w.reg.reader.tags('del/spectro-packs/archive/early-000')).toContain('1.0.0');
    expect(w.reg.proxy.requests.filter((r) => r.kind === 'manifest-delete')).toEqual([]);
  });

  it('delete NAME@DIGEST: refused before the registry is probed, exit 2 (was: after the probe; an interrupt there could not write its report)', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const result = await runCli(['delete', `early-000@${digest}`, '--registry', `${w.digestProbe.silent.host}/del`, '--plain-http', '--force', '--json'], { env: w.work.env });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`error: delete takes <name>:<version>, not a digest (early-000@${digest})\n`);
    expect(w.digestProbe.asked).toEqual([]);
  });

  it('tag: SIGINT while the registry is probed: exit 130 at once, saying no tag was written', async () => {
    const result = await signalledAtProbe(['tag', 'early-000:1.0.0', 'latest', '--registry', `${w.tagProbe.silent.host}/del`, '--plain-http'], w.tagProbe, 'SIGINT', w.work.env);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGINT: interrupted while the target was opened; no tag was written\n');
    expect(result.stdout).toBe('');
    expect(stackLines(result.stderr)).toEqual([]);
  });

  it('pull --json: SIGTERM while the registry is probed: exit 130 at once, saying nothing was written; no folder', async () => {
    const out = join(w.work.root, 'pulled');
    const result = await signalledAtProbe(['pull', 'early-000:1.0.0', '--registry', `${w.pullProbe.silent.host}/del`, '--plain-http', '-o', out, '--json'], w.pullProbe, 'SIGTERM', w.work.env);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGTERM: interrupted while the target was opened; nothing was written\n');
    expect(result.stdout).toBe('');
    expect(stackLines(result.stderr)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});

/** Run the CLI with `args` against a silent registry and send `signal` once its probe arrived there: the finished run. */
async function signalledAtProbe(args: string[], probe: { asked: unknown[] }, signal: NodeJS.Signals, env: NodeJS.ProcessEnv) {
  const run = spawnCli(args, { env });
  try {
    await waitFor(() => probe.asked.length > 0, 'the probe to reach the silent registry');
    run.child.kill(signal);
    return await run.done;
  } finally {
    run.child.kill('SIGKILL');
  }
}
