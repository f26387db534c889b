import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrPackWorld } from '../support/ecr-proxy.js';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { writePack } from '../support/packs.js';

/*
 * A least-privilege CI role may push to ECR repositories made beforehand (Terraform, an admin) but not create any.
 * IAM answers CreateRepository AccessDeniedException before ECR looks whether the repository exists (IAM is evaluated
 * first), so every pack failed "AWS denied ecr:CreateRepository" (exit 1) although nothing needed creating, and the
 * hint only said to grant it. Now a denied CreateRepository is followed by the registry's word on the repository
 * (a manifest read: 404 NAME_UNKNOWN = missing, ecr:BatchGetImage, which the push's own look-up needs anyway): there,
 * the push goes on; missing, the denial stays the error, with a hint naming both ways out.
 */

const w = setup((stack) => startEcrPackWorld(stack, 'testAKIDCREATEDENIED'));
const env = () => w.env();
const ecrArgs = (base: string) => w.args(base);
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

describe('ECR: CreateRepository refused for a quota or the resource tags', () => {
  it('LimitExceededException and the tag exceptions are said with what to do (was: "ECR API call ... failed", hint --debug); nothing pushed', async () => {
    const cases: [string, string, string, string[], string, number][] = [
      ['quota', 'LimitExceededException', 'The operation did not succeed because it would have exceeded a service limit for your account.', [], 'a service quota of this account and region is reached (LimitExceededException)', 1],
      ['tags', 'InvalidTagParameterException', 'An invalid parameter has been specified. Tag keys can have a maximum character length of 128 characters, and tag values can have a maximum length of 256 characters.', ['--ecr-tag', 'team=packs'], 'ECR refused the resource tags for ecr:CreateRepository (InvalidTagParameterException)', 1],
    ];
    for (const [base, type, message, extra, said, code] of cases) {
      w.standin.fail('CreateRepository', type, message);
      try {
        // One SDK attempt (AWS_MAX_ATTEMPTS, the SDK's own setting): it retries LimitExceededException as throttling,
        // ~1.5 s of real backoff before the same answer, which is what is checked.
        const push = await runCli(['push', w.pack, ...ecrArgs(base), ...extra], { env: { ...env(), AWS_MAX_ATTEMPTS: '1' } });
        expect(push.code, push.stdout + push.stderr).toBe(code);
        expect(push.stderr).toContain(said);
        expect(push.stderr).not.toContain('run again with --debug');
      } finally {
        w.standin.allow('CreateRepository');
      }
      expect([...w.standin.repositories.keys()].filter((r) => r.startsWith(`${base}/`))).toEqual([]);
      expect(w.proxy.requests.some((r) => r.method === 'PUT' && r.path.startsWith(`/v2/${base}/`))).toBe(false);
    }
  });

  it('a repository at its "Images per repository" quota: said as the quota, exit 1, the version not published (was: "credentials rejected or no push permission", a permissions hint)', async () => {
    const next = await writePack(join(w.root, 'hello-1.0.1'), { name: 'hello', version: '1.0.1' });
    const first = await runCli(['push', w.pack, ...ecrArgs('full')], { env: env() });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    w.standin.maxImagesPerRepository = 1;
    try {
      const push = await runCli(['push', next, ...ecrArgs('full')], { env: env() });
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toContain(`FAILED hello:1.0.1: ${w.host} refused a new image in full/spectro-packs/archive/hello: the repository already holds the maximum number of images, 1 (the "Images per repository" service quota)`);
      expect(push.stderr).toContain('hint: delete images no longer needed from it (packpub delete, or a lifecycle policy that expires old ones), or ask for a higher "Images per repository" quota in Service Quotas; a retry does not help');
      expect(push.stderr).not.toContain('credentials rejected');
      // The proxy refused the manifest PUT, as ECR does.
      expect(w.proxy.requests.some((r) => r.method === 'PUT' && r.path === '/v2/full/spectro-packs/archive/hello/manifests/1.0.1' && r.status === 403)).toBe(true);
    } finally {
      w.standin.maxImagesPerRepository = undefined;
    }
    expect(await tagsIn('full/spectro-packs/archive/hello')).toEqual(['1.0.0']);
  });

  it('tags ECR would refuse are a usage error before any call (exit 2)', async () => {
    const before = w.standin.calls.length;
    const reserved = await runCli(['push', w.pack, ...ecrArgs('reserved'), '--ecr-tag', 'aws:team=packs'], { env: env() });
    expect(reserved.code, reserved.stdout + reserved.stderr).toBe(2);
    expect(reserved.stderr).toContain('--ecr-tag "aws:team" is not a tag ECR takes');
    const many = await runCli(['push', w.pack, ...ecrArgs('many'), ...Array.from({ length: 51 }, (_, i) => ['--ecr-tag', `k${i}=v`]).flat()], { env: env() });
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('--ecr-tag given 51 tags: ECR takes at most 50 on a repository');
    expect(w.standin.calls.length).toBe(before);
  });
});

