import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ecrCredentialProvider } from '../../../src/credentials/ecr-token.js';
import { iamDenial, startEcrStandin, type EcrStandin, useFakeAwsEnvironment } from '../../support/ecr-standin.js';
import { failure } from '../../support/errors.js';
import { stage } from '../../support/stage.js';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const stack = stage();
let clock = Date.now();
let standin: EcrStandin;
let restoreEnv: () => void;
beforeAll(async () => {
  standin = stack.add(await startEcrStandin({ now: () => clock, tokenTtlMs: 1000_000 }));
});
beforeEach(() => {
  restoreEnv = useFakeAwsEnvironment('testAKIDEXAMPLE');
  standin.calls.length = 0;
});
afterEach(() => restoreEnv());


describe('ECR token provider with the real SDK', () => {
  it('does not apply to other hosts', async () => {
    const provider = ecrCredentialProvider({ endpoint: standin.url });
    expect(await provider.resolve('harbor.example.com')).toBeUndefined();
    expect(await provider.resolve('123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example')).toBeUndefined();
    expect(standin.calls).toHaveLength(0);
  });

  it('mints a registry password the ECR API accepts, over a SigV4-signed JSON 1.1 call', async () => {
    const provider = ecrCredentialProvider({ endpoint: standin.url, now: () => clock });
    const credential = await provider.resolve(HOST);
    expect(credential?.username).toBe('AWS');
    expect(standin.checkPassword(credential?.password ?? '')).toBe('valid');
    expect(credential?.expiresAt?.getTime()).toBeGreaterThan(clock);
    expect(credential?.source).toBe('ECR');
    const call = standin.calls[0];
    expect(call?.op).toBe('GetAuthorizationToken');
    expect(call?.headers['x-amz-target']).toBe('AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
    expect(call?.headers['content-type']).toMatch(/^application\/x-amz-json-1\.1/);
    expect(call?.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=testAKIDEXAMPLE\/\d{8}\/us-east-1\/ecr\/aws4_request/);
    expect(call?.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_ECR when no endpoint option is given', async () => {
    process.env['AWS_ENDPOINT_URL_ECR'] = standin.url;
    const credential = await ecrCredentialProvider().resolve(HOST);
    expect(standin.checkPassword(credential?.password ?? '')).toBe('valid');
  });

  it('shares one fetch between concurrent callers and caches for the run', async () => {
    const provider = ecrCredentialProvider({ endpoint: standin.url, now: () => clock });
    const [a, b, c] = await Promise.all([provider.resolve(HOST), provider.resolve(HOST), provider.resolve(HOST)]);
    const d = await provider.resolve(HOST);
    expect(standin.calls.filter((c) => c.op === 'GetAuthorizationToken')).toHaveLength(1);
    expect(new Set([a?.password, b?.password, c?.password, d?.password]).size).toBe(1);
  });

  it('renews at half the token life, and after invalidate', async () => {
    const provider = ecrCredentialProvider({ endpoint: standin.url, now: () => clock });
    const first = await provider.resolve(HOST);
    clock += 400_000; // 40 % of the life: still cached
    expect((await provider.resolve(HOST))?.password).toBe(first?.password);
    clock += 200_000; // 60 %: renewed
    const second = await provider.resolve(HOST);
    expect(second?.password).not.toBe(first?.password);
    expect(standin.checkPassword(second?.password ?? '')).toBe('valid');
    provider.invalidate?.(HOST);
    const third = await provider.resolve(HOST);
    expect(third?.password).not.toBe(second?.password);
    expect(standin.calls.filter((c) => c.op === 'GetAuthorizationToken')).toHaveLength(3);
  });

  it('says how to provide AWS credentials when there are none', async () => {
    delete process.env['AWS_ACCESS_KEY_ID'];
    delete process.env['AWS_SECRET_ACCESS_KEY'];
    const err = await failure(ecrCredentialProvider({ endpoint: standin.url }).resolve(HOST));
    expect(err.code).toBe('CREDENTIALS');
    expect(err.message).toContain('ECR provider');
    expect(err.hint).toContain('AWS_PROFILE');
    expect(err.hint).toContain('aws sso login');
  });

  it('reports credentials AWS does not recognise', async () => {
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIAUNKNOWNKEY';
    const err = await failure(ecrCredentialProvider({ endpoint: standin.url }).resolve(HOST));
    expect(err.code).toBe('CREDENTIALS');
    expect(err.message).toContain('UnrecognizedClientException');
    expect(err.message).not.toContain('testAKIDEXAMPLE-secret-not-real');
  });

  it('names the missing IAM action when access is denied', async () => {
    await iamDenial(standin, 'GetAuthorizationToken', () => ecrCredentialProvider({ endpoint: standin.url }).resolve(HOST));
  });

  it('reports an unreachable ECR API endpoint as a network problem', async () => {
    const err = await failure(ecrCredentialProvider({ endpoint: 'http://127.0.0.1:9' }).resolve(HOST));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain('http://127.0.0.1:9');
  });
});

describe('ECR token provider with --aws-role-arn', () => {
  it('assumes the role through STS first and signs the ECR call with the role credentials', async () => {
    process.env['AWS_ENDPOINT_URL_STS'] = standin.url;
    try {
      const provider = ecrCredentialProvider({ endpoint: standin.url, awsRoleArn: 'arn:aws:iam::123456789012:role/packpub-publisher' });
      const credential = await provider.resolve(HOST);
      expect(standin.checkPassword(credential?.password ?? '')).toBe('valid');
      const sts = standin.calls.find((c) => c.op === 'sts:AssumeRole');
      expect(sts?.body['RoleArn']).toBe('arn:aws:iam::123456789012:role/packpub-publisher');
      expect(sts?.accessKeyId).toBe('testAKIDEXAMPLE');
      const ecr = standin.calls.find((c) => c.op === 'GetAuthorizationToken');
      expect(ecr?.accessKeyId).toBe('testASIAASSUMED');
      expect(ecr?.headers['x-amz-security-token']).toBe('assumed-session-token');
    } finally {
      delete process.env['AWS_ENDPOINT_URL_STS'];
    }
  });
});
