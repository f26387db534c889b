import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

/** A cache folder of this test process's own, so runs never share ~/.cache/packpub with the user. */
export const TEST_CACHE_DIR = join(tmpdir(), `packpub-test-cache-${process.pid}`);
process.on('exit', () => rmSync(TEST_CACHE_DIR, { recursive: true, force: true }));

/**
 * The environment every CLI run starts from (in-process or a child): PATH, HOME, the test cache and the suite's
 * TMPDIR when it has one (support/test-tmpdir.ts), nothing else.
 */
function baseEnv(): NodeJS.ProcessEnv {
  const tmp = process.env['TMPDIR'];
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], PACKPUB_CACHE_DIR: TEST_CACHE_DIR, ...(tmp === undefined ? {} : { TMPDIR: tmp }) };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdin?: string;
  /** Pretend stdout/stderr are terminals. */
  tty?: boolean;
}

function capture(tty: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (tty) stream.isTTY = true;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Run the CLI in-process, as a user would call it, capturing what it prints. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const out = capture(options.tty === true);
  const err = capture(options.tty === true);
  const io: CliIo = {
    stdout: out.stream,
    stderr: err.stream,
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: { ...baseEnv(), ...options.env },
    cwd: options.cwd ?? process.cwd(),
  };
  const code = await main(argv, io);
  return { code, stdout: out.text(), stderr: err.text() };
}

export const BIN = fileURLToPath(new URL('../../bin/packpub.js', import.meta.url));

export interface SpawnedCli {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Exit code (or -1 for a killed process, see `signal`) and all output. */
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/** How the built CLI is run as a child: RunOptions, and options for Node itself (`--cpu-prof`: one profile per JavaScript thread). */
export type BinOptions = Omit<RunOptions, 'tty'> & { nodeArgs?: string[] };

/** Start the built CLI (dist/, built by the suite's global setup) as a child process a test can signal. */
export function spawnCli(args: string[], options: BinOptions = {}): SpawnedCli {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...baseEnv(), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.end(options.stdin ?? '');
  const stdout = () => Buffer.concat(out).toString('utf8');
  const stderr = () => Buffer.concat(err).toString('utf8');
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout: stdout(), stderr: stderr() }));
  });
  return { child, stdout, stderr, done };
}

/** Run the built CLI as a child process to the end. */
export async function runBin(args: string[], options: BinOptions = {}): Promise<CliRun> {
  const { code, stdout, stderr } = await spawnCli(args, options).done;
  return { code, stdout, stderr };
}

/** What a user should read from a run: its exit code, and text each stream contains ('' for a stream that must stay empty). */
export interface ExpectedRun {
  code: number;
  stdout?: string[] | '';
  stderr?: string[] | '';
}

/** Check a run's exit code and output against `expected` (the failure message shows the run's stderr). */
export function expectRun(run: CliRun, expected: ExpectedRun): void {
  expect(run.code, run.stderr).toBe(expected.code);
  for (const stream of ['stdout', 'stderr'] as const) {
    const want = expected[stream];
    if (want === '') expect(run[stream]).toBe('');
    else for (const text of want ?? []) expect(run[stream]).toContain(text);
  }
}

/** Resolve once `check` holds (polled every 20 ms); reject after `timeoutMs` with `what` in the message. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
