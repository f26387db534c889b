import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EcrPublicApi } from '../../../src/aws/ecr-public-api.js';
import { useFakeAwsEnvironment } from '../../support/ecr-standin.js';
import { failure } from '../../support/errors.js';

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
