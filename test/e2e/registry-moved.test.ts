import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { skopeoInspectRaw, startRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { rawAnswer, startWireProxy } from '../support/wire-proxy.js';

/*
 * A registry whose plain-HTTP address redirects every request to HTTPS (Harbor's nginx answers port 80 with a 308 to
 * https://$host$request_uri), or that moved: the redirect goes to the same path on another origin, where the
 * registry's credentials are not sent. It read "<there>, where <host> redirected manifest 1.0.0, asks for
 * authentication; <host>'s credentials go to <host> only", hinted "a registry sends downloads to storage that needs no
 * credentials of its own (a signed URL)". A real registry (HTTPS, htpasswd) sits behind a proxy that only redirects.
 */

const USER = 'mover';
const PASSWORD = 'moved-pw-2231';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-registry-moved-');
  const registry = stack.add(await startRegistry({ tls: true, auth: 'htpasswd', users: { [USER]: PASSWORD } }));
  const front = stack.add(await startWireProxy(registry.host));
  // The plain-HTTP front answers every request with a 308 to the same path over HTTPS.
  front.onRequest = (r) => ({ raw: rawAnswer(308, 'Permanent Redirect', { location: `https://${registry.host}${r.path}`, 'content-length': 0 }) });
  const pack = await writePack(join(root, 'p'), { name: 'moved', version: '1.0.0' });
  return { registry, front, pack };
});

const login = { env: { PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD } };

describe('a registry that redirects its API to HTTPS at another address', () => {
  it('push and list say where the registry answers and how to reach it, nothing pushed; pushed as the hint says: exit 0', async () => {
    const ca = ['--ca-file', w.registry.caFile ?? ''];
    const push = await runCli(['push', w.pack, '--registry', `${w.front.host}/base`, ...ca, '--no-cache'], login);
    expect(push.code).toBe(1);
    const said = `${w.front.host} redirects its registry API to https://${w.registry.host}/ (plain HTTP to HTTPS), which asks for authentication: packpub sends ${w.front.host}'s credentials to http://${w.front.host}/ only\n`;
    const hint = `  hint: reach the registry over HTTPS at ${w.registry.host}: pass --no-plain-http (its credentials then go there)\n`;
    expect(push.stderr).toContain(`FAILED moved:1.0.0: ${said}${hint}`);
    expect(stackLines(push.stderr)).toEqual([]);
    const list = await runCli(['list', '--registry', `${w.front.host}/base`, ...ca], login);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(`error: ${said}hint: reach the registry over HTTPS at ${w.registry.host}: pass --no-plain-http`);
    // Credentials never went to the front (it sent every request on unanswered) nor, through it, to the registry.
    expect(w.front.requests.filter((r) => r.headers.authorization !== undefined)).toEqual([]);
    const held = () => skopeoInspectRaw(`${w.registry.host}/base/spectro-packs/archive/moved:1.0.0`, { tls: true, creds: { username: USER, password: PASSWORD } });
    await expect(held()).rejects.toThrow(/manifest unknown|not found|name unknown/i);
    const direct = await runCli(['push', w.pack, '--registry', `${w.registry.host}/base`, '--no-plain-http', ...ca, '--no-cache', '--json'], login);
    expect(direct.code, direct.stderr).toBe(0);
    const digest = (JSON.parse(direct.stdout) as { results: Array<{ digest: string }> }).results[0]?.digest;
    expect(`sha256:${createHash('sha256').update(await held()).digest('hex')}`).toBe(digest);
  });
});
