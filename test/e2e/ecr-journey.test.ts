import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { boundedRun, expectRun, runBin, runCli } from '../support/cli.js';
import { listenOnLoopback } from '../support/loopback.js';
import { treeOf } from '../support/files.js';
import { withAwsEnvironment } from '../support/ecr-standin.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * The ECR journey of the Palette docs as one command: `packpub push <pack> --registry <acct>.dkr.ecr.<region>
 * .amazonaws.com/<base>` creates both repositories and pushes; then list, inspect and pull. The real ECR
 * host name is kept and mapped to the loopback stand-ins with --resolve; the ECR API goes to the stand-in.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-journey-');
  const pack = await writePack(join(root, 'hello-universe-1.0.0'), { name: 'hello-universe', version: '1.0.0' });
  return { ...(await startEcrWorld(stack, 'testAKIDJOURNEY')), root, pack };
});

function ecrArgs(base: string): string[] {
  return ['--registry', `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];
}
const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' });

describe('ECR journey through the CLI', () => {
  it('push creates both repositories and publishes; list, inspect and pull read it back', async () => {
    const push = await runCli(['push', w.pack, ...ecrArgs('spectro-oci-registry')], { env: env() });
    expect(push.stderr).not.toContain('error');
    expect(push.code).toBe(0);
    expect([...w.standin.repositories.keys()].sort()).toEqual([
      'spectro-oci-registry/spectro-packs/archive',
      'spectro-oci-registry/spectro-packs/archive/hello-universe',
    ]);
    expect(w.proxy.requests.some((r) => r.path === '/v2/_catalog')).toBe(false);
    // ECR is asked before each blob is sent, the new version's layer too: it is not known to take a second
    // upload of a layer it holds (a run resuming an interrupted one would fail on it).
    const blobChecks = w.proxy.requests.filter((r) => r.method === 'HEAD' && /\/hello-universe\/blobs\/sha256:/.test(r.path));
    expect(blobChecks.map((r) => r.status)).toEqual([404, 404]);

    const list = await runCli(['list', ...ecrArgs('spectro-oci-registry'), '--json'], { env: env() });
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { packs: { name: string; versions: { version: string }[] }[] };
    expect(listed.packs.map((p) => [p.name, p.versions.map((v) => v.version)])).toEqual([['hello-universe', ['1.0.0']]]);

    const inspect = await runCli(['inspect', 'hello-universe:1.0.0', ...ecrArgs('spectro-oci-registry'), '--json'], { env: env() });
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('"name": "hello-universe"');

    const out = join(w.root, 'pulled');
    w.proxy.s3Requests.length = 0;
    const pull = await runCli(['pull', 'hello-universe:1.0.0', ...ecrArgs('spectro-oci-registry'), '-o', out], { env: env() });
    expect(pull.code).toBe(0);
    expect(await treeOf(out)).toEqual(await treeOf(w.pack));
    // The layer came from "S3", without the registry's Authorization header.
    expect(w.proxy.s3Requests.length).toBeGreaterThan(0);
    expect(w.proxy.s3Requests.every((r) => !r.hadAuthorization && r.status === 200)).toBe(true);
  });

  it('a re-push is a no-op, also into an immutable repository', async () => {
    const args = [...ecrArgs('immutable-base'), '--ecr-tag-mutability', 'IMMUTABLE'];
    expect((await runCli(['push', w.pack, ...args], { env: env() })).code).toBe(0);
    expect(w.standin.repositories.get('immutable-base/spectro-packs/archive/hello-universe')?.imageTagMutability).toBe('IMMUTABLE');
    const again = await runCli(['push', w.pack, ...args], { env: env() });
    expect(again.code).toBe(0);
    expect(`${again.stdout}${again.stderr}`).toMatch(/already published|unchanged/i);

    // Other content, --force, with or without the flag (the repository is immutable either way): the dry run plans
    // the conflict the real run ends in (was: planned "overwrite", exit 0, and the real run exit 1).
    const changed = await writePack(join(w.root, 'changed-immutable'), { name: 'hello-universe', version: '1.0.0', files: { 'README.md': '# changed\n' } });
    const repo = 'immutable-base/spectro-packs/archive/hello-universe';
    for (const flags of [args, ecrArgs('immutable-base')]) {
      const planned = await runCli(['push', changed, ...flags, '--force', '--dry-run', '--json'], { env: env() });
      expect(planned.code, planned.stderr).toBe(0);
      const plan = (JSON.parse(planned.stdout) as { results: Array<{ status: string; plan?: string; digest?: string; warnings?: { message: string }[] }> }).results[0];
      expect(plan).toMatchObject({ status: 'planned', plan: 'conflict' });
      expect(plan?.warnings?.[0]?.message).toBe(`a real run would refuse this pack (CONFLICT, exit 1): ${w.host}/${repo}:1.0.0 is immutable and already holds a different artifact (${plan?.digest ?? ''})`);
    }
    // The real run asks the same before uploading anything (was: the layer uploaded, then ECR's 400 TAG_INVALID).
    const sent = w.proxy.requests.length;
    const forced = await runCli(['push', changed, ...ecrArgs('immutable-base'), '--force'], { env: env() });
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain(`${w.host}/${repo}:1.0.0 is immutable and already holds a different artifact`);
    expect(w.proxy.requests.slice(sent).filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
  });

  it('--registry-type ecr on a VPC endpoint\'s own DNS name: refused before any request, the hint names the registry\'s name with --resolve', async () => {
    const sent = w.proxy.requests.length;
    const run = await runCli(['list', '--registry', 'vpce-0a1b2c3d4e5f67890-abcdefgh.dkr.ecr.us-east-1.vpce.amazonaws.com/base', '--registry-type', 'ecr'], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: vpce-0a1b2c3d4e5f67890-abcdefgh.dkr.ecr.us-east-1.vpce.amazonaws.com is not an AWS ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com)');
    // Was only "drop --registry-type ecr for other registries", for an ECR that is one.
    expect(run.stderr).toContain('is given by its own, <account>.dkr.ecr.<region>.amazonaws.com, with --resolve <that name>:443:<address of the endpoint>');
    expect(w.proxy.requests.slice(sent)).toEqual([]);
  });

  it('list without ecr:DescribeRepositories: the denial says the pack can be named, and naming it lists it', async () => {
    expect((await runCli(['push', w.pack, ...ecrArgs('no-describe')], { env: env() })).code).toBe(0);
    w.standin.deny('DescribeRepositories');
    try {
      const all = await runCli(['list', ...ecrArgs('no-describe')], { env: env() });
      expect(all.code).toBe(1);
      expect(all.stderr).toContain(`error: AWS denied ecr:DescribeRepositories for ${w.host}`);
      // Was: only "grant ecr:DescribeRepositories", to a role that can read the pack by name.
      expect(all.stderr).toContain('; or name the pack: packpub list <name> (copy: <name> --all) reads its tag list without it');
      const named = await runCli(['list', 'hello-universe', ...ecrArgs('no-describe')], { env: env() });
      expect(named.code, named.stderr).toBe(0);
      expect(named.stdout).toMatch(/hello-universe\s+1\.0\.0/);
    } finally {
      w.standin.allow('DescribeRepositories');
    }
  });

  it('tag --force onto a tag an immutable repository holds with other content: refused before any tag is written', async () => {
    const args = [...ecrArgs('immutable-tags'), '--ecr-tag-mutability', 'IMMUTABLE'];
    const other = await writePack(join(w.root, 'immutable-tags-1.1.0'), { name: 'hello-universe', version: '1.1.0' });
    expect((await runCli(['push', w.pack, other, ...args], { env: env() })).code).toBe(0);
    expect((await runCli(['tag', 'hello-universe:1.0.0', 'stable', ...ecrArgs('immutable-tags')], { env: env() })).code).toBe(0);
    const repo = 'immutable-tags/spectro-packs/archive/hello-universe';
    const tagsHeld = async () => ((await (await fetch(`${w.registry.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] }).tags.sort();
    const sent = w.proxy.requests.length;
    const run = await runCli(['tag', 'hello-universe:1.1.0', 'newtag', 'stable', '--force', ...ecrArgs('immutable-tags')], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: ${w.host}/${repo}:stable is immutable and already holds a different artifact`);
    // Was: newtag written ("tagged as newtag"), then ECR's refusal of stable: tagged in part, exit 1.
    expect(run.stdout).not.toContain('tagged as');
    expect(await tagsHeld()).toEqual(['1.0.0', '1.1.0', 'stable']);
    expect(w.proxy.requests.slice(sent).filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
  });

  it('--ecr-tag-mutability IMMUTABLE on a repository that exists with MUTABLE tags: a version is never replaced, even with --force', async () => {
    const repo = 'mutable-base/spectro-packs/archive/hello-universe';
    expect((await runCli(['push', w.pack, ...ecrArgs('mutable-base')], { env: env() })).code).toBe(0);
    expect(w.standin.repositories.get(repo)?.imageTagMutability).toBe('MUTABLE');
    const digestOf = async (): Promise<string> => {
      const run = await runCli(['inspect', 'hello-universe:1.0.0', ...ecrArgs('mutable-base'), '--json'], { env: env() });
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(run.stdout) as { manifest: { digest: string } }).manifest.digest;
    };
    const before = await digestOf();
    const args = [...ecrArgs('mutable-base'), '--ecr-tag-mutability', 'IMMUTABLE'];

    // The same content: unchanged, exit 0 (nothing to replace).
    const same = await runCli(['push', w.pack, ...args], { env: env() });
    expect(same.code, same.stderr).toBe(0);

    // Other content under the same version, --force: refused as ECR refuses it in an immutable repository.
    const changed = await writePack(join(w.root, 'changed'), { name: 'hello-universe', version: '1.0.0', files: { 'README.md': '# changed\n' } });
    // The dry run says so too: a planned conflict (exit 0, as any planned conflict), not an overwrite.
    const planned = await runCli(['push', changed, ...args, '--force', '--dry-run', '--json'], { env: env() });
    expect(planned.code, planned.stderr).toBe(0);
    const plan = (JSON.parse(planned.stdout) as { results: Array<{ status: string; plan?: string; digest?: string; warnings?: { message: string }[] }> }).results[0];
    expect(plan).toMatchObject({ status: 'planned', plan: 'conflict', digest: before });
    expect(plan?.warnings?.[0]?.message).toContain(
      `a real run would refuse this pack (CONFLICT, exit 1): ${w.host}/${repo}:1.0.0 already holds a different artifact (${before}); --ecr-tag-mutability IMMUTABLE was asked`,
    );
    expect(await digestOf()).toBe(before);
    const forced = await runCli(['push', changed, ...args, '--force'], { env: env() });
    expect(forced.code).toBe(1);
    expect(forced.stdout + forced.stderr).toContain(
      `already holds a different artifact (${before}); --ecr-tag-mutability IMMUTABLE was asked, but the ECR repository existed with MUTABLE tags, so replacing it is refused`,
    );
    expect(forced.stdout + forced.stderr).toContain(`aws ecr put-image-tag-mutability --repository-name ${repo} --image-tag-mutability IMMUTABLE`);
    expect(await digestOf()).toBe(before);
    // The repository itself is left as it was.
    expect(w.standin.repositories.get(repo)?.imageTagMutability).toBe('MUTABLE');

    // Without the flag, --force replaces the version, as documented (and planned so).
    const plannedOverwrite = await runCli(['push', changed, ...ecrArgs('mutable-base'), '--force', '--dry-run', '--json'], { env: env() });
    expect((JSON.parse(plannedOverwrite.stdout) as { results: Array<{ plan?: string }> }).results[0]?.plan).toBe('overwrite');
    const replaced = await runCli(['push', changed, ...ecrArgs('mutable-base'), '--force'], { env: env() });
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await digestOf()).not.toBe(before);
  });

  it('with --no-create-repositories, a missing repository says how to create it', async () => {
    const run = await runCli(['push', w.pack, ...ecrArgs('not-created'), '--no-create-repositories'], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('does not exist');
    expect(w.standin.repositories.has('not-created/spectro-packs/archive/hello-universe')).toBe(false);
  });

  it('without AWS credentials, says how to provide them', async () => {
    const keep = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
    delete process.env['AWS_ACCESS_KEY_ID'];
    delete process.env['AWS_SECRET_ACCESS_KEY'];
    try {
      const run = await runCli(['push', w.pack, ...ecrArgs('no-creds')], { env: env() });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('no AWS credentials');
      expect(run.stderr).toContain('aws sso login');
    } finally {
      process.env['AWS_ACCESS_KEY_ID'] = keep.id;
      process.env['AWS_SECRET_ACCESS_KEY'] = keep.secret;
    }
  });
});

describe('ECR API faults during a push: one clear error, exit 1, nothing published', () => {
  const repos = (base: string) => [...w.standin.repositories.keys()].filter((r) => r.startsWith(`${base}/`));

  it('throttling, a KMS refusal, and an API that stalls (bounded by --request-timeout)', async () => {
    const cases: [string, () => void, string[], RegExp][] = [
      ['throttled', () => w.standin.fail('CreateRepository', 'ThrottlingException', 'Rate exceeded'), [], /FAILED hello-universe:1.0.0: AWS throttled ecr:CreateRepository for \S+ \(ThrottlingException\), after the SDK's retries/],
      ['kms', () => w.standin.fail('CreateRepository', 'KmsException', 'User is not authorized to perform kms:CreateGrant on key alias/packs'), ['--ecr-encryption', 'KMS', '--ecr-kms-key', 'alias/packs'], /FAILED hello-universe:1.0.0: AWS KMS refused ecr:CreateRepository for \S+ \(KmsException\): User is not authorized to perform kms:CreateGrant/],
      ['stalled', () => void (w.standin.stall = { op: 'CreateRepository', mode: 'hang' }), ['--request-timeout', '0.5'], /FAILED hello-universe:1.0.0: the ECR API at http:\/\/127\.0\.0\.1:\d+ did not answer ecr:CreateRepository for \S+: no complete answer within 0\.5 s/],
    ];
    for (const [base, inject, extra, said] of cases) {
      inject();
      const started = Date.now();
      try {
        // One SDK attempt per call (AWS_MAX_ATTEMPTS, the SDK's own setting): the same message, no backoff to wait.
        const push = await runCli(['push', w.pack, ...ecrArgs(base), ...extra], { env: { ...env(), AWS_MAX_ATTEMPTS: '1' } });
        expect(push.code, base).toBe(1);
        expect(push.stderr).toMatch(said);
        expect(Date.now() - started).toBeLessThan(30_000);
      } finally {
        w.standin.allow('CreateRepository');
        w.standin.stall = undefined;
      }
      expect(repos(base)).toEqual([]);
      expect(w.proxy.requests.some((r) => r.method === 'PUT' && r.path.startsWith(`/v2/${base}/`))).toBe(false);
    }
  });
});

describe('--aws-role-arn with an STS that never answers AssumeRole', () => {
  it('the packpub process ends at --request-timeout: exit 1, one clear line naming STS and the role, no secret, nothing published', async () => {
    const role = 'arn:aws:iam::123456789012:role/packpub-publisher';
    w.standin.stall = { op: 'sts:AssumeRole', mode: 'hang' };
    w.standin.calls.length = 0;
    const started = Date.now();
    try {
      const aws = { AWS_ACCESS_KEY_ID: 'testAKIDJOURNEY', AWS_SECRET_ACCESS_KEY: 'testAKIDJOURNEY-secret-not-real', AWS_ENDPOINT_URL_STS: w.standin.url };
      const push = await runBin(['push', w.pack, ...ecrArgs('sts-stalled'), '--aws-role-arn', role, '--request-timeout', '0.5'], { env: { ...env(), ...process.env, ...aws } });
      expect(push.code, push.stderr).toBe(1);
      expect(push.stderr).toContain(`STS at ${w.standin.url} did not answer sts:AssumeRole for role ${role}: no complete answer within 0.5 s`);
      expect(push.stderr).toContain('raise --request-timeout');
      expect(push.stderr + push.stdout).not.toContain('secret-not-real');
      // The process itself ended (no STS socket kept it alive) well before a second timeout per SDK attempt.
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      w.standin.stall = undefined;
    }
    expect([...w.standin.repositories.keys()].filter((r) => r.startsWith('sts-stalled/'))).toEqual([]);
    expect(w.standin.calls.some((c) => c.op === 'GetAuthorizationToken' || c.op === 'CreateRepository')).toBe(false);
  });
});

describe('web identity (GitHub OIDC, EKS) whose token file cannot be read', () => {
  // An EKS pod without its projected service account token, a CI job whose OIDC step did not run: the SDK's read of
  // the file failed, and packpub said "ECR API call for ecr:... failed (Error): ENOENT ...", hint "run again with --debug".
  it('exit 1 naming the file and the credentials, not the ECR API; nothing asked of ECR, nothing published', async () => {
    w.standin.calls.length = 0;
    const missing = join(w.root, 'no-such-web-identity-token');
    const aws = { AWS_WEB_IDENTITY_TOKEN_FILE: missing, AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/ci', AWS_REGION: 'us-east-1' };
    const push = await withAwsEnvironment(aws, () => boundedRun(runCli(['push', w.pack, ...ecrArgs('oidc-missing'), '--retry-attempts', '1'], { env: env() }), 45_000));
    expectRun(push, { code: 1, stderr: [`were not resolved: cannot read ${missing} (AWS_WEB_IDENTITY_TOKEN_FILE, ENOENT)`, "check the service account's projected token"] });
    expect(push.stderr).toMatch(/FAILED hello-universe:1\.0\.0: the AWS credentials for ecr:(CreateRepository|GetAuthorizationToken) \(/);
    expect(push.stderr).not.toContain('ECR API call');
    expect(w.standin.calls).toEqual([]);
    expect(w.proxy.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/v2/oidc-missing/'))).toBe(false);
  });
});

describe('web identity (GitHub OIDC, EKS) through an STS that never answers', () => {
  // The ECR call was bounded, but its error blamed the ECR API ("the ECR API at ... did not answer ecr:GetAuthorizationToken
  // ... check --ecr-endpoint"), which was never asked: the SDK was still resolving its credentials.
  it('exit 1 at --request-timeout naming the credentials, not the ECR API; nothing asked of ECR, nothing published', async () => {
    let asked = 0;
    const stalls = await listenOnLoopback(createServer(() => void asked++));
    try {
      await writeFile(join(w.root, 'web-identity-token'), 'eyJ.not-a-real.web-identity-token');
      w.standin.calls.length = 0;
      const aws = { AWS_ENDPOINT_URL_STS: stalls.url, AWS_WEB_IDENTITY_TOKEN_FILE: join(w.root, 'web-identity-token'), AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/ci', AWS_REGION: 'us-east-1' };
      const push = await withAwsEnvironment(aws, () => boundedRun(runCli(['push', w.pack, ...ecrArgs('oidc-stalled'), '--request-timeout', '1', '--retry-attempts', '1'], { env: env() }), 45_000));
      expectRun(push, { code: 1, stderr: ["were not resolved: no complete answer within 1 s from the SDK's credential chain", 'STS for web identity'] });
      // Whichever call waited first: the repository's creation or the registry token.
      expect(push.stderr).toMatch(/FAILED hello-universe:1\.0\.0: the AWS credentials for ecr:(CreateRepository|GetAuthorizationToken) \(/);
      expect(push.stderr).not.toContain('the ECR API at');
      expect(asked).toBeGreaterThan(0);
    } finally {
      await stalls.close();
    }
    expect(w.standin.calls).toEqual([]);
    expect(w.proxy.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/v2/oidc-stalled/'))).toBe(false);
  });
});

