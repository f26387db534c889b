import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedRun, expectRun, runCli } from '../support/cli.js';
import { listenOnLoopback } from '../support/loopback.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { startEcrPublicWorld } from '../support/ecr-public-standin.js';
import { useFakeAwsEnvironment, withAwsEnvironment } from '../support/ecr-standin.js';

/*
 * Amazon ECR Public (public.ecr.aws/<registry alias>/<repository>) as its user guide documents it: a repository must
 * be created (ECR Public API CreateRepository, us-east-1 only) before a push, which into a missing one answers 404
 * NAME_UNKNOWN "The repository with name '<repo>' does not exist in the registry with id '<id>'"; the password is a
 * token of the ECR Public API (user AWS). The stand-ins: an in-memory registry under the real host name (--resolve),
 * answering as ECR Public for repositories not created, and the ECR Public API (test/support/ecr-public-standin.ts),
 * whose CreateRepository makes them, called by the real @aws-sdk/client-ecr-public. packpub took public.ecr.aws for a
 * generic registry (the push failed "... packpub creates it unless --no-create-repositories"; a dry run planned "new",
 * exit 0), then named missing repositories without creating them; now it creates them in its identity's own registry.
 */

const TOKEN = 'ecr-public-token-not-real-0123';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-public-');
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  return { root, pack, ...(await startEcrPublicWorld(stack, TOKEN)) };
});
const env = (password = TOKEN) => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), PACKPUB_USERNAME: 'AWS', PACKPUB_PASSWORD: password });
/** For runs that create repositories: the ECR Public API stand-in (AWS credentials: useFakeAwsEnvironment, in process.env where the SDK reads them). */
const awsEnv = () => ({ ...env(), AWS_ENDPOINT_URL_ECR_PUBLIC: w.api.url });
const target = (base: string) => ['--registry', base === '' ? w.host : `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http'];
const writes = (since: number) => w.registry.requests.slice(since).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');

describe('ECR Public (public.ecr.aws)', () => {
  it('a base path without the registry alias, or --registry-type ecr: a usage error before any request (exit 2)', async () => {
    const since = w.registry.requests.length;
    const run = await runCli(['push', w.pack, ...target('')], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain('public.ecr.aws needs the registry alias as the first segment of the base path');
    expect(run.stderr).toContain('--registry public.ecr.aws/<alias>[/<base path>]');
    expect(w.registry.requests.slice(since)).toEqual([]);

    // --registry-type ecr there: ECR Public is named (was: only "not an AWS ECR registry host").
    const typed = await runCli(['push', w.pack, ...target('myalias/packs'), '--registry-type', 'ecr'], { env: env() });
    expect(typed.code, typed.stdout + typed.stderr).toBe(2);
    expect(typed.stderr).toContain(`${w.host} is not an AWS ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com): it is ECR Public, which packpub recognises by its host name`);
    expect(w.registry.requests.slice(since)).toEqual([]);
  });

  it('--no-create-repositories, repositories not created: push and --dry-run fail naming the repository and the command, nothing stored (was: "packpub creates it unless --no-create-repositories"; dry run exit 0)', async () => {
    const since = w.registry.requests.length;
    const said = (repo: string) => `ECR Public repository ${repo} does not exist in registry public.ecr.aws/myalias: ECR Public creates no repository on push, and --no-create-repositories was given`;
    // The dry run asks the registry (a manifest read: NAME_UNKNOWN), the base repository first; so does the real
    // run, by its first write (the base's {} config upload, refused): each names one repository, the hint both.
    const dry = await runCli(['push', w.pack, ...target('myalias/packs'), '--no-create-repositories', '--dry-run'], { env: env() });
    expect(dry.code, dry.stdout + dry.stderr).toBe(1);
    expect(dry.stderr).toContain(said('packs/spectro-packs/archive'));
    expect(writes(since)).toEqual([]);
    const run = await runCli(['push', w.pack, ...target('myalias/packs'), '--no-create-repositories'], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain(said('packs/spectro-packs/archive'));
    expect(run.stderr).toContain('hint: create it: aws ecr-public create-repository --repository-name packs/spectro-packs/archive --region us-east-1, then run again (packpub publishes to packs/spectro-packs/archive and to packs/spectro-packs/archive/<pack name> for each pack: each must exist; without --no-create-repositories packpub creates them, given AWS credentials allowed ecr-public:DescribeRegistries and ecr-public:CreateRepository)');

    // The base made, the pack's repository not yet: said for it, before its layer is sent.
    w.created.add('packs/spectro-packs/archive');
    const pack = await runCli(['push', w.pack, ...target('myalias/packs'), '--no-create-repositories'], { env: env() });
    expect(pack.code, pack.stdout + pack.stderr).toBe(1);
    expect(pack.stderr).toContain(said('packs/spectro-packs/archive/hello'));
    // Its writes were refused (404 NAME_UNKNOWN) from the first: nothing stored in it.
    const intoPack = writes(since).filter((r) => r.path.startsWith('/v2/myalias/packs/spectro-packs/archive/hello/'));
    expect(intoPack.length).toBeGreaterThan(0);
    expect(intoPack.every((r) => r.status === 404)).toBe(true);
    // Creation off: the ECR Public API was never called.
    expect(w.api.calls).toEqual([]);
  });

  it('repositories not created: packpub creates both in its own registry (ECR Public API, us-east-1 whatever AWS_REGION says) and publishes, exit 0; the dry run plans it, creating nothing (was: exit 1, "packpub does not create them there")', async () => {
    const restore = useFakeAwsEnvironment('test-ecr-public');
    process.env['AWS_REGION'] = 'eu-west-1';
    try {
      // The dry run reads only: the alias is checked (DescribeRegistries), nothing created or written.
      const since = w.registry.requests.length;
      const dry = await runCli(['push', w.pack, ...target('myalias/made'), '--dry-run'], { env: awsEnv() });
      expect(dry.code, dry.stdout + dry.stderr).toBe(0);
      expect(w.api.calls.map((c) => c.op)).toEqual(['DescribeRegistries']);
      expect(writes(since)).toEqual([]);
      w.api.calls.length = 0;

      const run = await runCli(['push', w.pack, ...target('myalias/made')], { env: awsEnv() });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('published');
      expect([...w.created].filter((r) => r.startsWith('made/')).sort()).toEqual(['made/spectro-packs/archive', 'made/spectro-packs/archive/hello']);
      // The alias checked once, each repository created once, every call signed for us-east-1.
      expect(w.api.calls.map((c) => `${c.op} ${String(c.body['repositoryName'] ?? '')}`)).toEqual([
        'DescribeRegistries ',
        'CreateRepository made/spectro-packs/archive',
        'CreateRepository made/spectro-packs/archive/hello',
      ]);
      expect(w.api.calls.every((c) => c.region === 'us-east-1')).toBe(true);
      const held = await fetch(`${w.registry.url}/v2/myalias/made/spectro-packs/archive/hello/manifests/1.0.0`, { method: 'HEAD', headers: { authorization: `Basic ${Buffer.from(`AWS:${TOKEN}`).toString('base64')}` } });
      expect(held.status).toBe(200);

      // Into existing repositories: no API call.
      const calls = w.api.calls.length;
      const again = await runCli(['push', w.pack, ...target('myalias/made')], { env: awsEnv() });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain('unchanged');
      expect(w.api.calls.length).toBe(calls);
    } finally {
      w.api.calls.length = 0;
      restore();
    }
  });

  it('creation refused (another account\'s alias, no AWS credentials, IAM, quota): exit 1 with why and the command, nothing created or stored', async () => {
    const restore = useFakeAwsEnvironment('test-ecr-public');
    const since = w.registry.requests.length;
    const said = (why: string) => `ECR Public repository refused/spectro-packs/archive does not exist in registry public.ecr.aws/myalias: ${why}`;
    const hint = 'hint: create it: aws ecr-public create-repository --repository-name refused/spectro-packs/archive --region us-east-1, then run again';
    try {
      w.api.aliases = ['otheralias'];
      // The dry run says what the real run will (was: planned, exit 0).
      const otherDry = await runCli(['push', w.pack, ...target('myalias/refused'), '--dry-run'], { env: awsEnv() });
      expect(otherDry.code, otherDry.stdout + otherDry.stderr).toBe(1);
      expect(otherDry.stderr).toContain(said('the ECR Public registry of the AWS identity packpub runs as has the registry alias otheralias, not myalias, and CreateRepository creates in that registry only, so packpub created nothing'));
      w.api.calls.length = 0;
      const other = await runCli(['push', w.pack, ...target('myalias/refused')], { env: awsEnv() });
      expect(other.code, other.stdout + other.stderr).toBe(1);
      expect(other.stderr).toContain(said('the ECR Public registry of the AWS identity packpub runs as has the registry alias otheralias, not myalias, and CreateRepository creates in that registry only, so packpub created nothing'));
      expect(other.stderr).toContain(hint);
      expect(w.api.calls.map((c) => c.op)).toEqual(['DescribeRegistries']);
      w.api.aliases = ['myalias'];

      w.api.deny('CreateRepository');
      const denied = await runCli(['push', w.pack, ...target('myalias/refused')], { env: awsEnv() });
      expect(denied.code, denied.stdout + denied.stderr).toBe(1);
      expect(denied.stderr).toContain(said('packpub could not create it: AWS denied ecr-public:CreateRepository for public.ecr.aws: User: arn:aws:iam::123456789012:user/packpub-test is not authorized to perform: ecr-public:CreateRepository'));
      expect(denied.stderr).toContain(hint);
      w.api.allow('CreateRepository');

      // LimitExceededException: repositories per registry (ECR Public service quotas).
      w.api.fail('CreateRepository', 'LimitExceededException', 'The operation did not succeed because it would cause a service quota to be exceeded.');
      const quota = await runCli(['push', w.pack, ...target('myalias/refused')], { env: { ...awsEnv(), AWS_MAX_ATTEMPTS: '1' } });
      expect(quota.code, quota.stdout + quota.stderr).toBe(1);
      expect(quota.stderr).toContain(said('packpub could not create it: ECR refused ecr-public:CreateRepository for public.ecr.aws: a service quota of this account and region is reached (LimitExceededException)'));
      w.api.allow('CreateRepository');

      delete process.env['AWS_ACCESS_KEY_ID'];
      delete process.env['AWS_SECRET_ACCESS_KEY'];
      const none = await runCli(['push', w.pack, ...target('myalias/refused')], { env: awsEnv() });
      expect(none.code, none.stdout + none.stderr).toBe(1);
      expect(none.stderr).toContain(said('packpub could not tell whether public.ecr.aws/myalias is the registry of its AWS identity, so it created nothing: ECR provider: no AWS credentials found to call ecr-public:DescribeRegistries for public.ecr.aws'));
      expect(none.stderr).toContain(hint);

      expect([...w.created].some((r) => r.startsWith('refused/'))).toBe(false);
      expect(writes(since).every((r) => r.status === 404)).toBe(true);

      // CreateRepository answered, and the registry still does not know the repository (another registry behind the API).
      process.env['AWS_ACCESS_KEY_ID'] = 'test-ecr-public';
      process.env['AWS_SECRET_ACCESS_KEY'] = 'test-ecr-public-secret-not-real';
      w.api.calls.length = 0;
      w.api.repositories = new Set();
      const late = await runCli(['push', w.pack, ...target('myalias/refused')], { env: awsEnv() });
      expect(late.code, late.stdout + late.stderr).toBe(1);
      expect(late.stderr).toContain(said('packpub created it in this run (the ECR Public API answered CreateRepository), and the registry does not know it yet; run again in a minute'));
      expect(w.api.calls.map((c) => c.op)).toEqual(['DescribeRegistries', 'CreateRepository']);
    } finally {
      w.api.repositories = w.created;
      w.api.aliases = ['myalias'];
      w.api.allow('CreateRepository');
      w.api.calls.length = 0;
      restore();
    }
  });

  it('no login given: the registry token is minted with the AWS identity (GetAuthorizationToken, us-east-1), exit 0; without one that works, the refusal names why (was: anonymous, "authentication required")', async () => {
    w.created.add('minted/spectro-packs/archive').add('minted/spectro-packs/archive/hello');
    const noLogin = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), AWS_ENDPOINT_URL_ECR_PUBLIC: w.api.url });
    const restore = useFakeAwsEnvironment('test-ecr-public');
    try {
      const run = await runCli(['push', w.pack, ...target('myalias/minted')], { env: noLogin() });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('published');
      expect(w.api.calls.map((c) => `${c.op} ${c.region ?? ''}`)).toEqual(['GetAuthorizationToken us-east-1']);
      expect(run.stdout + run.stderr).not.toContain(TOKEN);
      const held = await fetch(`${w.registry.url}/v2/myalias/minted/spectro-packs/archive/hello/manifests/1.0.0`, { method: 'HEAD', headers: { authorization: `Basic ${Buffer.from(`AWS:${TOKEN}`).toString('base64')}` } });
      expect(held.status).toBe(200);

      // IAM refuses the token: the run goes on anonymous (reads of public repositories would work), and the write's
      // refusal says why packpub had no token, exit 1.
      w.api.deny('GetAuthorizationToken');
      const denied = await runCli(['push', w.pack, ...target('myalias/minted'), '--force'], { env: noLogin() });
      expect(denied.code, denied.stdout + denied.stderr).toBe(1);
      expect(denied.stderr).toContain('packpub got none with its AWS identity (AWS denied ecr-public:GetAuthorizationToken for public.ecr.aws: User: arn:aws:iam::123456789012:user/packpub-test is not authorized to perform: ecr-public:GetAuthorizationToken');
      expect(denied.stderr).toContain('aws ecr-public get-login-password --region us-east-1 | packpub login public.ecr.aws --username AWS --password-stdin');
    } finally {
      w.api.allow('GetAuthorizationToken');
      w.api.calls.length = 0;
      restore();
    }
  });

  // Docker Desktop's default store (`credsStore: "desktop"`) left on a runner where it is not installed: it stopped the
  // chain before the ECR Public token, "credential helper docker-credential-... is not installed", exit 1.
  it('a default store (credsStore) that is not installed: the token is minted with the AWS identity, published, exit 0', async () => {
    w.created.add('storepub/spectro-packs/archive').add('storepub/spectro-packs/archive/hello');
    const docker = join(w.root, 'docker-store');
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ credsStore: 'packpub-test-no-such-store' }));
    const restore = useFakeAwsEnvironment('test-ecr-public');
    try {
      const run = await runCli(['push', w.pack, ...target('myalias/storepub')], { env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: docker, AWS_ENDPOINT_URL_ECR_PUBLIC: w.api.url } });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain('published hello:1.0.0');
      expect(run.stderr).not.toContain('not installed');
      expect(w.api.calls.map((c) => c.op)).toEqual(['GetAuthorizationToken']);
      const held = await fetch(`${w.registry.url}/v2/myalias/storepub/spectro-packs/archive/hello/manifests/1.0.0`, { method: 'HEAD', headers: { authorization: `Basic ${Buffer.from(`AWS:${TOKEN}`).toString('base64')}` } });
      expect(held.status).toBe(200);
    } finally {
      w.api.calls.length = 0;
      restore();
    }
  });

  it('with both repositories created: published (exit 0), then unchanged; a refused token says how to get one', async () => {
    w.created.add('pub/spectro-packs/archive').add('pub/spectro-packs/archive/hello');
    const run = await runCli(['push', w.pack, ...target('myalias/pub')], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const held = await fetch(`${w.registry.url}/v2/myalias/pub/spectro-packs/archive/hello/manifests/1.0.0`, { method: 'HEAD', headers: { authorization: `Basic ${Buffer.from(`AWS:${TOKEN}`).toString('base64')}` } });
    expect(held.status).toBe(200);
    const again = await runCli(['push', w.pack, ...target('myalias/pub')], { env: env() });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('unchanged');

    // The repository at its images quota: ECR Public answers the new version's manifest PUT 403 DENIED (vllm-project/vllm#48065).
    const next = await writePack(join(w.root, 'hello-1.0.1'), { name: 'hello', version: '1.0.1' });
    const missing = w.registry.behaviour.answer;
    w.registry.behaviour.answer = (req) =>
      req.method === 'PUT' && req.path === '/v2/myalias/pub/spectro-packs/archive/hello/manifests/1.0.1'
        ? { status: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'DENIED', message: "The repository with name 'pub/spectro-packs/archive/hello' in registry with id 'myalias' already has the maximum allowed number of images which is '100000'" }] }) }
        : missing?.(req);
    try {
      const full = await runCli(['push', next, ...target('myalias/pub')], { env: env() });
      expect(full.code, full.stdout + full.stderr).toBe(1);
      expect(full.stderr).toContain(`${w.host} refused a new image in myalias/pub/spectro-packs/archive/hello: the repository already holds the maximum number of images, 100000 (the "Images per repository" service quota)`);
      expect(full.stderr).not.toContain('get-login-password');
    } finally {
      w.registry.behaviour.answer = missing;
    }

    // list: the ECR Public API names the repositories of the identity's own registry (DescribeRepositories, pages of 1
    // here), the registry their tags. Another account's alias: the registry's catalog, as for any registry.
    const restore = useFakeAwsEnvironment('test-ecr-public');
    w.api.pageSize = 1;
    try {
      const list = await runCli(['list', ...target('myalias/pub'), '--json'], { env: awsEnv() });
      expect(list.code, list.stdout + list.stderr).toBe(0);
      const listed = JSON.parse(list.stdout) as { packs: { name: string; versions: { version: string }[] }[] };
      expect(listed.packs.map((p) => [p.name, p.versions.map((v) => v.version).sort()])).toEqual([['hello', ['1.0.0']]]);
      expect(w.api.calls.filter((c) => c.op === 'DescribeRepositories').length).toBeGreaterThan(1);

      // No AWS identity configured: the registry's catalog, whose refusal says why the API was not asked (nothing asked).
      delete process.env['AWS_ACCESS_KEY_ID'];
      w.api.calls.length = 0;
      const anonymous = await runCli(['list', ...target('myalias/pub')], { env: awsEnv() });
      expect(anonymous.code, anonymous.stdout + anonymous.stderr).toBe(1);
      expect(anonymous.stderr).toContain('packpub lists ECR Public repositories with the ECR Public API (DescribeRepositories), which it could not use: no AWS credentials in the environment, a shared credentials or config file, or --aws-profile');
      expect(w.api.calls).toEqual([]);
    } finally {
      w.api.pageSize = 1000;
      w.api.calls.length = 0;
      restore();
    }

    const wrong = await runCli(['push', w.pack, ...target('myalias/pub')], { env: env('expired-token') });
    expect(wrong.code, wrong.stdout + wrong.stderr).toBe(1);
    expect(wrong.stderr).toContain('aws ecr-public get-login-password --region us-east-1 | packpub login public.ecr.aws --username AWS --password-stdin');
    expect(wrong.stderr + wrong.stdout).not.toContain('expired-token');
  });

  // Web identity (GitHub OIDC, EKS) resolved through an STS that accepts the connection and never answers: the SDK looks
  // at its abort signal only once it sends the ECR Public request, so DescribeRegistries waited for the credentials for
  // ever (past a minute with --request-timeout 2). In-process: the SDK reads the web identity from process.env (withAwsEnvironment).
  it('AWS credentials that never resolve (STS stalls): the creation ends within --request-timeout, exit 1, saying so; nothing created', async () => {
    let asked = 0;
    const stalls = await listenOnLoopback(createServer(() => void asked++));
    try {
      await writeFile(join(w.root, 'web-identity-token'), 'eyJ.not-a-real.web-identity-token');
      const since = w.registry.requests.length;
      const calls = w.api.calls.length;
      const aws = { AWS_ENDPOINT_URL_STS: stalls.url, AWS_WEB_IDENTITY_TOKEN_FILE: join(w.root, 'web-identity-token'), AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/ci', AWS_REGION: 'us-east-1' };
      const run = await withAwsEnvironment(aws, () => boundedRun(runCli(['push', w.pack, ...target('myalias/stalled'), '--request-timeout', '2', '--retry-attempts', '1'], { env: awsEnv() }), 45_000));
      expectRun(run, {
        code: 1,
        stderr: [
          'ECR Public repository stalled/spectro-packs/archive does not exist in registry public.ecr.aws/myalias',
          "the AWS credentials for ecr-public:DescribeRegistries (public.ecr.aws) were not resolved: no complete answer within 2 s from the SDK's credential chain",
        ],
      });
      expect(asked).toBeGreaterThan(0); // STS was asked, and never answered
      expect(w.api.calls.slice(calls)).toEqual([]);
      expect(writes(since).every((r) => r.status === 404)).toBe(true);
    } finally {
      await stalls.close();
    }
  });

  // AWS's documented way in, aws ecr-public get-login-password | docker login, stores a token that lasts 12 hours; then
  // ECR Public answers every request 400 DENIED "...expired", public repositories' reads too (docker pull fails the same
  // until docker logout). The hint said "log in again (packpub login), or refresh the token your CI hands to packpub".
  it('a stored ECR Public token that expired: the hint names packpub logout and the login command', async () => {
    const STALE = 'ecr-public-token-stale-4f2a';
    const docker = join(w.root, 'docker-stale');
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { [w.host]: { auth: Buffer.from(`AWS:${STALE}`).toString('base64') } } }));
    const { users, answer } = w.registry.behaviour;
    w.registry.behaviour.users = { AWS: STALE };
    w.registry.behaviour.answer = () => ({ status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'DENIED', message: 'Your authorization token has expired. Reauthenticate and try again.' }] }) });
    try {
      const run = await runCli(['list', 'hello', ...target('myalias/pub')], { env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: docker } });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain(`error: credentials for ${w.host} have expired`);
      expect(run.stderr).toContain(`hint: the ECR Public token in docker config ${join(docker, 'config.json')} has expired (they last 12 hours): packpub logout ${w.host} removes it`);
      expect(run.stderr).toContain(`aws ecr-public get-login-password --region us-east-1 | packpub login ${w.host} --username AWS --password-stdin`);
      expect(run.stderr).not.toContain(STALE);
      // Following it: logout removes the entry.
      const logout = await runCli(['logout', w.host], { env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: docker } });
      expect(logout.code, logout.stderr).toBe(0);
      expect(JSON.parse(await readFile(join(docker, 'config.json'), 'utf8'))).toEqual({ auths: {} });
    } finally {
      w.registry.behaviour.users = users;
      w.registry.behaviour.answer = answer;
    }
  });
});
