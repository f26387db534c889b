import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, expectLocalWriteRefused, expectRun, runCli, spawnCli, waitFor, type CliRun } from '../support/cli.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { stage } from '../support/stage.js';
import { runChildText, spawnChild } from '../support/spawner.js';
import { makeFifo } from '../support/files.js';

/*
 * The machine packpub runs on, misbehaving: a TMPDIR it cannot use, an output that cannot be written, a
 * report folder it cannot write into. Each run must end with an exit code that says what happened, one
 * clear line (never "this is a bug" or a stack trace), and the target holding exactly what was reported.
 * A run whose subject is the process (its stdout a file descriptor; a process that must end) is a process of
 * the built CLI; the others run the same CLI code in-process (runCli), a TMPDIR given for the run alone
 * (os.tmpdir() reads it as a process's does).
 */

const stack = stage();

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
  it('TMPDIR that is not a folder: packs built in memory publish (exit 0); one whose archive may pass 1 MiB is refused, exit 2 naming TMPDIR, nothing published', async () => {
    const w = await world('robust-tmpdir');
    const notAFolder = join(w.root, 'tmp-file');
    await writeFile(notAFolder, 'a file, not a folder\n');
    // Was: exit 2 for any pack, though an archive within 1 MiB is kept in memory from its build to its upload.
    const small = await runCli(['push', w.pack, '--oci-layout', w.layout], { env: w.env, tmpdir: notAFolder });
    expectRun(small, { code: 0, stdout: ['published robust-tmpdir:1.0.0'] });
    expect(small.stderr).toBe('');
    expect(await tagsOf(w.layout)).toEqual(['spectro-packs/archive/robust-tmpdir:1.0.0']);

    // 1.5 MiB that does not compress: the archive goes through a file in the work folder.
    const big = await writePack(join(w.root, 'big'), { name: 'robust-tmpdir-big', version: '1.0.0', files: { 'charts/blob.bin': randomBytes(1536 * 1024) } });
    const other = await writePack(join(w.root, 'other'), { name: 'robust-tmpdir-other', version: '1.0.0' });
    const layout = join(w.root, 'layout-big');
    const refused = await runCli(['push', other, big, '--oci-layout', layout], { env: w.env, tmpdir: notAFolder });
    expectRun(refused, {
      code: 2,
      stderr: [
        `cannot create packpub's work folder in ${notAFolder} (the temp folder, TMPDIR): `,
        `${big} (robust-tmpdir-big:1.0.0) needs it: its archive is larger than the 1 MiB push keeps in memory`,
        'hint: set TMPDIR to a writable folder',
        'nothing was published',
      ],
    });
    expect(refused.stderr).not.toContain('bug in packpub');
    expect(existsSync(layout)).toBe(false);

    // 1,100 small files: a tar of 1.08 MiB (a header and a block of data a file), 15 KiB once compressed: past 1 MiB
    // before compression whatever push's bound allows for, so measured, kept in memory, published.
    const files = Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`manifests/m${i}.yaml`, `kind: ConfigMap\nmetadata:\n  name: m${i}\n`]));
    const many = await writePack(join(w.root, 'many'), { name: 'robust-tmpdir-many', version: '1.0.0', files });
    const measured = await runCli(['push', many, '--oci-layout', w.layout], { env: w.env, tmpdir: notAFolder });
    expectRun(measured, { code: 0, stdout: ['published robust-tmpdir-many:1.0.0'] });
    expect(await tagsOf(w.layout)).toContain('spectro-packs/archive/robust-tmpdir-many:1.0.0');

    // The same run with a usable temp folder publishes both.
    const ok = await runCli(['push', other, big, '--oci-layout', layout], { env: w.env, tmpdir: await stack.tempDir('packpub-robust-tmp-') });
    expect(ok.code, ok.stderr).toBe(0);
    expect((await tagsOf(layout)).sort()).toEqual(['spectro-packs/archive/robust-tmpdir-big:1.0.0', 'spectro-packs/archive/robust-tmpdir-other:1.0.0']);
  });

  it("an embedded run's TMPDIR (io.env, a library caller's env) is where push builds, not the process's", async () => {
    const w = await world('robust-env-tmpdir');
    const big = await writePack(join(w.root, 'big'), { name: 'robust-env-tmpdir-big', version: '1.0.0', files: { 'charts/blob.bin': randomBytes(1536 * 1024) } });
    const own = join(w.root, 'own-tmp');
    await mkdir(own);
    // Was: the process's temp folder, whatever the run's environment said.
    const run = await runCli(['push', big, '--oci-layout', w.layout], { env: { ...w.env, TMPDIR: own } });
    expectRun(run, { code: 0, stdout: ['published robust-env-tmpdir-big:1.0.0'] });
    expect(await readdir(own)).toEqual(['packpub-work']);
    expect(await readdir(join(own, 'packpub-work'))).toEqual([]); // the run's own folder removed
    const notAFolder = join(w.root, 'tmp-file');
    await writeFile(notAFolder, 'a file\n');
    const refused = await runCli(['push', big, '--oci-layout', join(w.root, 'layout-2')], { env: { ...w.env, TMPDIR: notAFolder } });
    expectRun(refused, { code: 2, stderr: [`cannot create packpub's work folder in ${notAFolder} (the temp folder, TMPDIR)`] });
  });

  it('standard output on a full disk (--json > /dev/full): exit 1 saying the report was lost, the push itself stands', async () => {
    const w = await world('robust-full-stdout');
    const run = await runWithStdout(['push', w.pack, '--oci-layout', w.layout, '--json'], '/dev/full', w.env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('error: cannot write to standard output: ENOSPC');
    expect(stackLines(run.stderr)).toEqual([]);
    expect(run.stderr).not.toContain('bug in packpub');
    expect(run.stderr).toContain('(a re-run reports what is already published as unchanged)');
    // What the lost report would have said is true: the pack was published.
    expect(await tagsOf(w.layout)).toEqual(['spectro-packs/archive/robust-full-stdout:1.0.0']);
    // A command that publishes nothing is not told about a re-run's "unchanged" (it was).
    const list = await runWithStdout(['list', '--oci-layout', w.layout], '/dev/full', w.env);
    expect(list).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: cannot write to standard output: ENOSPC: no space left on device, write (what it should have shown of this run is lost)\n' +
        'hint: free space where standard output goes, or send it elsewhere, then run again\n',
    });
  });

  it('--junit into a folder that exists but cannot be written: refused before anything is published', async () => {
    const w = await world('robust-junit');
    // /proc exists on every Linux and takes no new files, not even from root.
    const run = await runCli(['push', w.pack, '--oci-layout', w.layout, '--junit', '/proc/packpub-junit.xml'], { env: w.env });
    expectRun(run, { code: 2, stderr: ['--junit /proc/packpub-junit.xml: cannot write into folder /proc'] });
    expect(await tagsOf(w.layout)).toEqual([]);
  });
});

