import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, expectRun, runBin, spawnCli, waitFor, type CliRun } from '../support/cli.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { stage } from '../support/stage.js';

/*
 * The machine packpub runs on, misbehaving: a TMPDIR it cannot use, an output that cannot be written, a
 * report folder it cannot write into. Each run must end with an exit code that says what happened, one
 * clear line (never "this is a bug" or a stack trace), and the target holding exactly what was reported.
 */

const stack = stage();
const runCommand = promisify(execFile);

/** A fresh pack and an empty layout beside it. */
async function world(name: string): Promise<{ root: string; pack: string; layout: string; env: NodeJS.ProcessEnv }> {
  const root = await stack.tempDir('packpub-robust-env-');
  const pack = await writePack(join(root, 'pack'), { name, version: '1.0.0' });
  return { root, pack, layout: join(root, 'layout'), env: { PACKPUB_CACHE_DIR: join(root, 'cache') } };
}

async function tagsOf(layout: string): Promise<string[]> {
  const holdings = await layoutHoldings(layout);
  expect(holdings.problems).toEqual([]);
  return [...holdings.tags.keys()];
}

/** The built CLI with its stdout written into the file `stdoutPath` (e.g. /dev/full). */
function runWithStdout(args: string[], stdoutPath: string, env: NodeJS.ProcessEnv): Promise<CliRun> {
  const fd = openSync(stdoutPath, 'w');
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env }, stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  const err: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: '', stderr: Buffer.concat(err).toString('utf8') }));
  });
}

describe('a local environment packpub cannot use', () => {
  it('TMPDIR that is not a folder: exit 2 naming it, nothing published', async () => {
    const w = await world('robust-tmpdir');
    const notAFolder = join(w.root, 'tmp-file');
    await writeFile(notAFolder, 'a file, not a folder\n');
    const run = await runBin(['push', w.pack, '--oci-layout', w.layout], { env: { ...w.env, TMPDIR: notAFolder } });
    expectRun(run, { code: 2, stderr: [`cannot create packpub's work folder in ${notAFolder}`, 'hint: set TMPDIR'] });
    expect(run.stderr).not.toContain('bug in packpub');
    expect(await tagsOf(w.layout)).toEqual([]);
  });

  it('standard output on a full disk (--json > /dev/full): exit 1 saying the report was lost, the push itself stands', async () => {
    const w = await world('robust-full-stdout');
    const run = await runWithStdout(['push', w.pack, '--oci-layout', w.layout, '--json'], '/dev/full', w.env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('error: cannot write to standard output: ENOSPC');
    expect(stackLines(run.stderr)).toEqual([]);
    expect(run.stderr).not.toContain('bug in packpub');
    // What the lost report would have said is true: the pack was published.
    expect(await tagsOf(w.layout)).toEqual(['spectro-packs/archive/robust-full-stdout:1.0.0']);
  });

  it('--junit into a folder that exists but cannot be written: refused before anything is published', async () => {
    const w = await world('robust-junit');
    // /proc exists on every Linux and takes no new files, not even from root.
    const run = await runBin(['push', w.pack, '--oci-layout', w.layout, '--junit', '/proc/packpub-junit.xml'], { env: w.env });
    expectRun(run, { code: 2, stderr: ['--junit /proc/packpub-junit.xml: cannot write into folder /proc'] });
    expect(await tagsOf(w.layout)).toEqual([]);
  });
});

/** The built CLI, killed if it has not ended once `waitFor`'s bound passes (a hang fails the test, and leaves no process). */
async function runBounded(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const run = spawnCli(args, { env });
  let ended = false;
  const done = run.done.then((r) => {
    ended = true;
    return r;
  });
  try {
    await waitFor(() => ended, `packpub ${args[0]} to end`, 20_000);
  } finally {
    run.child.kill('SIGKILL');
  }
  return done;
}

describe('folders that cannot be made', () => {
  // mkdir in /proc answers ENOENT although /proc exists: Node's recursive mkdir then loops forever.
  it('--oci-layout under /proc: the push ends, exit 1 naming the error', async () => {
    const w = await world('robust-proc-layout');
    const run = await runBounded(['push', w.pack, '--oci-layout', '/proc/packpub-layout/x'], w.env);
    expectRun(run, { code: 1, stderr: ['FAILED robust-proc-layout:1.0.0', 'ENOENT'] });
  });

  it('TMPDIR under /proc: the push ends, exit 2 naming TMPDIR', async () => {
    const w = await world('robust-proc-tmp');
    const run = await runBounded(['push', w.pack, '--oci-layout', w.layout], { ...w.env, TMPDIR: '/proc/packpub-tmp' });
    expectRun(run, { code: 2, stderr: ["cannot create packpub's work folder in /proc/packpub-tmp"] });
    expect(await tagsOf(w.layout)).toEqual([]);
  });
});

describe('output paths that are not plain files', () => {
  it('build -o into a named pipe writes into the pipe (as into /dev/null or /dev/stdout), never replaces it', async () => {
    const w = await world('robust-fifo');
    const fifo = join(w.root, 'archive.fifo');
    await runCommand('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const read: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => read.push(c));
    const readerDone = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    try {
      const run = await runBin(['build', w.pack, '-o', fifo], { env: w.env });
      expect(run.code, run.stderr).toBe(0);
      expect((await lstat(fifo)).isFIFO()).toBe(true); // else the reader waits forever: fail now
      await readerDone;
    } finally {
      reader.kill();
    }
    const archive = Buffer.concat(read);
    expect(archive.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(archive).length % 512).toBe(0);
  });

  it('--junit through a symlink writes the file it points to and keeps the link', async () => {
    const w = await world('robust-junit-link');
    await mkdir(join(w.root, 'artifacts'));
    const real = join(w.root, 'artifacts', 'junit.xml');
    await writeFile(real, 'old\n');
    const link = join(w.root, 'junit.xml');
    await symlink(real, link);
    const run = await runBin(['push', w.pack, '--oci-layout', w.layout, '--junit', link], { env: w.env });
    expect(run.code, run.stderr).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toContain('<testsuites');
  });
});
