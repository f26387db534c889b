import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../src/pack/validate.js';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, packJsonWith, writeValidPack } from '../support/packs.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Run the CLI in-process, as a user's shell in `cwd` would. */
const run = (argv: string[], cwd = REPO) => runCli(argv, { env: { NO_COLOR: '1' }, cwd });

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'packpub-e2e-validate-'));
  // broken: an error; warned: only a warning (no README.md).
  await mkdir(join(work, 'broken'));
  await writeValidPack(join(work, 'broken'));
  await putFile(join(work, 'broken'), 'pack.json', packJsonWith((j) => (j['layer'] = 'addons')));
  await mkdir(join(work, 'warned'));
  await writeValidPack(join(work, 'warned'));
  await rm(join(work, 'warned', 'README.md'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('packpub validate', () => {
  it('passes both examples with exit 0 and says so per pack', async () => {
    const r = await run(['validate', '--strict', 'examples/hello-manifests', 'examples/hello-helm']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('examples/hello-manifests: hello-manifests:1.0.0 OK\n');
    expect(r.stdout).toContain('examples/hello-helm: hello-helm:1.0.0 OK\n');
    expect(r.stdout).toContain('2 packs checked: 2 passed, 0 failed (0 errors, 0 warnings)');
    expect(r.stderr).toBe('');
  });

  it('fails a broken pack with exit 1, printing the finding with file, line, column and JSON path', async () => {
    const r = await run(['validate', 'broken', 'warned'], work);
    expectRun(r, {
      code: 1,
      stdout: [
        'broken: web:1.0.0 FAILED\n',
        '  error   pack.json:17:12 layer: must be one of kernel, os, k8s, cni, csi, addon (found "addons")\n',
        'warned: web:1.0.0 OK\n',
        '  warning README.md: missing; add one',
      ],
    });
    expect(r.stdout).toMatch(/2 packs checked: 1 passed, 1 failed \(\d+ errors?, \d+ warnings?\)/);
  });

  it('fails a pack whose chart archive has damaged deflate data (it once printed nothing and exited 0)', async () => {
    await mkdir(join(work, 'damaged'));
    await writeValidPack(join(work, 'damaged'));
    const archive = await tgz(CHART_FILES);
    // The first deflate block header after gzip's 10-byte header: final block of the reserved type 3.
    archive[10] = 0x07;
    await putFile(join(work, 'damaged'), 'charts/web-1.0.0.tgz', archive);
    const r = await run(['validate', 'damaged'], work);
    expectRun(r, {
      code: 1,
      stdout: ['damaged: web:1.0.0 FAILED\n', "  error   charts/web-1.0.0.tgz: not a gzip'd tar archive (invalid block type)"],
    });
  });

  it('lets warnings pass by default and fail with --strict', async () => {
    expect((await run(['validate', 'warned'], work)).code).toBe(0);
    const strict = await run(['validate', '--strict', 'warned'], work);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('warned: web:1.0.0 FAILED\n');
    expect(strict.stdout).toContain('warnings fail with --strict');
  });

  it('prints one JSON array of reports with --json', async () => {
    const r = await run(['validate', '--json', 'broken', 'warned'], work);
    expect(r.code).toBe(1);
    const reports = JSON.parse(r.stdout) as ValidationReport[];
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ dir: join(work, 'broken'), pack: { name: 'web', version: '1.0.0' }, passed: false });
    expect(reports[0]!.errors).toBeGreaterThan(0);
    expect(reports[0]!.findings).toContainEqual(
      expect.objectContaining({ severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'layer', line: 17, column: 12 }),
    );
    expect(reports[1]).toMatchObject({ errors: 0, warnings: 1, passed: true });
  });

  it('exits 2 for a folder that does not exist, before checking any pack', async () => {
    const r = await run(['validate', 'warned', 'no-such-pack'], work);
    expectRun(r, { code: 2, stdout: '', stderr: ['error: pack folder "no-such-pack" does not exist', 'hint: give the path of a pack folder'] });
  });

  // The folders are checked by one stat each (it follows links as the validator's realpath does, issue 16).
  it('exits 2 for a folder that is a symlink loop, and validates a pack through a folder link', async () => {
    await symlink('loop-b', join(work, 'loop-a'));
    await symlink('loop-a', join(work, 'loop-b'));
    await symlink('warned', join(work, 'linked'));
    const loop = await run(['validate', 'warned', 'loop-a'], work);
    expectRun(loop, { code: 2, stdout: '', stderr: ['error: pack folder "loop-a" is a symlink loop', 'hint: point the symlink at the pack folder'] });
    const linked = await run(['validate', 'linked', '--json'], work);
    expect(linked.code).toBe(0);
    const reports = JSON.parse(linked.stdout) as ValidationReport[];
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ dir: join(work, 'warned'), errors: 0, warnings: 1, passed: true });
  });

  it('exits 2 for a file given instead of a pack folder, and without any folder', async () => {
    const file = await run(['validate', 'warned/pack.json'], work);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('"warned/pack.json" is not a folder');
    const none = await run(['validate'], work);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('error: packpub validate needs <pack-dir...>\nhint: usage: packpub validate <pack-dir...> (packpub validate --help)\n');
  });

  it('prints its help with --help (exit 0), and a failing run prints its error, not the help', async () => {
    // In-process: yargs hands the help to main()'s parse callback, which writes it to the run's stdout, so a
    // help printed any other way (console.log) would be missing here.
    const help = await run(['validate', '--help'], work);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('packpub validate <pack-dir...>');
    expect(help.stdout).toContain('--strict');
    const failed = await run(['validate', 'missing-folder'], work);
    expect(failed.code).toBe(2);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).not.toContain('--strict');
    expect(failed.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('loads only its own command (start-up) and still names the flag meant by a mistyped one', async () => {
    const typo = await run(['validate', 'warned', '--strikt'], work);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toMatch(/^error: unknown flag --strikt: did you mean --strict\?\n/);
    expect(typo.stderr).toContain('packpub validate --help');
  });
});
