import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BIN, cliBaseEnv, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { deadPid, runChild, type ChildFailure } from '../support/spawner.js';
import { stage } from '../support/stage.js';

/*
 * `build -o /dev/stdout | tar xz` (README: archive files are written into a pipe or device such as /dev/stdout):
 * the lines saying what was built were printed to standard output after the archive, so tar read "trailing
 * garbage" and the stream held more than the archive. Now the archive is all standard output holds, the lines
 * go to stderr, and --json (printed on standard output too) is refused with it. push and validate --junit /dev/stdout
 * mixed their lines (or --json report) with the XML: refused, exit 2, standard output empty.
 */

const stack = stage();

/** packpub with its standard output a pipe, as a shell's `| tar xz` makes it (the spawner's is a socket, which /dev/stdout cannot open). */
async function piped(args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const env = { ...cliBaseEnv(), SOURCE_DATE_EPOCH: '1700000000', ...extraEnv };
  return runChild('bash', ['--noprofile', '--norc', '-c', 'set -o pipefail; "$@" | cat', 'bash', process.execPath, BIN, ...args], { cwd, env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr.toString() }),
    (err: ChildFailure) => ({ code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout, stderr: err.stderr.toString() }),
  );
}

const build = (args: string[], cwd: string, env?: NodeJS.ProcessEnv) => piped(['build', ...args], cwd, env);

