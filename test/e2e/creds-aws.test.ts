import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorFromResponse } from '../../src/registry/errors.js';
import { runCli } from '../support/cli.js';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { writePack } from '../support/packs.js';
import { RegistryReader } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * trust: the AWS credentials the SDK signs ECR API calls with are secrets of the run too. An API error that
 * quotes the request it refused (InvalidSignatureException's "The Canonical String for this request should have
 * been ..." lists the signed headers, x-amz-security-token among them) must not bring the session token or the
 * secret key into any output, --debug's causes included. Real @aws-sdk/client-ecr against the ECR stand-in.
 */

const ACCESS_KEY = 'testAKIDCREDSAWS';
const SECRET_KEY = `${ACCESS_KEY}-secret-not-real`; // what useFakeAwsEnvironment sets
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLEsessiontoken0123456789abcdef';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-creds-aws-');
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  return { ...(await startEcrWorld(stack, ACCESS_KEY)), root, pack };
});

/**
 * AWS's InvalidSignatureException for a token request to `host`: it quotes the canonical request it computed, the
 * session token among its headers (and here the secret key too).
 */
const signatureMismatch = (host: string): string =>
  [
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    '',
    'The Canonical String for this request should have been',
    `'POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:${host}\nx-amz-security-token:${SESSION_TOKEN}\nx-amz-target:AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken'`,
    '',
    `(signed with ${SECRET_KEY})`,
  ].join('\n');

describe('AWS answers that quote the signed request', () => {
  it('InvalidSignatureException with the canonical request: the session token and secret key never printed, nothing pushed', async () => {
    w.standin.fail('GetAuthorizationToken', 'InvalidSignatureException', signatureMismatch(new URL(w.standin.url).host));
    process.env['AWS_SESSION_TOKEN'] = SESSION_TOKEN;
    try {
      const args = ['--registry', `${w.host}/creds`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];
      for (const argv of [['push', w.pack, ...args], ['push', w.pack, ...args, '--debug'], ['list', ...args, '--debug']]) {
        const run = await runCli(argv, { env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker') } });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('ECR provider: AWS rejected the credentials (InvalidSignatureException): The request signature we calculated does not match');
        const text = run.stdout + run.stderr;
        expect(text).not.toContain(SESSION_TOKEN);
        expect(text).not.toContain(SECRET_KEY);
        if (argv[0] === 'list') expect(text).toContain('The Canonical String for this request'); // --debug prints the cause, scrubbed
      }
      // The SDK did send the session token: the answer quoted what it was given.
      expect(w.standin.calls.some((c) => c.op === 'GetAuthorizationToken' && c.headers['x-amz-security-token'] === SESSION_TOKEN)).toBe(true);
    } finally {
      delete process.env['AWS_SESSION_TOKEN'];
      w.standin.allow('GetAuthorizationToken');
    }
    expect((await new RegistryReader(w.registry.url).tagDigests('creds')).size).toBe(0);
  });
});

describe('an STS answer that quotes the signed AssumeRole request (--aws-role-arn)', () => {
  it('the session token the AssumeRole call was signed with is never printed, --debug included', async () => {
    // STS signs with the base credentials (here with a session token): its SignatureDoesNotMatch quotes the canonical request.
    const sts = createServer((req, res) => {
      req.resume();
      const quoted = `The request signature we calculated does not match the signature you provided. The Canonical String for this request should have been 'POST / x-amz-security-token:${String(req.headers['x-amz-security-token'])}'`;
      const xml = `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>${quoted}</Message></Error></ErrorResponse>`;
      req.on('end', () => res.writeHead(403, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) }).end(xml));
    });
    await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve));
    process.env['AWS_ENDPOINT_URL_STS'] = `http://127.0.0.1:${(sts.address() as AddressInfo).port}`;
    process.env['AWS_SESSION_TOKEN'] = SESSION_TOKEN;
    const calls = w.standin.calls.length;
    try {
      const run = await runCli(
        ['list', '--registry', `${w.host}/role`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url, '--aws-role-arn', 'arn:aws:iam::123456789012:role/packs', '--debug'],
        { env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker') } },
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('arn:aws:iam::123456789012:role/packs');
      expect(run.stderr).toContain('The Canonical String for this request'); // the cause is printed, scrubbed
      expect(run.stdout + run.stderr).not.toContain(SESSION_TOKEN);
      expect(run.stderr).toContain('ECR provider: cannot assume role arn:aws:iam::123456789012:role/packs: The request signature'); // STS's refusal, not the ECR call's
      expect(w.standin.calls.length).toBe(calls); // no ECR API call was made with the base credentials
    } finally {
      delete process.env['AWS_ENDPOINT_URL_STS'];
      delete process.env['AWS_SESSION_TOKEN'];
      sts.closeAllConnections();
      await new Promise<void>((resolve) => sts.close(() => resolve()));
    }
  });
});