/** The CLI in-process, failing the test if it has not ended once `waitFor`'s bound passes (Node's mkdir loop runs on libuv's threads, not this one's). */
async function runCliBounded(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  let ended = false;
  const run = runCli(args, { env }).finally(() => (ended = true));
  await waitFor(() => ended, `packpub ${args[0]} to end`, 20_000);
  return run;
}

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
    const run = await runCliBounded(['push', w.pack, '--oci-layout', '/proc/packpub-layout/x'], w.env);
    expectRun(run, { code: 1, stderr: ['FAILED robust-proc-layout:1.0.0', 'ENOENT'] });
  });

  it('TMPDIR under /proc: the push ends; a pack built in memory needs no temp folder, exit 0', async () => {
    const w = await world('robust-proc-tmp');
    const run = await runBounded(['push', w.pack, '--oci-layout', w.layout], { ...w.env, TMPDIR: '/proc/packpub-tmp' });
    expectRun(run, { code: 0, stdout: ['published robust-proc-tmp:1.0.0'] });
    expect(await tagsOf(w.layout)).toEqual(['spectro-packs/archive/robust-proc-tmp:1.0.0']);
  });

  it('the cache folder under /proc: the push publishes and the process ends, exit 0', async () => {
    // Before: bin's code cache made its folder with Node's recursive mkdir after the run: the process never ended.
    const w = await world('robust-proc-cache');
    const run = await runBounded(['push', w.pack, '--oci-layout', w.layout], { PACKPUB_CACHE_DIR: '/proc/packpub-cache' });
    expectRun(run, { code: 0, stdout: ['published robust-proc-cache:1.0.0'] });
    expect(await tagsOf(w.layout)).toEqual(['spectro-packs/archive/robust-proc-cache:1.0.0']);
  });

  it('init into /proc or through a file: exit 2 naming the folder, never "a bug" (before: hung, or "a bug in packpub")', async () => {
    const w = await world('robust-proc-init');
    const underProc = await runCliBounded(['init', '/proc/packpub-init/p', '--name', 'p', '--version', '1.0.0'], w.env);
    expectRun(underProc, { code: 2, stderr: ['cannot create the pack folder /proc/packpub-init/p: ENOENT', 'hint: give a folder you can create and write to'] });
    expect(underProc.stderr).not.toContain('bug');
    await writeFile(join(w.root, 'file'), 'x');
    const throughFile = await runCliBounded(['init', join(w.root, 'file', 'p'), '--name', 'p', '--version', '1.0.0'], w.env);
    expectRun(throughFile, { code: 2, stderr: [`cannot create the pack folder ${join(w.root, 'file', 'p')}: a part of its path is a file, not a folder`] });
    expect(throughFile.stderr).not.toContain('bug');
    expect(await readFile(join(w.root, 'file'), 'utf8')).toBe('x');
  });
});

