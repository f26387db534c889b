import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

/** A cache folder of this test process's own, so runs never share ~/.cache/packpub with the user. */
export const TEST_CACHE_DIR = join(tmpdir(), `packpub-test-cache-${process.pid}`);
process.on('exit', () => rmSync(TEST_CACHE_DIR, { recursive: true, force: true }));

function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], PACKPUB_CACHE_DIR: TEST_CACHE_DIR };
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

/** Run the built CLI as a child process (needs `npm run build`). */
export function runBin(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...baseEnv(), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.end(options.stdin ?? '');
  });
}
