import { mkdir, readFile, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { BIN, cliBaseEnv, waitFor } from '../support/cli.js';
import { packTree, sharedProxiedRegistry } from '../support/push-setup.js';
import { spawnChild } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * review5 (s24): a user's own shell step in GitLab CI or Jenkins had the signal problem the action had (s23): a
 * cancelled job signals the step's shell, which passes nothing on to the command it waits for, so packpub was
 * killed without its grace period or its reports. examples/ci had no GitLab or Jenkins example to show the way.
 * Now examples/ci/run-packpub.sh runs packpub with every SIGINT/SIGTERM/SIGHUP passed on and its exit code kept, and the
 * GitLab and Jenkins examples call it. Run here under bash as a step runs it, signalled as the runners signal.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'examples/ci/run-packpub.sh');

describe('examples/ci/run-packpub.sh, signalled as a cancelled job is', () => {
  const w = setup(async (stack) => {
    const reg = await sharedProxiedRegistry(stack);
    const work = await packTree(stack, 3, { seed: 2455, prefix: 'cisig' });
    const bin = join(work.root, 'bin');
    await mkdir(bin);
    await symlink(BIN, join(bin, 'packpub'));
    return { reg, work, bin };
  });

  /** The step: the script, its stdin the password (as the examples pipe it), in a process group of its own. */
  const step = (base: string, more: { args?: string[]; env?: NodeJS.ProcessEnv } = {}) => {
    const args = ['push', w.work.tree, '--recursive', '--registry', `${w.reg.proxy.host}/${w.reg.registry.base}/${base}`, '--concurrency', '1', ...(more.args ?? [])];
    const shell = spawnChild('bash', [SCRIPT, ...args, '--username', 'ci', '--password-stdin', '--json'], {
      cwd: w.work.root,
      env: { ...cliBaseEnv(), ...w.work.env, PATH: [w.bin, dirname(process.execPath), process.env['PATH'] ?? ''].join(':'), NO_COLOR: '1', ...more.env },
      detached: true,
    });
    shell.stdin?.end('ci-secret');
    let stdout = '';
    let stderr = '';
    shell.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    shell.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => shell.on('close', (code: number | null) => resolve(code)));
    return { shell, stderr: () => stderr, exited, report: () => JSON.parse(stdout) as { ok: boolean; aborted: boolean; results: Array<{ status: string }> } };
  };

  /** Uploads under `base` held until the returned release is called. */
  const hold = (base: string) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = 0;
    w.reg.proxy.onRequest = (req) => (req.kind === 'upload-put' && req.path.includes(`/${base}/`) ? (holding++, { holdAnswer: held }) : 'pass');
    return { held: () => holding > 0, release };
  };

  it.each([
    ['SIGTERM', 'the step\'s shell only (GitLab\'s Docker executor, docker stop)', false],
    ['SIGTERM', 'every process of the step at once (Jenkins\' abort, GitLab signalling all of the step\'s processes)', true],
    // The shell's session ending (an ssh session or terminal closed): passed on as packpub reads it, an interrupt.
    ['SIGHUP', 'the step\'s shell only (its session ended)', false],
  ] as const)('%s to %s: packpub hears it once, finishes the pack in flight, exit 130, its JSON report says interrupted', async (signal, _, group) => {
    const base = group ? 'group' : signal === 'SIGHUP' ? 'hangup' : 'shell';
    const h = hold(base);
    const s = step(base);
    try {
      await waitFor(h.held, `an upload to be held: ${s.stderr()}`);
      if (group) process.kill(-(s.shell.pid ?? 0), signal);
      else s.shell.kill(signal);
      await waitFor(() => s.stderr().includes(`${signal}: starting no new work`), `packpub to hear the ${signal}: ${s.stderr()}`);
      h.release();
      expect(await s.exited, s.stderr()).toBe(130);
    } finally {
      h.release();
      w.reg.proxy.onRequest = undefined;
      s.shell.kill('SIGKILL');
    }
    // Heard once: the pack in flight was let finish (with the signal twice, it was abandoned at once).
    expect(s.stderr()).not.toContain(`${signal} again`);
    const report = s.report();
    expect(report).toMatchObject({ ok: false, aborted: true });
    expect(report.results.map((r) => r.status)).toEqual(['published', 'failed', 'failed']);
    expect((await w.reg.reader.tagDigests(`${w.reg.registry.base}/${base}`)).size).toBe(1);
  });

  it('Jenkins\' abort with the Jenkinsfile\'s PACKPUB_INTERRUPT_GRACE: SIGTERM to every process, SIGKILL 5 s later; the reports are written before it', async () => {
    // The grace as the Jenkinsfile sets it (environment block), so the example is what is tested.
    const jenkinsfile = await readFile(join(ROOT, 'examples/ci/Jenkinsfile'), 'utf8');
    const grace = /^\s*PACKPUB_INTERRUPT_GRACE = '([^']+)'$/m.exec(jenkinsfile)?.[1];
    expect(grace).toBe('2');
    const junit = join(w.work.root, 'jenkins-junit.xml');
    // The upload in flight never finishes: only the grace's end lets packpub write its reports before the kill.
    const h = hold('jenkins');
    const s = step('jenkins', { args: ['--junit', junit], env: { PACKPUB_INTERRUPT_GRACE: grace } });
    let killer: NodeJS.Timeout | undefined;
    try {
      await waitFor(h.held, `an upload to be held: ${s.stderr()}`);
      process.kill(-(s.shell.pid ?? 0), 'SIGTERM');
      // hudson.util.ProcessTree.softKillWaitSeconds: 5 s after the SIGTERM, Jenkins kills what is left.
      killer = setTimeout(() => process.kill(-(s.shell.pid ?? 0), 'SIGKILL'), 5_000);
      expect(await s.exited, s.stderr()).toBe(130);
    } finally {
      clearTimeout(killer);
      h.release();
      w.reg.proxy.onRequest = undefined;
      s.shell.kill('SIGKILL');
    }
    expect(s.stderr()).toContain('SIGTERM: starting no new work; what is in flight may finish within 2 s');
    expect(s.stderr()).toContain('abandoning requests still in flight');
    const report = s.report();
    expect(report).toMatchObject({ ok: false, aborted: true });
    expect(report.results.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testsuite name="interrupted"');
    expect(xml).not.toContain('UNFINISHED');
    expect((await w.reg.reader.tagDigests(`${w.reg.registry.base}/jenkins`)).size).toBe(0);
  });

  it('passes packpub\'s exit code and stdin through: a run that finishes exits 0 with its report', async () => {
    const s = step('done');
    expect(await s.exited, s.stderr()).toBe(0);
    expect(s.report().ok).toBe(true);
  });

  it('the GitLab and Jenkins examples run packpub through it', async () => {
    const gitlab = load(await readFile(join(ROOT, 'examples/ci/gitlab-ci.yml'), 'utf8')) as Record<string, { script: string[]; artifacts: { when: string; reports: { junit: string } } }>;
    const job = gitlab['publish-packs']!;
    expect(job.script.find((l) => l.includes('packpub push') || l.includes(' push '))).toMatch(/^printf '%s' "\$HARBOR_ROBOT_SECRET" \| bash ci\/run-packpub\.sh push /);
    expect(job.artifacts).toMatchObject({ when: 'always', reports: { junit: 'reports/junit.xml' } });
    const jenkins = await readFile(join(ROOT, 'examples/ci/Jenkinsfile'), 'utf8');
    expect(jenkins).toMatch(/\| *\n\s*bash ci\/run-packpub\.sh push /);
    // An earlier build's reports are removed before anything else of the stage runs (the install may fail, or the abort
    // come while packpub is still starting): the `junit` step read them as this build's in a kept workspace.
    const steps = jenkins.slice(jenkins.indexOf('steps {'));
    expect(steps.indexOf("sh 'rm -rf reports'")).toBeGreaterThan(0);
    expect(steps.indexOf("sh 'rm -rf reports'")).toBeLessThan(steps.indexOf('npm install'));
  });
});
