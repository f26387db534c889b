import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { palettePacksFromPush, registerPaletteRegistry, resolvePaletteRegistry, syncPaletteRegistry, type PaletteTargetRef } from '../../src/operations/palette.js';
import { pushPacks } from '../../src/operations/push.js';
import { PaletteClient } from '../../src/palette/client.js';
import type { RetryClock, RetryOptions } from '../../src/registry/retry.js';
import { openTarget, type PackTarget } from '../../src/targets/open.js';
import { skipWaits } from '../support/clock.js';
import { failure } from '../support/errors.js';
import { startPaletteStandin, type PaletteStandin } from '../support/palette-standin.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { tempDir } from '../support/files.js';
import { registryAdmin } from '../support/registry-admin.js';
import * as lib from '../../src/index.js';
import { writePack } from '../support/packs.js';

/*
 * The closed loop as library calls: a real registry, the Palette stand-in reading it, PaletteClient and
 * the palette operations. Polls run every 20 ms (the default is 10 s); the timeout case runs on a fake clock.
 * The client's pacing under Palette's rate limit and the polls wait on a skipping clock (support/clock.ts),
 * which the stand-in counts its rate limit in: the limit is checked on the time the client waited for.
 */

const USER = 'palette-ci';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-registry`;
const KEY = `key-${Math.random().toString(36).slice(2)}-tenant`;
const PROJECT_KEY = `key-${Math.random().toString(36).slice(2)}-project`;

const skipping = skipWaits();
let registry: RunningRegistry;
let palette: PaletteStandin;
let root: string;
let cleanup: () => Promise<void>;
const opened: PackTarget[] = [];
const clients: PaletteClient[] = [];

async function target(base: string): Promise<PackTarget> {
  const t = await openTarget({ registry: `${registry.host}/${base}`, credentials: staticProvider('test', { username: USER, password: PASSWORD }) });
  opened.push(t);
  return t;
}
function client(key = KEY, extra: { projectUid?: string } = {}): PaletteClient {
  const c = new PaletteClient({ endpoint: palette.url, apiKey: key, ...extra });
  clients.push(c);
  return c;
}
const ref = (base: string): PaletteTargetRef => ({ host: registry.host, basePath: base, plainHttp: true });
const basic = { kind: 'basic' as const, username: USER, password: PASSWORD };

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('packpub-palette-'));
  registry = await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
  palette = await startPaletteStandin({
    keys: { [KEY]: { role: 'tenant-admin' }, [PROJECT_KEY]: { role: 'project', projects: ['proj-1'] } },
    labs: { [registry.host]: { url: registry.url } },
    startDelayPolls: 2,
    inProgressPolls: 2,
    clock: skipping,
  });
});
afterAll(async () => {
  for (const c of clients) await c.close();
  for (const t of opened) await t.store.close();
  await palette?.close();
  await registry?.stop();
  await cleanup?.();
});

describe('Palette closed loop (library)', () => {
  it('register creates one registry, validated first; a second register finds it', async () => {
    const first = await registerPaletteRegistry(client(), ref('lib-reg'), { credentials: basic });
    expect(first.status).toBe('created');
    const second = await registerPaletteRegistry(client(), ref('lib-reg'), { credentials: basic });
    expect(second).toMatchObject({ status: 'exists', registry: { uid: first.registry.uid } });
    const stored = [...palette.registries.values()].filter((r) => r.spec['baseContentPath'] === 'lib-reg');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.spec).toMatchObject({ endpoint: `http://${registry.host}`, providerType: 'pack', isSyncSupported: true, auth: { type: 'basic', username: USER } });
    expect(palette.requests.some((r) => r.path === '/v1/registries/oci/basic/validate' && r.status === 204)).toBe(true);
    expect(palette.schemaRejections).toEqual([]);
  });

  it('a wrong registry password is refused by Palette\'s validation and nothing is created', async () => {
    const before = palette.registries.size;
    const err = await failure(registerPaletteRegistry(client(), ref('lib-badpw'), { credentials: { ...basic, password: 'not-the-password' } }));
    expect(err.code).toBe('PALETTE');
    expect(err.message).toContain('unauthorized');
    expect(palette.registries.size).toBe(before);
  });

  it('sync after a push waits past a stale Success and confirms every pack with its packUid', async () => {
    const t = await target('lib-sync');
    const uid = palette.addRegistry('basic', 'lib-sync', { endpoint: `http://${registry.host}`, baseContentPath: 'lib-sync', providerType: 'pack', isSyncSupported: true, auth: { type: 'basic', username: USER, password: PASSWORD } }, {
      status: 'Success',
      lastRunTime: new Date(Date.now() - 86_400_000).toISOString(),
    });
    const packs = [
      await writePack(join(root, 'a'), { name: 'lib-alpha', version: '1.0.0' }),
      await writePack(join(root, 'b'), { name: 'lib-beta', version: '2.1.0' }),
    ];
    const report = await pushPacks(t, { packs, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    const wanted = palettePacksFromPush(report);
    expect(wanted).toEqual({ packs: [{ name: 'lib-alpha', version: '1.0.0' }, { name: 'lib-beta', version: '2.1.0' }], force: false });
    const statuses: string[] = [];
    const result = await syncPaletteRegistry(client(), ref('lib-sync'), {
      ...wanted,
      pollIntervalMs: 20,
      onEvent: (e) => {
        if (e.type === 'palette-sync-status') statuses.push(e.status);
      },
    });
    expect(result.status).toBe('visible');
    expect(result.registry.uid).toBe(uid);
    // The stale Success was seen first and did not end the wait.
    expect(statuses[0]).toBe('Success');
    expect(statuses).toContain('InProgress');
    const indexed = palette.registries.get(uid)?.index;
    for (const p of result.packs) {
      expect(p.status).toBe('visible');
      expect(p.packUid).toBe(indexed?.get(p.name)?.get(p.version)?.packUid);
    }
    expect(palette.violations()).toEqual([]);
    // Registry calls at tenant scope.
    expect(palette.requests.filter((r) => r.prefix === '/v1/registries').every((r) => r.projectUid === undefined)).toBe(true);
  });

  it('paletteSyncOptionsFromPush (the library entry): a version deleted and pushed again forces the sync, as push --palette-sync does', async () => {
    const t = await target('lib-again');
    const uid = palette.addRegistry('basic', 'lib-again', { endpoint: `http://${registry.host}`, baseContentPath: 'lib-again', providerType: 'pack', isSyncSupported: true, auth: { type: 'basic', username: USER, password: PASSWORD } });
    const push = async (dir: string, text: string) => {
      const report = await pushPacks(t, { packs: [await writePack(join(root, dir), { name: 'lib-again', version: '1.0.0', files: { 'a.txt': text } })], env: { SOURCE_DATE_EPOCH: '1700000000' } });
      return syncPaletteRegistry(client(), ref('lib-again'), { ...lib.paletteSyncOptionsFromPush(report), pollIntervalMs: 20 });
    };
    expect((await push('again-1', 'first')).forced).toBe(false);
    const admin = registryAdmin(registry, () => `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
    const repo = 'lib-again/spectro-packs/archive/lib-again';
    await admin.deleteManifest(repo, (await admin.digestOf(repo, '1.0.0')) as string);
    const again = await push('again-2', 'second');
    // The version is new to the registry, but Palette listed the first artifact: forced, and Palette holds the new one.
    expect(again).toMatchObject({ status: 'visible', forced: true });
    expect(palette.registries.get(uid)?.index.get('lib-again')?.get('1.0.0')?.digest).toBe(await admin.digestOf(repo, '1.0.0'));
    expect(palette.registries.get(uid)?.staleVersions).toEqual([]);
  });

  it('a pack pushed after a sync started is visible only after the next sync', async () => {
    const t = await target('lib-order');
    const c = client();
    const { registry: reg } = await registerPaletteRegistry(c, ref('lib-order'), { credentials: basic });
    await pushPacks(t, { packs: [await writePack(join(root, 'o1'), { name: 'order-one', version: '1.0.0' })], env: { SOURCE_DATE_EPOCH: '1700000000' } });
    await c.triggerSync(reg.uid, reg.flavour, false);
    await pushPacks(t, { packs: [await writePack(join(root, 'o2'), { name: 'order-two', version: '1.0.0' })], env: { SOURCE_DATE_EPOCH: '1700000000' } });
    for (let i = 0; i < 10 && (await c.syncStatus(reg.uid, reg.flavour)).status !== 'Success'; i++);
    expect((await c.syncStatus(reg.uid, reg.flavour)).status).toBe('Success');
    expect(await c.packTags('order-one', reg.uid)).toBeDefined();
    expect(await c.packTags('order-two', reg.uid)).toBeUndefined();
    const result = await syncPaletteRegistry(c, ref('lib-order'), { packs: [{ name: 'order-two', version: '1.0.0' }], pollIntervalMs: 20 });
    expect(result.status).toBe('visible');
  });

  it('the summary has no base path, the per-registry GET has it with secrets masked, the wrong flavour is 404', async () => {
    const c = client();
    const { registry: reg } = await registerPaletteRegistry(c, ref('lib-shape'), { credentials: basic });
    const item = (await c.listOciRegistries()).find((r) => r.metadata.uid === reg.uid);
    expect(item?.spec).not.toHaveProperty('baseContentPath');
    expect(item?.spec.registryType).toBe('basic');
    const record = await c.getRegistry(reg.uid, 'basic');
    expect(record?.spec.baseContentPath).toBe('lib-shape');
    expect(JSON.stringify(record)).not.toContain(PASSWORD);
    expect((record?.spec as { auth?: { password?: string } }).auth?.password).toMatch(/^\*+$/);
    expect(await c.getRegistry(reg.uid, 'ecr')).toBeUndefined();
  });

  it('no registry for the target points to doctor and register; two ask for --palette-registry', async () => {
    const none = await failure(resolvePaletteRegistry(client(), ref('nothing-here')));
    expect(none.code).toBe('NOT_FOUND');
    expect(none.hint).toContain('packpub palette doctor');
    expect(none.hint).toContain('packpub palette register');
    for (const name of ['twin-1', 'twin-2']) {
      palette.addRegistry('basic', name, { endpoint: `https://${registry.host}/`, baseContentPath: '/twins/', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    }
    const two = await failure(resolvePaletteRegistry(client(), ref('twins')));
    expect(two.code).toBe('USAGE');
    expect(two.message).toContain('twin-1');
    expect(two.hint).toContain('--palette-registry');
    const chosen = await resolvePaletteRegistry(client(), ref('twins'), { registry: 'twin-2' });
    expect(chosen.name).toBe('twin-2');
  });

  it('paletteRegistryBeforePublish (src/index.js): the registry serving the target, or refused when its sync is off', async () => {
    const on = palette.addRegistry('basic', 'before-on', { endpoint: `http://${registry.host}`, baseContentPath: 'before-on', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    expect(await lib.paletteRegistryBeforePublish(client(), ref('before-on'))).toEqual(await resolvePaletteRegistry(client(), ref('before-on')));
    expect((await lib.paletteRegistryBeforePublish(client(), ref('before-on'))).uid).toBe(on);
    const off = palette.addRegistry('basic', 'before-off', { endpoint: `http://${registry.host}`, baseContentPath: 'before-off', providerType: 'pack', isSyncSupported: false, auth: { type: 'noAuth' } });
    const refused = await failure(lib.paletteRegistryBeforePublish(client(), ref('before-off')));
    expect(refused.code).toBe('CONFIG');
    expect(refused.message).toBe(`sync is off for Palette registry before-off (${off}), which serves ${registry.host}/before-off: Palette would list none of the packs`);
    expect(refused.hint).toContain('turn sync on for before-off in Palette');
  });

  it('--palette-registry must serve the target, and a name two registries share is refused', async () => {
    // Another host's registry with the same base path, and one of the target's: both may list the same name:version.
    const elsewhere = palette.addRegistry('basic', 'shared-name', { endpoint: 'https://mirror.example.test:5000', baseContentPath: 'chosen', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const other = palette.addRegistry('basic', 'other-base', { endpoint: `https://${registry.host}`, baseContentPath: 'not-chosen', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const wrongHost = await failure(resolvePaletteRegistry(client(), ref('chosen'), { registry: elsewhere }));
    expect(wrongHost.code).toBe('USAGE');
    expect(wrongHost.message).toBe(`Palette registry shared-name (${elsewhere}) serves mirror.example.test:5000/chosen, not ${registry.host}/chosen`);
    const wrongBase = await failure(resolvePaletteRegistry(client(), ref('chosen'), { registry: 'other-base' }));
    expect(wrongBase.message).toBe(`Palette registry other-base (${other}) serves ${registry.host}/not-chosen, not ${registry.host}/chosen`);
    const right = palette.addRegistry('basic', 'shared-name', { endpoint: `https://${registry.host}`, baseContentPath: 'chosen', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const shared = await failure(resolvePaletteRegistry(client(), ref('chosen'), { registry: 'shared-name' }));
    expect(shared.code).toBe('USAGE');
    expect(shared.message).toContain('2 OCI registries in Palette are named "shared-name"');
    expect(shared.message).toContain(elsewhere);
    expect(shared.message).toContain(right);
    expect(shared.hint).toContain('uid');
    // The sync asks Palette for nothing on a refused choice.
    const syncsBefore = palette.requests.filter((r) => r.path.endsWith('/sync')).length;
    await failure(syncPaletteRegistry(client(), ref('chosen'), { packs: [{ name: 'x', version: '1.0.0' }], registry: 'shared-name' }));
    expect(palette.requests.filter((r) => r.path.endsWith('/sync')).length).toBe(syncsBefore);
    expect((await resolvePaletteRegistry(client(), ref('chosen'), { registry: right })).uid).toBe(right);
  });

  it('a timeout on a sync that never ends is reported per pack (fake clock: ten minutes pass instantly)', async () => {
    palette.addRegistry('basic', 'lib-hang', { endpoint: `http://${registry.host}`, baseContentPath: 'lib-hang', providerType: 'pack', isSyncSupported: true, auth: { type: 'basic', username: USER, password: PASSWORD } });
    let now = 1_000_000;
    const clock: RetryClock = { now: () => now, random: () => 0.5, sleep: async (ms) => void (now += ms) };
    palette.hangSyncs = true;
    try {
      const result = await syncPaletteRegistry(client(), ref('lib-hang'), { packs: [{ name: 'x', version: '1.0.0' }], clock, timeoutMs: 60_000, pollIntervalMs: 10_000 });
      expect(result.status).toBe('published-not-visible');
      expect(result.sync.outcome).toBe('timeout');
      expect(result.packs[0]?.reason).toContain('timed out after 60 s');
      expect(result.packs[0]?.reason).toContain('InProgress');
    } finally {
      palette.hangSyncs = false;
    }
  });

  it('a wrong key and a project-scoped key get errors that say what to do', async () => {
    const wrong = await failure(client('not-a-key-123456').listOciRegistries());
    expect(wrong.code).toBe('AUTH');
    expect(wrong.message).toContain('rejected the API key (401)');
    expect(wrong.hint).toContain('SPECTROCLOUD_APIKEY');
    const project = await failure(client(PROJECT_KEY).listOciRegistries());
    expect(project.code).toBe('AUTH');
    expect(project.message).toContain('(403)');
    expect(project.hint).toContain('tenant admin');
    // Pack reads with the project header work for the project key.
    expect(await client(PROJECT_KEY, { projectUid: 'proj-1' }).packTags('nothing', 'nothing')).toBeUndefined();
    const packsCall = palette.requests.filter((r) => r.prefix === '/v1/packs').at(-1);
    expect(packsCall?.projectUid).toBe('proj-1');
    for (const r of palette.requests) expect(JSON.stringify(r)).not.toContain(KEY);
  });
});

describe('PaletteClient under a 429', () => {
  it('waits (Retry-After, else the registries\' backoff: 250 ms doubling) and retries instead of failing', async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      calls++;
      if (calls <= 2) {
        res.writeHead(429, { 'content-type': 'application/json', ...(calls === 1 ? { 'retry-after': '3' } : {}) });
        res.end('{"code":"TooManyRequests","message":"Too many requests"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"items":[]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let now = 0;
    const slept: number[] = [];
    const clock: RetryClock = { now: () => now, random: () => 0.5, sleep: async (ms) => void (slept.push(ms), (now += ms)) };
    const c = new PaletteClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k-123456789', clock });
    try {
      expect(await c.listOciRegistries()).toEqual([]);
      expect(calls).toBe(3);
      // First wait honours Retry-After (3 s), the second is the second backoff step (RETRY_DEFAULTS: 250 ms, doubling).
      expect(slept).toEqual([3000, 500]);
    } finally {
      await c.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('PaletteClient on answers that look like success but are not', () => {
  type Canned = { status: number; type?: string; body: string; hang?: boolean };
  async function withPalette(answers: Record<string, Canned>, run: (c: PaletteClient, now: () => number, clock: RetryClock) => Promise<void>, retry?: RetryOptions): Promise<string[]> {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push(`${req.method} ${path}`);
      const a = answers[`${req.method} ${path}`] ?? { status: 404, type: 'application/json', body: '{"code":"ResourceNotFound","message":"Resource not found"}' };
      if (a.hang === true) return;
      res.writeHead(a.status, a.type === undefined ? {} : { 'content-type': a.type });
      res.end(a.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let now = 5_000_000;
    const clock: RetryClock = { now: () => now, random: () => 0.5, sleep: async (ms) => void (now += ms) };
    const c = new PaletteClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: KEY, clock, ...(retry === undefined ? {} : { retry }) });
    try {
      await run(c, () => now, clock);
    } finally {
      server.closeAllConnections();
      await c.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
    return seen;
  }
  const json = (body: unknown): Canned => ({ status: 200, type: 'application/json', body: JSON.stringify(body) });
  const reg = { uid: 'r-1', name: 'r-one', flavour: 'basic' as const, endpoint: 'https://registry.test', baseContentPath: 'base' };
  const target: PaletteTargetRef = { host: 'registry.test', basePath: 'base' };
  const STATUS = 'GET /v1/registries/oci/r-1/basic/sync/status';
  const SYNC = 'POST /v1/registries/oci/r-1/basic/sync';

  it('a 200 with an HTML page (a proxy or login page) is an error, not "no registries"', async () => {
    await withPalette({ 'GET /v1/registries/oci/summary': { status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><html><body>Sign in</body></html>' } }, async (c) => {
      const err = await failure(resolvePaletteRegistry(c, target));
      expect(err.code).toBe('PALETTE');
      expect(err.message).toMatch(/^Palette at 127\.0\.0\.1:\d+ answered 200 to list OCI registries with a body that is not JSON \(text\/html; charset=utf-8\)$/);
      expect(err.hint).toContain('--palette-endpoint');
    });
  });

  it('JSON of unexpected types is an error naming the field, not a crash or a wait', async () => {
    await withPalette({ 'GET /v1/registries/oci/summary': json({ items: { metadata: { uid: 'x' } } }) }, async (c) => {
      expect((await failure(c.listOciRegistries())).message).toContain('answered list OCI registries with an unexpected shape: items is not a list');
    });
    await withPalette({ 'GET /v1/packs/p/registries/r-1': json({ name: 'p', registryUid: 'r-1', tags: '1.0.0' }) }, async (c) => {
      expect((await failure(c.packTags('p', 'r-1'))).message).toContain('unexpected shape: tags is not a list of tags');
    });
    // An empty status body would read as "pending" and hold the run until its deadline: it fails at once instead.
    const seen = await withPalette({ [STATUS]: { status: 200, type: 'application/json', body: '' } }, async (c, now) => {
      const start = now();
      const err = await failure(syncPaletteRegistry(c, target, { packs: [{ name: 'p', version: '1.0.0' }], registry: reg, clock: { now, random: () => 0.5, sleep: async () => undefined } }));
      expect(err.message).toContain('read the sync status of registry r-1 with an unexpected shape: the body is empty');
      expect(now() - start).toBe(0);
    });
    expect(seen).not.toContain(SYNC);
    await withPalette({ [STATUS]: json({ status: 3, lastRunTime: '2026-01-01T00:00:00Z' }) }, async (c) => {
      expect((await failure(c.syncStatus('r-1', 'basic'))).message).toContain('unexpected shape: status is not a string');
    });
  });

  it('a sync that is done while the pack is listed only for another registry, another name or at other versions is not visible', async () => {
    let polls = 0;
    const done = json({ status: 'Success', lastRunTime: '2026-12-04T10:00:00Z', isSyncSupported: true });
    const answers: Record<string, Canned> = {
      [SYNC]: { status: 202, body: '' },
      'GET /v1/packs/p/registries/r-1': json({ name: 'p', registryUid: 'r-other', tags: [{ tag: '1.0.0', version: '1.0.0', packUid: 'elsewhere' }] }),
      'GET /v1/packs/q/registries/r-1': json({ name: 'not-q', registryUid: 'r-1', tags: [{ tag: '2.0.0', version: '2.0.0', packUid: 'other-pack' }] }),
      // The right pack and registry, but only an older version and its parent tag: the sync ran, the version is not there.
      'GET /v1/packs/r/registries/r-1': json({ name: 'r', registryUid: 'r-1', tags: [{ tag: '3.0.0', version: '3.0.0', packUid: 'r-300' }, { tag: '3.x', version: '3.0.0', packUid: 'r-300' }] }),
    };
    await withPalette(
      new Proxy(answers, {
        get: (t, k: string) => (k === STATUS ? (polls++ === 0 ? json({ status: 'Success', lastRunTime: '2026-12-01T10:00:00Z', isSyncSupported: true }) : done) : t[k]),
      }),
      async (c, now) => {
        let t = now();
        const start = t;
        const ticking: RetryClock = { now: () => t, random: () => 0.5, sleep: async (ms) => void (t += ms) };
        const result = await syncPaletteRegistry(c, target, { packs: [{ name: 'p', version: '1.0.0' }, { name: 'q', version: '2.0.0' }, { name: 'r', version: '3.1.0' }], registry: reg, clock: ticking, timeoutMs: 60_000, pollIntervalMs: 10_000 });
        expect(result.sync.outcome).toBe('success');
        expect(result.status).toBe('published-not-visible');
        expect(result.packs.map((p) => p.status)).toEqual(['not-visible', 'not-visible', 'not-visible']);
        expect(result.packs[2]?.reason).toContain('finished but does not list r:3.1.0');
        // Indexing lags: the packs were asked again every poll until the deadline, never past it.
        expect(t - start).toBeLessThanOrEqual(60_000);
        expect(result.packs[0]?.reason).toContain('finished but does not list p:1.0.0');
      },
    );
  });

  it('5xx or no answer during the wait: the retries end at the deadline, and the error says what was awaited', async () => {
    const before = json({ status: 'Success', lastRunTime: '2026-12-01T10:00:00Z', isSyncSupported: true });
    const after = (status: Canned): Record<string, Canned> => {
      let polls = 0;
      return new Proxy({ [SYNC]: { status: 202, body: '' } } as Record<string, Canned>, { get: (t, k: string) => (k === STATUS ? (polls++ === 0 ? before : status) : t[k]) });
    };
    await withPalette(after({ status: 503, type: 'text/plain', body: 'upstream unavailable' }), async (c, now, clock) => {
      const start = now();
      const err = await failure(syncPaletteRegistry(c, target, { packs: [{ name: 'p', version: '1.0.0' }], registry: reg, clock, timeoutMs: 60_000, pollIntervalMs: 10_000 }));
      expect(err.message).toMatch(/^Palette answered 503 to read the sync status of registry r-1 after \d+ attempts, when the wait's deadline \(--palette-timeout\) came$/);
      expect(now() - start).toBeLessThanOrEqual(60_000);
      // After the sync was asked for: the error (its code kept) carries the report as it stood, the sync not seen to end.
      expect(err).toBeInstanceOf(lib.PaletteSyncStopped);
      expect(err.code).toBe('PALETTE');
      const { report } = err as InstanceType<typeof lib.PaletteSyncStopped>;
      expect(report).toMatchObject({ status: 'published-not-visible', registry: { uid: 'r-1' }, sync: { outcome: 'error', status: 'Success' } });
      expect(report.packs).toEqual([{ name: 'p', version: '1.0.0', status: 'not-visible', reason: `not confirmed: ${err.message}` }]);
    }, { attempts: 100 });
    await withPalette(after({ status: 200, body: '', hang: true }), async (c, now, clock) => {
      const start = now();
      const err = await failure(syncPaletteRegistry(c, target, { packs: [{ name: 'p', version: '1.0.0' }], registry: reg, clock, timeoutMs: 13_000, pollIntervalMs: 10_000 }));
      expect(err.code).toBe('NETWORK');
      expect(err.message).toMatch(/^Palette at 127\.0\.0\.1:\d+ did not answer read the sync status of registry r-1 within 200 ms \(\d attempts\)$/);
      expect(now() - start).toBeLessThanOrEqual(13_000);
    }, { requestTimeoutMs: 200 });
    // Finding the registry is part of the wait too.
    await withPalette({ 'GET /v1/registries/oci/summary': { status: 200, body: '', hang: true } }, async (c, now, clock) => {
      const start = now();
      const err = await failure(syncPaletteRegistry(c, target, { packs: [{ name: 'p', version: '1.0.0' }], clock, timeoutMs: 5_000, pollIntervalMs: 10_000 }));
      expect(err.message).toMatch(/^Palette at 127\.0\.0\.1:\d+ did not answer list OCI registries within 200 ms \(\d attempts?\)$/);
      expect(now() - start).toBeLessThanOrEqual(5_000);
    }, { requestTimeoutMs: 200 });
  });

  it('a failed sync shows Palette\'s message without the API key or a URL\'s password in it', async () => {
    let polls = 0;
    const failed = json({ status: 'Failed', message: `GET https://robot:pw-in-url-123@registry.test/v2/_catalog as ApiKey ${KEY}: 401`, lastRunTime: '2026-12-04T10:00:00Z' });
    const answers = new Proxy({ [SYNC]: { status: 202, body: '' } } as Record<string, Canned>, {
      get: (t, k: string) => (k === STATUS ? (polls++ === 0 ? json({ status: 'Success', lastRunTime: '2026-12-01T10:00:00Z' }) : failed) : t[k]),
    });
    await withPalette(answers, async (c, _now, clock) => {
      const events: string[] = [];
      const result = await syncPaletteRegistry(c, target, { packs: [{ name: 'p', version: '1.0.0' }], registry: reg, clock, onEvent: (e) => events.push(JSON.stringify(e)) });
      expect(result.sync.outcome).toBe('failed');
      expect(result.status).toBe('published-not-visible');
      expect(result.packs[0]?.reason).toContain('failed: GET https://');
      const shown = JSON.stringify(result) + events.join('\n');
      expect(shown).not.toContain(KEY);
      expect(shown).not.toContain('pw-in-url-123');
    });
  });
});

describe('a registry list Palette pages (listmeta.continue)', () => {
  const filler = (i: number) => ({ endpoint: `https://filler-${i}.example.test`, baseContentPath: 'x', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });

  it('the registry serving the target on the third page is found, synced, and its pack confirmed', async () => {
    const paged = await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { [registry.host]: { url: registry.url } }, summaryPageSize: 2, clock: skipping });
    const c = new PaletteClient({ endpoint: paged.url, apiKey: KEY });
    try {
      // Palette's own registry, four others, then the target's: pages of 2, so it is on page 3.
      for (let i = 0; i < 4; i++) paged.addRegistry('basic', `filler-${i}`, filler(i));
      const uid = paged.addRegistry('basic', 'paged-target', { endpoint: `http://${registry.host}`, baseContentPath: 'lib-paged', providerType: 'pack', isSyncSupported: true, auth: { type: 'basic', username: USER, password: PASSWORD } });
      const report = await pushPacks(await target('lib-paged'), { packs: [await writePack(join(root, 'paged'), { name: 'lib-paged', version: '1.0.0' })], env: { SOURCE_DATE_EPOCH: '1700000000' } });
      const result = await syncPaletteRegistry(c, ref('lib-paged'), { ...palettePacksFromPush(report), pollIntervalMs: 20 });
      expect(result.registry.uid).toBe(uid);
      expect(result.status).toBe('visible');
      expect(result.packs).toEqual([{ name: 'lib-paged', version: '1.0.0', status: 'visible', packUid: paged.registries.get(uid)?.index.get('lib-paged')?.get('1.0.0')?.packUid }]);
      expect(paged.registries.get(uid)?.syncRequests).toHaveLength(1);
      // Each page asked with the token (and offset) the previous one gave; three pages, no more.
      const lists = paged.requests.filter((r) => r.path === '/v1/registries/oci/summary');
      expect(lists.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(lists[0]?.query).toBe('');
      expect(lists[1]?.query).toMatch(/^\?continue=[0-9a-f]+&offset=2$/);
      expect(lists[2]?.query).toMatch(/^\?continue=[0-9a-f]+&offset=4$/);
      expect((await c.listOciRegistries()).map((r) => r.metadata.name)).toEqual(['Palette Registry', 'filler-0', 'filler-1', 'filler-2', 'filler-3', 'paged-target']);
      expect(paged.violations()).toEqual([]);
    } finally {
      await c.close();
      await paged.close();
    }
  });

  it('a server that hands out the same continue token forever is an error after two pages, and nothing is synced', async () => {
    const paged = await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, summaryPageSize: 1, clock: skipping });
    const c = new PaletteClient({ endpoint: paged.url, apiKey: KEY });
    try {
      for (let i = 0; i < 3; i++) paged.addRegistry('basic', `filler-${i}`, filler(i));
      paged.repeatContinue = true;
      const err = await failure(syncPaletteRegistry(c, ref('lib-loop'), { packs: [{ name: 'p', version: '1.0.0' }], pollIntervalMs: 20 }));
      expect(err.code).toBe('PALETTE');
      expect(err.message).toMatch(/^Palette at 127\.0\.0\.1:\d+ answered list OCI registries with a continue token it had already given \(page 2\): the list would never end$/);
      expect(err.hint).toContain('--palette-endpoint');
      expect(paged.requests.filter((r) => r.path === '/v1/registries/oci/summary')).toHaveLength(2);
      expect(paged.requests.filter((r) => r.method === 'POST')).toEqual([]);
    } finally {
      await c.close();
      await paged.close();
    }
  });

  it('odd listmeta is an error naming the field; fresh tokens with nothing new stop too', async () => {
    const item = (uid: string) => ({ metadata: { uid, name: uid }, spec: { endpoint: 'https://registry.test', providerType: 'pack', registryType: 'basic' } });
    const serve = async (pages: (q: URLSearchParams) => unknown, run: (c: PaletteClient) => Promise<void>) => {
      const server = createServer((req, res) => {
        const body = JSON.stringify(pages(new URL(req.url ?? '/', 'http://x').searchParams));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const c = new PaletteClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: KEY });
      try {
        await run(c);
      } finally {
        await c.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    };
    await serve(() => ({ items: [item('a')], listmeta: { continue: 7 } }), async (c) => {
      expect((await failure(c.listOciRegistries())).message).toContain('answered list OCI registries with an unexpected shape: listmeta.continue is not a string');
    });
    await serve(() => ({ items: [item('a')], listmeta: { continue: 'next', offset: '1' } }), async (c) => {
      expect((await failure(c.listOciRegistries())).message).toContain('unexpected shape: listmeta.offset is not a non-negative integer');
    });
    let n = 0;
    await serve(() => ({ items: [item('a')], listmeta: { continue: `t${n++}`, offset: 1 } }), async (c) => {
      expect((await failure(c.listOciRegistries())).message).toContain('with a page of no new registry that still asks to continue (page 2)');
    });
    expect(n).toBe(2);
    // An empty continue ends the list; a page after the first must have a body.
    await serve((q) => (q.get('continue') === null ? { items: [item('a')], listmeta: { continue: 'p2', offset: 1, count: 2, limit: 1 } } : { items: [item('b')], listmeta: { continue: '', offset: 2, count: 2, limit: 1 } }), async (c) => {
      expect((await c.listOciRegistries()).map((r) => r.metadata.uid)).toEqual(['a', 'b']);
    });
  });
});
