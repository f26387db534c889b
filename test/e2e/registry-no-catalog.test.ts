import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { sharedRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Registries that offer no repository catalog: GHCR answers
 * `GET /v2/_catalog` 404 (GHCR's maintainers on microsoft/vscode-docker#1525: "we don't support the _catalog
 * endpoint"), others 405 UNSUPPORTED. `packpub list` (and `copy --all`) said "repository catalog not found on <host>",
 * hint "is <host> an OCI registry?", which sent users after a registry that works. Now it says the registry lists no
 * repositories and how to list a pack by name, which these registries serve (tag lists).
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-no-catalog-');
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  const registry = stack.add(await startHostileRegistry());
  // Token auth (a token for anyone who asks), as GitLab's registry behind its /jwt/auth.
  const tokened = stack.add(await startHostileRegistry({ bearer: {} }));
  return { root, pack, registry, tokened };
});
const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker') });
const target = ['--registry', '', '--plain-http'];

describe('a registry without GET /v2/_catalog', () => {
  it('list and copy --all say the registry lists no repositories (exit 1), list NAME reads the pack', async () => {
    target[1] = `${w.registry.host}/org`;
    const push = await runCli(['push', w.pack, ...target], { env: env() });
    expect(push.code, push.stderr).toBe(0);
    const answers = [
      { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '404 page not found\n' },
      { status: 405, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}' },
    ];
    for (const answer of answers) {
      w.registry.behaviour = { answer: (req) => (req.path === '/v2/_catalog' ? answer : undefined) };
      const list = await runCli(['list', ...target], { env: env() });
      expect(list.code, list.stdout + list.stderr).toBe(1);
      expect(list.stderr).toContain(`error: ${w.registry.host} does not list its repositories: GET /v2/_catalog answered ${answer.status}`);
      expect(list.stderr).toContain('hint: name the pack: packpub list <name>');
      expect(list.stderr).not.toContain('an OCI registry?');
      expect(list.stdout).not.toContain('no packs');

      const copy = await runCli(['copy', '--all', '--from', `${w.registry.host}/org`, '--from-plain-http', '--to', `oci:${join(w.root, 'copied')}`], { env: env() });
      expect(copy.code, copy.stdout + copy.stderr).toBe(1);
      expect(copy.stderr).toContain(`${w.registry.host} does not list its repositories`);

      const named = await runCli(['list', 'hello', ...target, '--json'], { env: env() });
      expect(named.code, named.stderr).toBe(0);
      expect((JSON.parse(named.stdout) as { packs: Array<{ name: string; versions: Array<{ version: string }> }> }).packs).toMatchObject([{ name: 'hello', versions: [{ version: '1.0.0' }] }]);
    }
  });
});

/*
 * Quay (quay/quay#2884; quay.io for some days in June 2024, go-containerregistry#1963) refuses a tag page larger
 * than its maximum with 413 TOO_MANY_TAGS_REQUESTED "Too many tags requested; requested limit 1000 is too high, max
 * is 100", where the OCI spec lets a registry answer a shorter page. packpub asks n=1000 (ECR's maximum): `list NAME`
 * failed, exit 1, hinted as a request body too large for nginx. Now the list is read again in pages of the maximum
 * the registry names (100 when it names none).
 */
describe('a registry that refuses tag pages above its maximum (Quay: 413 TOO_MANY_TAGS_REQUESTED)', () => {
  it('list NAME reads the tags in pages of 100: exit 0 with the versions (was: exit 1, "request bodies this large")', async () => {
    target[1] = `${w.registry.host}/quay`;
    const next = await writePack(join(w.root, 'hello-1.0.1'), { name: 'hello', version: '1.0.1' });
    for (const dir of [w.pack, next]) expect((await runCli(['push', dir, ...target], { env: env() })).code).toBe(0);
    const asked: string[] = [];
    w.registry.behaviour = {
      answer: (req) => {
        if (!req.path.endsWith('/tags/list')) return undefined;
        asked.push(req.query.get('n') ?? '');
        if (Number(req.query.get('n') ?? '0') <= 100) return undefined;
        const body = JSON.stringify({ errors: [{ code: 'TOO_MANY_TAGS_REQUESTED', message: `Too many tags requested; requested limit ${req.query.get('n') ?? ''} is too high, max is 100` }] });
        return { status: 413, headers: { 'content-type': 'application/json' }, body };
      },
    };
    const named = await runCli(['list', 'hello', ...target, '--json'], { env: env() });
    expect(named.code, named.stdout + named.stderr).toBe(0);
    expect((JSON.parse(named.stdout) as { packs: Array<{ name: string; versions: Array<{ version: string }> }> }).packs[0]?.versions.map((v) => v.version).sort()).toEqual(['1.0.0', '1.0.1']);
    expect(asked).toEqual(['1000', '100']);
  });
});

