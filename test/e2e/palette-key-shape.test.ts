import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli } from '../support/cli.js';
import { paletteKeyId } from '../support/palette-standin.js';
import { paletteLabWithHello } from '../support/published.js';
import { registryAdmin } from '../support/registry-admin.js';
import { setup } from '../support/stage.js';

/*
 * What a CI secret holding something else than an API key gets. A key with a line break inside (a secret saved with
 * two lines) failed every Palette request as "cannot reach Palette at <host>: invalid apikey header", with a hint
 * to check the endpoint and the network path; push --palette-sync had published first. A session token (a JWT,
 * which Palette takes in an Authorization header) was rejected (401) with the hint to check the key, not saying
 * that packpub sends API keys only.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const clock = skipWaits();
const w = setup((stack) => paletteLabWithHello(stack, 'packpub-palette-key-shape-', KEY, clock, { shared: true }));
const REPO = () => `${w.under('packs')}/spectro-packs/archive/hello`;

describe('a Palette API key that is not one', () => {
  it('a line break inside: exit 2 naming it, before anything is published or sent (was: published, then "cannot reach Palette")', async () => {
    const asked = w.palette.requests.length;
    const env = { ...w.env, SPECTROCLOUD_APIKEY: `${KEY}\n${KEY}` };
    const push = await runCli(['push', w.pack, ...w.at, '--palette-sync', '--palette-poll-interval', '0.02'], { env });
    expect(push.code, push.stdout + push.stderr).toBe(2);
    expect(push.stderr).toContain('error: the Palette API key holds a line break: it is not an API key');
    expect(push.stderr).toContain('a secret saved with two lines or with quotes often does this');
    expect(push.stderr).not.toContain(KEY);
    expect(await registryAdmin(w.registry).digestOf(REPO(), '1.0.0')).toBeUndefined();
    const sync = await runCli(['palette', 'sync', ...w.at], { env: { ...w.env, SPECTROCLOUD_APIKEY: `${KEY}\u2603` } });
    expect(sync.code, sync.stdout + sync.stderr).toBe(2);
    expect(sync.stderr).toContain('error: the Palette API key holds a character that cannot be sent in an HTTP header: it is not an API key');
    expect(w.palette.requests.length).toBe(asked);
  });

  it('a session token (JWT): Palette answers 401 and the hint says packpub sends an API key', async () => {
    const asked = w.palette.requests.length;
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl';
    const run = await runCli(['palette', 'sync', ...w.at], { env: { ...w.env, SPECTROCLOUD_APIKEY: jwt } });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain('rejected the API key (401)');
    expect(run.stderr).toContain('looks like a Palette session token (a JWT, which Palette takes in an Authorization header and expires after 15 minutes), not an API key');
    expect(run.stderr).not.toContain(jwt);
    const made = w.palette.requests.slice(asked);
    expect(made.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /v1/registries/oci/summary 401']);
    expect(made.every((r) => r.apiKeyId === paletteKeyId(jwt) && !r.authorization)).toBe(true);
  });

  it('the key saved with the header\'s name or scheme before it ("ApiKey <key>", "Bearer <JWT>"): 401, and the hint says to give the key alone (was: "check SPECTROCLOUD_APIKEY")', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl';
    for (const [secret, hint] of [
      [`ApiKey ${KEY}`, 'hint: the key given starts with "ApiKey", a header\'s name or scheme, not part of a key: set SPECTROCLOUD_APIKEY (or what --palette-api-key-stdin reads) to the key alone; packpub sends it in the ApiKey header itself'],
      [`Bearer ${jwt}`, 'hint: the key given starts with "Bearer", a header\'s name or scheme, not part of a key: the key given looks like a Palette session token (a JWT'],
    ] as const) {
      const asked = w.palette.requests.length;
      const run = await runCli(['push', w.pack, ...w.at, '--palette-sync'], { env: { ...w.env, SPECTROCLOUD_APIKEY: secret } });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain('rejected the API key (401)');
      expect(run.stderr).toContain(hint);
      expect(run.stdout + run.stderr).not.toContain(secret.split(' ')[1]);
      // Refused at the check before publishing: nothing published, one call made.
      expect(await registryAdmin(w.registry).digestOf(REPO(), '1.0.0')).toBeUndefined();
      expect(w.palette.requests.slice(asked).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /v1/registries/oci/summary 401']);
    }
  });
});
