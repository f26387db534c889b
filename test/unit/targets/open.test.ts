import { describe, expect, it } from 'vitest';
import { EcrClients } from '../../../src/aws/ecr-sdk.js';
import { parseEcrHost } from '../../../src/aws/ecr-host.js';
import { staticProvider } from '../../../src/credentials/chain.js';
import type { HttpTransport } from '../../../src/registry/http.js';
import type { RetryClock } from '../../../src/registry/retry.js';
import { openTarget } from '../../../src/targets/open.js';
import { scripted, type Answer } from '../../support/fake-transport.js';

/** A clock that never waits: sleeps are recorded and time moves by them. */
function fakeClock(): RetryClock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const USER = 'stack-user';
const PASSWORD = 'stack-test-password';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

function openWith(registry: string, transport: HttpTransport, clock: RetryClock) {
  return openTarget({ registry, credentials: staticProvider('test', { username: USER, password: PASSWORD }) }, { transport, clock });
}

describe('openTarget builds one HTTP stack per registry target, with injectable transport and clock', () => {
  it('retries through the injected clock (no real backoff) and authenticates through the same stack', async () => {
    let failures = 2;
    const { transport, sent } = scripted((req): Answer => {
      if (req.url.pathname === '/api/v2.0/systeminfo') return { status: 404 };
      if (req.headers?.['authorization'] !== BASIC) return { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } };
      if (failures-- > 0) return { status: 503 };
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'base/spectro-packs/archive/hello', tags: ['1.0.0'] }) };
    });
    const clock = fakeClock();
    const target = await openWith('registry.example.com/base', transport, clock);
    try {
      expect(target.store.kind).toBe('generic');
      expect(await target.store.listTags('base/spectro-packs/archive/hello')).toEqual(['1.0.0']);
    } finally {
      await target.store.close();
    }
    expect(clock.slept).toHaveLength(2); // two 503s, two backoffs, no real wait
    const tagCalls = sent.filter((s) => s.url.includes('/tags/list'));
    expect(tagCalls.map((s) => s.authorization)).toEqual([undefined, BASIC, BASIC, BASIC]);
  });

  it('gives Harbor REST calls the registry stack: same transport, same credentials, same retry clock', async () => {
    let projectFailures = 1;
    const { transport, sent } = scripted((req): Answer => {
      if (req.url.pathname === '/api/v2.0/systeminfo') return { status: 200, body: JSON.stringify({ harbor_version: 'v2.11.0' }) };
      if (req.url.pathname === '/api/v2.0/projects/proj') {
        if (projectFailures-- > 0) return { status: 502 };
        return { status: req.headers?.['authorization'] === BASIC ? 200 : 401 };
      }
      if (req.url.pathname === '/api/v2.0/projects/proj/repositories') {
        return { status: 200, body: JSON.stringify([{ name: 'proj/spectro-packs/archive/hello' }]) };
      }
      return { status: 404 };
    });
    const clock = fakeClock();
    const target = await openWith('harbor.example.com/proj', transport, clock);
    try {
      expect(target.store.kind).toBe('harbor');
      expect(await target.store.listRepositories('proj/spectro-packs/archive')).toEqual(['proj/spectro-packs/archive/hello']);
      await target.store.prepareRepository('proj/spectro-packs/archive/hello');
    } finally {
      await target.store.close();
    }
    expect(clock.slept).toHaveLength(1); // the 502 on the project lookup was retried on the injected clock
    const rest = sent.filter((s) => s.url.includes('/api/v2.0/projects'));
    expect(rest.length).toBeGreaterThanOrEqual(3);
    expect(rest.every((s) => s.authorization === BASIC)).toBe(true);
  });
});

