import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { defaultCredentialChain } from '../../src/credentials/default-chain.js';
import { encodeAuth } from '../../src/credentials/docker-config.js';
import { openRegistryStore } from '../../src/targets/registry-store.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';
import { startHarborStandin } from '../support/harbor-standin.js';
import { failure } from '../support/errors.js';
import { pushTestPack } from '../support/artifacts.js';
import { setup } from '../support/stage.js';
import { runCli } from '../support/cli.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const ADMIN = 'admin';
const ADMIN_PASSWORD = 'Harbor12345-standin';
const ROBOT = 'robot$spectro+ci';
const ROBOT_PASSWORD = 'robot-secret-0123456789';

const w = setup(async (stack) => ({
  harbor: stack.add(await startHarborStandin({ users: { [ADMIN]: ADMIN_PASSWORD, [ROBOT]: ROBOT_PASSWORD }, projects: ['spectro'], maxPageSize: 2 })),
  dir: await stack.tempDir('packpub-harbor-'),
}));
const open: ArtifactStore[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  w.harbor.apiQuirk = undefined;
  w.harbor.policy.immutableProjects.clear();
  w.harbor.policy.overQuotaProjects.clear();
  w.harbor.policy.blockedReadProjects.clear();
});

async function harborStore(env: NodeJS.ProcessEnv, extra: { createProject?: boolean; registryConfig?: string } = {}): Promise<ArtifactStore> {
  const store = await openRegistryStore({
    host: w.harbor.host,
    type: 'harbor',
    credentials: defaultCredentialChain({ env: { HOME: join(w.dir, 'home'), ...env }, ...(extra.registryConfig === undefined ? {} : { registryConfig: extra.registryConfig }) }),
    createProject: extra.createProject === true,
    retry: { attempts: 2 },
  });
  open.push(store);
  return store;
}
const asAdmin = (extra = {}) => harborStore({ PACKPUB_USERNAME: ADMIN, PACKPUB_PASSWORD: ADMIN_PASSWORD }, extra);
const asRobot = (extra = {}) => harborStore({ PACKPUB_USERNAME: ROBOT, PACKPUB_PASSWORD: ROBOT_PASSWORD }, extra);

async function pushArtifact(store: ArtifactStore, repo: string, tag: string, content: string): Promise<string> {
  await store.prepareRepository(repo);
  return (await pushTestPack(store, repo, tag, Buffer.from(content), 'x.tar.gz')).digest;
}


