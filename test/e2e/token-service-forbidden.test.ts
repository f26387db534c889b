import { createServer } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { listenOnLoopback, sendJson } from '../support/loopback.js';
import { writePack } from '../support/packs.js';
import { startRegistry } from '../support/registry.js';
import { tokenHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';
import { startTokenServer } from '../support/token-server.js';

/*
 * A token service that refuses the access asked with 403 to credentials it takes (GHCR to a token without the packages
 * write right, GitLab to a user without registry access, DigitalOcean to a read-only token), in front of a real registry
 * in token mode: the same account reads (list) and is refused a push token. It read "credentials rejected by <realm>:
 * check the user name and password", for a password that was good. The same token service refuses anonymous requests,
 * as GitLab's does (and Harbor's, without a scope): reached on another host name than the registry's, it gets none.
 */

const DENIED = { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] };

const w = setup(async (stack) => {
  const token = stack.add(await startTokenServer({ users: { writer: 'writer-password-1', reader: 'reader-password-1' } }));
  // The realm the registry names: 403 to `reader` for any push scope and the catalog, the rest answered by the token server.
  const realm = stack.add(
    await listenOnLoopback(
      createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://realm.invalid');
        const user = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /i, ''), 'base64').toString('utf8').split(':')[0];
        if (user === 'reader' && url.searchParams.getAll('scope').some((s) => /:[^:]*push[^:]*$/.test(s) || s.startsWith('registry:catalog:'))) return sendJson(res, 403, DENIED);
        // Anonymous requests refused, as GitLab's token service and Harbor's (for a request without a scope) answer them.
        if (req.headers.authorization === undefined) return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
        void fetch(`${token.realm}${url.search}`, { headers: req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization } }).then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
        });
      }),
    ),
  );
  const registry = stack.add(await startRegistry({ auth: 'token', token: { ...token, realm: `${realm.url}/service/token` } }));
  // A realm that redirects the token request to the token service on another origin (another port here; another host or
  // https:// in the field): the credentials do not follow the redirect.
  const redirector = stack.add(
    await listenOnLoopback(
      createServer((req, res) => {
        res.writeHead(307, { location: `${token.realm}${new URL(req.url ?? '/', 'http://realm.invalid').search}` }).end();
      }),
    ),
  );
  const redirected = stack.add(await startRegistry({ auth: 'token', token: { ...token, realm: `${redirector.url}/service/token` } }));
  const root = await stack.tempDir('packpub-token-403-');
  await writePack(join(root, 'v1'), { name: 'hello', version: '1.0.0' });
  await writePack(join(root, 'v2'), { name: 'hello', version: '2.0.0' });
  return { token, realm, registry, root, redirector, redirected };
});

const as = (user: string, password: string) => ({ env: { PACKPUB_USERNAME: user, PACKPUB_PASSWORD: password, DOCKER_CONFIG: join(w.root, 'no-docker') } });

