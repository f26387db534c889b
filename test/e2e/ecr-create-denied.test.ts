import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A least-privilege CI role may push to ECR repositories made beforehand (Terraform, an admin) but not create any.
 * IAM answers CreateRepository AccessDeniedException before ECR looks whether the repository exists (IAM is evaluated
 * first), so every pack failed "AWS denied ecr:CreateRepository" (exit 1) although nothing needed creating, and the
 * hint only said to grant it. Now a denied CreateRepository is followed by the registry's word on the repository
 * (a manifest read: 404 NAME_UNKNOWN = missing, ecr:BatchGetImage, which the push's own look-up needs anyway): there,
 * the push goes on; missing, the denial stays the error, with a hint naming both ways out.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-create-denied-');
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  return { ...(await startEcrWorld(stack, 'testAKIDCREATEDENIED')), root, pack };
});

const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' });
const ecrArgs = (base: string) => ['--registry', `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];
const tagsIn = async (repo: string): Promise<string[]> => {
  const res = await fetch(`${w.registry.url}/v2/${repo}/tags/list`);
  return res.status === 404 ? [] : (((await res.json()) as { tags: string[] | null }).tags ?? []);
};

/** A repository made beforehand, as Terraform or an admin makes it. */
function made(name: string): void {
  w.standin.repositories.set(name, { name, registryId: w.standin.accountId, createdAt: new Date(), imageTagMutability: 'MUTABLE', encryptionType: 'AES256', tags: {} });
}

describe('ECR: a role that may push but not create repositories', () => {
  it('repositories made beforehand: published, exit 0 (was: "AWS denied ecr:CreateRepository", exit 1); the re-run is unchanged', async () => {
    made('pre/spectro-packs/archive');
    made('pre/spectro-packs/archive/hello');
    w.standin.deny('CreateRepository');
    try {
      const push = await runCli(['push', w.pack, ...ecrArgs('pre')], { env: env() });
      expect(push.code, push.stdout + push.stderr).toBe(0);
      expect(push.stdout).toContain('published');
      expect(push.stderr).not.toContain('denied');
      expect(await tagsIn('pre/spectro-packs/archive/hello')).toEqual(['1.0.0']);
      const again = await runCli(['push', w.pack, ...ecrArgs('pre')], { env: env() });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain('unchanged');
    } finally {
      w.standin.allow('CreateRepository');
    }
  });

  it('a repository that is missing: the denial is the error, exit 1, the hint names both ways out, nothing pushed', async () => {
    made('half/spectro-packs/archive');
    w.standin.deny('CreateRepository');
    try {
      const push = await runCli(['push', w.pack, ...ecrArgs('half')], { env: env() });
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toMatch(/FAILED hello:1\.0\.0: AWS denied ecr:CreateRepository for \S+: User: arn:aws:iam::\d+:user\/packpub-test is not authorized/);
      expect(push.stderr).toContain('hint: grant ecr:CreateRepository to the IAM identity packpub runs as, or create the repository beforehand (aws ecr create-repository --repository-name half/spectro-packs/archive/hello)');
    } finally {
      w.standin.allow('CreateRepository');
    }
    expect(w.standin.repositories.has('half/spectro-packs/archive/hello')).toBe(false);
    expect(w.proxy.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/v2/half/spectro-packs/archive/hello/'))).toBe(false);
  });
});
