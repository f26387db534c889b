import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCredentialChain } from '../../src/credentials/default-chain.js';
import { encodeAuth } from '../../src/credentials/docker-config.js';
import { openRegistryStore } from '../../src/targets/registry-store.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';
import { startHarborStandin } from '../support/harbor-standin.js';
import { failure } from '../support/errors.js';
import { pushTestPack } from '../support/artifacts.js';
import { setup } from '../support/stage.js';

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
    expect(err.message).toBe(`project spectro quota exceeded on ${w.harbor.host}`);
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
