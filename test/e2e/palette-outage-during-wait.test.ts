import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { writePacks } from '../support/packs.js';
import { startRecordingProxy, type ProxyAction } from '../support/recording-proxy.js';
import { setup } from '../support/stage.js';

/*
 * Palette unavailable for a while (503s, as a gateway restarting answers) while packpub waits for its sync: a read
 * failing through its retries (6 attempts, ~7 s) ended a wait of up to --palette-timeout (600 s) with exit 1, though the
 * sync went on and the packs were listed a minute later. Now such a read is asked again at the next poll while one fits
 * before the deadline; an outage lasting past it still ends the run with Palette's error. The stand-in sits behind a
 * recording proxy that answers for it once the sync was asked for; time is the skipping clock's.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();

const w = setup(async (stack) => {
  const lab = await startPaletteLab(stack, { prefix: 'packpub-palette-outage-', key: KEY, name: 'outage-lab', base: 'outage', clock, shared: true });
  const proxy = stack.add(await startRecordingProxy(lab.palette.url));
  const packs = await writePacks(lab.root, { a: 'outage-a:1.0.0', b: 'outage-b:1.0.0', c: 'outage-c:1.0.0' });
  return { ...lab, proxy, packs };
});

const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SPECTROCLOUD_HOST: w.proxy.url, SPECTROCLOUD_APIKEY: KEY });
const at = () => ['--registry', `${w.registry.host}/${w.under('outage')}`];
const UNAVAILABLE: ProxyAction = { status: 503, headers: { 'content-type': 'application/json' }, body: '{"code":"ServiceUnavailable","message":"upstream restarting"}' };

/** After the sync was asked for, the next `times` requests whose path matches `path` answered 503. */
async function outageAfterTrigger<T>(path: RegExp, times: number, fn: () => Promise<T>): Promise<T> {
  let triggered = false;
  let left = times;
  w.proxy.onRequest = (req) => {
    if (req.method === 'POST' && req.path.includes('/sync')) triggered = true;
    else if (triggered && left > 0 && path.test(req.path)) {
      left--;
      return UNAVAILABLE;
    }
    return 'pass';
  };
  try {
    return await fn();
  } finally {
    w.proxy.onRequest = undefined;
  }
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
});