describe('a token service refusing the access asked (403) to credentials it takes', () => {
  it('push: exit 1 saying the token service refused a push token, not that the credentials were rejected; nothing written', async () => {
    const target = `${w.registry.host}/base`;
    expectRun(await runCli(['push', join(w.root, 'v1'), '--registry', target], as('writer', 'writer-password-1')), { code: 0 });
    // The reader's credentials are good: it reads what the writer published.
    expectRun(await runCli(['list', 'hello', '--registry', target], as('reader', 'reader-password-1')), { code: 0, stdout: ['1.0.0'] });

    const run = await runCli(['push', join(w.root, 'v2'), '--registry', target], as('reader', 'reader-password-1'));
    expectRun(run, {
      code: 1,
      stderr: [
        `token service ${w.realm.host} refused these credentials a token for repository:base/spectro-packs/archive`,
        '(403: DENIED requested access to the resource is denied)',
        'the account lacks the access asked (publishing needs push rights on the repository',
      ],
    });
    expect(run.stderr).not.toContain('credentials rejected');
    expect(run.stderr).not.toContain('reader-password-1');
    const held = await tokenHoldings(w.registry.url, w.token.tokenFor, 'base');
    expect([...held.tags.keys()]).toEqual(['base/spectro-packs/archive/hello:1.0.0']);
    expect(held.problems).toEqual([]);
  });

  it('list of every pack: the catalog refused so is said as such, with the way out (a pack by name)', async () => {
    const run = await runCli(['list', '--registry', `${w.registry.host}/base`], as('reader', 'reader-password-1'));
    expectRun(run, { code: 1, stderr: [`${w.registry.host} refused its repository catalog (GET /v2/_catalog) to these credentials`, 'list a pack by name'] });
  });

  // The registry reached as localhost names its token service as 127.0.0.1 (Harbor's external_url another name than the
  // one used, GitLab's token endpoint on its own host): credentials withheld, and the token service refuses anonymous
  // requests. It said "token service <realm> requires credentials; pass --username ...", credentials given.
  it('a token service on another host refusing anonymous requests: why no credentials went there, and --allow-cross-host-auth', async () => {
    const target = `localhost:${w.registry.port}/base`;
    const said = `credentials were not sent to the token service ${w.realm.host}, which is on another host than localhost:${w.registry.port}, and it refuses requests without them`;
    const push = await runCli(['push', join(w.root, 'v2'), '--registry', target], as('writer', 'writer-password-1'));
    expectRun(push, { code: 1, stderr: [`FAILED hello:2.0.0: ${said}`, `pass --allow-cross-host-auth if you trust ${w.realm.host}`] });
    const login = await runCli(['login', `localhost:${w.registry.port}`, '-u', 'writer', '--password-stdin'], { ...as('writer', 'writer-password-1'), stdin: 'writer-password-1' });
    expectRun(login, { code: 1, stderr: [`error: ${said}`] });
    for (const run of [push, login]) expect(run.stderr).not.toContain('--username');
    const held = async () => [...(await tokenHoldings(w.registry.url, w.token.tokenFor, 'base')).tags.keys()];
    expect(await held()).not.toContain('base/spectro-packs/archive/hello:2.0.0');
    const allowed = await runCli(['push', join(w.root, 'v2'), '--registry', target, '--allow-cross-host-auth'], as('writer', 'writer-password-1'));
    expectRun(allowed, { code: 0, stdout: ['published hello:2.0.0'] });
    expect(await held()).toContain('base/spectro-packs/archive/hello:2.0.0');
  });

  // The realm redirects the token request to another origin: the credentials stay behind (as they do for a blob's
  // storage), the token service answers the anonymous request with a token for no access, which the registry refuses. It
  // read "credentials rejected or no push permission on <repo>", for credentials that never arrived.
  it('a token service redirecting to another origin: why the credentials did not arrive (push and login, exit 1), nothing written', async () => {
    const to = `${new URL(w.token.realm).origin}/`;
    const before = w.token.requests.length;
    const push = await runCli(['push', join(w.root, 'v2'), '--registry', `${w.redirected.host}/moved`], as('writer', 'writer-password-1'));
    expectRun(push, {
      code: 1,
      stderr: [
        `FAILED hello:2.0.0: credentials were not sent to ${to}, where the token service ${w.redirector.host} redirected the token request, and ${w.redirected.host} refuses the token given there without them for moved/spectro-packs/archive/hello`,
        "make the registry name the token service's final address",
      ],
    });
    expect(push.stderr).not.toContain('credentials rejected');
    const login = await runCli(['login', w.redirected.host, '-u', 'writer', '--password-stdin'], { ...as('writer', 'writer-password-1'), stdin: 'writer-password-1' });
    expectRun(login, { code: 1, stderr: [`credentials for ${w.redirected.host} were not sent, so they could not be checked`, `redirected them to ${to}`] });
    for (const run of [push, login]) expect(run.stdout + run.stderr).not.toContain('writer-password-1');
    // The token service was asked, without the credentials.
    expect(w.token.requests.slice(before).length).toBeGreaterThan(0);
    expect(w.token.requests.slice(before).filter((r) => r.user !== undefined || r.authenticated)).toEqual([]);
    expect(await tokenHoldings(w.redirected.url, w.token.tokenFor, 'moved')).toEqual({ tags: new Map(), problems: [] });
  });

  // A token service whose clock is behind the registry's issues tokens the registry finds expired (here: issued expired).
  // It read "credentials rejected or no push permission on <repo>", for a password that was good.
  it('a token service issuing tokens already expired: the clocks are said to disagree (push exit 1), nothing written', async () => {
    const lifetime = w.token.expiresIn;
    w.token.expiresIn = -5;
    try {
      const push = await runCli(['push', join(w.root, 'v2'), '--registry', `${w.registry.host}/stale`], as('writer', 'writer-password-1'));
      expectRun(push, {
        code: 1,
        stderr: [`FAILED hello:2.0.0: ${w.registry.host} refuses the token its token service ${w.realm.host} just issued for stale/spectro-packs/archive/hello, which had expired at `, "by this machine's clock", 'set them right (NTP)'],
      });
      expect(push.stderr).not.toContain('credentials rejected');
    } finally {
      w.token.expiresIn = lifetime;
    }
    expect(await tokenHoldings(w.registry.url, w.token.tokenFor, 'stale')).toEqual({ tags: new Map(), problems: [] });
  });

  // A Docker config entry holding a registry (access) token, `registrytoken`, which Docker and ORAS send to the registry as
  // the Bearer token it is: it read as no credential, "authentication required ... pass --username".
  it("a Docker config's registrytoken is sent as the registry's Bearer token: list reads the pack (exit 0)", async () => {
    expectRun(await runCli(['push', join(w.root, 'v1'), '--registry', `${w.registry.host}/tokread`], as('writer', 'writer-password-1')), { code: 0 });
    const docker = join(w.root, 'registrytoken-docker');
    await mkdir(docker, { recursive: true });
    const token = w.token.tokenFor([{ type: 'repository', name: 'tokread/spectro-packs/archive/hello', actions: ['pull'] }]);
    await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { [w.registry.host]: { registrytoken: token } } }));
    const list = await runCli(['list', 'hello', '--registry', `${w.registry.host}/tokread`], { env: { DOCKER_CONFIG: docker } });
    expectRun(list, { code: 0, stdout: ['1.0.0'] });
    expect(list.stdout + list.stderr).not.toContain(token);
  });

  // A Docker config naming a credential helper that is not installed: packpub goes on without credentials until asked
  // (3ccaa68), and a token service refusing the anonymous request asks, as a 401 does. It said "token service <realm>
  // requires credentials; pass --username ...", the helper's error (the cause) lost.
  it('a credential helper that is not installed, and the token service refuses the anonymous request: the helper error, exit 1', async () => {
    const docker = join(w.root, 'helper-docker');
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ credsStore: 'packpub-test-not-installed' }));
    const run = await runCli(['push', join(w.root, 'v2'), '--registry', `${w.registry.host}/helper`], { env: { DOCKER_CONFIG: docker } });
    expectRun(run, { code: 1, stderr: ['credential helper docker-credential-packpub-test-not-installed', 'is not installed or not on PATH'] });
    expect(run.stderr).not.toContain('requires credentials');
    expect(await tokenHoldings(w.registry.url, w.token.tokenFor, 'helper')).toEqual({ tags: new Map(), problems: [] });
  });

  // Harbor's token service answers credentials it does not take (a wrong secret, a robot account that expired or is
  // disabled) with 200 and a token for no one (an empty `sub`), which the registry then refuses: it read "credentials
  // rejected or no push permission on <repo>", hint "check that the user or robot account may push", for a wrong secret.
  it('a wrong secret answered with a token for no one: said as rejected credentials (push and list, exit 1), nothing written', async () => {
    const said = (repo: string) => `credentials rejected by ${w.registry.host}: its token service answered them with a token for no one (an empty subject), which it refuses for ${repo}`;
    const push = await runCli(['push', join(w.root, 'v2'), '--registry', `${w.registry.host}/nobody`], as('writer', 'wrong-password-9'));
    expectRun(push, { code: 1, stderr: [`FAILED hello:2.0.0: ${said('nobody/spectro-packs/archive/hello')}`, 'check the user name and password (they came from environment)', 'a robot account that has expired or is disabled'] });
    const list = await runCli(['list', 'hello', '--registry', `${w.registry.host}/base`], as('writer', 'wrong-password-9'));
    expectRun(list, { code: 1, stderr: [`error: ${said('base/spectro-packs/archive/hello')}`] });
    for (const run of [push, list]) {
      expect(run.stderr).not.toContain('no push permission');
      expect(run.stdout + run.stderr).not.toContain('wrong-password-9');
    }
    expect(await tokenHoldings(w.registry.url, w.token.tokenFor, 'nobody')).toEqual({ tags: new Map(), problems: [] });
  });
});
