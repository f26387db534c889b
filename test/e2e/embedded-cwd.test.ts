import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { startHarborStandin } from '../support/harbor-standin.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * main() embedded by a program whose working directory is not the one it gives packpub (`io.cwd`): every path
 * the user gives (pack folders, --oci-layout and the default ./oci-packs, `oci:` references, --config,
 * --output, --registry-config, --ca-file, --cert-file/--key-file, --palette-ca-file) is read relative to
 * io.cwd, never to the process's folder. The process runs in a folder of its own (`elsewhere`) for the file,
 * so a path resolved against it lands there, where the tests look for it not to be. The same holds for the
 * paths io.env names (DOCKER_CONFIG, PACKPUB_CACHE_DIR, HOME, GITHUB_STEP_SUMMARY; a relative XDG_CACHE_HOME is ignored).
 */

const ROBOT = 'robot$emb+ci';
const w = setup(async (stack) => ({
  here: await stack.tempDir('packpub-embed-here-'),
  elsewhere: await stack.tempDir('packpub-embed-proc-'),
  harbor: stack.add(await startHarborStandin({ users: { [ROBOT]: 'emb-robot-secret-77' }, projects: ['emb'] })),
}));
let before = '';
beforeAll(async () => {
  await writePack(join(w.here, 'packs/a'), { name: 'emb-a', version: '1.0.0' });
  before = process.cwd();
  process.chdir(w.elsewhere);
});
afterAll(() => process.chdir(before));

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => runCli(argv[0] === 'push' ? [...argv, '--no-cache'] : argv, { cwd: w.here, env });
function expectOk(r: CliRun): void {
  expect(r.code, r.stderr).toBe(0);
  expect(stackLines(r.stderr)).toEqual([]);
}
/** The tags of emb-a in the layout at `root` (a folder under io.cwd). */
async function tagsIn(root: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(w.here, root, 'spectro-packs/archive/emb-a/index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '').sort();
}
/** What the process's own folder holds (nothing a run should have written there). */
const strays = () => readdir(w.elsewhere);

describe('an embedded main() reads every path relative to io.cwd', () => {
  it('push without a target publishes into io.cwd/oci-packs (was: the process folder)', async () => {
    const r = await run(['push', 'packs/a']);
    expectOk(r);
    expect(r.stdout).toMatch(/emb-a:1\.0\.0/);
    expect(await tagsIn('oci-packs')).toEqual(['1.0.0']);
    expect(await strays()).toEqual([]);
  });

  it('--oci-layout, oci: references and -o are relative to io.cwd: push, list, inspect, pull, tag, delete', async () => {
    expectOk(await run(['push', 'packs/a', '--oci-layout', 'store']));
    expect(await tagsIn('store')).toEqual(['1.0.0']);
    const list = await run(['list', '--oci-layout', 'store', '--json']);
    expectOk(list);
    expect(JSON.parse(list.stdout).packs.map((p: { name: string }) => p.name)).toEqual(['emb-a']);
    const ref = 'oci:store/spectro-packs/archive/emb-a:1.0.0';
    const inspect = await run(['inspect', ref, '--json']);
    expectOk(inspect);
    expect(JSON.parse(inspect.stdout).repository).toBe('spectro-packs/archive/emb-a');
    expectOk(await run(['pull', ref, '-o', 'out']));
    expect(JSON.parse(await readFile(join(w.here, 'out/pack.json'), 'utf8')).name).toBe('emb-a');
    expectOk(await run(['tag', 'emb-a:1.0.0', 'stable', '--oci-layout', 'store']));
    expectOk(await run(['delete', ref, '--force']));
    expect(await tagsIn('store')).toEqual(['stable']);
    expect(await strays()).toEqual([]);
  });

  it('--config and the layout it names are relative to io.cwd (held)', async () => {
    await writeFile(join(w.here, 'cfg.yaml'), 'targets:\n  local:\n    ociLayout: ./from-config\ndefaults:\n  target: local\n');
    expectOk(await run(['push', 'packs/a', '--config', 'cfg.yaml']));
    expect(await tagsIn('from-config')).toEqual(['1.0.0']);
    expect(await strays()).not.toContain('from-config');
  });

  it('--ca-file, --cert-file/--key-file and --palette-ca-file are read from io.cwd (was: "cannot read" from the process folder)', async () => {
    await writeFile(join(w.here, 'not-pem.txt'), 'no certificate here\n');
    const registry = ['--registry', '127.0.0.1:9/base', '--retry-attempts', '1'];
    const ca = await run(['list', ...registry, '--ca-file', 'not-pem.txt']);
    expect(ca.code, ca.stderr).toBe(2);
    expect(ca.stderr).toMatch(/^error: --ca-file \S*not-pem\.txt holds no PEM certificate$/m);
    const mtls = await run(['list', ...registry, '--cert-file', 'not-pem.txt', '--key-file', 'not-pem.txt']);
    expect(mtls.code, mtls.stderr).toBe(2);
    expect(mtls.stderr).not.toContain('cannot read');
    expect(mtls.stderr).toMatch(/^error: --cert-file \S*not-pem\.txt /m);
    const palette = await run(['palette', 'doctor', ...registry, '--palette-ca-file', 'not-pem.txt'], { SPECTROCLOUD_APIKEY: 'k' });
    expect(palette.stderr).not.toContain('cannot read');
    expect(palette.stderr).toMatch(/--palette-ca-file \S*not-pem\.txt holds no PEM certificate/);
    expect(await strays()).toEqual([]);
  });

  it('logout --registry-config changes the file in io.cwd (was: "not logged in", nothing removed)', async () => {
    const auth = Buffer.from('u:p').toString('base64');
    await writeFile(join(w.here, 'docker.json'), JSON.stringify({ auths: { 'reg.example.com': { auth } } }));
    const r = await run(['logout', 'reg.example.com', '--registry-config', 'docker.json']);
    expectOk(r);
    expect(r.stdout).toMatch(/^Removed credentials for reg\.example\.com from \S*docker\.json$/m);
    expect(JSON.parse(await readFile(join(w.here, 'docker.json'), 'utf8')).auths).toEqual({});
    expect(await strays()).toEqual([]);
  });
});

describe('an embedded main() reads the paths io.env names relative to io.cwd', () => {
  it('login, list and logout use $DOCKER_CONFIG/config.json under io.cwd (was: written to and read from the process folder)', async () => {
    const env = { DOCKER_CONFIG: 'docker-cfg' };
    const login = await runCli(['login', w.harbor.host, '-u', ROBOT, '--password-stdin'], { cwd: w.here, env, stdin: 'emb-robot-secret-77\n' });
    expectOk(login);
    expect(login.stdout).toContain(`credentials for ${w.harbor.host} saved in ${join(w.here, 'docker-cfg/config.json')}`);
    const saved = JSON.parse(await readFile(join(w.here, 'docker-cfg/config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[w.harbor.host]?.auth ?? '', 'base64').toString()).toBe(`${ROBOT}:emb-robot-secret-77`);
    const list = await run(['list', '--registry', `${w.harbor.host}/emb`, '--registry-type', 'harbor'], env);
    expectOk(list);
    const out = await run(['logout', w.harbor.host], env);
    expectOk(out);
    expect(out.stdout).toMatch(/^Removed credentials for \S+ from \S*docker-cfg\/config\.json$/m);
    expect(JSON.parse(await readFile(join(w.here, 'docker-cfg/config.json'), 'utf8')).auths).toEqual({});
    expect(await strays()).toEqual([]);
  });

  it('the archive cache is under a relative PACKPUB_CACHE_DIR or HOME in io.cwd; a relative XDG_CACHE_HOME is ignored (the XDG spec)', async () => {
    const cases: Array<[NodeJS.ProcessEnv, string]> = [
      [{ PACKPUB_CACHE_DIR: 'cache-a' }, 'cache-a'],
      // Was: xdg/packpub in io.cwd; the XDG Base Directory spec has a relative path ignored (Go's os.UserCacheDir refuses it).
      [{ PACKPUB_CACHE_DIR: '', XDG_CACHE_HOME: 'xdg', HOME: 'home-x' }, 'home-x/.cache/packpub'],
      [{ PACKPUB_CACHE_DIR: '', HOME: 'home' }, 'home/.cache/packpub'],
    ];
    for (const [env, dir] of cases) {
      expectOk(await runCli(['push', 'packs/a', '--oci-layout', `store-${dir.split('/')[0]}`], { cwd: w.here, env }));
      expect((await readdir(join(w.here, dir))).length, dir).toBeGreaterThan(0);
    }
    await expect(readdir(join(w.here, 'xdg'))).rejects.toThrow();
    expect(await strays()).toEqual([]);
  });

  it('GITHUB_STEP_SUMMARY relative to io.cwd gets the job summary', async () => {
    const r = await run(['push', 'packs/a', '--oci-layout', 'store-gh'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: 'summary.md', GITHUB_WORKSPACE: '.' });
    expectOk(r);
    expect(r.stderr).not.toContain('cannot append');
    expect(await readFile(join(w.here, 'summary.md'), 'utf8')).toContain('emb-a');
    expect(await strays()).toEqual([]);
  });
});
