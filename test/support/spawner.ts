import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { meterLongLived, meterSpawned } from './cpu-meter.js';

/*
 * The suite's child processes (the built CLI, registries, skopeo, htpasswd, openssl) are started by a small
 * process of the worker's own (spawner-process.cjs), not by the test worker itself. Node starts a child with
 * fork() + exec: fork() copies the worker's page tables and marks all its memory copy-on-write, so after each
 * start the worker, whose heap is hundreds of MB, takes a page fault on every page it writes again (and the
 * kernel here runs with page-table isolation, where each fault is dear). Measured in a worker pushing
 * in-process between starts: ~60 ms of the worker's CPU per child started by the worker (~9 ms the start
 * itself, the rest the faults after it), ~6 ms when the spawner starts it; the suite starts ~300 such
 * children. The child is the same process with the same arguments, environment, working directory and
 * pipes: the worker reads and writes the pipes' ends itself (handed over by the spawner before it reads a
 * byte), and signals the child by its pid.
 */

const PROCESS = fileURLToPath(new URL('./spawner-process.cjs', import.meta.url));

export type StdioKind = 'pipe' | 'ignore' | 'inherit';

export interface SpawnChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdin, stdout, stderr (default: all 'pipe'). */
  stdio?: [StdioKind, StdioKind, StdioKind];
  detached?: boolean;
}

/**
 * A child started through the spawner: what the suite uses of node's ChildProcess. Events 'spawn', 'error'
 * (not started), 'exit' (code, signal) and 'close' (code, signal: after 'exit' and the end of its output).
 */
export interface SpawnedChild extends EventEmitter {
  /** Undefined until it has started ('spawn'). */
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  /** Send `signal` (SIGTERM): at once when it has started, else as soon as it has. False when it has exited. */
  kill(signal?: NodeJS.Signals): boolean;
}

interface Message {
  op: 'pipe' | 'spawned' | 'error' | 'exit';
  id: number;
  fd?: number;
  pid?: number;
  code?: number | null;
  signal?: NodeJS.Signals | null;
  user?: number;
  sys?: number;
  error?: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
}

class Child extends EventEmitter implements SpawnedChild {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdin: PassThrough | null;
  readonly stdout: PassThrough | null;
  readonly stderr: PassThrough | null;
  private readonly signals: NodeJS.Signals[] = [];
  private exited = false;
  /** Output streams not ended yet, and the exit: 'close' when all are done. */
  private open = 1;

