import { closeSync, constants, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliBaseEnv } from '../support/cli.js';
import { runChild, spawnChild, type ChildFailure } from '../support/spawner.js';
import { stage } from '../support/stage.js';

/*
 * `packpub --version` (an install check in a CI script) with its standard output on a full disk (`> /dev/full`)
 * exited 0 with nothing written: its fast path (bin/packpub.js) took every write error for a reader that closed
 * the pipe. Now a write error other than a closed pipe is said, exit 1, as main() says a lost output.
 * The fast path writes with write(2) on fd 1, not through process.stdout (issue 16): a reader gone before it
 * writes is still no failure, and an output that would block (a full pipe left non-blocking) still gets the line.
 */

const env = stage();

/** `packpub --version` run by sh: `script` ends with the command, "$0" the node binary, "$1" packpub's bin, "$2" `arg`. */
async function version(script: string, arg = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return runChild('sh', ['-c', script, process.execPath, BIN, arg], { env: cliBaseEnv() }).then(
    (r) => ({ code: 0, stdout: r.stdout.toString(), stderr: r.stderr.toString() }),
    (err: ChildFailure) => ({ code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout.toString(), stderr: err.stderr.toString() }),
  );
}

/** A named pipe in a fresh temp folder. */
async function fifo(): Promise<string> {
  const path = join(await env.tempDir(), 'out');
  await runChild('mkfifo', [path]);
  return path;
}

describe('packpub --version whose output cannot be written', () => {
  it('> /dev/full: exit 1, the reason on stderr (was: exit 0)', async () => {
    const run = await version('exec "$0" "$1" --version > /dev/full');
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'error: cannot write to standard output: ENOSPC: no space left on device, write\n' });
  });

  it('written: exit 0, the version alone', async () => {
    const run = await version('exec "$0" "$1" --version');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
    expect(run.stderr).toBe('');
  });

  it('into a pipe whose reader has gone: exit 0, nothing said', async () => {
    // The pipe's only reader (fd 3, opened read-write so that opening the writer does not wait for one) is closed
    // before packpub starts: its write fails with EPIPE.
    const run = await version('exec 3<>"$2"; exec 4>"$2"; exec 3>&-; exec "$0" "$1" --version >&4', await fifo());
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('packpub --version into a full pipe that does not block', () => {
  it('waits until the reader takes it: exit 0, the line after what was there', async () => {
    // A module packpub's process loads first (node --require) leaves its standard output as a program before it
    // could: non-blocking (a pipe's process.stdout makes it so) and full. It tells on stderr when packpub's own
    // write meets the full pipe; only then does this test start reading.
    const dir = await env.tempDir();
    const path = await fifo();
    const preload = join(dir, 'full-pipe.cjs');
    await writeFile(
      preload,
      `'use strict';
const fs = require('node:fs');
process.stdout;
let filled = 0;
for (;;) {
  try {
    filled += fs.writeSync(1, Buffer.alloc(4096, 0x2e));
  } catch (err) {
    if (err.code === 'EAGAIN') break;
    throw err;
  }
}
const writeSync = fs.writeSync;
fs.writeSync = function (fd, ...rest) {
  try {
    return writeSync.call(this, fd, ...rest);
  } catch (err) {
    if (fd === 1 && err.code === 'EAGAIN') writeSync.call(this, 2, 'full after ' + filled + '\\n');
    throw err;
  }
};
`,
    );
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    let readerOwned = true;
    env.defer(() => readerOwned && closeSync(reader));
    const child = spawnChild('sh', ['-c', 'exec "$0" --require "$2" "$1" --version > "$3"', process.execPath, BIN, preload, path], {
      env: cliBaseEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const out: Buffer[] = [];
    const read = new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (!/^full after \d+\n$/.test(stderr)) return;
        readerOwned = false;
        const pipe = new Socket({ fd: reader, readable: true, writable: false });
        pipe.on('data', (c: Buffer) => out.push(c)).on('end', resolve).on('error', reject);
      });
    });
    const exit = new Promise<number | null>((resolve) => child.on('close', (code: number | null) => resolve(code)));
    const code = await exit;
    if (!readerOwned) await read;
    const filled = Number(/\d+/.exec(stderr)?.[0]);
    const text = Buffer.concat(out).toString();
    expect({ code, stderr }).toEqual({ code: 0, stderr: `full after ${filled}\n` });
    expect(filled).toBeGreaterThan(0);
    expect(text.slice(0, filled)).toBe('.'.repeat(filled));
    expect(text.slice(filled)).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });
});
