import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ecrPublicCredentialProvider } from '../../../src/credentials/ecr-public-token.js';
import type { PackpubError } from '../../../src/errors.js';
import { startEcrPublicStandin, type EcrPublicStandin } from '../../support/ecr-public-standin.js';
import { useFakeAwsEnvironment } from '../../support/ecr-standin.js';
import { failure } from '../../support/errors.js';

/*
 * The ECR Public token provider (src/credentials/ecr-public-token.ts) against the ECR Public API stand-in, with the real
 * SDK: public.ecr.aws only; one token for the run; none (anonymous), with why noted, when the AWS identity gets none;
 * an answer that is no token is an error, not read past.
 */

let api: EcrPublicStandin;
let restore: (() => void) | undefined;
beforeAll(async () => {
  api = await startEcrPublicStandin({ password: 'minted-ecr-public-password' });
});
afterAll(() => api.close());
afterEach(() => {
  restore?.();
  restore = undefined;
  api.tokenOverride = undefined;
  api.allow('GetAuthorizationToken');
  api.calls.length = 0;
});

describe('ecrPublicCredentialProvider', () => {
  it('public.ecr.aws: user AWS and the minted password, asked once for the run; any other host: not its to answer', async () => {
    restore = useFakeAwsEnvironment('test-ecr-public');
    const provider = ecrPublicCredentialProvider({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: api.url } });
    expect(await provider.resolve('registry.example.com')).toBeUndefined();
    const first = await provider.resolve('public.ecr.aws');
    expect(first).toMatchObject({ username: 'AWS', password: 'minted-ecr-public-password', source: 'ECR Public' });
    expect(await provider.resolve('public.ecr.aws')).toEqual(first);
    expect(api.calls.map((c) => `${c.op} ${c.region ?? ''}`)).toEqual(['GetAuthorizationToken us-east-1']);
  });

  it('no AWS identity configured, or IAM denies the token: none (the run goes on anonymous), and why is noted; the first asks nothing (the SDK chain, which would end probing the EC2 instance metadata, is not run: the note is not the SDK error)', async () => {
    restore = useFakeAwsEnvironment('test-ecr-public');
    delete process.env['AWS_ACCESS_KEY_ID'];
    delete process.env['AWS_SECRET_ACCESS_KEY'];
    const notes: { ecrPublicTokenRefusal: PackpubError | undefined } = { ecrPublicTokenRefusal: undefined };
    const none = ecrPublicCredentialProvider({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: api.url, HOME: '/nonexistent/packpub-test-home' }, notes });
    expect(await none.resolve('public.ecr.aws')).toBeUndefined();
    expect(notes.ecrPublicTokenRefusal?.message).toBe('no AWS credentials in the environment, a shared credentials or config file, or --aws-profile; an EC2 instance role alone is not asked for ECR Public tokens');
    expect(api.calls).toEqual([]);

    process.env['AWS_ACCESS_KEY_ID'] = 'test-ecr-public';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'test-ecr-public-secret-not-real';
    api.deny('GetAuthorizationToken');
    const denied = ecrPublicCredentialProvider({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: api.url }, notes });
    expect(await denied.resolve('public.ecr.aws')).toBeUndefined();
    expect(notes.ecrPublicTokenRefusal?.code).toBe('AUTH');
    expect(notes.ecrPublicTokenRefusal?.message).toContain('AWS denied ecr-public:GetAuthorizationToken for public.ecr.aws');
  });

  it('an answer that is no registry token: CREDENTIALS, naming the endpoint setting', async () => {
    restore = useFakeAwsEnvironment('test-ecr-public');
    api.tokenOverride = 'not a token!';
    const provider = ecrPublicCredentialProvider({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: api.url } });
    const err = await failure(provider.resolve('public.ecr.aws'));
    expect(err.code).toBe('CREDENTIALS');
    expect(err.message).toBe('ECR Public GetAuthorizationToken returned a token that is not base64');
    expect(err.hint).toContain('AWS_ENDPOINT_URL_ECR_PUBLIC');
  });
});
