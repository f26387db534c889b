import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/oci/digest.js';
import type { EcrRepositoryOptions } from '../../src/targets/options.js';
import { openRegistryStore } from '../../src/targets/registry-store.js';
import type { ArtifactStore } from '../../src/targets/artifact-store.js';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { iamDenial } from '../support/ecr-standin.js';
import { failure } from '../support/errors.js';
import { pushTestPack, readAll } from '../support/artifacts.js';
import { setup } from '../support/stage.js';

const BASE = 'spectro-oci';

const w = setup(async (stack) => ({ ...(await startEcrWorld(stack, 'testAKIDECRSTORE', { maxPageSize: 2 })), home: await stack.tempDir('packpub-ecr-home-') }));
const open: ArtifactStore[] = [];

beforeEach(() => {
  w.standin.calls.length = 0;
  w.proxy.requests.length = 0;
  w.proxy.s3Requests.length = 0;
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function ecrStore(ecrRepositories: EcrRepositoryOptions = {}): Promise<ArtifactStore> {
  const store = await openRegistryStore({ host: w.host, ...w.connection(w.home), ecrRepositories });
  open.push(store);
  return store;
}

async function pushArtifact(store: ArtifactStore, repo: string, tag: string, content: string): Promise<{ digest: string; layer: Buffer }> {
  const layer = Buffer.from(content);
  return { digest: (await pushTestPack(store, repo, tag, layer)).digest, layer };
}



describe('ECR store (ECR API stand-in + ECR-like registry front)', () => {
  it('is chosen from the host name', async () => {
    expect((await ecrStore()).kind).toBe('ecr');
  });

  it('creates missing repositories once, with mutability, encryption and tags, then pushes with a minted token', async () => {
    const store = await ecrStore({ tagMutability: 'MUTABLE', encryption: 'KMS', kmsKey: 'alias/packs', tags: { team: 'platform' } });
    const repo = `${BASE}/spectro-packs/archive/hello`;
    await store.prepareRepository(`${BASE}/spectro-packs/archive`);
    await store.prepareRepository(repo);
    await store.prepareRepository(repo);
    expect(w.standin.calls.filter((c) => c.op === 'CreateRepository').map((c) => c.body['repositoryName'])).toEqual([`${BASE}/spectro-packs/archive`, repo]);
    expect(w.standin.repositories.get(repo)).toMatchObject({ imageTagMutability: 'MUTABLE', encryptionType: 'KMS', kmsKey: 'alias/packs', tags: { team: 'platform' } });
    const { digest } = await pushArtifact(store, repo, '1.0.0', 'hello layer');
    expect((await store.headManifest(repo, '1.0.0'))?.digest).toBe(digest);
    // Basic challenge answered with the ECR token; one GetAuthorizationToken for the whole run.
    expect(w.proxy.requests.some((r) => r.status === 401)).toBe(true);
    expect(w.standin.calls.filter((c) => c.op === 'GetAuthorizationToken')).toHaveLength(1);
  });

  it('treats an existing repository as fine', async () => {
    const store = await ecrStore();
    const repo = `${BASE}/spectro-packs/archive/already`;
    await store.prepareRepository(repo);
    const other = await ecrStore();
    await other.prepareRepository(repo);
    expect(w.standin.calls.filter((c) => c.op === 'CreateRepository')).toHaveLength(2);
  });

  it('with --no-create-repositories, says how to create the missing repository', async () => {
    const store = await ecrStore({ create: false });
    const repo = `${BASE}/spectro-packs/archive/never-created`;
    await store.prepareRepository(repo);
    expect(w.standin.calls.filter((c) => c.op === 'CreateRepository')).toHaveLength(0);
    const err = await failure(pushArtifact(store, repo, '1.0.0', 'x'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain(`ECR repository ${repo} does not exist`);
    expect(err.hint).toContain(`aws ecr create-repository --repository-name ${repo}`);
  });

  it('names ecr:CreateRepository when IAM denies it', async () => {
    const store = await ecrStore();
    await iamDenial(w.standin, 'CreateRepository', () => store.prepareRepository(`${BASE}/spectro-packs/archive/denied`));
  });

  it('lists repositories with DescribeRepositories (paged), never _catalog', async () => {
    const store = await ecrStore();
    for (const name of ['list-a', 'list-b', 'list-c']) await store.prepareRepository(`listing/spectro-packs/archive/${name}`);
    await store.prepareRepository('elsewhere/spectro-packs/archive/x');
    w.standin.calls.length = 0;
    expect(await store.listRepositories('listing/spectro-packs/archive')).toEqual([
      'listing/spectro-packs/archive/list-a',
      'listing/spectro-packs/archive/list-b',
      'listing/spectro-packs/archive/list-c',
    ]);
    const describes = w.standin.calls.filter((c) => c.op === 'DescribeRepositories');
    expect(describes.length).toBeGreaterThan(1);
    expect(describes.slice(1).every((c) => typeof c.body['nextToken'] === 'string')).toBe(true);
    expect(w.proxy.requests.some((r) => r.path === '/v2/_catalog')).toBe(false);
  });

  it('a DescribeRepositories answer that repeats its nextToken is an error, not an endless listing', async () => {
    const store = await ecrStore();
    await store.prepareRepository('looping/spectro-packs/archive/a');
    w.standin.calls.length = 0;
    w.standin.answerOverride = (op, normal) => (op === 'DescribeRepositories' ? { ...(normal as object), nextToken: Buffer.from('0').toString('base64') } : normal);
    try {
      const err = await failure(store.listRepositories('looping/spectro-packs/archive'));
      expect(err.code).toBe('REGISTRY');
      expect(err.message).toBe(`ECR answered DescribeRepositories for ${w.host} with a nextToken it had already given: the list would never end`);
      expect(w.standin.calls.filter((c) => c.op === 'DescribeRepositories')).toHaveLength(2);
    } finally {
      w.standin.answerOverride = undefined;
    }
  });

  it('lists tags through the registry API', async () => {
    const store = await ecrStore();
    const repo = `${BASE}/spectro-packs/archive/tags`;
    await store.prepareRepository(repo);
    await pushArtifact(store, repo, '1.0.0', 'one');
    await pushArtifact(store, repo, '1.1.0', 'two');
    expect((await store.listTags(repo)).sort()).toEqual(['1.0.0', '1.1.0']);
  });

  it('downloads blobs through the S3 redirect without sending Authorization there', async () => {
    const store = await ecrStore();
    const repo = `${BASE}/spectro-packs/archive/download`;
    await store.prepareRepository(repo);
    const { layer } = await pushArtifact(store, repo, '1.0.0', 'bytes served by S3');
    w.proxy.s3Requests.length = 0;
    const body = await readAll(await store.fetchBlob(repo, { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(layer), size: layer.length }));
    expect(body.toString()).toBe('bytes served by S3');
    expect(w.proxy.requests.some((r) => r.status === 307)).toBe(true);
    expect(w.proxy.s3Requests).toEqual([expect.objectContaining({ hadAuthorization: false, status: 200 })]);
  });

  it('turns an immutable-tag refusal into "already there" for the same digest and a conflict otherwise', async () => {
    const store = await ecrStore({ tagMutability: 'IMMUTABLE' });
    const repo = `${BASE}/spectro-packs/archive/immutable`;
    await store.prepareRepository(repo);
    const first = await pushArtifact(store, repo, '1.0.0', 'original');
    const again = await pushArtifact(store, repo, '1.0.0', 'original');
    expect(again.digest).toBe(first.digest);
    expect(w.proxy.requests.some((r) => r.method === 'PUT' && r.status === 400)).toBe(true);
    const err = await failure(pushArtifact(store, repo, '1.0.0', 'changed'));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('is immutable and already holds a different artifact');
    expect((await store.headManifest(repo, '1.0.0'))?.digest).toBe(first.digest);
  });

  it('mints a new token when the registry says the old one expired', async () => {
    const store = await ecrStore();
    const repo = `${BASE}/spectro-packs/archive/expiry`;
    await store.prepareRepository(repo);
    await pushArtifact(store, repo, '1.0.0', 'before expiry');
    w.standin.expireAllTokens();
    // A GET carries ECR's "DENIED ... Your authorization token has expired" body (a HEAD answer cannot).
    expect(await store.listTags(repo)).toEqual(['1.0.0']);
    expect(w.proxy.requests.some((r) => r.status === 403)).toBe(true);
    await pushArtifact(store, repo, '2.0.0', 'after expiry');
    expect(w.standin.calls.filter((c) => c.op === 'GetAuthorizationToken')).toHaveLength(2);
    expect((await store.listTags(repo)).sort()).toEqual(['1.0.0', '2.0.0']);
  });
});

describe('ECR store options', () => {
  it('refuses a KMS key without KMS encryption before touching AWS', async () => {
    const err = await failure(ecrStore({ encryption: 'AES256', kmsKey: 'alias/x' }));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('--ecr-kms-key needs --ecr-encryption KMS');
  });
});