/*
 * Google Artifact Registry (`<location>-docker.pkg.dev/<project>/<repository>/<image>`) creates no repository on
 * push: one not made beforehand answers NAME_UNKNOWN `Repository "<r>" not found` (GoogleCloudPlatform/
 * developer-journey-app#117; cloud-builders-community#588). packpub's hint said "on ECR the repository must exist
 * (packpub creates it unless --no-create-repositories)" there too. Now it names the gcloud command.
 */
describe('Google Artifact Registry: a repository not created', () => {
  it('push says how to create it (exit 1), nothing stored', async () => {
    const port = w.registry.host.split(':')[1] ?? '';
    const host = `europe-west1-docker.pkg.dev:${port}`;
    w.registry.behaviour = {
      answer: (req) => {
        if (!req.path.startsWith('/v2/proj/packs/') || req.path.endsWith('/v2/')) return undefined;
        return { status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'Repository "packs" not found' }] }) };
      },
    };
    const since = w.registry.requests.length;
    const run = await runCli(['push', w.pack, '--registry', `${host}/proj/packs`, '--resolve', `${host}:127.0.0.1`, '--plain-http'], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain(`repository proj/packs/spectro-packs/archive not found on ${host}`);
    expect(run.stderr).toContain('hint: Artifact Registry creates no repository on push: create packs in project proj (gcloud artifacts repositories create packs --repository-format=docker --location=europe-west1 --project=proj)');
    expect(run.stderr).not.toContain('ECR');
    expect(w.registry.requests.slice(since).filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && r.status < 300)).toEqual([]);
  });
});

/*
 * Docker Hub holds `<namespace>/<name>` repositories only (docker/hub-feedback#1404): a pack repository
 * (`<base>/spectro-packs/archive/<name>`) cannot be there, and Docker Hub answers such a push "denied: requested
 * access to the resource is denied" (moby#31760), which packpub said as refused credentials. Now a usage error
 * before any request. (Docker Hub's name mapped to the in-memory registry: a request would reach it, not the network.)
 */