describe('Harbor store (Harbor REST stand-in + token-auth registry)', () => {
  it('read-only mode, as a store a library keeps open sees it: refused while on, and again usable a minute after it ends', async () => {
    const store = await asAdmin();
    const repo = 'spectro/spectro-packs/archive/ro-ttl';
    const digest = await pushArtifact(store, repo, '1.0.0', 'read-only ttl');
    const asks = () => w.harbor.apiRequests.filter((r) => r.path === '/api/v2.0/systeminfo').length;
    const before = asks();
    w.harbor.policy.readOnly = true;
    const started = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: started });
    try {
      expect((await store.refusesDeleting?.(repo, '1.0.0', digest as Digest))?.message).toBe(`${w.harbor.host} is in read-only mode (GET /api/v2.0/systeminfo says "read_only": true): Harbor deletes nothing now`);
      w.harbor.policy.readOnly = false;
      // Within the minute, the answer stands (one systeminfo read); after it, Harbor is asked again.
      vi.setSystemTime(started + 30_000);
      expect(await store.refusesDeleting?.(repo, '1.0.0', digest as Digest)).toBeDefined();
      expect(asks()).toBe(before + 1);
      vi.setSystemTime(started + 61_000);
      expect(await store.refusesDeleting?.(repo, '1.0.0', digest as Digest)).toBeUndefined();
      expect(asks()).toBe(before + 2);
    } finally {
      vi.useRealTimers();
      w.harbor.policy.readOnly = false;
    }
  });

  it('says the project is missing instead of Harbor\'s confusing denial', async () => {
    const store = await asAdmin();
    const err = await failure(store.prepareRepository('nosuch/spectro-packs/archive/hello'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe(`project nosuch does not exist on ${w.harbor.host}; create it or pass --create-project`);
  });

  it('creates the project with --create-project, then pushes', async () => {
    const store = await asAdmin({ createProject: true });
    const digest = await pushArtifact(store, 'created/spectro-packs/archive/hello', '1.0.0', 'created project');
    expect(w.harbor.projects.has('created')).toBe(true);
    expect((await store.headManifest('created/spectro-packs/archive/hello', '1.0.0'))?.digest).toBe(digest);
    const post = w.harbor.apiRequests.find((r) => r.method === 'POST');
    expect(post).toMatchObject({ path: '/api/v2.0/projects', user: ADMIN, status: 201 });
  });

  it('explains that robot accounts cannot create projects', async () => {
    const store = await asRobot({ createProject: true });
    const err = await failure(store.prepareRepository('robotmade/spectro-packs/archive/hello'));
    expect(err.code).toBe('AUTH');
    expect(err.message).toContain('robot accounts cannot create projects');
    // Harbor 2.2+ system robot accounts may, given the project create permission (rbac ScopeSystem).
    expect(err.message).toContain('(project robot accounts cannot create projects; a system robot account needs the project create permission)');
    expect(err.hint).toContain('a user or system robot account allowed to create projects');
    expect(w.harbor.projects.has('robotmade')).toBe(false);
  });

  it('pushes with a robot account from the environment and from a Docker config', async () => {
    const fromEnv = await asRobot();
    await pushArtifact(fromEnv, 'spectro/spectro-packs/archive/robot-env', '1.0.0', 'robot env');
    const config = join(w.dir, 'robot-config.json');
    await writeFile(config, JSON.stringify({ auths: { [w.harbor.host]: { auth: encodeAuth(ROBOT, ROBOT_PASSWORD) } } }));
    const fromConfig = await harborStore({}, { registryConfig: config });
    await pushArtifact(fromConfig, 'spectro/spectro-packs/archive/robot-config', '1.0.0', 'robot config');
    expect(w.harbor.repositories.has('spectro/spectro-packs/archive/robot-env')).toBe(true);
    expect(w.harbor.repositories.has('spectro/spectro-packs/archive/robot-config')).toBe(true);
    expect(w.harbor.apiRequests.filter((r) => r.user === ROBOT && r.path === '/api/v2.0/projects/spectro').length).toBeGreaterThan(0);
  });

  it('reports wrong credentials at the project check', async () => {
    const store = await harborStore({ PACKPUB_USERNAME: ROBOT, PACKPUB_PASSWORD: 'wrong-password-xyz' });
    const err = await failure(store.prepareRepository('spectro/spectro-packs/archive/hello'));
    expect(err.code).toBe('AUTH');
    expect(err.message).toBe(`credentials rejected by ${w.harbor.host}`);
    expect(`${err.message} ${err.hint}`).not.toContain('wrong-password-xyz');
  });

  it('lists repositories through the REST API, page by page, never _catalog', async () => {
    const store = await asAdmin();
    for (const name of ['list-a', 'list-b', 'list-c']) await pushArtifact(store, `spectro/listing/spectro-packs/archive/${name}`, '1.0.0', name);
    w.harbor.apiRequests.length = 0;
    expect(await store.listRepositories('spectro/listing/spectro-packs/archive')).toEqual([
      'spectro/listing/spectro-packs/archive/list-a',
      'spectro/listing/spectro-packs/archive/list-b',
      'spectro/listing/spectro-packs/archive/list-c',
    ]);
    const pages = w.harbor.apiRequests.filter((r) => r.path.startsWith('/api/v2.0/projects/spectro/repositories'));
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(w.harbor.token.requests.some((r) => r.scopes.some((s) => s.startsWith('registry:catalog')))).toBe(false);
  });

  it('turns the immutable tag rule (412 PRECONDITION) into "already there" or a conflict', async () => {
    const store = await asAdmin();
    const repo = 'spectro/spectro-packs/archive/immutable';
    const first = await pushArtifact(store, repo, '1.0.0', 'original');
    w.harbor.policy.immutableProjects.add('spectro');
    w.harbor.refusals.length = 0;
    expect(await pushArtifact(store, repo, '1.0.0', 'original')).toBe(first);
    expect(w.harbor.refusals).toEqual([{ code: 'PRECONDITION', path: `/v2/${repo}/manifests/1.0.0` }]);
    const err = await failure(pushArtifact(store, repo, '1.0.0', 'changed'));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('immutable tag rule of project spectro');
  });

  it('says the project quota is exceeded', async () => {
    const store = await asAdmin();
    w.harbor.policy.overQuotaProjects.add('spectro');
    const err = await failure(pushArtifact(store, 'spectro/spectro-packs/archive/quota', '1.0.0', 'too big'));
    expect(err.code).toBe('REGISTRY');
    expect(err.message).toBe(`project spectro quota exceeded on ${w.harbor.host}: adding 1.2 KiB to the 10.0 MiB it holds would pass its limit of 10.0 MiB`);
  });

  it('trusts the PUT when a signature/vulnerability policy blocks the read-back, and explains it otherwise', async () => {
    const store = await asAdmin();
    const repo = 'spectro/spectro-packs/archive/policy';
    w.harbor.policy.blockedReadProjects.add('spectro');
    const digest = await pushArtifact(store, repo, '1.0.0', 'unsigned');
    w.harbor.refusals.length = 0;
    expect((await store.headManifest(repo, '1.0.0'))?.digest).toBe(digest);
    expect(w.harbor.refusals[0]?.code).toBe('PROJECTPOLICYVIOLATION');
    expect((await store.getManifest(repo, '1.0.0'))?.descriptor.digest).toBe(digest);
    const reader = await asAdmin();
    const err = await failure(reader.getManifest(repo, '1.0.0'));
    expect(err.message).toContain('PROJECTPOLICYVIOLATION');
    expect(err.hint).toContain('sign');
  });
});