describe('build -o /dev/stdout', () => {
  it('standard output holds the archive, byte for byte the one -o FILE writes; the lines go to stderr', async () => {
    const root = await stack.tempDir('packpub-build-stdout-');
    const pack = await writePack(join(root, 'pack'), { name: 'to-stdout', version: '1.0.0' });
    const piped = await build([pack, '-o', '/dev/stdout'], root);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toContain('built /dev/stdout\n  reference  oci:oci-packs/spectro-packs/archive/to-stdout:1.0.0\n');
    // The same build into a file, in-process (a process less: the archive does not depend on where it runs).
    const file = await runCli(['build', pack, '-o', join(root, 'archive.tar.gz')], { cwd: root, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(file.code, file.stderr).toBe(0);
    expect(file.stdout).toContain(`built ${join(root, 'archive.tar.gz')}`);
    expect(piped.stdout.equals(await readFile(join(root, 'archive.tar.gz')))).toBe(true);
    expect(gunzipSync(piped.stdout).subarray(0, 'to-stdout-1.0.0/'.length).toString()).toBe('to-stdout-1.0.0/');
    // `-o -`, as tar and curl read it (was: a file named "-" and the lines on standard output, exit 0).
    const dash = await build([pack, '-o', '-'], root);
    expect(dash.code, dash.stderr).toBe(0);
    expect(dash.stderr).toContain('built /dev/stdout\n');
    expect(dash.stdout.equals(piped.stdout)).toBe(true);
    // `--output -` too (was: "Unknown argument: -", exit 2: the parser takes a lone - after a long flag for a positional).
    const long = await build([pack, '--output', '-'], root);
    expect(long.code, long.stderr).toBe(0);
    expect(long.stdout.equals(piped.stdout)).toBe(true);
    expect(await readdir(root)).not.toContain('-');
  });

  it('-o - on a terminal: exit 2 before anything is built (was: the gzip stream written to the terminal, exit 0)', async () => {
    const root = await stack.tempDir('packpub-build-stdout-');
    const pack = await writePack(join(root, 'pack'), { name: 'to-stdout', version: '1.0.0' });
    // The built CLI on a pseudo-terminal (util-linux `script`): what the terminal shows, and the exit code.
    const shown = await runChild('script', ['-qec', `'${process.execPath}' '${BIN}' build '${pack}' -o -`, '/dev/null'], { cwd: root, env: cliBaseEnv() }).then(
      (r) => ({ code: 0, bytes: r.stdout }),
      (err: ChildFailure) => ({ code: typeof err.code === 'number' ? err.code : -1, bytes: err.stdout }),
    );
    expect(shown.code).toBe(2);
    expect(shown.bytes.toString('utf8')).toContain('error: -o - would write the archive to the terminal');
    expect(shown.bytes.includes(Buffer.from([0x1f, 0x8b]))).toBe(false); // no gzip header reached the terminal
    expect(await readdir(root)).toEqual(['pack']);
  });

  it('with --json: exit 2 before anything is built, standard output empty', async () => {
    const root = await stack.tempDir('packpub-build-stdout-');
    const pack = await writePack(join(root, 'pack'), { name: 'to-stdout', version: '1.0.0' });
    const run = await build([pack, '-o', '/dev/stdout', '--json'], root);
    expect(run).toMatchObject({ code: 2, stderr: 'error: -o /dev/stdout and --json both write to standard output\nhint: write the archive to a file with -o, or leave --json out\n' });
    expect(run.stdout.length).toBe(0);
  });
});

describe('build -o /dev/stdout with a temp folder it cannot use', () => {
  it('TMPDIR a file: exit 2 naming TMPDIR, standard output empty (was: "a bug in packpub", the removal of the temp file hiding why)', async () => {
    const root = await stack.tempDir('packpub-build-stdout-');
    const pack = await writePack(join(root, 'pack'), { name: 'to-stdout', version: '1.0.0' });
    const notAFolder = join(root, 'tmp-file');
    await writeFile(notAFolder, 'a file\n');
    const run = await build([pack, '-o', '/dev/stdout'], root, { TMPDIR: notAFolder });
    expect(run).toMatchObject({
      code: 2,
      stderr: `error: cannot make the temp file an archive for /dev/stdout is written through, in ${notAFolder} (the temp folder, TMPDIR): ENOTDIR\nhint: set TMPDIR to a writable folder with room for the archive, or give -o a file\n`,
    });
    expect(run.stdout.length).toBe(0);
    expect(await readFile(notAFolder, 'utf8')).toBe('a file\n');
  });
});

describe('build -o /dev/stdout after a build killed while it wrote', () => {
  it('the temp file that build left in TMPDIR is removed once its run is gone and it is ten minutes old (was: kept for good)', async () => {
    const root = await stack.tempDir('packpub-build-stdout-');
    const pack = await writePack(join(root, 'pack'), { name: 'to-stdout', version: '1.0.0' });
    const tmp = join(root, 'tmp');
    await mkdir(tmp);
    const dead = await deadPid();
    const left = { old: `packpub-archive.tmp-${dead}-0123abcd`, recent: `packpub-archive.tmp-${dead}-fedcba98` };
    for (const name of Object.values(left)) await writeFile(join(tmp, name), 'half an archive');
    const old = new Date(Date.now() - 11 * 60_000);
    await utimes(join(tmp, left.old), old, old);
    const run = await build([pack, '-o', '/dev/stdout'], root, { TMPDIR: tmp });
    expect(run.code, run.stderr).toBe(0);
    expect(gunzipSync(run.stdout).length).toBeGreaterThan(0);
    expect(await readdir(tmp)).toEqual([left.recent]);
  });
});

describe('push and validate --junit /dev/stdout into a pipe', () => {
  it.each([
    ['push', []],
    ['validate', ['--json']],
  ] as const)('%s %j: exit 2 naming it, standard output empty, nothing published', async (command, more) => {
    const root = await stack.tempDir('packpub-junit-stdout-');
    const pack = await writePack(join(root, 'pack'), { name: 'junit-stdout', version: '1.0.0' });
    const layout = join(root, 'layout');
    const run = await piped([command, pack, ...(command === 'push' ? ['--oci-layout', layout] : []), ...more, '--junit', '/dev/stdout'], root);
    // Was: exit 0, the run's lines (or its JSON report) and the XML in one stream.
    expect(run).toMatchObject({
      code: 2,
      stderr: "error: --junit /dev/stdout is standard output, which carries the run's own lines (or its --json report) too\nhint: give --junit a file (e.g. reports/junit.xml) and read it from there\n",
    });
    expect(run.stdout.toString()).toBe('');
    expect(await readdir(root)).toEqual(['pack']);
  });
  it('-o - into a reader that stops after 5 bytes: exit 1, said as such (was: "EPIPE: broken pipe, write ... a bug in packpub")', async () => {
    const root = await stack.tempDir('packpub-build-stdout-');
    // 1 MiB that does not compress: more than a pipe buffers (64 KiB), so the write meets the closed pipe.
    const pack = await writePack(join(root, 'pack'), { name: 'to-stdout', version: '1.0.0', files: { 'data.bin': randomBytes(1 << 20) } });
    const env = { ...cliBaseEnv(), SOURCE_DATE_EPOCH: '1700000000' };
    const run = await runChild('bash', ['--noprofile', '--norc', '-c', 'set -o pipefail; "$@" | head -c 5 > /dev/null', 'bash', process.execPath, BIN, 'build', pack, '-o', '-'], { cwd: root, env }).then(
      () => ({ code: 0, stderr: '' }),
      (err: ChildFailure) => ({ code: typeof err.code === 'number' ? err.code : -1, stderr: err.stderr.toString() }),
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('error: standard output was closed before the whole archive was written: the program reading it stopped reading\n');
    expect(run.stderr).not.toContain('bug in packpub');
    expect(run.stderr).not.toContain('built /dev/stdout');
    expect(await readdir(root)).toEqual(['pack']);
  });
});
