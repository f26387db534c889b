import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { hurryRetries } from '../support/clock.js';

/*
 * A blob download the registry sends elsewhere (ECR -> S3) meets a server packpub holds no credentials for. When
 * that server asks for authentication, its challenge is not the registry's: answering it sent the registry's
 * credentials to the token service it named. The other server is reached under its own name (x.test, through
 * --resolve), so it is another host than the registry, as S3 is.
 */

const PASSWORD = 'registry-pw-4711';
const X = 'x.test';

// The refused blob downloads are retried after the retry backoff's pauses: in-process runs wait them 50 times shorter
// (support/clock.ts; ~3.7 s of real pauses a run before).
hurryRetries();
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-hostile-redirects-');
  const registry = stack.add(await startHostileRegistry({ users: { u: PASSWORD } }));
  const other = stack.add(await startHostileRegistry({}));
  const pack = await writePack(join(root, 'p'), { name: 'rd', version: '1.0.0' });
  const login = ['--username', 'u', '--password-stdin'];
  const push = await runCli(['push', pack, '--registry', `${registry.host}/b`, ...login], { stdin: PASSWORD });
  if (push.code !== 0) throw new Error(push.stderr);
  const xHost = `${X}:${other.host.split(':')[1]}`;
  // Every blob GET goes to the other server, by its own name.
  registry.behaviour = {
    users: { u: PASSWORD },
    answer: (r) => (r.method === 'GET' && r.path.includes('/blobs/sha256:') ? { status: 307, headers: { location: `http://${xHost}${r.path}` } } : undefined),
  };
  const reach = ['--resolve', `${xHost}:127.0.0.1`, '--plain-http'];
  return { root, registry, other, xHost, login, reach };
});

let n = 0;
/** What the other server was sent: an Authorization header, or a password in a query. */
const leaked = () => w.other.requests.filter((r) => r.authorization !== undefined || r.path.includes(PASSWORD));

describe('a redirect target that asks for authentication', () => {
  it.each([
    ['a Bearer challenge naming its own token service', () => `Bearer realm="http://${w.xHost}/token",service="x"`],
    ['a Basic challenge', () => 'Basic realm="x"'],
  ])('%s gets no credentials, even with --allow-cross-host-auth (was: the registry password went to its token service); pull fails naming it, nothing written', async (_what, challenge) => {
    w.other.requests.length = 0;
    w.other.behaviour = { answer: (r) => (r.path === '/token' ? { status: 200, body: '{"token":"from-x"}' } : { status: 401, headers: { 'www-authenticate': challenge(), 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}' }) };
    const out = join(w.root, `pulled-${n++}`);
    const run = await runCli(['pull', 'rd:1.0.0', '--registry', `${w.registry.host}/b`, ...w.login, ...w.reach, '--allow-cross-host-auth', '-o', out], { stdin: PASSWORD });
    expect(leaked()).toEqual([]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(w.xHost);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(w.other.requests.length).toBeGreaterThan(0);
    expect((await readdir(w.root)).filter((f) => f.startsWith('pulled-') || f.includes('.packpub-'))).toEqual([]);
    // The registry's own challenge still works in the same run (inspect reads the manifest, then the redirected blob).
    w.other.behaviour = {};
    const inspect = await runCli(['inspect', 'rd:1.0.0', '--registry', `${w.registry.host}/b`, ...w.login, ...w.reach], { stdin: PASSWORD });
    expect(inspect.code, inspect.stderr).toBe(1); // the other server holds no blob: 404 there
    expect(leaked()).toEqual([]);
  });
});

describe('a redirect target that refuses the signed URL', () => {
  it('is named with its own words, not taken for the registry refusing the credentials (was: "credentials rejected or no pull permission")', async () => {
    const expired = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message><RequestId>R1</RequestId></Error>';
    w.other.behaviour = { answer: () => ({ status: 403, headers: { 'content-type': 'application/xml' }, body: expired }) };
    const out = join(w.root, `pulled-${n++}`);
    const run = await runCli(['pull', 'rd:1.0.0', '--registry', `${w.registry.host}/b`, ...w.login, ...w.reach, '-o', out], { stdin: PASSWORD });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`${w.xHost}, where ${w.registry.host} redirected blob sha256:`);
    expect(run.stderr).toContain('refused it (403 AccessDenied: Request has expired)');
    expect(run.stderr).not.toContain('credentials rejected');
    expect(stackLines(run.stderr)).toEqual([]);
    expect(leaked()).toEqual([]);
    await expect(readdir(out)).rejects.toThrow();
  });
});
