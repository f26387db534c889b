import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { startPaletteLab } from '../support/palette-lab.js';
import { runCli } from '../support/cli.js';
import { holdVersions } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';

/*
 * A Palette that never lists what was asked, through the CLI: the run must end on --palette-timeout with
 * exit 3 (published, not visible), whatever the number of packs. Time is the stand-in's clock (the skipping
 * clock the client paces and waits on).
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();

// Palette's sync of never-lab finds nothing, whatever the registry holds.
const w = setup((stack) => startPaletteLab(stack, { prefix: 'packpub-palette-hostile-', key: KEY, name: 'never-lab', base: 'never', clock, repositories: () => [], shared: true }));
const held = (names: string[]) => holdVersions(w.registry, names.map((name) => ({ repository: `${w.under('never')}/spectro-packs/archive/${name}`, tag: '1.0.0' })));

const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SPECTROCLOUD_HOST: w.palette.url, SPECTROCLOUD_APIKEY: KEY });

describe('a Palette that never lists the packs', () => {
  it('palette sync of 100 versions Palette never lists ends on --palette-timeout with exit 3, each pack timed out', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `never-${i}`);
    await held(names);
    const refs = names.map((n) => `${n}:1.0.0`);
    const from = w.palette.requests.length;
    const run = await runCli(['palette', 'sync', ...refs, '--registry', `${w.registry.host}/${w.under('never')}`, '--palette-timeout', '5', '--palette-poll-interval', '1'], { env: env() });
    expect(run.code, run.stderr).toBe(3);
    const made = w.palette.requests.slice(from);
    const spanMs = (made.at(-1)?.at ?? 0) - (made[0]?.at ?? 0);
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('NOT VISIBLE in Palette never-'));
    expect(lines.length).toBe(100);
    // Read until the deadline (10 a second), then told apart: read and not listed, or not read in time.
    expect(lines.some((l) => /^NOT VISIBLE in Palette never-\d+:1\.0\.0: Palette's sync of never-lab finished but does not list never-\d+:1\.0\.0 \(sync message: Synced 0 pack versions\); Palette may have refused the pack$/.test(l))).toBe(true);
    expect(lines.some((l) => /^NOT VISIBLE in Palette never-\d+:1\.0\.0: timed out after [56] s before Palette was asked for never-\d+:1\.0\.0 \(--palette-timeout\); its sync of never-lab finished \(sync message: Synced 0 pack versions\)$/.test(l))).toBe(true);
    expect(run.stderr).toContain('error: published, but not visible in Palette (exit 3)');
    // Palette's clock: the run's requests span --palette-timeout and at most one read more (18.3 s before).
    expect(spanMs).toBeLessThan(6_000);
  });
});

/** A Palette whose every answer is a 200 of `total` bytes of JSON whitespace, then `{}`; counts what it could send. */
async function hugeAnswers(total: number): Promise<{ url: string; sent: () => number; server: Server }> {
  let sent = 0;
  const chunk = Buffer.alloc(1 << 20, 0x20);
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    let left = total;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end('{}');
    };
    res.on('close', () => (left = 0));
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent: () => sent, server };
}

describe('a Palette answering huge bodies', () => {
  it('an answer past 16 MiB is refused naming its size, read no further: exit 1', async () => {
    await held(['huge']);
    const huge = await hugeAnswers(256 << 20);
    try {
      const run = await runCli(['palette', 'sync', 'huge:1.0.0', '--registry', `${w.registry.host}/${w.under('never')}`], { env: { ...env(), SPECTROCLOUD_HOST: huge.url } });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`error: Palette at ${new URL(huge.url).host} answered list OCI registries with more than 16 MiB: not an answer of the Palette API\n`);
      // The rest was never read: what the server could send before the connection closed is the 16 MiB and what the socket buffers held.
      expect(huge.sent()).toBeLessThan(64 << 20);
    } finally {
      huge.server.closeAllConnections();
      await new Promise((resolve) => huge.server.close(resolve));
    }
  });
});
