import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { spawnChild } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * review28 (s34): the action's push step ran packpub in the background and waited with bash's `wait`, passing the
 * signals on from traps. With every process of the step signalled at once (its process group), a trap cutting
 * `wait` short sometimes lost packpub's status: the step exited 143 and set exit-code=143 instead of packpub's 130,
 * about 1 run in 20 (2 of 40 measured, bash 5.2.15). The step now `exec`s scripts/action-push.cjs, which waits
 * with Node's child 'exit' event. The race needs many runs: packpub is replaced by a small program that, like it,
 * exits 130 on SIGTERM (heard once, as packpub reads a signal delivered twice at once), prints a line to its report (stdout) and says on stderr when it listens
 * (action-push-step.test.ts signals the step with the real packpub).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const STAND_IN = `#!${process.execPath}
let heard = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { if (heard) return; heard = true; process.stdout.write('{"aborted":true}\\n', () => process.exit(130)); });
process.stderr.write('listening ' + process.argv.slice(2).join(' ') + ' stdin:' + require('node:fs').readFileSync(0, 'utf8') + '\\n');
setInterval(() => undefined, 60_000);
`;

describe('the action\'s push step, its exit code when the process group is signalled', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-action-exit-');
    const bin = join(root, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'packpub'), STAND_IN);
    await chmod(join(bin, 'packpub'), 0o755);
    const spec = load(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Array<{ id?: string; run?: string }> } };
    const script = join(root, 'push-step.sh');
    await writeFile(script, spec.runs.steps.find((s) => s.id === 'push')?.run ?? '');
    return { root, bin, script };
  });

  /** One run of the step: SIGTERM to its process group once the stand-in listens; its exit code, output and report. */
  const run = async (i: number, signal: NodeJS.Signals | undefined, inputs: NodeJS.ProcessEnv = {}) => {
    const out = join(w.root, `output-${i}`);
    await writeFile(out, '');
    const report = join(w.root, `reports-${i}/packpub.json`);
    const shell = spawnChild('bash', ['--noprofile', '--norc', '-eo', 'pipefail', w.script], {
      cwd: w.root,
      env: {
        PATH: [w.bin, dirname(process.execPath), process.env['PATH'] ?? ''].join(':'),
        GITHUB_OUTPUT: out,
        RUNNER_TEMP: w.root,
        ACTION_DIR: ROOT,
        IN_PACKS: 'packs/',
        IN_RECURSIVE: 'true',
        IN_CACHE: 'true',
        IN_REPORT: report,
        IN_USERNAME: 'ci',
        IN_PASSWORD: 'ci-secret',
        ...inputs,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => shell.on('close', (code: number | null) => resolve(code)));
    const listening = new Promise<void>((resolve) =>
      shell.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes('listening')) resolve();
      }),
    );
    try {
      if (signal !== undefined) {
        await Promise.race([listening, exited]);
        process.kill(-(shell.pid ?? 0), signal);
      }
      const code = await exited;
      return { code, stderr, output: await readFile(out, 'utf8'), report: await readFile(report, 'utf8').catch(() => undefined) };
    } finally {
      shell.kill('SIGKILL');
    }
  };

  it('SIGTERM to the whole group, 20 runs: every one exits 130 with exit-code=130 and the report in its place (was 143 about 1 run in 20)', async () => {
    const codes: Array<number | null> = [];
    for (let i = 0; i < 20; i++) {
      const r = await run(i, 'SIGTERM');
      codes.push(r.code);
      expect(r.stderr).toContain('stdin:ci-secret\n');
      expect(r.output).toBe(`report=${join(w.root, `reports-${i}/packpub.json`)}\nexit-code=${r.code}\n`);
      expect(r.report).toBe('{"aborted":true}\n');
    }
    expect(codes.filter((c) => c !== 130)).toEqual([]);
  });

  it('a report path that cannot be written (a folder): the stand-in\'s 130 stays, an annotation names the path, escaped', async () => {
    // A "%0A" in the path was read by the runner as a line break inside the annotation: escaped as %250A.
    await mkdir(join(w.root, 'reports-%0A-folder/packpub.json'), { recursive: true });
    const r = await run(99, 'SIGINT', { IN_REPORT: join(w.root, 'reports-%0A-folder/packpub.json') });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`::error title=packpub action::cannot write the report ${join(w.root, 'reports-%250A-folder/packpub.json')}: EISDIR`);
    expect(r.output).toContain('exit-code=130\n');
  });

  it('packpub not on the PATH: exit 127, an annotation, exit-code=127, the report empty', async () => {
    const r = await run(98, undefined, { PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':') });
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('::error title=packpub action::cannot run packpub: spawn packpub ENOENT');
    expect(r.output).toContain('exit-code=127\n');
    expect(r.report).toBe('');
  });
});
