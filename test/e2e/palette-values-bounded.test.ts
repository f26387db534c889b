import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GRACE_ENV, MAX_GRACE_S } from '../../src/cli/signals.js';
import { skipWaits } from '../support/clock.js';
import { runCli, spawnCli, waitFor } from '../support/cli.js';
import { stackLines } from '../support/secrets.js';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { startPaletteStandin } from '../support/palette-standin.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * palette sync pulls a version's archive from the registry when Palette lists it with empty values, to tell whether
 * the values.yaml published has entries (8848f3f). That pull was bounded only by the registry's timeouts: a registry
 * that held the blob download kept the run past --palette-timeout until --request-timeout (60 s by default, then its
 * retries). Now the pull is given up at the deadline (and on an interrupt), requests in flight included, and the
 * version is NOT VISIBLE saying its values.yaml could not be read in time. An interrupt ends such a run at once, and says
 * what is true of it (it said "error: cancelled").
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const REPO = 'vals/spectro-packs/archive/app';
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-palette-values-bounded-');
  const hostile = stack.add(await startHostileRegistry());
  const palette = stack.add(await startPaletteStandin({ keys: { [KEY]: { role: 'tenant-admin' } }, labs: { [hostile.host]: { url: hostile.url, repositories: () => [REPO] } }, clock }));
  const uid = palette.addRegistry('basic', 'vals', { endpoint: `http://${hostile.host}`, baseContentPath: 'vals', providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
  const pack = await writePack(join(root, 'app'), { name: 'app', version: '1.0.0' });
  const pushed = await runCli(['push', pack, '--registry', `${hostile.host}/vals`, '--no-cache']);
  if (pushed.code !== 0) throw new Error(pushed.stderr);
  const env = { HOME: join(root, 'home'), SPECTROCLOUD_HOST: palette.url, SPECTROCLOUD_APIKEY: KEY };
  return { hostile, palette, uid, env };
});

/** A full garbage collection of this process (V8's gc(), exposed for the moment it takes). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Hold every blob download of the registry once Palette's sync is done (it read the registry before): only packpub's is left. */
function holdDownloadsAfterSync(): { held: () => number } {
  let holding = false;
  let held = 0;
  const syncs = w.palette.registries.get(w.uid)?.syncRequests ?? [];
  const before = syncs.length;
  w.palette.statusWord = (status) => {
    // The Success of the sync this run asks for, not an earlier run's.
    if (status === 'Success' && !holding && syncs.length > before) {
      holding = true;
      w.hostile.behaviour = {
        answer: (r) => {
          if (r.method !== 'GET' || !r.path.includes('/blobs/')) return undefined;
          held++;
          return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: (res) => void res.flushHeaders() };
        },
      };
    }
    return status;
  };
  return { held: () => held };
}

describe('palette sync reading a version\'s values.yaml back from the registry', () => {
  it('a registry holding the archive download: the run ends at --palette-timeout, exit 3, saying so (was: at --request-timeout)', async () => {
    w.palette.dropValues = true;
    try {
      // --palette-timeout 2: the download is held ~0.4 s into the run here. When the deadline came before it was (the sync
      // not done yet on a loaded machine: nothing held), again with 8 s of room.
      for (const timeout of ['2', '8']) {
        w.hostile.behaviour = {};
        const { held } = holdDownloadsAfterSync();
        const started = Date.now();
        let ended = false;
        const running = runCli(['palette', 'sync', 'app:1.0.0', '--registry', `${w.hostile.host}/vals`, '--palette-timeout', timeout, '--palette-poll-interval', '0.05', '--request-timeout', '40'], { env: w.env }).finally(() => {
          ended = true;
        });
        // A garbage collection while the download is held, as a loaded machine's long run has: on Node 20 it took the
        // AbortSignal.timeout that bounded the read, which then never fired (held until --request-timeout, past 90 s).
        await waitFor(() => held() > 0 || ended, "packpub's download of the archive");
        if (held() > 0) collectGarbage();
        const run = await running;
        const ms = Date.now() - started;
        if (held() === 0 && timeout === '2') continue;
        expect(run.code, run.stdout + run.stderr).toBe(3);
        // packpub's download of the archive came, and was held.
        expect(held()).toBe(1);
        const packUid = w.palette.registries.get(w.uid)?.index.get('app')?.get('1.0.0')?.packUid ?? '';
        expect(run.stdout).toMatch(
          new RegExp(
            `^NOT VISIBLE in Palette app:1\\.0\\.0: Palette lists app:1\\.0\\.0 \\(packUid ${packUid}\\) with empty values, and the values\\.yaml published could not be read from the registry within --palette-timeout to tell whether it has some \\(sync message: [^)]*\\); raise --palette-timeout, or check the registry\\n$`,
          ),
        );
        expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)');
        // Well before --request-timeout (40 s): the held download was given up at the deadline.
        expect(ms).toBeLessThan(25_000);
        // Palette holds the version without values, as its sync indexed it.
        expect(w.palette.registries.get(w.uid)?.index.get('app')?.get('1.0.0')?.values).toBe('');
        break;
      }
    } finally {
      w.palette.statusWord = undefined;
      w.palette.dropValues = false;
      w.hostile.behaviour = {};
    }
  }, 90_000);

  it('an interrupt while the download is held ends the run at once (was: after the 5 s grace, abandoning the download)', async () => {
    w.palette.dropValues = true;
    const { held } = holdDownloadsAfterSync();
    // The grace at its longest: a run that waited for it would take 300 s, one that waited for the held download's
    // --request-timeout 40 s; ending at once is then told apart from both by a bound a loaded machine cannot reach
    // (was 4 s, against the default grace of 5 s).
    const run = spawnCli(['palette', 'sync', 'app:1.0.0', '--registry', `${w.hostile.host}/vals`, '--palette-timeout', '60', '--palette-poll-interval', '0.05', '--request-timeout', '40'], { env: { ...w.env, [GRACE_ENV]: String(MAX_GRACE_S) } });
    try {
      await waitFor(() => held() > 0, "packpub's download of the archive");
      const started = Date.now();
      run.child.kill('SIGINT');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      // Said as what happens: the wait ends now (was: "what is in flight may finish within 5 s").
      expect(result.stderr).toContain('SIGINT: giving up the wait for Palette now, the request in flight included\n');
      expect(result.stderr).not.toContain('starting no new work');
      // The held download was given up by the interrupt: nothing in flight was left to abandon after the grace.
      expect(result.stderr).not.toContain('abandoning requests still in flight');
      expect(Date.now() - started).toBeLessThan(20_000);
      // What is true, as an abandoned run says it (was: "error: cancelled").
      expect(result.stderr).toContain(
        'error: interrupted while Palette was asked; nothing was written to the registry; a sync Palette has started goes on without packpub, and the packs not reported above are not confirmed\nhint: run packpub palette sync to confirm them\n',
      );
      expect(result.stderr).not.toContain('cancelled');
      expect(stackLines(result.stderr)).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      w.palette.statusWord = undefined;
      w.palette.dropValues = false;
      w.hostile.behaviour = {};
    }
  }, 90_000);
});
