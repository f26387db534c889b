import { describe, expect, it } from 'vitest';
import { defaultRegistryName, paletteRegistrySpec } from '../../src/operations/palette.js';
import { endpointHost, flavourForHost, includesPacksNamespace, paletteBaseUrl } from '../../src/palette/endpoint.js';
import { PALETTE_CLIENT_RATE, ratePrefix, TokenBucket } from '../../src/palette/rate-limit.js';
import { syncPhase } from '../../src/palette/types.js';
import type { RetryClock } from '../../src/registry/retry.js';
import { failure } from '../support/errors.js';

function fakeClock(): RetryClock & { t: number } {
  const c = { t: 0, now: () => c.t, random: () => 0.5, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}

describe('Palette rate limiting', () => {
  it('never sends more than 10 requests in any one-second window (Palette: 10/s, burst 5)', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(PALETTE_CLIENT_RATE, clock);
    const sent: number[] = [];
    for (let i = 0; i < 60; i++) {
      await bucket.take();
      sent.push(clock.t);
    }
    for (let i = 0; i < sent.length; i++) {
      const inWindow = sent.filter((t) => t >= (sent[i] as number) && t < (sent[i] as number) + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(10);
    }
    // and it keeps going at its rate rather than stalling
    expect(clock.t).toBeLessThan(11_000);
  });

  it('limits per path prefix', () => {
    expect(ratePrefix('/v1/registries/oci/abc/basic/sync')).toBe('/v1/registries');
    expect(ratePrefix('/v1/packs/x/registries/y')).toBe('/v1/packs');
  });
});

describe('Palette helpers', () => {
  it.each([
    ['Success', 'done'],
    ['completed', 'done'],
    ['Failed', 'failed'],
    ['ERROR', 'failed'],
    ['InProgress', 'running'],
    ['Syncing', 'running'],
    ['', 'pending'],
    [undefined, 'pending'],
    ['Unknown', 'pending'],
  ] as const)('sync status %s is %s (Terraform provider mapping)', (status, phase) => {
    expect(syncPhase(status)).toBe(phase);
  });

  it('normalises endpoints: scheme, trailing slash and case do not matter', () => {
    expect(endpointHost('HTTPS://Harbor.Example.com:8443/')).toBe('harbor.example.com:8443');
    expect(endpointHost('123456789012.dkr.ecr.us-east-1.amazonaws.com')).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com');
  });

  it('defaults to the SaaS API, takes a bare host as https, refuses plain HTTP off loopback', async () => {
    expect(paletteBaseUrl(undefined).toString()).toBe('https://api.spectrocloud.com/');
    expect(paletteBaseUrl('palette.example.com').origin).toBe('https://palette.example.com');
    expect(paletteBaseUrl('http://127.0.0.1:9999').origin).toBe('http://127.0.0.1:9999');
    const err = await failure(Promise.resolve().then(() => paletteBaseUrl('http://palette.example.com')));
    expect(err.message).toContain('refusing to send the Palette API key over plain HTTP');
  });

  it('knows which base paths and flavours Palette wants', () => {
    expect(includesPacksNamespace('base/spectro-packs/archive')).toBe(true);
    expect(includesPacksNamespace('spectro-packs/archive/')).toBe(true);
    expect(includesPacksNamespace('base')).toBe(false);
    expect(flavourForHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toBe('ecr');
    expect(flavourForHost('harbor.example.com')).toBe('basic');
    expect(defaultRegistryName({ host: 'Harbor.Example.com:443', basePath: 'spectro/oci' })).toBe('harbor-example-com-spectro-oci');
  });

  it('builds the create body of the reference: Basic with https endpoint, ECR without scheme', () => {
    expect(paletteRegistrySpec({ host: 'harbor.example.com', basePath: 'base' }, { credentials: { kind: 'basic', username: 'u', password: 'p' } })).toEqual({
      flavour: 'basic',
      spec: {
        endpoint: 'https://harbor.example.com',
        baseContentPath: 'base',
        providerType: 'pack',
        isSyncSupported: true,
        auth: { type: 'basic', username: 'u', password: 'p', tls: { enabled: true, insecureSkipVerify: false } },
      },
    });
    const ecr = paletteRegistrySpec({ host: '123456789012.dkr.ecr.us-east-1.amazonaws.com', basePath: 'b' }, { credentials: { kind: 'ecr-sts', roleArn: 'arn:aws:iam::1:role/r' } });
    expect(ecr.flavour).toBe('ecr');
    expect(ecr.spec).toMatchObject({ endpoint: '123456789012.dkr.ecr.us-east-1.amazonaws.com', isPrivate: true, defaultRegion: 'us-east-1', credentials: { credentialType: 'sts', sts: { arn: 'arn:aws:iam::1:role/r' } } });
  });
});
