import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { BIN, cliBaseEnv, waitFor } from '../support/cli.js';
import { packTree, sharedProxiedRegistry } from '../support/push-setup.js';
import { spawnChild } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * review4 (s23): a job cancelled while the action's push step runs. GitHub's runner signals the step's shell
 * only (SIGINT, then SIGTERM 7.5 s later; GitHub Docs, "Canceling a workflow"), and bash passed no signal on to
 * packpub, which it waited for: packpub never heard of the cancel and was killed with the step, its JSON report
 * (the artifact) empty, no JUnit report, no exit-code output. Now the step passes both signals on: packpub stops as
 * on Ctrl-C, abandons on the second signal, and writes its reports; the step's exit code and output are 130.
 * The push step runs here as the runner runs it: `bash --noprofile --norc -eo pipefail <script>`, its `env`.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Step {
  id?: string;
  run?: string;
}

describe('the action\'s push step, cancelled', () => {
  const w = setup(async (stack) => {
    const reg = await sharedProxiedRegistry(stack);
    const work = await packTree(stack, 3, { seed: 24, prefix: 'cancel' });
    const bin = join(work.root, 'bin');
    await mkdir(bin);
    await symlink(BIN, join(bin, 'packpub'));
    const spec = load(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Step[] } };
    const script = join(work.root, 'push-step.sh');
    await writeFile(script, spec.runs.steps.find((s) => s.id === 'push')?.run ?? '');
    return { reg, work, bin, script };
  });

  it('SIGINT then SIGTERM to the step\'s shell: packpub hears both, exit 130, its JSON and JUnit reports say interrupted', async () => {
    // Every upload is held: the packs stay in flight until the run is abandoned.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    w.reg.proxy.onRequest = (req) => (req.kind === 'upload-put' && req.path.includes('/cancel/') ? (holding++, { holdAnswer: held }) : 'pass');
    const out = join(w.work.root, 'github-output');
    await writeFile(out, '');
    const shell = spawnChild('bash', ['--noprofile', '--norc', '-eo', 'pipefail', w.script], {
      cwd: w.work.root,
      env: {
        ...cliBaseEnv(),
        ...w.work.env,
        PATH: [w.bin, dirname(process.execPath), process.env['PATH'] ?? ''].join(':'),
        GITHUB_ACTIONS: 'true',
        GITHUB_OUTPUT: out,
        GITHUB_WORKSPACE: w.work.root,
        IN_PACKS: w.work.tree,
        IN_RECURSIVE: 'true',
        IN_REGISTRY: `${w.reg.proxy.host}/${w.reg.registry.base}/cancel`,
        IN_TYPE: '',
        IN_USERNAME: '',
        IN_PASSWORD: '',
        IN_SHARD: '',
        IN_ARGS: '',
        IN_REPORT: 'reports/packpub.json',
        IN_JUNIT: 'reports/junit.xml',
        IN_CACHE: 'true',
        NO_COLOR: '1',
      },
    });
    let stderr = '';
    shell.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => shell.on('close', (code: number | null) => resolve(code)));
    try {
      await waitFor(() => holding > 0, 'an upload to be held');
      shell.kill('SIGINT');
      await waitFor(() => stderr.includes('SIGINT: starting no new work'), `packpub to hear the SIGINT the shell got: ${stderr}`);
      // The runner's SIGTERM comes 7.5 s after its SIGINT: sent again until heeded (one within 0.5 s of the SIGINT
      // is read as the same interrupt delivered twice).
      await waitFor(() => (shell.kill('SIGTERM'), stderr.includes('SIGTERM again')), 'packpub to heed the SIGTERM');
      expect(await exited, stderr).toBe(130);
    } finally {
      release();
      w.reg.proxy.onRequest = undefined;
      shell.kill('SIGKILL');
    }
    expect(stderr).toContain('SIGTERM again: abandoning requests in flight; no tag was written for unfinished packs');
    expect(await readFile(out, 'utf8')).toContain('exit-code=130\n');
    const report = JSON.parse(await readFile(join(w.work.root, 'reports/packpub.json'), 'utf8')) as { ok: boolean; aborted: boolean; results: Array<{ status: string }> };
    expect(report).toMatchObject({ ok: false, aborted: true });
    expect(report.results.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    expect(await readFile(join(w.work.root, 'reports/junit.xml'), 'utf8')).toContain('<error message="interrupted: SIGTERM again: abandoning requests in flight');
  });
});
