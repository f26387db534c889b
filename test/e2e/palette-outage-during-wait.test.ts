import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { proxiedPaletteLab } from '../support/published.js';
import { type ProxyAction, type ProxyRequestInfo } from '../support/recording-proxy.js';
import { setup, thenUndo } from '../support/stage.js';

/*
 * Palette unavailable for a while (503s, as a gateway restarting answers) while packpub waits for its sync: a read
 * failing through its retries (6 attempts, ~7 s) ended a wait of up to --palette-timeout (600 s) with exit 1, though the
 * sync went on and the packs were listed a minute later. Now such a read is asked again at the next poll while one fits
 * before the deadline; an outage lasting past it still ends the run with Palette's error. The stand-in sits behind a
 * recording proxy that answers for it once the sync was asked for; time is the skipping clock's.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();

const w = setup((stack) => proxiedPaletteLab(stack, 'outage', KEY, clock, ['a', 'b', 'c', 'd', 'e1', 'e2', 'e3', 'f', 'g1', 'g2', 'g3']));
const env = () => w.env;
const at = () => w.at;
const UNAVAILABLE: ProxyAction = { status: 503, headers: { 'content-type': 'application/json' }, body: '{"code":"ServiceUnavailable","message":"upstream restarting"}' };

/** After the sync was asked for, the next `times` requests whose path matches `path` answered 503. */
function outageAfterTrigger<T>(path: RegExp, times: number, fn: () => Promise<T>): Promise<T> {
  let triggered = false;
  const after = (req: ProxyRequestInfo): boolean => {
    if (req.method === 'POST' && req.path.includes('/sync')) triggered = true;
    else return triggered && path.test(req.path);
    return false;
  };
  return outageOf(after, times, fn);
}

/** The next `times` requests `matches` takes answered 503, from the start of `fn` (before the sync is asked for too). */
async function outageOf<T>(matches: (req: ProxyRequestInfo) => boolean, times: number, fn: () => Promise<T>): Promise<T> {
  let left = times;
  w.proxy.onRequest = (req) => {
    if (left > 0 && matches(req)) {
      left--;
      return UNAVAILABLE;
    }
    return 'pass';
  };
  return thenUndo(fn, () => {
    w.proxy.onRequest = undefined;
  });
}

/** Where the proxy's requests matching `path` stand among them, and where the sync requests do. */
function order(path: RegExp): { failed: number[]; syncs: number[] } {
  const at = (f: (r: { path: string; method: string; status: number | undefined }) => boolean) => w.proxy.requests.flatMap((r, i) => (f(r) ? [i] : []));
  return { failed: at((r) => path.test(r.path) && r.status === 503), syncs: at((r) => r.method === 'POST' && /\/sync(\?|$)/.test(r.path)) };
}