describe('Docker Hub as a target', () => {
  it('push, list and copy --to: exit 2 before any request', async () => {
    const port = w.registry.host.split(':')[1] ?? '';
    const since = w.registry.requests.length;
    for (const name of ['docker.io', 'registry-1.docker.io']) {
      const host = `${name}:${port}`;
      const via = ['--resolve', `${host}:127.0.0.1`];
      for (const args of [
        ['push', w.pack, '--registry', `${host}/myorg`, ...via, '--plain-http'],
        ['list', '--registry', `${host}/myorg`, ...via, '--plain-http'],
        ['copy', 'hello:1.0.0', '--from', `${w.registry.host}/org`, '--from-plain-http', '--to', `${host}/myorg`, ...via, '--to-plain-http'],
      ]) {
        const before = w.registry.requests.length;
        const run = await runCli(args, { env: env() });
        expect(run.code, `${args.join(' ')}\n${run.stdout}${run.stderr}`).toBe(2);
        expect(run.stderr).toContain(`${host} (Docker Hub) holds repositories of two segments only (<namespace>/<name>): packs go to <base>/spectro-packs/archive/<name>, which it cannot hold`);
        // copy's source is this same in-memory registry: only push and list must have sent nothing.
        if (args[0] !== 'copy') expect(w.registry.requests.slice(before)).toEqual([]);
      }
    }
    expect(w.registry.requests.slice(since).filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
  });
});

/*
 * GitLab issues the `registry:catalog:*` scope to its administrators only (gitlab-foss!14751; never on GitLab.com,
 * gitlab#331841): a developer's token is answered 401 insufficient_scope on GET /v2/_catalog (gitlab#22635). packpub
 * said "credentials rejected by <host>", hint "check the user name and password", for credentials that work.
 */
describe('a catalog shown to administrators only (GitLab)', () => {
  it('list says the catalog was refused and how to list by name (exit 1); list NAME works with the same credentials', async () => {
    const gitlab = ['--registry', `${w.tokened.host}/group/project`, '--plain-http'];
    const creds = { ...env(), PACKPUB_USERNAME: 'developer', PACKPUB_PASSWORD: 'glpat-not-real-0123' };
    expect((await runCli(['push', w.pack, ...gitlab], { env: creds })).code).toBe(0);
    w.tokened.behaviour = {
      ...w.tokened.behaviour,
      answer: (req) =>
        req.path === '/v2/_catalog'
          ? {
              status: 401,
              headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer realm="http://${w.tokened.host}/token",service="container_registry",scope="registry:catalog:*",error="insufficient_scope"` },
              body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"registry","Class":"","Name":"catalog","Action":"*"}]}]}',
            }
          : undefined,
    };
    const list = await runCli(['list', ...gitlab], { env: creds });
    expect(list.code, list.stdout + list.stderr).toBe(1);
    expect(list.stderr).toContain(`error: ${w.tokened.host} refused its repository catalog (GET /v2/_catalog) to these credentials: some registries (GitLab) show it to administrators only, and wrong credentials read the same`);
    expect(list.stderr).toContain('hint: list a pack by name (packpub list <name>; copy: <name> --all), which needs pull rights only; if that is refused too: check the user name and password');
    expect(list.stderr + list.stdout).not.toContain('glpat-not-real');
    const named = await runCli(['list', 'hello', ...gitlab], { env: creds });
    expect(named.code, named.stdout + named.stderr).toBe(0);
    expect(named.stdout).toContain('1.0.0');
  });
});

/*
 * A wrong password on a Basic registry (distribution with htpasswd, as Nexus or Artifactory answer): its catalog is
 * refused 401 as GitLab refuses a developer's, and `list` said "refused its repository catalog ... (GitLab) show it to
 * administrators only", hint "list a pack by name", which failed the same. `GET /v2/` refusing the credentials too
 * tells them apart: a plain "credentials rejected".
 */
describe('a wrong password where the catalog is refused', () => {
  const b = setup(async () => ({ registry: await sharedRegistry({ auth: 'htpasswd', users: { ci: 'right-password-5e1d' } }) }));

  it('list, copy --all and palette doctor say the credentials were rejected, not that the catalog is for administrators (exit 1)', async () => {
    const registry = `${b.registry.host}/${b.registry.base}/wrong`;
    const wrong = { ...env(), PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: 'wrong-password-9a7c' };
    const list = await runCli(['list', '--registry', registry], { env: wrong });
    const copy = await runCli(['copy', '--all', '--from', registry, '--to', `oci:${join(w.root, 'wrong-copy')}`], { env: { ...env(), PACKPUB_FROM_USERNAME: 'ci', PACKPUB_FROM_PASSWORD: 'wrong-password-9a7c' } });
    for (const run of [list, copy]) {
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain(`error: credentials rejected by ${b.registry.host}`);
      expect(run.stderr).toContain('hint: check the user name and password');
      expect(run.stderr).not.toContain('administrators only');
    }
    const doctor = await runCli(['palette', 'doctor', '--registry', registry], { env: wrong });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout + doctor.stderr).toMatch(/FAIL\s+credentials: the credentials Palette would use cannot list the packs under .*: credentials rejected by /);
    expect(doctor.stdout + doctor.stderr).not.toContain('administrators only');
    // The right password lists (the set-up is right).
    const right = await runCli(['list', '--registry', registry], { env: { ...env(), PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: 'right-password-5e1d' } });
    expect(right.code, right.stderr).toBe(0);
  });
});