describe('Harbor REST answers that are not what Harbor sends', () => {
  const REPOS = '/api/v2.0/projects/spectro/repositories';
  const quirkOn = (path: string, quirk: { status: number; body: string; headers?: Record<string, string>; dripMs?: number }) => {
    w.harbor.apiQuirk = (method, p) => (method === 'GET' && p === path ? quirk : undefined);
  };
  const json = { 'content-type': 'application/json' };
  const prefix = 'spectro/odd/spectro-packs/archive';

  it('a 200 that is an HTML page, an object or a list with null is an error, not an empty listing or a crash', async () => {
    const store = await asAdmin();
    await pushArtifact(store, `${prefix}/odd-a`, '1.0.0', 'odd-a');
    const cases: [{ status: number; body: string; headers?: Record<string, string> }, string][] = [
      [{ status: 200, body: '<!doctype html><title>Sign in</title>', headers: { 'content-type': 'text/html' } }, 'with something that is not JSON (text/html)'],
      [{ status: 200, body: '{"errors":[]}', headers: json }, 'with something that is not a list of repositories'],
      [{ status: 200, body: '[null]', headers: json }, 'with something that is not a list of repositories'],
      [{ status: 200, body: '[{"name": 7}]', headers: json }, 'with something that is not a list of repositories'],
    ];
    for (const [quirk, said] of cases) {
      quirkOn(REPOS, quirk);
      const err = await failure(store.listRepositories(prefix));
      expect(err.code).toBe('REGISTRY');
      expect(err.message).toBe(`${w.harbor.host} answered repositories of project spectro ${said}`);
    }
    // Through the CLI: exit 1 and the message, never "no packs" with exit 0.
    quirkOn(REPOS, { status: 200, body: '{"errors":[]}', headers: json });
    const run = await runCli(['list', '--registry', `${w.harbor.host}/spectro/odd`, '--registry-type', 'harbor', '--plain-http'], {
      env: { HOME: join(w.dir, 'home'), PACKPUB_USERNAME: ADMIN, PACKPUB_PASSWORD: ADMIN_PASSWORD },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('answered repositories of project spectro with something that is not a list of repositories');
    expect(run.stdout).toBe('');
    // The registry still holds the repository the odd answers hid.
    w.harbor.apiQuirk = undefined;
    expect(await store.listRepositories(prefix)).toEqual([`${prefix}/odd-a`]);
  });

  it('a Link to another origin, back to the same page, or pages of nothing new: an error, not a wrong or endless list', async () => {
    const store = await asAdmin();
    await pushArtifact(store, `${prefix}/odd-b`, '1.0.0', 'odd-b');
    // Another server that would answer a list of its own.
    const other = createServer((_req, res) => {
      res.writeHead(200, json);
      res.end('[{"name":"spectro/odd/spectro-packs/archive/not-here"}]');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const page = (link: string) => ({ status: 200, body: JSON.stringify([{ name: `${prefix}/odd-b` }]), headers: { ...json, link } });
      quirkOn(REPOS, page(`<${otherOrigin}${REPOS}?page=2&page_size=100>; rel="next"`));
      const away = await failure(store.listRepositories(prefix));
      expect(away.message).toBe(`${w.harbor.host} links the next page of repositories of project spectro to another origin (${otherOrigin})`);
      w.harbor.apiRequests.length = 0;
      quirkOn(REPOS, page(`<${REPOS}?page=1&page_size=100>; rel="next"`));
      const loop = await failure(store.listRepositories(prefix));
      expect(loop.message).toBe(`${w.harbor.host} pages repositories of project spectro in a loop: page 1 links back to a page already read`);
      expect(w.harbor.apiRequests.filter((r) => r.path.startsWith(REPOS))).toHaveLength(1);
      let n = 2;
      w.harbor.apiQuirk = (method, p) => (method === 'GET' && p === REPOS ? page(`<${REPOS}?page=${n++}&page_size=100>; rel="next"`) : undefined);
      const stale = await failure(store.listRepositories(prefix));
      expect(stale.message).toBe(`${w.harbor.host} pages repositories of project spectro in a loop: page 2 brings no new repository but asks for more`);
    } finally {
      other.closeAllConnections();
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it('a page that drips in a byte at a time ends at --retry-deadline', async () => {
    const store = await openRegistryStore({
      host: w.harbor.host,
      type: 'harbor',
      credentials: defaultCredentialChain({ env: { HOME: join(w.dir, 'home'), PACKPUB_USERNAME: ADMIN, PACKPUB_PASSWORD: ADMIN_PASSWORD } }),
      retry: { attempts: 1, deadlineMs: 1_000 },
    });
    open.push(store);
    quirkOn(REPOS, { status: 200, body: JSON.stringify([{ name: `${prefix}/odd-c` }]).padEnd(400, ' '), headers: json, dripMs: 20 });
    const started = Date.now();
    const err = await failure(store.listRepositories(prefix));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toBe(`repositories of project spectro from ${w.harbor.host} did not arrive within the retry deadline of 1 s`);
    expect(err.hint).toContain('--retry-deadline');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