describe('the Harbor probe (GET /api/v2.0/systeminfo)', () => {
  it('Harbor 2.13+ answering an anonymous probe without its version (only auth_mode and the like) is Harbor', async () => {
    const { transport } = scripted((req): Answer => {
      if (req.url.pathname === '/api/v2.0/systeminfo') {
        return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth_mode: 'oidc_auth', primary_auth_mode: false, self_registration: false, banner_message: '' }) };
      }
      return { status: 404 };
    });
    const target = await openWith('harbor.example.com/base', transport, fakeClock());
    try {
      expect(target.store.kind).toBe('harbor');
    } finally {
      await target.store.close();
    }
  });

  /** The store kind a registry whose systeminfo answers `body` (200) is opened as, and how many times it was asked. */
  async function probed(body: string, contentType: string): Promise<{ kind: string; asks: number }> {
    const { transport, sent } = scripted((req): Answer => {
      if (req.url.pathname === '/api/v2.0/systeminfo') return { status: 200, headers: { 'content-type': contentType }, body };
      return { status: 404 };
    });
    const target = await openWith('registry.example.com/base', transport, fakeClock());
    await target.store.close();
    return { kind: target.store.kind, asks: sent.filter((s) => s.url.includes('/api/v2.0/systeminfo')).length };
  }

  it('a JSON answer that is not an object (null, a string, an array, a number) is "not Harbor" at once, asked once', async () => {
    for (const body of ['null', '"harbor"', '[]', '42']) {
      expect(await probed(body, 'application/json'), body).toEqual({ kind: 'generic', asks: 1 });
    }
  });

  it('a web page answered 200 (a UI in front of the registry serving its index.html for every path) is "not Harbor" at once, asked once; an empty 200 is asked again', async () => {
    for (const [body, asks] of [['<!doctype html><html><head><title>Registry UI</title></head></html>', 1], ['\n  <html></html>', 1], ['', 3]] as const) {
      expect(await probed(body, 'text/html'), body).toEqual({ kind: 'generic', asks });
    }
  });
});

describe('EcrClients', () => {
  it('opens one ECR API client per region and AWS settings for the run, shared by every caller', async () => {
    const clients = new EcrClients();
    const host = parseEcrHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com')!;
    const other = parseEcrHost('123456789012.dkr.ecr.us-east-2.amazonaws.com')!;
    try {
      const a = await clients.get(host, { endpoint: 'http://127.0.0.1:9' });
      const b = await clients.get(host, { endpoint: 'http://127.0.0.1:9' });
      const c = await clients.get(other, { endpoint: 'http://127.0.0.1:9' });
      expect(b.client).toBe(a.client);
      expect(c.client).not.toBe(a.client);
      expect(await a.client.config.region()).toBe('eu-west-1');
    } finally {
      clients.destroy();
    }
  });
});

describe('a generic registry delete retried after an attempt that may have reached the registry (registry/retry.ts deletedByEarlierAttempt)', () => {
  const REPO = 'base/spectro-packs/archive/hello';
  const DIGEST = `sha256:${'a'.repeat(64)}` as const;
  /** Delete through a registry whose first DELETE fails with `first`, then answers 404 MANIFEST_UNKNOWN. */
  async function deleteAfter(first: () => Answer) {
    let deletes = 0;
    const { transport } = scripted((req): Answer => {
      if (req.url.pathname === '/api/v2.0/systeminfo') return { status: 404 };
      if (req.method !== 'DELETE') return { status: 200 };
      return deletes++ === 0 ? first() : { status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }) };
    });
    const target = await openWith('registry.example.com/base', transport, fakeClock());
    try {
      return await target.store.deleteTag({ repository: REPO, tag: '1.0.0', digest: DIGEST, otherTags: [] }).then(() => 'done', (err: unknown) => err);
    } finally {
      await target.store.close();
      expect(deletes).toBe(2);
    }
  }
  const reset = () => {
    throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  };

  it('a reset (the answer lost) or a 503 before the 404: the earlier attempt did it, done', async () => {
    expect(await deleteAfter(reset)).toBe('done');
    expect(await deleteAfter(() => ({ status: 503 }))).toBe('done');
  });

  it('a 429 (not taken) or a connection never made before the 404: still "no longer there"', async () => {
    const refused = () => {
      throw Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' });
    };
    for (const first of [() => ({ status: 429 }), refused]) {
      expect(await deleteAfter(first)).toMatchObject({ code: 'NOT_FOUND', message: `registry.example.com/${REPO}:1.0.0 (${DIGEST}) is no longer there: deleted meanwhile?` });
    }
  });
});