  constructor(
    stdio: [StdioKind, StdioKind, StdioKind],
    private readonly metered: (user: number, sys: number) => void,
  ) {
    super();
    this.stdin = stdio[0] === 'pipe' ? new PassThrough() : null;
    this.stdout = stdio[1] === 'pipe' ? new PassThrough() : null;
    this.stderr = stdio[2] === 'pipe' ? new PassThrough() : null;
    for (const out of [this.stdout, this.stderr]) {
      if (out === null) continue;
      this.open++;
      out.once('close', () => this.closed());
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exited) return false;
    if (this.pid === undefined) {
      this.signals.push(signal);
      return true;
    }
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  received(m: Message, handle: Socket | undefined): void {
    if (m.op === 'pipe' && handle !== undefined) {
      // A pipe the child closes early: what was still to be written or read is dropped, as with node's pipes.
      handle.on('error', () => handle.destroy());
      const end = m.fd === 0 ? this.stdin : m.fd === 1 ? this.stdout : this.stderr;
      if (end === null || end.destroyed) handle.destroy();
      else {
        // Closing the test's end before its end (as `head` does) closes the pipe.
        end.once('close', () => {
          if (!end.readableEnded) handle.destroy();
        });
        if (m.fd === 0) end.pipe(handle);
        else {
          handle.once('close', () => end.end());
          handle.pipe(end);
        }
      }
    } else if (m.op === 'spawned') {
      this.pid = m.pid;
      this.emit('spawn');
      for (const signal of this.signals.splice(0)) this.kill(signal);
    } else if (m.op === 'error') {
      this.exited = true;
      const err = Object.assign(new Error(m.error?.message ?? 'spawn failed'), m.error);
      this.stdout?.end();
      this.stderr?.end();
      this.emit('error', err);
    } else if (m.op === 'exit') {
      this.exited = true;
      this.exitCode = m.code ?? null;
      this.signalCode = m.signal ?? null;
      this.metered(m.user ?? 0, m.sys ?? 0);
      this.emit('exit', this.exitCode, this.signalCode);
      // As node does at a child's exit: output no one reads is let flow, so the end (and 'close') comes.
      for (const out of [this.stdout, this.stderr]) if (out !== null && out.listenerCount('data') === 0 && out.listenerCount('readable') === 0) out.resume();
      this.closed();
    }
  }

  private closed(): void {
    if (--this.open === 0) this.emit('close', this.exitCode, this.signalCode);
  }
}

let spawner: ChildProcess | undefined;
let nextId = 0;
const children = new Map<number, Child>();

function spawnerProcess(): ChildProcess {
  if (spawner !== undefined && spawner.connected) return spawner;
  const started = fork(PROCESS, [], {
    execArgv: [],
    env: { PATH: process.env['PATH'] },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  started.on('message', (m: Message, handle: Socket | undefined) => {
    const child = children.get(m.id);
    if (child === undefined) return;
    if (m.op === 'exit' || m.op === 'error') children.delete(m.id);
    child.received(m, handle);
    idle();
  });
  started.on('exit', () => {
    // Its children were killed with it: every one still running ends as killed.
    if (spawner === started) spawner = undefined;
    for (const [id, child] of children) {
      children.delete(id);
      child.received({ op: 'exit', id, code: null, signal: 'SIGKILL' }, undefined);
    }
  });
  if (started.pid !== undefined) meterLongLived(started.pid, 'spawner');
  spawner = started;
  idle();
  return started;
}

/** The spawner keeps this process alive only while a child it started runs (as a child of node's would). */
function idle(): void {
  const channel = spawner?.channel as { ref(): void; unref(): void } | null | undefined;
  if (children.size === 0) {
    spawner?.unref();
    channel?.unref();
  } else {
    spawner?.ref();
    channel?.ref();
  }
}

/**
 * `bash -c` whose stdin is a socket (the spawner's 'pipe' is a socket pair) and whose environment has no SHLVL (as
 * the suite's CLI environments have none) takes itself for a command run by sshd or rshd and first runs the
 * user's ~/.bashrc (bash's run_startup_files; Debian builds bash so): a test then depends on the machine's shell
 * set-up, and here paid ~0.7 CPU-s and 3-6 s a start for it (a pyenv init). A bash script file or --norc reads none.
 */
function refuseBashrc(file: string, args: readonly string[]): void {
  if (file.split('/').at(-1) === 'bash' && args.includes('-c') && !args.includes('--norc')) {
    throw new Error(`bash -c through the spawner reads the user's ~/.bashrc first: give it --norc (${args.join(' ').slice(0, 80)})`);
  }
}

/** Start `file` with `args`, as node's spawn() would (stdio as given; environment process.env by default). */
export function spawnChild(file: string, args: readonly string[], options: SpawnChildOptions = {}): SpawnedChild {
  refuseBashrc(file, args);
  const stdio = options.stdio ?? ['pipe', 'pipe', 'pipe'];
  const child = new Child(stdio, meterSpawned(file, args));
  const id = ++nextId;
  children.set(id, child);
  spawnerProcess().send({ op: 'spawn', id, file, args, cwd: options.cwd, env: options.env ?? process.env, stdio, detached: options.detached === true });
  idle();
  return child;
}

/** spawnChild, resolved once the child has started (its `pid` known); rejected when it could not start. */
export async function startChild(file: string, args: readonly string[], options: SpawnChildOptions = {}): Promise<SpawnedChild> {
  const child = spawnChild(file, args, options);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  return child;
}

export interface RunChildOptions extends Omit<SpawnChildOptions, 'stdio'> {
  /** Written to its stdin (nothing by default). */
  input?: string | Buffer;
  /** Killed (SIGTERM) after this many ms: the run then fails. */
  timeout?: number;
  /** At most this many bytes of stdout and of stderr kept (the run fails past it); 8 MiB by default. */
  maxBuffer?: number;
}

export interface ChildFailure extends Error {
  code?: number | string | null;
  signal?: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Run `file` to its end, like node's execFile: resolves with its output when it exits 0, rejects otherwise
 * (an error with `code` or `signal`, `stdout` and `stderr`, the message naming the command and its stderr).
 */
export function runChild(file: string, args: readonly string[], options: RunChildOptions = {}): Promise<{ stdout: Buffer; stderr: Buffer }> {
  const maxBuffer = options.maxBuffer ?? 8 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawnChild(file, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let sizes = [0, 0];
    let overflow = false;
    const collect = (into: Buffer[], i: 0 | 1) => (chunk: Buffer) => {
      sizes = i === 0 ? [(sizes[0] ?? 0) + chunk.length, sizes[1] ?? 0] : [sizes[0] ?? 0, (sizes[1] ?? 0) + chunk.length];
      if ((sizes[i] ?? 0) > maxBuffer) {
        overflow = true;
        child.kill('SIGTERM');
      } else into.push(chunk);
    };
    child.stdout?.on('data', collect(out, 0));
    child.stderr?.on('data', collect(err, 1));
    child.stdin?.end(options.input ?? '');
    const timer = options.timeout === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), options.timeout);
    const fail = (cause: Partial<ChildFailure> & { message?: string }) => {
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err);
      const why = overflow ? 'output past maxBuffer' : cause.message ?? stderr.toString().trim();
      reject(Object.assign(new Error(`Command failed: ${[file, ...args].join(' ')}\n${why}`), cause, { stdout, stderr }));
    };
    child.once('error', (e: Error & { code?: string }) => {
      clearTimeout(timer);
      fail({ code: e.code, message: e.message });
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (code === 0 && !overflow) resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      else fail({ code, signal });
    });
  });
}

/** runChild with the output as UTF-8 text. */
export async function runChildText(file: string, args: readonly string[], options: RunChildOptions = {}): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await runChild(file, args, options);
  return { stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') };
}

/**
 * The pid of a process that has exited and been reaped: no process holds it now (until the kernel hands it out
 * again, after every other free pid). `true` started through the spawner: a node process (`node -e 0`) cost ~70 ms
 * of CPU more, and a start by the worker itself its page faults (above).
 */
export async function deadPid(): Promise<number> {
  const child = spawnChild('true', [], { stdio: ['ignore', 'ignore', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve());
  });
  if (child.pid === undefined) throw new Error('deadPid: `true` did not start');
  return child.pid;
}

/**
 * Whether process `pid` still runs (Linux: /proc). One that has exited but is not yet reaped is a zombie: ended, for a
 * test that waits for it to be killed. An orphan (its parent, the CLI, gone) is reaped by init, here only every ~2 s:
 * kill(pid, 0) answered "running" until then.
 */
export function stillRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return !/^\d+ \(.*\) Z/.test(stat);
}