describe('ECR: the registry refuses an upload or a manifest for a missing IAM action', () => {
  it('says which action AWS denied, with the IAM hint (was: "credentials rejected or no push permission ..., or run packpub login")', async () => {
    for (const action of ['InitiateLayerUpload', 'PutImage', 'BatchGetImage', 'BatchCheckLayerAvailability', 'UploadLayerPart', 'CompleteLayerUpload']) {
      const base = `iam-${action.toLowerCase()}`;
      w.standin.deny(action);
      try {
        const push = await runCli(['push', w.pack, ...ecrArgs(base)], { env: env() });
        expect(push.code, push.stdout + push.stderr).toBe(1);
        // A HEAD's 403 has no body to quote: BatchGetImage is named from the request, with the other cause it may have.
        // (BatchCheckLayerAvailability, the blob HEAD every upload asks first, read "credentials rejected or no push
        // permission ..., or run packpub login".)
        const headed = { BatchGetImage: 'read manifests', BatchCheckLayerAvailability: 'check for blobs' }[action];
        const quoted = `FAILED hello:1\\.0\\.0: AWS denied ecr:${action} for ${base}/spectro-packs/archive\\S* on \\S+: User: arn:aws:iam::\\d+:user/packpub-test is not authorized`;
        const fromHead = `FAILED hello:1\\.0\\.0: ECR refused to ${headed} of ${base}/spectro-packs/archive\\S* on \\S+ \\(403 to a HEAD, which carries no reason\\): ecr:${action} is not allowed to this identity, or its token has expired`;
        // The read of the tag right before the write is a HEAD (a tag read before the uploads) or a GET, whose 403 quotes
        // AWS (a tag not read yet: push.ts, `unread`); which one depends on the run's timing (red once in a whole run),
        // and either names the action.
        const said = headed === undefined ? quoted : action === 'BatchGetImage' ? `(${fromHead}|${quoted})` : fromHead;
        expect(push.stderr).toMatch(new RegExp(said));
        expect(push.stderr).toContain(`hint: grant ecr:${action} on the repository to the IAM identity packpub runs as`);
        expect(push.stderr).not.toContain('packpub login');
      } finally {
        w.standin.allow(action);
      }
      expect(await tagsIn(`${base}/spectro-packs/archive/hello`)).toEqual([]);
    }
  });

  it('an explicit Deny (a repository policy, an SCP) or a repository policy without the Allow: the hint says where, not "grant" (granting does not help)', async () => {
    const cases: Array<[string, string, string, string]> = [
      ['PutImage', 'deny-repo', 'with an explicit deny in a resource-based policy', "an explicit Deny refuses ecr:PutImage to this identity, and no Allow anywhere overrides a Deny; it sits in the repository's policy (aws ecr get-repository-policy --repository-name deny-repo/spectro-packs/archive"],
      ['InitiateLayerUpload', 'deny-scp', 'with an explicit deny in a service control policy', 'it sits in a service control policy of your AWS Organization: only its administrators can change it'],
      ['PutImage', 'cross-acct', 'because no resource-based policy allows the ecr:PutImage action', "no statement of the repository's policy allows ecr:PutImage to this identity: a repository of another AWS account (cross-account push) needs its owner to allow it there (aws ecr set-repository-policy --repository-name cross-acct/spectro-packs/archive"],
    ];
    for (const [action, base, why, hint] of cases) {
      w.standin.deny(action, why);
      try {
        const push = await runCli(['push', w.pack, ...ecrArgs(base)], { env: env() });
        expect(push.code, push.stdout + push.stderr).toBe(1);
        expect(push.stderr).toContain(`AWS denied ecr:${action} for ${base}/spectro-packs/archive`);
        expect(push.stderr).toContain(hint);
        expect(push.stderr).toMatch(/hint: (an explicit Deny refuses|no statement of the repository's policy allows) ecr:/);
        expect(push.stderr).not.toContain(`hint: grant ecr:${action}`);
      } finally {
        w.standin.allow(action);
      }
      expect(await tagsIn(`${base}/spectro-packs/archive/hello`)).toEqual([]);
    }
  });
});

// An IAM identity that may push but not read everything back (ECR User Guide: a blob download needs
// ecr:GetDownloadUrlForLayer, a tag list ecr:ListImages): pull, inspect and list said "credentials rejected or no pull
// permission on <repo>: ... (credentials from ECR), or run packpub login", and there is no login for ECR.
describe('ECR: reads refused for a missing IAM action', () => {
  it('pull (ecr:GetDownloadUrlForLayer) and list (ecr:ListImages) name the action, exit 1, nothing written', async () => {
    const push = await runCli(['push', w.pack, ...ecrArgs('rd')], { env: env() });
    expect(push.code, push.stderr).toBe(0);
    const cases: Array<[string, string[]]> = [
      ['GetDownloadUrlForLayer', ['pull', 'hello:1.0.0', '-o', join(w.root, 'out')]],
      ['ListImages', ['list']],
      ['ListImages', ['list', 'hello']],
    ];
    for (const [action, args] of cases) {
      w.standin.deny(action);
      try {
        const run = await runCli([...args, ...ecrArgs('rd')], { env: env() });
        expect(run.code, run.stdout + run.stderr).toBe(1);
        expect(run.stderr).toContain(`error: AWS denied ecr:${action} for rd/spectro-packs/archive/hello on ${w.host}: User: arn:aws:iam::`);
        expect(run.stderr).toContain(`hint: grant ecr:${action} on the repository to the IAM identity packpub runs as (its IAM policy, or the repository's policy), then run again`);
        expect(run.stderr).not.toContain('packpub login');
      } finally {
        w.standin.allow(action);
      }
    }
    // The refused pull left nothing in the output folder that stops a pull once the action is granted.
    const pulled = await runCli(['pull', 'hello:1.0.0', ...ecrArgs('rd'), '-o', join(w.root, 'out')], { env: env() });
    expect(pulled.code, pulled.stderr).toBe(0);
  });
});