describe('an ECR token a docker login left in the Docker config', () => {
  it('once expired: exit 1 naming where it came from and the way out (packpub logout, not login); after it, the push publishes', async () => {
    const home = join(w.root, 'home-stale');
    const docker = join(w.root, 'docker-stale');
    const args = ['--registry', `${w.host}/stale`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];
    const env = { HOME: home, DOCKER_CONFIG: docker, SOURCE_DATE_EPOCH: '1700000000' };
    // What `aws ecr get-login-password | docker login` leaves: the registry password of a token minted earlier.
    await mkdir(docker, { recursive: true });
    const password = await mintedPassword();
    await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { [w.host]: { auth: Buffer.from(`AWS:${password}`).toString('base64') } } }));
    w.standin.expireAllTokens();
    const run = await runCli(['push', w.pack, ...args], { env });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`credentials for ${w.host} have expired`);
    expect(run.stderr).toContain(`the ECR token in docker config ${join(docker, 'config.json')} has expired: packpub logout ${w.host} removes it`);
    expect(run.stderr).not.toContain('log in again (packpub login)'); // packpub login has nothing to do for ECR hosts
    expect((await new RegistryReader(w.registry.url).tagDigests('stale')).size).toBe(0);
    // The way out the hint gives: logout removes the entry, and the next push mints its own token.
    const logout = await runCli(['logout', w.host], { env });
    expect(logout.code, logout.stderr).toBe(0);
    expect(await readFile(join(docker, 'config.json'), 'utf8')).not.toContain(Buffer.from(`AWS:${password}`).toString('base64'));
    const again = await runCli(['push', w.pack, ...args], { env });
    expect(again.code, again.stderr).toBe(0);
    expect([...(await new RegistryReader(w.registry.url).tagDigests('stale')).keys()]).toContain('stale/spectro-packs/archive/hello:1.0.0');
  });
});

describe('the expired-credentials hint by where the credential came from', () => {
  const expired = (host: string, source: string) =>
    errorFromResponse({
      method: 'GET',
      url: new URL(`https://${host}/v2/p/r/manifests/1.0.0`),
      host,
      status: 403,
      auth: { scheme: 'basic', credentialSent: true, source },
      body: Buffer.from('{"errors":[{"code":"DENIED","message":"Your authorization token has expired. Reauthenticate and try again."}]}'),
    });
  const ecr = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

  it('an ECR token from a credential helper (docker login with credsStore): packpub logout, as from the file', () => {
    const err = expired(ecr, 'credential helper docker-credential-desktop');
    expect(err.message).toBe(`credentials for ${ecr} have expired`);
    expect(err.hint).toContain(`the ECR token from credential helper docker-credential-desktop has expired: packpub logout ${ecr} removes it`);
  });

  it('an ECR token from amazon-ecr-credential-helper (ecr-login, whose erase is not implemented): the clock or its cache, not packpub logout', () => {
    const err = expired(ecr, 'credential helper docker-credential-ecr-login');
    expect(err.message).toBe(`credentials for ${ecr} have expired`);
    expect(err.hint).toContain('mints its tokens itself from your AWS credentials');
    expect(err.hint).toContain("this machine's clock is off, or its cache ~/.ecr/cache.json (AWS_ECR_CACHE_DIR) is stale");
    expect(err.hint).not.toMatch(/packpub logout \S+ removes/);
  });

  it('an ECR token packpub minted itself, or another host: log in again, as before', () => {
    expect(expired(ecr, 'ECR').hint).toBe('log in again (packpub login), or refresh the token your CI hands to packpub');
    expect(expired('harbor.example.com', 'docker config /home/u/.docker/config.json').hint).toBe('log in again (packpub login), or refresh the token your CI hands to packpub');
  });
});

/** A registry password minted by the stand-in (GetAuthorizationToken through packpub's own push of another base). */
async function mintedPassword(): Promise<string> {
  const run = await runCli(['push', w.pack, '--registry', `${w.host}/minted`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url], {
    env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker') },
  });
  expect(run.code, run.stderr).toBe(0);
  return w.standin.mintedSecrets()[0]!;
}
