import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { awsFilesOf } from '../../../src/aws/ecr-sdk.js';
import { iamDenialHint } from '../../../src/aws/iam-denial.js';
import { isEcrHost, parseEcrHost } from '../../../src/aws/ecr-host.js';
import { EcrPublicApi } from '../../../src/aws/ecr-public-api.js';
import { useFakeAwsEnvironment } from '../../support/ecr-standin.js';
import { failure } from '../../support/errors.js';

/*
 * The tests of src/aws/'s smaller modules, a describe per module (each was a test file of its own): each test file
 * costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('aws-files', () => {
  describe('awsFilesOf: the shared files an environment names, for the SDK', () => {
    it('hands over what is set, reads ~/ against that environment\'s HOME, and leaves out what is unset or empty', () => {
      expect(awsFilesOf({ AWS_SHARED_CREDENTIALS_FILE: '/ci/creds', AWS_CONFIG_FILE: '/ci/config' })).toEqual({ credentialsFile: '/ci/creds', configFile: '/ci/config' });
      expect(awsFilesOf({ HOME: '/home/embedded', AWS_CONFIG_FILE: '~/aws/config' })).toEqual({ configFile: join('/home/embedded', 'aws/config') });
      expect(awsFilesOf({ AWS_SHARED_CREDENTIALS_FILE: '', AWS_CONFIG_FILE: undefined })).toEqual({});
      expect(awsFilesOf(undefined)).toEqual({});
    });

    it('AWS_MAX_ATTEMPTS (the SDK\'s retry setting) as a number; what is no whole number is left to the SDK, which says so', () => {
      expect(awsFilesOf({ AWS_MAX_ATTEMPTS: '1' })).toEqual({ maxAttempts: 1 });
      expect(awsFilesOf({ AWS_MAX_ATTEMPTS: ' 5 ' })).toEqual({ maxAttempts: 5 });
      for (const odd of ['', '0', 'three', '2.5', '-1']) expect(awsFilesOf({ AWS_MAX_ATTEMPTS: odd })).toEqual({});
    });
  });
});

describe('iam-denial', () => {
  // AWS's access-denied message shapes (IAM User Guide, "Access denied error messages").
  const msg = (tail: string) => `User: arn:aws:iam::123456789012:role/ci is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/p/r ${tail}`;

  describe('iamDenialHint', () => {
    it('a missing Allow in the identity\'s own policies, or a message of another shape: undefined (the caller says "grant")', () => {
      expect(iamDenialHint('ecr:PutImage', msg('because no identity-based policy allows the ecr:PutImage action'))).toBeUndefined();
      expect(iamDenialHint('ecr:PutImage', 'Access denied')).toBeUndefined();
    });

    it('an explicit Deny names where it sits', () => {
      expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a resource-based policy'), 'p/r')).toBe(
        "an explicit Deny refuses ecr:PutImage to this identity, and no Allow anywhere overrides a Deny; it sits in the repository's policy (aws ecr get-repository-policy --repository-name p/r) or the registry's policy: their owner must remove or narrow that statement",
      );
      expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in an identity-based policy'))).toContain('it sits in a policy attached to this IAM identity');
      expect(iamDenialHint('ecr:PutImage', msg('due to an explicit deny in a Service Control Policy'))).toContain('a service control policy of your AWS Organization');
      expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a permissions boundary'))).toContain("this identity's permissions boundary");
      expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a session policy'))).toContain('the session policy the role was assumed with');
      expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a VPC endpoint policy'))).toContain('the policy of the VPC endpoint');
      expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a resource control policy'))).toContain('a resource control policy of your AWS Organization');
    });

    it('a missing Allow in another policy: that policy', () => {
      expect(iamDenialHint('ecr:PutImage', msg('because no resource-based policy allows the ecr:PutImage action'), 'p/r')).toContain('(aws ecr set-repository-policy --repository-name p/r in that account)');
      expect(iamDenialHint('ecr:CreateRepository', msg('because no resource-based policy allows the ecr:CreateRepository action'), 'p/r')).toContain("no statement of the registry's policy allows ecr:CreateRepository");
      expect(iamDenialHint('ecr:PutImage', msg('because no permissions boundary allows the ecr:PutImage action'))).toContain('permissions boundary does not allow ecr:PutImage');
      expect(iamDenialHint('ecr:PutImage', msg('because no session policy allows the ecr:PutImage action'))).toContain('does not allow ecr:PutImage: add it there');
    });
  });
});

describe('ecr-host', () => {
  describe('parseEcrHost', () => {
    it.each([
      ['123456789012.dkr.ecr.us-east-1.amazonaws.com', { accountId: '123456789012', region: 'us-east-1', fips: false, dnsSuffix: 'amazonaws.com', dualStack: false }],
      ['123456789012.dkr.ecr.us-east-1.amazonaws.com:443', { accountId: '123456789012', region: 'us-east-1', fips: false, dnsSuffix: 'amazonaws.com', dualStack: false }],
      ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', { accountId: '123456789012', region: 'us-gov-west-1', fips: true, dnsSuffix: 'amazonaws.com', dualStack: false }],
      ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', { accountId: '123456789012', region: 'cn-north-1', fips: false, dnsSuffix: 'amazonaws.com.cn', dualStack: false }],
      ['123456789012.dkr-ecr.eu-west-1.on.aws', { accountId: '123456789012', region: 'eu-west-1', fips: false, dnsSuffix: 'on.aws', dualStack: true }],
      ['123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn', { accountId: '123456789012', region: 'cn-northwest-1', fips: false, dnsSuffix: 'on.amazonwebservices.com.cn', dualStack: true }],
      ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', { accountId: '123456789012', region: 'eusc-de-east-1', fips: false, dnsSuffix: 'amazonaws.eu', dualStack: false }],
      ['123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', { accountId: '123456789012', region: 'us-iso-east-1', fips: false, dnsSuffix: 'c2s.ic.gov', dualStack: false }],
      ['123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM', { accountId: '123456789012', region: 'us-east-1', fips: false, dnsSuffix: 'amazonaws.com', dualStack: false }],
    ])('parses %s', (host, expected) => {
      expect(parseEcrHost(host)).toEqual(expected);
    });

    it.each([
      '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example',
      'evil-123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'x123456789012.dkr.ecr.us-east-1.amazonaws.com',
      '12345678901.dkr.ecr.us-east-1.amazonaws.com',
      '1234567890123.dkr.ecr.us-east-1.amazonaws.com',
      '123456789012.dkr.ecr.us-east-1.amazonaws.co',
      '123456789012.dkr.ecr.amazonaws.com',
      '123456789012.ecr.us-east-1.amazonaws.com',
      'public.ecr.aws',
      'harbor.example.com',
      '127.0.0.1:5000',
      '',
    ])('rejects %s', (host) => {
      expect(parseEcrHost(host)).toBeUndefined();
      expect(isEcrHost(host)).toBe(false);
    });
  });
});

describe('ecr-public-api', () => {
  /*
   * The ECR Public API client (src/aws/ecr-public-api.ts) where the e2e test (test/e2e/ecr-public.test.ts, whose registry
   * is plain HTTP, so --plain-http allows any endpoint) cannot look: an endpoint of plain HTTP off this machine is refused
   * before any request, and a network failure names the ECR Public API and its endpoint setting, not ECR's.
   */

  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  describe('EcrPublicApi', () => {
    it('an endpoint of plain HTTP off this machine: USAGE when opened, before any request; loopback, https:// or --plain-http: allowed', async () => {
      for (const name of ['AWS_ENDPOINT_URL_ECR_PUBLIC', 'AWS_ENDPOINT_URL']) {
        const err = await failure(Promise.resolve().then(() => new EcrPublicApi({ env: { [name]: 'http://192.0.2.1:8080' } })));
        expect(err.code).toBe('USAGE');
        expect(err.message).toBe(`refusing to call the ECR Public API at http://192.0.2.1:8080 over plain HTTP (${name}): the AWS request signatures and session token would cross the network in clear text`);
      }
      expect(() => new EcrPublicApi({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: 'http://127.0.0.1:9' } })).not.toThrow();
      expect(() => new EcrPublicApi({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: 'https://api.example.test' } })).not.toThrow();
      expect(() => new EcrPublicApi({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: 'http://192.0.2.1:8080' }, plainHttp: true })).not.toThrow();
    });

    it('nothing listening at the endpoint: NETWORK, naming the ECR Public API and AWS_ENDPOINT_URL_ECR_PUBLIC', async () => {
      restore = useFakeAwsEnvironment('test-ecr-public');
      // A port that was just free: nothing listens there.
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const api = new EcrPublicApi({ env: { AWS_ENDPOINT_URL_ECR_PUBLIC: `http://127.0.0.1:${port}`, AWS_MAX_ATTEMPTS: '1' } });
      try {
        const err = await failure(api.ownAliases());
        expect(err.code).toBe('NETWORK');
        expect(err.message).toBe(`cannot reach the ECR Public API at http://127.0.0.1:${port} (ECONNREFUSED)`);
        expect(err.hint).toContain('AWS_ENDPOINT_URL_ECR_PUBLIC');
      } finally {
        api.close();
      }
    });
  });
});
