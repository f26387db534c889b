import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EcrClients } from '../../../src/aws/ecr-sdk.js';
import { ecrCredentialProvider } from '../../../src/credentials/ecr-token.js';
import { targetCredentialChain } from '../../../src/targets/credential-chain.js';
import { startForwardProxy } from '../../support/forward-proxy.js';
import { makeTestCertificates } from '../../support/tls.js';
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
afterEach(() => {
  restoreEnv();
  standin.answerOverride = undefined;
  standin.stall = undefined;
});


describe('ECR token provider with the real SDK', () => {
  it('refusePlainHttpIn: an ECR API endpoint of plain HTTP off this machine is refused before any call (push --check-images); loopback is not', async () => {
    let fetched = 0;
    const fetchToken = () => {
      fetched++;
      return Promise.resolve({ username: 'AWS', password: 'secret-token', expiresAt: new Date(clock + 3600_000) });
    };
    const off = ecrCredentialProvider({ refusePlainHttpIn: { AWS_ENDPOINT_URL_ECR: 'http://ecr-api.packpub-test.invalid:4566' }, fetchToken });
    const refused = await failure(off.resolve(HOST));
    expect(refused.code).toBe('USAGE');
    expect(refused.message).toContain('refusing to call the ECR API at http://ecr-api.packpub-test.invalid:4566 over plain HTTP (AWS_ENDPOINT_URL_ECR)');
    expect(fetched).toBe(0);
    // Other hosts are not its business; a loopback stand-in over http:// is fine.
    expect(await off.resolve('harbor.example.com')).toBeUndefined();
    const loopback = ecrCredentialProvider({ refusePlainHttpIn: { AWS_ENDPOINT_URL_ECR: standin.url }, fetchToken });
    expect((await loopback.resolve(HOST))?.password).toBe('secret-token');
    expect(fetched).toBe(1);
  });

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

  it('an STS that never answers AssumeRole, or drips, ends at the call time limit (--request-timeout), not never', async () => {
    process.env['AWS_ENDPOINT_URL_STS'] = standin.url;
    const role = 'arn:aws:iam::123456789012:role/packpub-publisher';
    try {
      for (const stall of [{ op: 'sts:AssumeRole', mode: 'hang' as const }, { op: 'sts:AssumeRole', mode: 'drip' as const, dripMs: 50 }]) {
        standin.stall = stall;
        standin.calls.length = 0;
        const clients = new EcrClients(500);
        const started = Date.now();
        try {
          const err = await failure(ecrCredentialProvider({ endpoint: standin.url, awsRoleArn: role, clients }).resolve(HOST));
          expect(err.code).toBe('NETWORK');
          expect(err.message).toBe(`STS at ${standin.url} did not answer sts:AssumeRole for role ${role}: no complete answer within 0.5 s`);
          expect(err.hint).toContain('--request-timeout');
          expect(`${err.message} ${err.hint}`).not.toMatch(/testAKIDEXAMPLE|assumed-secret|assumed-session-token/);
          expect(Date.now() - started).toBeLessThan(5_000);
          expect(standin.calls.map((c) => c.op)).toEqual(['sts:AssumeRole']); // ECR was never called
        } finally {
          clients.destroy();
        }
      }
    } finally {
      delete process.env['AWS_ENDPOINT_URL_STS'];
    }
  });
});

