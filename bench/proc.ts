import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Child processes and their costs: wall time here, CPU time and peak RSS from GNU time. */

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  /** Return a non-zero exit instead of throwing. */
  allowFailure?: boolean;
  /** Send stdout to /dev/null instead of capturing it (large outputs). */
  discardStdout?: boolean;
  /** Called with the child's pid once it is spawned (CPU sampling). */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
}

export class CommandFailed extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n');
    super(`\`${command}\` exited ${result.code}:\n${tail}`);
    this.name = 'CommandFailed';
  }
}

export function describeCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', options.discardStdout === true ? 'ignore' : 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on('close', (code, signal) => {
      const result: RunResult = {
        code: code ?? (signal === null ? -1 : 128),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        wallMs: performance.now() - started,
      };
      if (result.code !== 0 && options.allowFailure !== true) reject(new CommandFailed(describeCommand(cmd, args), result));
      else resolvePromise(result);
    });
    if (options.stdin !== undefined) {
      child.stdin?.on('error', () => undefined); // a child that exits without reading its input is not our failure
      child.stdin?.end(options.stdin);
    }
  });
}

export interface TimedResult extends RunResult {
  /** User and system CPU seconds of the process and every child it waited for (getrusage RUSAGE_CHILDREN). */
  userS: number;
  sysS: number;
  /** Peak resident set size of the largest single process, in KiB (GNU time %M). */
  maxRssKb: number;
}

export const GNU_TIME = '/usr/bin/time';

/** GNU time (Debian package `time`) is how CPU and peak RSS are read; install it when missing and we are root. */
export async function ensureGnuTime(log: (line: string) => void): Promise<void> {
  if (existsSync(GNU_TIME)) return;
  if (process.getuid?.() !== 0) throw new Error(`${GNU_TIME} is missing: install the Debian package "time" (sudo apt-get install -y time)`);
  log('installing GNU time (Debian package "time") ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'time'], { env });
}

/** Run under GNU time; wall time is still measured here (time's %e has only 10 ms resolution). */
export async function runTimed(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<TimedResult> {
  const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-time-'));
  const out = join(dir, 'time.txt');
  try {
    const result = await run(GNU_TIME, ['-f', '%U %S %M', '-o', out, cmd, ...args], options);
    const fields = (await readFile(out, 'utf8')).trim().split('\n').pop()?.split(' ') ?? [];
    const [user, sys, rss] = fields.map(Number);
    if (user === undefined || sys === undefined || rss === undefined || [user, sys, rss].some(Number.isNaN)) {
      throw new Error(`could not read GNU time's output for ${describeCommand(cmd, args)}: ${fields.join(' ')}`);
    }
    return { ...result, userS: user, sysS: sys, maxRssKb: rss };
  } catch (err) {
    if (err instanceof CommandFailed) throw new CommandFailed(describeCommand(cmd, args), err.result);
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The first line a tool prints for its version, or "not installed". */
export async function toolVersion(cmd: string, args: readonly string[] = ['--version']): Promise<string> {
  try {
    const r = await run(cmd, args, { allowFailure: true });
    return (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}
