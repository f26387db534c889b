import { chmod, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectLocalWriteRefused, expectRun, runBin, runCli, type CliRun } from '../support/cli.js';
import { sharedRegistry } from '../support/registry.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { writePack } from '../support/packs.js';
import { stage } from '../support/stage.js';

/*
 * A folder this user may not write into (a step run as root left it, a checkout mounted read-only): the
 * machine refuses the write (EACCES). Every write target: exit 1, LOCAL_WRITE naming what was being written and
 * how to get out, never "a bug in packpub" (INTERNAL), and the folder holding what it held. The tests run as
 * root, as CI does: the CLI runs as root without the capabilities that let it write anywhere (modesBind).
 */

const stack = stage();

/** The built CLI as a user who may not write into a folder of mode 0555. */
function runBinDenied(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliRun> {
  return runBin(args, { env, cwd, modesBind: true });
}

async function world(name: string): Promise<{ root: string; pack: string; denied: string; env: NodeJS.ProcessEnv }> {
  const root = await stack.tempDir('packpub-eacces-');
  const pack = await writePack(join(root, 'pack'), { name, version: '1.0.0' });
  const denied = join(root, 'denied');
  await mkdir(denied);
  await chmod(denied, 0o555);
  return { root, pack, denied, env: { PACKPUB_CACHE_DIR: join(root, 'cache'), TMPDIR: root } };
}

/** world(name) with its pack pushed (as this user may) to an OCI layout of its own, `published`. */
async function publishedWorld(name: string): Promise<Awaited<ReturnType<typeof world>> & { published: string }> {
  const w = await world(name);
  const published = join(w.root, 'published');
  const pushed = await runCli(['push', w.pack, '--oci-layout', published], { env: w.env });
  expect(pushed.code, pushed.stderr).toBe(0);
  return { ...w, published };
}

function expectDenied(run: CliRun, path: string): void {
  expectLocalWriteRefused(run, path, 'permission denied (EACCES)', 'write to a folder this user may write to');
}

describe('a folder this user may not write into (EACCES)', () => {
  it('push --oci-layout into it: exit 1, LOCAL_WRITE naming the layout, nothing written', async () => {
    const w = await world('eacces-push');
    const layout = join(w.denied, 'layout');
    const run = await runBinDenied(['push', w.pack, '--oci-layout', layout, '--json'], w.env, w.root);
    expectDenied(run, layout);
    const result = (JSON.parse(run.stdout) as { results: Array<{ status: string; error?: { code: string } }> }).results[0];
    expect(result).toMatchObject({ status: 'failed', error: { code: 'LOCAL_WRITE' } });
    expect(await readdir(w.denied)).toEqual([]);
  });

  it('copy --to oci: into it: exit 1, every version failed LOCAL_WRITE', async () => {
    const w = await publishedWorld('eacces-copy');
    const layout = join(w.denied, 'layout');
    const run = await runBinDenied(['copy', '--all', '--from', `oci:${w.published}`, '--to', `oci:${layout}`, '--json'], w.env, w.root);
    expectDenied(run, layout);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: Array<{ status: string; error?: { code: string } }> };
    expect(report.ok).toBe(false);
    expect(report.results).toEqual([expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'LOCAL_WRITE' }) })]);
    expect(await readdir(w.denied)).toEqual([]);
  });

  it('pull -o into it and build -o into it: exit 1 naming the folder or file asked for', async () => {
    const w = await publishedWorld('eacces-out');
    expect([...(await layoutHoldings(w.published)).tags.keys()]).toEqual(['spectro-packs/archive/eacces-out:1.0.0']);
    const pulled = join(w.denied, 'pulled');
    const pull = await runBinDenied(['pull', `oci:${w.published}/spectro-packs/archive/eacces-out:1.0.0`, '-o', pulled], w.env, w.root);
    expectDenied(pull, pulled);
    const archive = join(w.denied, 'pack.tar.gz');
    const build = await runBinDenied(['build', w.pack, '-o', archive], w.env, w.root);
    expectDenied(build, archive);
    expect(await readdir(w.denied)).toEqual([]);
  });
});

describe('login whose Docker config folder this user may not create (HOME of another user)', () => {
  it('exit 1 naming the config file and what to do, never "a bug in packpub"; nothing written', async () => {
    const w = await world('eacces-login');
    const registry = await sharedRegistry();
    const config = join(w.denied, '.docker', 'config.json');
    const run = await runBin(['login', registry.host, '-u', 'ci', '--password-stdin'], { env: { ...w.env, DOCKER_CONFIG: dirname(config) }, cwd: w.root, stdin: 'login-denied-secret', modesBind: true });
    expectRun(run, { code: 1, stdout: '', stderr: [`error: cannot write docker config ${config}: EACCES`, 'hint: check that the directory is writable, or point --registry-config at another file'] });
    expect(run.stderr).not.toContain('bug in packpub');
    expect(await readdir(w.denied)).toEqual([]);
  });
});