describe('output paths that are not plain files', () => {
  it('build -o into a named pipe writes into the pipe (as into /dev/null or /dev/stdout), never replaces it', async () => {
    const w = await world('robust-fifo');
    const fifo = join(w.root, 'archive.fifo');
    await makeFifo(fifo);
    const reader = spawnChild('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const read: Buffer[] = [];
    reader.stdout?.on('data', (c: Buffer) => read.push(c));
    const readerDone = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    try {
      const run = await runCli(['build', w.pack, '-o', fifo], { env: w.env });
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
    const run = await runCli(['push', w.pack, '--oci-layout', w.layout, '--junit', link], { env: w.env });
    expect(run.code, run.stderr).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toContain('<testsuites');
  });
});

describe('a local disk that fills up (a 1 MiB tmpfs)', () => {
  /** A folder on its own 1 MiB tmpfs, unmounted (then removed) when the file's tests end. */
  async function tinyDisk(root: string): Promise<string> {
    const dir = join(root, 'disk');
    await mkdir(dir);
    await runChildText('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    stack.defer(() => runChildText('umount', [dir]));
    return dir;
  }

  /** A valid pack holding 1.5 MB that does not compress: its archive cannot fit on the tiny disk. */
  async function bigWorld(name: string): Promise<{ root: string; pack: string; layout: string; env: NodeJS.ProcessEnv; disk: string }> {
    const w = await world(name);
    await writeFile(join(w.pack, 'blob.bin'), randomBytes(1_500_000));
    return { ...w, disk: await tinyDisk(w.root) };
  }

  /** Every file and folder under `dir`, relative to it. */
  async function filesUnder(dir: string): Promise<string[]> {
    return (await readdir(dir, { recursive: true })).map(String).sort();
  }

  function expectLocalWrite(run: CliRun, path: string): void {
    expectLocalWriteRefused(run, path, 'no space left on the device (ENOSPC)', 'free space on that filesystem');
  }

  it('--oci-layout on a full disk: exit 1, LOCAL_WRITE naming the blob, no tag and no partial file', async () => {
    const w = await bigWorld('robust-full-layout');
    const layout = join(w.disk, 'layout');
    const run = await runCli(['push', w.pack, '--oci-layout', layout, '--json'], { env: w.env });
    expectLocalWrite(run, join(layout, 'spectro-packs/archive/robust-full-layout/blobs/sha256/'));
    const result = (JSON.parse(run.stdout) as { results: Array<{ status: string; error?: { code: string; message: string } }> }).results[0];
    expect(result?.status).toBe('failed');
    expect(result?.error?.code).toBe('LOCAL_WRITE');
    expect(result?.error?.message).toContain('ENOSPC');
    const files = await filesUnder(layout);
    expect(files.filter((f) => f.includes('.tmp-') || f.endsWith('index.json'))).toEqual([]);
  });

  it('TMPDIR on a full disk: exit 1, LOCAL_WRITE naming the archive being built, nothing published or left', async () => {
    const w = await bigWorld('robust-full-tmp');
    const run = await runCli(['push', w.pack, '--oci-layout', w.layout, '--json'], { env: w.env, tmpdir: w.disk });
    expectLocalWrite(run, join(w.disk, 'packpub-work'));
    const result = (JSON.parse(run.stdout) as { results: Array<{ error?: { code: string } }> }).results[0];
    expect(result?.error?.code).toBe('LOCAL_WRITE');
    expect(await filesUnder(w.disk)).toEqual(['packpub-work']);
    await expect(lstat(join(w.layout, 'spectro-packs/archive/robust-full-tmp/index.json'))).rejects.toThrow('ENOENT');
  });

  it('build -o on a full disk: exit 1 naming the output file, which is not created', async () => {
    const w = await bigWorld('robust-full-build');
    const out = join(w.disk, 'pack.tar.gz');
    const run = await runCli(['build', w.pack, '-o', out], { env: w.env });
    expectLocalWrite(run, out);
    expect(await filesUnder(w.disk)).toEqual([]);
  });

  it('pull -o on a full disk: exit 1 naming the folder asked for, which is not created', async () => {
    const w = await bigWorld('robust-full-pull');
    const pushed = await runCli(['push', w.pack, '--oci-layout', w.layout], { env: w.env });
    expect(pushed.code, pushed.stderr).toBe(0);
    const out = join(w.disk, 'out', 'pulled');
    const run = await runCli(['pull', `oci:${w.layout}/spectro-packs/archive/robust-full-pull:1.0.0`, '-o', out], { env: w.env });
    expectLocalWrite(run, out);
    // Nor the folder above it that the pull made (bf0a711: a pull that does not place the pack takes it back).
    expect(await filesUnder(w.disk)).toEqual([]);
  });
});
