import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../../support/files.js';
import { runChild, spawnChild, type ChildFailure } from '../../support/spawner.js';

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
