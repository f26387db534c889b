import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { paletteLabWithHello } from '../support/published.js';
import { startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * `palette register` (and doctor) for a Basic registry, with no credential given for Palette: the README says the
 * password Palette stores comes from --password-stdin, PACKPUB_PASSWORD or the target's auth.passwordEnv. It came
 * from the whole credential chain, the Docker config included: a `docker login` / `packpub login` of this machine
 * (packpub's own publisher, able to push; or a person's, from a credential helper) was sent to Palette, which
 * stored it and synced with it from then on, without a word. Now only a credential given for Palette is sent;
 * without one Palette is asked to read the registry without credentials, and a note says why the Docker config's
 * was not used. doctor checks the registry with what Palette gets, not with packpub's own login.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const PUSH_SECRET = `push-secret-${Math.random().toString(36).slice(2)}`;
const ROBOT_SECRET = `robot-secret-${Math.random().toString(36).slice(2)}`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-own-login-', KEY, clock));

/** The Docker config of the lab's environment, holding packpub's own login for the lab registry. */
async function ownLogin(): Promise<void> {
  await mkdir(w.env.DOCKER_CONFIG, { recursive: true });
  await writeFile(join(w.env.DOCKER_CONFIG, 'config.json'), JSON.stringify({ auths: { [w.registry.host]: { auth: Buffer.from(`publisher:${PUSH_SECRET}`).toString('base64') } } }));
}

function registryNamed(name: string) {
  return [...w.palette.registries.values()].find((r) => r.name === name);
}

describe("palette register and doctor with packpub's own login in the Docker config", () => {
  it('register sends Palette no credential of the Docker config, and says so (was: the login stored in Palette, silently)', async () => {
    await ownLogin();
    const run = await runCli(['palette', 'register', '--registry', `${w.registry.host}/own`, '--palette-registry-name', 'own'], { env: w.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('created Palette registry own');
    expect(run.stderr).toContain(`note: no credential given for Palette, so it is asked to read ${w.registry.host} without one; the one docker config ${join(w.env.DOCKER_CONFIG, 'config.json')} holds is packpub's own and is not handed to Palette`);
    expect(run.stdout + run.stderr).not.toContain(PUSH_SECRET);
    const created = registryNamed('own');
    // Was: { type: 'basic', username: 'publisher', password: <the push secret> }.
    expect(created?.spec['auth']).toMatchObject({ type: 'noAuth' });
    expect(JSON.stringify(created?.spec)).not.toContain(PUSH_SECRET);
    expect(JSON.stringify(created?.spec)).not.toContain('publisher');
  });

  it('a credential given for Palette is the one it stores, as before; no note', async () => {
    await ownLogin();
    const run = await runCli(['palette', 'register', '--registry', `${w.registry.host}/robot`, '--palette-registry-name', 'robot', '-u', 'robot$palette', '--password-stdin'], { env: w.env, stdin: ROBOT_SECRET });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).not.toContain('note: no credential given');
    expect(registryNamed('robot')?.spec['auth']).toMatchObject({ type: 'basic', username: 'robot$palette' });
    const env = await runCli(['palette', 'register', '--registry', `${w.registry.host}/robotenv`, '--palette-registry-name', 'robotenv'], { env: { ...w.env, PACKPUB_USERNAME: 'robot$env', PACKPUB_PASSWORD: ROBOT_SECRET } });
    expect(env.code, env.stdout + env.stderr).toBe(0);
    expect(registryNamed('robotenv')?.spec['auth']).toMatchObject({ type: 'basic', username: 'robot$env' });
  });

  it('doctor checks what Palette gets and notes the Docker config is not used', async () => {
    await ownLogin();
    const run = await runCli(['palette', 'doctor', '--registry', `${w.registry.host}/packs`], { env: w.env });
    expect(run.stderr).toContain('note: no credential given for Palette');
    // The listing was anonymous, as Palette will read: said so (was: "the credentials can list repositories").
    expect(run.stdout).toContain(`ok    credentials: ${w.registry.host} lets anyone list repositories under ${w.registry.host}/packs (no credential was given for Palette: it reads anonymously)`);
    expect(run.stdout).toContain('OCI Authentication Type');
    expect(run.stdout + run.stderr).not.toContain(PUSH_SECRET);
  });

  it('doctor on a registry that needs credentials, none given for Palette: says to give one (was: checked with the Docker config login, all ok)', async () => {
    const root = join(w.root, 'private');
    const docker = join(root, 'docker');
    const registry = await startRegistry({ auth: 'htpasswd', users: { publisher: PUSH_SECRET } });
    try {
      await mkdir(docker, { recursive: true });
      await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`publisher:${PUSH_SECRET}`).toString('base64') } } }));
      const run = await runCli(['palette', 'doctor', '--registry', `${registry.host}/packs`], { env: { HOME: join(root, 'home'), DOCKER_CONFIG: docker } });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toContain(`FAIL  credentials: ${registry.host} refuses to list the packs under ${registry.host}/packs without credentials, as Palette would read it (none was given for Palette)`);
      expect(run.stdout).toContain("fix: give Palette's own credential (a robot or user with pull and list-repository rights): -u USER --password-stdin");
      expect(run.stdout + run.stderr).not.toContain(PUSH_SECRET);
      // With Palette's credential given, it is the one checked.
      const given = await runCli(['palette', 'doctor', '--registry', `${registry.host}/packs`, '-u', 'publisher', '--password-stdin'], { env: { HOME: join(root, 'home'), DOCKER_CONFIG: docker }, stdin: PUSH_SECRET });
      expect(given.stdout).toContain('ok    credentials: the credentials can list repositories');
      expect(given.stderr).not.toContain('note: no credential given');
    } finally {
      await registry.stop();
    }
  });
});