describe('Palette unavailable while its sync is waited for', () => {
  it('status polls failing through their retries: asked again at the next poll, the pack confirmed, exit 0 (was: exit 1 after ~7 s)', async () => {
    const pushed = await runCli(['push', w.packs.a, ...at()], { env: env() });
    expect(pushed.code, pushed.stderr).toBe(0);
    const run = await outageAfterTrigger(/\/sync\/status$/, 8, () => runCli(['palette', 'sync', 'outage-a:1.0.0', ...at()], { env: env() }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^visible in Palette outage-a:1\.0\.0 \(packUid [0-9a-f]+\)$/m);
    expect(run.stderr).toMatch(/^palette: Palette answered 503 to read the sync status of registry [0-9a-f]+ after 6 attempts: upstream restarting; asking again at the next poll$/m);
    expect(w.proxy.requests.filter((r) => r.path.endsWith('/sync/status') && r.status === 503).length).toBe(8);
    // Said once, not at every poll while the same failure repeats.
    expect(run.stderr.split('\n').filter((l) => l.endsWith('; asking again at the next poll'))).toHaveLength(1);
  });

  it('pack reads failing through their retries after the sync: asked again at the next poll, exit 0 (push --palette-sync, was: exit 1)', async () => {
    const run = await outageAfterTrigger(/^\/v1\/packs\/outage-b\//, 7, () => runCli(['push', w.packs.b, ...at(), '--palette-sync', '--json'], { env: env() }));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { palette: { status: string; targets: { packs: { status: string }[] }[] } };
    expect(report.palette.status).toBe('visible');
    expect(run.stderr).toMatch(/^palette: Palette answered 503 to read pack outage-b after 6 attempts: upstream restarting; asking again at the next poll$/m);
  });

  it('an outage lasting past --palette-timeout still ends the run with Palette\'s error: exit 1, the pack published, not confirmed', async () => {
    const run = await outageAfterTrigger(/\/sync\/status$/, 1_000, () => runCli(['push', w.packs.c, ...at(), '--palette-sync', '--palette-timeout', '60', '--json'], { env: env() }));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^error: Palette answered 503 to read the sync status of registry [0-9a-f]+ after \d attempts?(, when the wait's deadline \(--palette-timeout\) came)?: upstream restarting$/m);
    const report = JSON.parse(run.stdout) as { palette: { status: string; targets: { packs: { status: string; reason: string }[] }[] } };
    expect(report.palette.status).toBe('error');
    expect(report.palette.targets[0]?.packs[0]).toMatchObject({ status: 'not-visible' });
    expect(report.palette.targets[0]?.packs[0]?.reason).toMatch(/^not confirmed: Palette answered 503/);
  });

  // The other calls of the sync step (was: each ended the run with exit 1 after its retries, ~7 s, though Palette
  // answered seconds later): asked again at the next poll too.
  it('the sync status read before the sync is asked for: asked again, one sync asked for, exit 0 (was: exit 1)', async () => {
    const pushed = await runCli(['push', w.packs.d, ...at()], { env: env() });
    expect(pushed.code, pushed.stderr).toBe(0);
    const syncsBefore = w.palette.registries.get(w.uid)?.syncRequests.length ?? 0;
    w.proxy.requests.length = 0;
    const run = await outageOf((r) => r.path.endsWith('/sync/status'), 8, () => runCli(['palette', 'sync', 'outage-d:1.0.0', ...at()], { env: env() }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^visible in Palette outage-d:1\.0\.0 \(packUid [0-9a-f]+\)$/m);
    expect(run.stderr).toMatch(/^palette: Palette answered 503 to read the sync status of registry [0-9a-f]+ after 6 attempts: upstream restarting; asking again at the next poll$/m);
    const { failed, syncs } = order(/\/sync\/status$/);
    expect(failed).toHaveLength(8);
    // Every 503 came before the sync was asked for, and it was asked for once.
    expect(syncs).toHaveLength(1);
    expect(Math.max(...failed)).toBeLessThan(syncs[0] as number);
    expect(w.palette.registries.get(w.uid)?.syncRequests.length).toBe(syncsBefore + 1);
  });

  it('the sync request itself: asked again at the next poll, once Palette answers it; exit 0 (was: exit 1)', async () => {
    const pushed = await runCli(['push', w.packs.f, ...at()], { env: env() });
    expect(pushed.code, pushed.stderr).toBe(0);
    const syncsBefore = w.palette.registries.get(w.uid)?.syncRequests.length ?? 0;
    const run = await outageOf((r) => r.method === 'POST' && /\/sync(\?|$)/.test(r.path), 8, () => runCli(['palette', 'sync', 'outage-f:1.0.0', ...at()], { env: env() }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^palette: Palette answered 503 to sync registry [0-9a-f]+ after 6 attempts: upstream restarting; asking again at the next poll$/m);
    expect(run.stdout).toMatch(/^visible in Palette outage-f:1\.0\.0 /m);
    // The 503s never reached Palette: it got one sync request.
    expect(w.palette.registries.get(w.uid)?.syncRequests.length).toBe(syncsBefore + 1);
  });

  it('the pack search before the sync (push --palette-sync of three new packs): asked again, exit 0 (was: exit 1, published, not synced)', async () => {
    const syncsBefore = w.palette.registries.get(w.uid)?.syncRequests.length ?? 0;
    w.proxy.requests.length = 0;
    const run = await outageOf((r) => r.path.startsWith('/v1/packs/search'), 8, () =>
      runCli(['push', w.packs.e1, w.packs.e2, w.packs.e3, ...at(), '--palette-sync'], { env: env() }),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^palette: Palette answered 503 to search the packs of registry [0-9a-f]+ after 6 attempts: upstream restarting; asking again at the next poll$/m);
    for (const n of ['e1', 'e2', 'e3']) expect(run.stdout).toMatch(new RegExp(`^visible in Palette outage-${n}:1\\.0\\.0 `, 'm'));
    const { failed, syncs } = order(/^\/v1\/packs\/search/);
    expect(failed).toHaveLength(8);
    expect(syncs).toHaveLength(1);
    expect(Math.max(...failed)).toBeLessThan(syncs[0] as number);
    expect(w.palette.registries.get(w.uid)?.syncRequests.length).toBe(syncsBefore + 1);
  });

  it('the project look-up (a tenant-scope read of the pack, --palette-project): asked again, exit 0 (was: exit 1)', async () => {
    const project = 'b7d0c1e2f3a4b5c6d7e8f901';
    const tenantRead = (r: ProxyRequestInfo) => r.path.startsWith('/v1/packs/outage-g1/') && r.headers['projectuid'] === undefined;
    const run = await outageOf(tenantRead, 8, () => runCli(['push', w.packs.g1, ...at(), '--palette-sync', '--palette-project', project], { env: env() }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^palette: Palette answered 503 to read pack outage-g1 after 6 attempts: upstream restarting; asking again at the next poll$/m);
    expect(run.stdout).toMatch(/^visible in Palette outage-g1:1\.0\.0 /m);
    // The pack was confirmed in the project.
    expect(w.palette.requests.some((r) => r.path.startsWith('/v1/packs/outage-g1/') && r.projectUid === project && r.status === 200)).toBe(true);
  });

  it('the pack search after a failed sync: asked again, and the run ends as the failed sync says (exit 3, was: exit 1)', async () => {
    const pushed = await runCli(['push', w.packs.g2, w.packs.g3, w.packs.a, ...at()], { env: env() });
    expect(pushed.code, pushed.stderr).toBe(0);
    w.palette.failSyncsAfterIndexing = 'broken-chart:0.1.0 has no pack.json';
    try {
      const run = await outageOf((r) => r.path.startsWith('/v1/packs/search'), 8, () =>
        runCli(['palette', 'sync', 'outage-g2:1.0.0', 'outage-g3:1.0.0', 'outage-a:1.0.0', ...at(), '--json'], { env: env() }),
      );
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toMatch(/^palette: Palette answered 503 to search the packs of registry [0-9a-f]+ after 6 attempts: upstream restarting; asking again at the next poll$/m);
      const report = JSON.parse(run.stdout) as { status: string; targets: { sync: { outcome: string }; packs: { name: string; status: string }[] }[] };
      expect(report.status).toBe('published-not-visible');
      expect(report.targets[0]?.sync.outcome).toBe('failed');
      expect(report.targets[0]?.packs.map((p) => [p.name, p.status])).toEqual([['outage-g2', 'visible'], ['outage-g3', 'visible'], ['outage-a', 'visible']]);
      expect(run.stderr).toMatch(/^palette: Palette's sync of outage-lab failed: broken-chart:0\.1\.0 has no pack\.json; it lists every version asked for \(3\) with the content published/m);
    } finally {
      w.palette.failSyncsAfterIndexing = undefined;
    }
  });
});

