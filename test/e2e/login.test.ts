import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHarborStandin } from '../support/harbor-standin.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * `packpub login` then `push` with nothing but the saved Docker config, against the Harbor stand-in (token
 * auth): the robot account name goes in quoted, is checked against /v2/, saved, and used by later runs.
 */

const ROBOT = 'robot$spectro+publisher';
const ROBOT_PASSWORD = 'login-e2e-robot-secret-55';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-login-e2e-');
  const pack = await writePack(join(root, 'hello-universe-1.0.0'), { name: 'hello-universe', version: '1.0.0' });
  const harbor = stack.add(await startHarborStandin({ users: { [ROBOT]: ROBOT_PASSWORD }, projects: ['spectro'] }));
  return { harbor, root, pack };
});
const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' });
const configFile = () => join(w.root, 'docker', 'config.json');

describe('login, push with the saved credentials, logout', () => {
  it('refuses a wrong password (Harbor answers the ping with 401) and saves nothing', async () => {
    const run = await runCli(['login', w.harbor.host, '-u', ROBOT, '--password-stdin'], { stdin: 'not-the-secret-123', env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`credentials rejected by ${w.harbor.host}`);
    expect(run.stdout + run.stderr).not.toContain('not-the-secret-123');
    await expect(stat(configFile())).rejects.toThrow();
  });

  it('logs in with a robot account and later commands use it', async () => {
    const login = await runCli(['login', w.harbor.host, '-u', ROBOT, '--password-stdin'], { stdin: `${ROBOT_PASSWORD}\n`, env: env() });
    expect(login.stdout).toContain(`Login succeeded: credentials for ${w.harbor.host} saved in ${configFile()}`);
    expect(login.code).toBe(0);
    expect(login.stdout + login.stderr).not.toContain(ROBOT_PASSWORD);
    expect((await stat(configFile())).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(configFile(), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[w.harbor.host]?.auth ?? '', 'base64').toString()).toBe(`${ROBOT}:${ROBOT_PASSWORD}`);

    const push = await runCli(['push', w.pack, '--registry', `${w.harbor.host}/spectro`, '--registry-type', 'harbor'], { env: env() });
    expect(push.code).toBe(0);
    expect(push.stdout).toContain('published hello-universe:1.0.0');
    expect(w.harbor.token.requests.some((r) => r.user === ROBOT && r.authenticated)).toBe(true);
  });

  it('after logout, the registry asks for credentials again', async () => {
    const out = await runCli(['logout', w.harbor.host], { env: env() });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Removed credentials for ${w.harbor.host}`);
    const list = await runCli(['list', '--registry', `${w.harbor.host}/spectro`, '--registry-type', 'harbor'], { env: env() });
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/authentication required|credentials/);
  });
});

describe('a Docker config whose fields Docker would not read', () => {
  /** A Docker config folder of its own holding `text`. */
  const folder = async (text: string) => {
    const dir = join(w.root, `odd-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), text);
    return dir;
  };

  it.each([
    ['auths', '[]', 'a JSON object'],
    ['auths', '"x"', 'a JSON object'],
    ['auths', '5', 'a JSON object'],
    ['credHelpers', '[]', 'a JSON object'],
    ['credsStore', '5', 'a string'],
  ])('"%s": %s: login, logout and list refuse it, naming the field, and the file is left as it was (was: "auths" [] "Login succeeded", exit 0, nothing saved; "x" or 5 a crash)', async (field, value, want) => {
    const text = `{"${field}": ${value}, "psFormat": "table"}`;
    const dir = await folder(text);
    const says = `error: docker config ${join(dir, 'config.json')}: "${field}" is not ${want}`;
    const login = await runCli(['login', w.harbor.host, '-u', ROBOT, '--password-stdin'], { stdin: ROBOT_PASSWORD, env: { DOCKER_CONFIG: dir } });
    expect(login.code, login.stderr).toBe(1);
    expect(login.stderr).toContain(says);
    expect(login.stdout).toBe('');
    const logout = await runCli(['logout', w.harbor.host], { env: { DOCKER_CONFIG: dir } });
    expect(logout.code, logout.stderr).toBe(1);
    expect(logout.stderr).toContain(says);
    const list = await runCli(['list', '--registry', `${w.harbor.host}/spectro`, '--registry-type', 'harbor'], { env: { DOCKER_CONFIG: dir } });
    expect(list.code, list.stderr).toBe(1);
    expect(list.stderr).toContain(says);
    for (const run of [login, logout, list]) expect(run.stderr).not.toContain('bug in packpub');
    expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe(text);
  });

  it.each(['auths', 'credHelpers', 'credsStore'])('"%s": null holds nothing, as Docker reads it: list asks for credentials, login saves, logout removes (was: auths, credHelpers: a crash, "bug in packpub")', async (field) => {
    const dir = await folder(`{"${field}": null, "psFormat": "table"}`);
    const env = { DOCKER_CONFIG: dir };
    const listing = () => runCli(['list', '--registry', `${w.harbor.host}/spectro`, '--registry-type', 'harbor'], { env });
    const list = await listing();
    expect(list.code, list.stderr).toBe(1);
    expect(list.stderr).toContain(`authentication required by ${w.harbor.host}`);
    const login = await runCli(['login', w.harbor.host, '-u', ROBOT, '--password-stdin'], { stdin: ROBOT_PASSWORD, env });
    expect(login.code, login.stderr).toBe(0);
    const saved = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }>; psFormat: string };
    expect(Buffer.from(saved.auths[w.harbor.host]?.auth ?? '', 'base64').toString()).toBe(`${ROBOT}:${ROBOT_PASSWORD}`);
    expect(saved.psFormat).toBe('table');
    expectOk(await listing());
    const logout = await runCli(['logout', w.harbor.host], { env });
    expect(logout.code, logout.stderr).toBe(0);
    expect((JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { auths: object }).auths).toEqual({});
    // And a logout of a file that still says null: nothing to remove, no crash.
    await writeFile(join(dir, 'config.json'), `{"${field}": null}`);
    const again = await runCli(['logout', w.harbor.host], { env });
    expect(again.code, again.stderr).toBe(0);
    for (const run of [list, login, logout, again]) expect(run.stderr).not.toContain('bug in packpub');
  });

  it('an entry that is null holds nothing, as Docker reads it: list asks for credentials, login replaces it (was: a crash)', async () => {
    const dir = await folder(`{"auths": {"${w.harbor.host}": null}}`);
    const list = await runCli(['list', '--registry', `${w.harbor.host}/spectro`, '--registry-type', 'harbor'], { env: { DOCKER_CONFIG: dir } });
    expect(list.code, list.stderr).toBe(1);
    expect(list.stderr).toContain(`authentication required by ${w.harbor.host}`);
    const login = await runCli(['login', w.harbor.host, '-u', ROBOT, '--password-stdin'], { stdin: ROBOT_PASSWORD, env: { DOCKER_CONFIG: dir } });
    expect(login.code, login.stderr).toBe(0);
    const saved = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(saved.auths[w.harbor.host]?.auth ?? '', 'base64').toString()).toBe(`${ROBOT}:${ROBOT_PASSWORD}`);
    expectOk(await runCli(['list', '--registry', `${w.harbor.host}/spectro`, '--registry-type', 'harbor'], { env: { DOCKER_CONFIG: dir } }));
  });
});

function expectOk(run: { code: number; stderr: string }): void {
  expect(run.code, run.stderr).toBe(0);
}