describe('ECR token provider on odd GetAuthorizationToken answers', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  /** Replace authorizationData; entries get the minted expiry unless they say otherwise. */
  const answer = (entries: Record<string, unknown>[]) => {
    standin.answerOverride = (op, normal) => {
      if (op !== 'GetAuthorizationToken') return normal;
      const minted = (normal as { authorizationData: Record<string, unknown>[] }).authorizationData[0] ?? {};
      return { authorizationData: entries.map((e) => ({ expiresAt: minted['expiresAt'], ...e })) };
    };
  };
  const resolve = () => ecrCredentialProvider({ endpoint: standin.url, now: () => clock }).resolve(HOST);

  it('a token that is not base64, has no colon, a control character or no password is refused by reason, never shown', async () => {
    const cases: [string, string][] = [
      ['AWS:not-encoded-secret-1', 'a token that is not base64'],
      [b64('AWSnocolonsecret2'), 'a token that has no user name and colon (AWS:<password>) once decoded'],
      [b64('AWS:line\r\nX-Injected: secret3'), 'a token that holds a control character once decoded'],
      [b64('AWS:'), 'a token that has an empty password once decoded'],
      [Buffer.from([0x41, 0x57, 0x53, 0x3a, 0xff, 0xfe]).toString('base64'), 'a token that is not UTF-8 text once decoded'],
    ];
    for (const [token, why] of cases) {
      answer([{ authorizationToken: token, proxyEndpoint: `https://${HOST}` }]);
      const err = await failure(resolve());
      expect(err.code).toBe('CREDENTIALS');
      expect(err.message).toBe(`ECR GetAuthorizationToken for ${HOST} returned ${why}`);
      expect(`${err.message} ${err.hint}`).not.toMatch(/secret[123]/);
    }
    answer([]);
    expect((await failure(resolve())).message).toBe(`ECR GetAuthorizationToken for ${HOST} returned no token`);
  });

  it('several entries: the one for this host; another account in the region is fine; another region is refused', async () => {
    const other = 'AWS:token-of-eu-west-1';
    answer([
      { authorizationToken: b64(other), proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
      { authorizationToken: b64('AWS:token-for-this-host'), proxyEndpoint: `https://${HOST}` },
    ]);
    expect((await resolve())?.password).toBe('token-for-this-host');
    answer([{ authorizationToken: b64('AWS:cross-account'), proxyEndpoint: 'https://210987654321.dkr.ecr.us-east-1.amazonaws.com' }]);
    expect((await resolve())?.password).toBe('cross-account');
    answer([{ authorizationToken: b64(other), proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com' }]);
    const err = await failure(resolve());
    expect(err.message).toBe(`ECR GetAuthorizationToken for ${HOST} returned a token for 123456789012.dkr.ecr.eu-west-1.amazonaws.com (region eu-west-1), not for region us-east-1`);
    expect(err.hint).toContain('--ecr-endpoint');
    expect(`${err.message} ${err.hint}`).not.toContain('token-of-eu-west-1');
  });

  it('an expiry already past names the clock instead of fetching a token for every request; an unreadable one is not an ECR answer', async () => {
    answer([{ authorizationToken: b64('AWS:stale-token'), proxyEndpoint: `https://${HOST}`, expiresAt: (clock - 3600_000) / 1000 }]);
    const err = await failure(resolve());
    expect(err.code).toBe('CREDENTIALS');
    expect(err.message).toBe(`ECR GetAuthorizationToken for ${HOST} returned a token that expired at ${new Date(clock - 3600_000).toISOString()} (this machine's clock says ${new Date(clock).toISOString()})`);
    expect(err.hint).toContain("check this machine's clock");
    answer([{ authorizationToken: b64('AWS:x'), proxyEndpoint: `https://${HOST}`, expiresAt: 'tomorrow' }]);
    const odd = await failure(resolve());
    expect(odd.code).toBe('REGISTRY');
    expect(odd.message).toMatch(new RegExp(`^the ECR API at ${standin.url.replace(/\./g, '\\.')} answered ecr:GetAuthorizationToken with something that is not an ECR API answer \\(`));
  });

  it('an ECR API that never answers, or drips, ends at the call time limit (--request-timeout), not never', async () => {
    for (const stall of [{ op: 'GetAuthorizationToken', mode: 'hang' as const }, { op: 'GetAuthorizationToken', mode: 'drip' as const, dripMs: 50 }]) {
      standin.stall = stall;
      const clients = new EcrClients(500);
      const started = Date.now();
      try {
        const err = await failure(ecrCredentialProvider({ endpoint: standin.url, clients }).resolve(HOST));
        expect(err.code).toBe('NETWORK');
        expect(err.message).toBe(`the ECR API at ${standin.url} did not answer ecr:GetAuthorizationToken for ${HOST}: no complete answer within 0.5 s`);
        expect(err.hint).toContain('--request-timeout');
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        clients.destroy();
      }
    }
  });
});

describe('ECR tokens of a credential chain resolved alone (a library caller; palette register)', () => {
  it("go through the proxy of the chain's env and trust the target's CA file, not the process's settings", async () => {
    const certs = stack.add(await makeTestCertificates({ hosts: ['api.ecr.test'] }));
    const proxy = stack.add(await startForwardProxy({ terminate: { 'api.ecr.test:443': { to: new URL(standin.url).host, certs } } }));
    expect(process.env['HTTPS_PROXY'] ?? process.env['https_proxy']).toBeUndefined();
    const chain = targetCredentialChain({ registry: `${HOST}/packs`, ecrEndpoint: 'https://api.ecr.test', caFile: certs.caFile, env: { HTTPS_PROXY: proxy.url } });
    // Was: the SDK connected directly, as the process's environment says (no proxy), and api.ecr.test did not resolve.
    const credential = await chain.resolve(HOST);
    expect(credential?.username).toBe('AWS');
    expect(standin.calls.map((c) => c.op)).toContain('GetAuthorizationToken');
    expect(proxy.requests.map((r) => [r.kind, r.target, r.status])).toContainEqual(['connect', 'api.ecr.test:443', 200]);
  });
});
