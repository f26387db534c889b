import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup } from '../../support/stage.js';
import { removeDeadRunDirs } from '../../support/test-tmpdir.js';
import { spawnChild, startChild, runChild, type ChildFailure } from '../../support/spawner.js';
import { tempDir } from '../../support/files.js';
import { redactText, registerSecret } from '../../../src/util/redact.js';
import { runCli } from '../../support/cli.js';

/*
 * The tests of test/support/'s smaller modules, a describe per module (each was a test file of its own): each test
 * file costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('test-tmpdir', () => {
  /*
   * A suite run killed by SIGKILL (or SIGTERM: neither runs vitest's exit handler) leaves its tmpfs folder
   * behind; the next run removes it, and nothing else. The killed run here is a real process, named and
   * killed as vitest's main process would be.
   */
  describe('temp folders of killed suite runs', () => {
    const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-tmpdir-') }));

    /** Start a process that makes its run folder under `parent` (the name vitest's run uses), then is killed by `signal`. */
    async function killedRun(parent: string, signal: NodeJS.Signals): Promise<string> {
      // A shell, not a Node process (a tenth of the CPU): `exec sleep` keeps the pid the folder is named after,
      // and, like vitest's main process, it removes nothing when killed by either signal.
      const script = 'd=$(mktemp -d "$1/packpub-test-$$-XXXXXX") && echo x > "$d/data" && echo "$d" && exec sleep 1000';
      const child = spawnChild('sh', ['-c', script, 'sh', parent], { stdio: ['ignore', 'pipe', 'inherit'] });
      const dir = await new Promise<string>((resolve) => child.stdout?.once('data', (b: Buffer) => resolve(b.toString().trim())));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
      return dir;
    }

    it.each(['SIGKILL', 'SIGTERM'] as const)('a run killed by %s: its folder stays, and the next run removes it', async (signal) => {
      const parent = join(w.root, signal);
      await mkdir(parent);
      const dir = await killedRun(parent, signal);
      expect(await readdir(parent)).toEqual([dir.slice(parent.length + 1)]);
      expect(removeDeadRunDirs(parent)).toEqual([dir.slice(parent.length + 1)]);
      expect(await readdir(parent)).toEqual([]);
    });

    it("leaves live runs' folders, folders of other names and files alone", async () => {
      const parent = join(w.root, 'others');
      await mkdir(parent);
      const live = await startChild('sleep', ['1000'], { stdio: ['ignore', 'ignore', 'ignore'] });
      try {
        const keep = [`packpub-test-${process.pid}-aaaaaa`, `packpub-test-${live.pid}-bbbbbb`, 'packpub-test-cccccc', 'packpub-test-1-x', 'other-99999999-dddddd'];
        for (const name of keep) await mkdir(join(parent, name));
        const dead = await killedRun(parent, 'SIGKILL');
        const deadPid = /packpub-test-(\d+)-/.exec(dead)?.[1];
        await writeFile(join(parent, `packpub-test-${deadPid}-eeeeee`), 'a file, not a run folder');
        expect(removeDeadRunDirs(parent)).toEqual([dead.slice(parent.length + 1)]);
        expect((await readdir(parent)).sort()).toEqual([...keep, `packpub-test-${deadPid}-eeeeee`].sort());
      } finally {
        live.kill('SIGKILL');
      }
    });
  });
});

