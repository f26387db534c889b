import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { startRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Credentials and path flags: a credential variable holding only blanks, and a path flag whose ~ the shell left
 * alone: what a user saw, and what each run now says and sends.
 */

const USERS = { ci: 'secret-ci-0042' };

describe('a credential variable holding only blanks', () => {
  const w = setup(async (stack) => ({ hostile: stack.add(await startHostileRegistry({ users: USERS })), root: await stack.tempDir('packpub-creds-') }));

  it('is refused as empty, naming the variable, before any request (was: sent as the password, "credentials rejected", exit 1)', async () => {
    await writeFile(join(w.root, 'packpub.yaml'), `targets:\n  reg:\n    registry: ${w.hostile.host}/base\n    auth:\n      username: ci\n      passwordEnv: REG_SECRET\n`);
    const asked = w.hostile.requests.length;
    for (const blank of [' ', '  \t', ' \n']) {
      expectRun(await runCli(['list', 'nothere', '--target', 'reg', '--retry-attempts', '1'], { env: { REG_SECRET: blank }, cwd: w.root }), {
        code: 2,
        stderr: ['targets.reg.auth.passwordEnv in', 'names REG_SECRET, which is empty'],
      });
      expectRun(await runCli(['list', 'nothere', '--registry', `${w.hostile.host}/base`, '--retry-attempts', '1'], { env: { PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: blank }, cwd: w.root }), {
        code: 2,
        stderr: ['PACKPUB_USERNAME is set but PACKPUB_PASSWORD is empty'],
      });
      expectRun(await runCli(['list', 'nothere', '--registry', `${w.hostile.host}/base`, '--username', 'ci', '--retry-attempts', '1'], { env: { PACKPUB_PASSWORD: blank }, cwd: w.root }), {
        code: 2,
        stderr: ['--username ci needs a password: PACKPUB_PASSWORD is set but empty'],
      });
    }
    expect(w.hostile.requests.length).toBe(asked);
    // login reads the variables itself: no terminal to ask on, so refused, and nothing saved.
    const config = join(w.root, 'docker-config.json');
    expectRun(await runCli(['login', w.hostile.host, '--registry-config', config], { env: { PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: '   ' }, cwd: w.root }), {
      code: 2,
      stderr: ['no password given and standard input is not a terminal to ask for one'],
    });
    await expect(readFile(config, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(w.hostile.requests.length).toBe(asked);
    // A password with blanks around other characters is a password: sent as it is (here refused by the registry).
    expectRun(await runCli(['list', 'nothere', '--target', 'reg', '--retry-attempts', '1'], { env: { REG_SECRET: ` ${USERS.ci}` }, cwd: w.root }), { code: 1, stderr: ['credentials rejected'] });
    expectRun(await runCli(['list', 'nothere', '--target', 'reg', '--retry-attempts', '1'], { env: { REG_SECRET: USERS.ci }, cwd: w.root }), { code: 0, stderr: ['no pack nothere in registry'] });
  });
});

describe('a path flag written --flag=~/path (the shell leaves that ~ alone)', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-home-');
    const home = join(root, 'home');
    const work = join(root, 'work');
    await mkdir(home, { recursive: true });
    await mkdir(work, { recursive: true });
    const pack = await writePack(join(root, 'packs', 'hello'), { name: 'hello', version: '1.0.0' });
    return { root, home, work, pack };
  });

  it('is the home folder, as packpub.yaml reads it (was: a folder named ~ under the working directory, exit 0)', async () => {
    const env = { HOME: w.home, DOCKER_CONFIG: join(w.root, 'docker') };
    const push = await runCli(['push', w.pack, '--oci-layout=~/out'], { env, cwd: w.work });
    expectRun(push, { code: 0, stdout: [join(w.home, 'out')] });
    expect(JSON.parse(await readFile(join(w.home, 'out', 'spectro-packs/archive/hello', 'index.json'), 'utf8'))).toMatchObject({ schemaVersion: 2 });
    expect(await readdir(w.work)).toEqual([]);
    // copy's oci:DIR, the Docker config and --config likewise.
    const copy = await runCli(['copy', 'hello:1.0.0', '--from', 'oci:~/out', '--to=oci:~/copied'], { env, cwd: w.work });
    expectRun(copy, { code: 0 });
    expect(JSON.parse(await readFile(join(w.home, 'copied', 'spectro-packs/archive/hello', 'index.json'), 'utf8'))).toMatchObject({ schemaVersion: 2 });
    await writeFile(join(w.home, 'packpub.yaml'), `targets:\n  home:\n    ociLayout: ~/out\n`);
    expectRun(await runCli(['list', '--config=~/packpub.yaml', '--target', 'home'], { env, cwd: w.work }), { code: 0, stdout: ['hello'] });
    await writeFile(join(w.home, 'docker.json'), '{"auths":{}}');
    expectRun(await runCli(['logout', 'registry.example.com', '--registry-config=~/docker.json'], { env, cwd: w.work }), { code: 0 });
    expect(await readdir(w.work)).toEqual([]);
  });
});

// DOCKER_CONFIG names the folder that holds config.json; set to the file itself (as REGISTRY_AUTH_FILE is for podman),
// every command that reached a registry failed "cannot be read: ENOTDIR: not a directory ...", hint "fix its
// permissions"; --registry-config given a folder, "EISDIR ...", the same hint.
describe('a Docker config named the wrong way round: DOCKER_CONFIG a file, --registry-config a folder', () => {
  const w = setup(async (stack) => ({ registry: stack.add(await startRegistry()), root: await stack.tempDir('packpub-config-place-') }));

  it('says which is which and how to name it (exit 1), nothing pushed, the file left as it was', async () => {
    const folder = join(w.root, 'docker');
    const file = join(folder, 'config.json');
    await mkdir(folder, { recursive: true });
    await writeFile(file, '{"auths": {}}\n');
    const pack = await writePack(join(w.root, 'hello'), { name: 'hello', version: '1.0.0' });
    const push = await runCli(['push', pack, '--registry', `${w.registry.host}/place`], { env: { DOCKER_CONFIG: file } });
    expectRun(push, { code: 1, stderr: [`docker config ${join(file, 'config.json')} cannot be read: ${file} is a file, not a folder`, `DOCKER_CONFIG names the folder that holds config.json (here ${folder}); to name the file itself, give --registry-config ${file}`] });
    const login = await runCli(['login', w.registry.host, '-u', 'ci', '--password-stdin'], { env: { DOCKER_CONFIG: file }, stdin: 'secret-ci-0042' });
    expectRun(login, { code: 1, stderr: [`${file} is a file, not a folder`] });
    const list = await runCli(['list', 'hello', '--registry', `${w.registry.host}/place`, '--registry-config', folder], {});
    expectRun(list, { code: 1, stderr: [`docker config ${folder} is a folder, not a file`, `--registry-config takes the file (such as ${file}); DOCKER_CONFIG takes the folder`] });
    for (const run of [push, login, list]) expect(run.stderr).not.toMatch(/ENOTDIR|EISDIR|permissions/);
    expect((await new RegistryReader(w.registry.url).tagDigests('place')).size).toBe(0);
    expect(await readFile(file, 'utf8')).toBe('{"auths": {}}\n');
  });
});
