import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { paletteLabWithHello } from '../support/published.js';
import { setup } from '../support/stage.js';

/*
 * A Palette API key that expires (or is revoked) while push --palette-sync waits for the sync. Palette then answers 401,
 * and the run said "rejected the API key (401)" with the hint for a mistyped key ("check SPECTROCLOUD_APIKEY ... create
 * a key"), as if it had never worked: a CI user went looking for a typo in a secret that was right. Now the message says
 * the key was accepted earlier in this run, that it expired or was revoked meanwhile, and that what was published stays.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-key-expires-', KEY, clock, { shared: true }));

describe('an API key that expires while Palette is waited for', () => {
  it('push --palette-sync: exit 1, the pack published, and the 401 said as a key that stopped working', async () => {
    // The key is revoked as soon as Palette shows the sync running.
    w.palette.statusWord = (status) => {
      if (status === 'InProgress') delete w.palette.keys[KEY];
      return status;
    };
    try {
      const pack = await writePack(join(w.root, 'app'), { name: 'app', version: '1.0.0' });
      const run = await runCli(['push', pack, '--registry', `${w.registry.host}/${w.under('packs')}`, '--palette-sync', '--palette-poll-interval', '0.02', '--palette-timeout', '60', '--no-cache'], { env: w.env });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toContain('published app:1.0.0');
      const host = w.palette.url.slice('http://'.length);
      expect(run.stderr).toMatch(
        new RegExp(`error: Palette at ${host.replace(/\./g, '\\.')} rejected the API key \\(401\\) when asked to read the sync status of registry ${w.uid}, having accepted it earlier in this run: Invalid or missing api key\\n`),
      );
      expect(run.stderr).toContain('hint: the key expired or was revoked while packpub waited');
      expect(run.stderr).not.toContain('check SPECTROCLOUD_APIKEY');
      // Palette started the sync the run asked for; the next status read was refused.
      expect(w.palette.registries.get(w.uid)?.syncRequests).toHaveLength(1);
      expect(w.palette.requests.at(-1)?.status).toBe(401);
    } finally {
      w.palette.statusWord = undefined;
      w.palette.keys[KEY] = { role: 'tenant-admin' };
    }
  });
});