describe('spawner', () => {
  /*
   * The suite's child processes start in a spawner process of the worker's own (test/support/spawner.ts): a
   * test sees them as node's child processes (pid, pipes, exit code or signal, 'close' after the output),
   * so what it checks of a process is the process's.
   */

  it('runs a child with its arguments, environment, working directory and input; reports its exit code and output', async () => {
    const script = 'read line; echo "$line $1 $GREETING $(pwd)"; echo to-stderr >&2; exit 3';
    const failed = await runChild('sh', ['-c', script, 'sh', 'arg'], { env: { PATH: process.env['PATH'], GREETING: 'hello' }, cwd: '/', input: 'in\n' }).catch((e: ChildFailure) => e);
    expect(failed).toBeInstanceOf(Error);
    const failure = failed as ChildFailure;
    expect(failure.code).toBe(3);
    expect(failure.stdout.toString()).toBe('in arg hello /\n');
    expect(failure.stderr.toString()).toBe('to-stderr\n');
    expect(failure.message).toContain('to-stderr');
    expect((await runChild('printf', ['%s', 'ok'])).stdout.toString()).toBe('ok');
  });

  it('a command that is not there is an error naming it, as node reports it', async () => {
    const failure = (await runChild('packpub-no-such-command', []).catch((e: ChildFailure) => e)) as ChildFailure;
    expect(failure.code).toBe('ENOENT');
    expect(failure.message).toContain('packpub-no-such-command');
  });

  it('a signal reaches the child, also one sent before it has started; exit, then close with its output', async () => {
    const child = spawnChild('sh', ['-c', 'echo started; exec sleep 30']);
    expect(child.kill('SIGTERM')).toBe(true);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
    expect([code, signal]).toEqual([null, 'SIGTERM']);
    expect(child.signalCode).toBe('SIGTERM');
    expect(child.kill('SIGKILL')).toBe(false);

    const timed = (await runChild('sleep', ['30'], { timeout: 200 }).catch((e: ChildFailure) => e)) as ChildFailure;
    expect(timed.signal).toBe('SIGTERM');
  });

  it('closing the reading end (as `head` does) ends a child that writes on: its writes fail', async () => {
    const child = spawnChild('sh', ['-c', 'trap "" PIPE; while echo line; do :; done; echo write-failed >&2']);
    const err: Buffer[] = [];
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    await new Promise((resolve) => child.stdout?.once('data', resolve));
    child.stdout?.destroy();
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    expect(Buffer.concat(err).toString()).toContain('write-failed');
  });

  it('`bash -c` runs without the user\'s ~/.bashrc: refused unless given --norc', async () => {
    // Its stdin a socket and no SHLVL, bash -c takes itself for an sshd/rshd command and runs ~/.bashrc first.
    expect(() => spawnChild('bash', ['-c', 'true'])).toThrow(/--norc/);
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, '.bashrc'), 'echo rc-read\n');
      const { stdout } = await runChild('bash', ['--norc', '-c', 'echo "$1"', 'bash', 'command'], { env: { PATH: process.env['PATH'], HOME: dir } });
      expect(stdout.toString()).toBe('command\n');
    } finally {
      await cleanup();
    }
  });
});

describe('cli-runner', () => {
  /*
   * The in-process runner (test/support/cli.ts runCli) gives each run what a fresh process of the built CLI
   * holds, so a test that moved a run in-process cannot pass because of an earlier run's state: no secret
   * registered before (it could mask this run's output), process.env put back, and a run that changes the
   * working directory or leaves signal or exit listeners fails.
   */

  const SECRET = 'runner-isolation-Secret-4e2f';

  it('starts each run from no registered secret', async () => {
    registerSecret(SECRET);
    expect(redactText(SECRET)).not.toContain(SECRET);
    expect((await runCli(['--version'])).code).toBe(0);
    expect(redactText(SECRET)).toBe(SECRET);
  });

  it('puts back process.env as the run found it: a variable added, changed or removed while it went on', async () => {
    process.env['PACKPUB_RUNNER_CHANGED'] = 'as the run found it';
    process.env['PACKPUB_RUNNER_REMOVED'] = 'as the run found it too';
    try {
      const run = runCli(['--help']);
      process.env['PACKPUB_RUNNER_ISOLATION'] = 'set while the run went on';
      process.env['PACKPUB_RUNNER_CHANGED'] = 'changed while the run went on';
      delete process.env['PACKPUB_RUNNER_REMOVED'];
      expect((await run).code).toBe(0);
      expect(process.env['PACKPUB_RUNNER_ISOLATION']).toBeUndefined();
      expect(process.env['PACKPUB_RUNNER_CHANGED']).toBe('as the run found it');
      expect(process.env['PACKPUB_RUNNER_REMOVED']).toBe('as the run found it too');
    } finally {
      delete process.env['PACKPUB_RUNNER_CHANGED'];
      delete process.env['PACKPUB_RUNNER_REMOVED'];
    }
  });

  it('fails a run that leaves the working directory changed or a signal or exit listener behind', async () => {
    const cwd = process.cwd();
    const moved = runCli(['--help']);
    process.chdir('/');
    try {
      await expect(moved).rejects.toThrow('changed the working directory');
    } finally {
      process.chdir(cwd);
    }
    for (const event of ['SIGINT', 'SIGTERM', 'exit'] as const) {
      const listener = (): void => {};
      const left = runCli(['--help']);
      process.on(event, listener);
      try {
        await expect(left).rejects.toThrow('left process listeners behind');
      } finally {
        process.off(event, listener);
      }
    }
  });
});
