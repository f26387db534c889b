import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitFor } from '../support/cli.js';
import { writeValidPack } from '../support/packs.js';
import { makeCredHelperFixture } from '../support/cred-helper-fixture.js';
import { RegistryReader, tokenHoldings } from '../support/registry-reader.js';
import { sharedRegistry, startRegistry } from '../support/registry.js';
import { stillRunning } from '../support/spawner.js';
import { startTokenServer } from '../support/token-server.js';
import { leaks, secretForms } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * trust: credential helpers (credsStore / credHelpers) that answer in ways no helper should, against a real
 * distribution registry with htpasswd Basic auth. Each case: the exit code, the message, that no secret the helper
 * wrote is printed, and that the registry holds nothing afterwards.
 */

const USER = 'robot$packs+ci';
const PASSWORD = 'helper-Pa55word-7f3e9a1c';
const STDERR_TOKEN = 'refresh-tok-4b2d9e0a8c6f1e3d';

const w = setup(async (stack) => {
  const registry = await sharedRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
  const root = await stack.tempDir('packpub-creds-helpers-');
  const pack = await writeValidPack(join(root, 'pack'));
  const bin = join(root, 'bin');
  await mkdir(bin);
  return { registry, root, pack, bin, reader: new RegistryReader(registry.url, { username: USER, password: PASSWORD }) };
});

/** A helper `docker-credential-<name>` whose `get` runs `body` (a POSIX shell script), named by the Docker config's credsStore. */
async function helper(name: string, body: string): Promise<NodeJS.ProcessEnv> {
  const program = join(w.bin, `docker-credential-${name}`);
  await writeFile(program, `#!/bin/sh\ncat >/dev/null\n${body}\n`);
  await chmod(program, 0o755);
  const docker = join(w.root, `docker-${name}`);
  await mkdir(docker, { recursive: true });
  await writeFile(join(docker, 'config.json'), JSON.stringify({ credsStore: name }));
  return { PATH: `${w.bin}:${process.env['PATH'] ?? ''}`, DOCKER_CONFIG: docker, PACKPUB_CACHE_DIR: join(w.root, 'cache'), TMPDIR: w.root };
}

async function push(env: NodeJS.ProcessEnv, ...extra: string[]) {
  return runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/packs`, ...extra], { env });
}

/** A helper's answer for `server` (conforming helpers echo the server URL they were asked about). */
const answer = (server: string) => JSON.stringify({ ServerURL: server, Username: USER, Secret: PASSWORD });

describe('credential helpers that answer oddly', () => {
  it('a helper that works publishes (the set-up is right)', async () => {
    // Asked for 127.0.0.1:<port>; the same server written as a URL is the same server.
    const env = await helper('good', `printf '%s' '${answer(`https://${w.registry.host}/`)}'`);
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/good`], { env });
    expect(run.code, run.stderr).toBe(0);
    expect([...(await w.reader.tagDigests(`${w.registry.base}/good`)).keys()]).toContain(`${w.registry.base}/good/spectro-packs/archive/web:1.0.0`);
  });

  it('minting a new wrong secret per call: asked again once in the run (not for every request refused), exit 1, nothing pushed', async () => {
    const calls = join(w.root, 'minting-calls');
    const env = await helper('mintswrong', `echo get >> '${calls}'\nprintf '{"ServerURL":"%s","Username":"%s","Secret":"wrong-%s"}' '${w.registry.host}' '${USER}' "$(wc -l < '${calls}' | tr -d ' ')"`);
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/mints`], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`credentials rejected by ${w.registry.host}`);
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual(['get', 'get']);
    expect((await w.reader.tagDigests(`${w.registry.base}/mints`)).size).toBe(0);
  });

  it('prints its credential JSON and exits 1: refused, the secret not shown (not even with --debug), nothing pushed', async () => {
    const env = await helper('jsonfail', `echo '${answer(w.registry.host)}'\nexit 1`);
    for (const flags of [[], ['--debug']]) {
      const run = await push(env, ...flags);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('credential helper docker-credential-jsonfail get failed');
      expect(run.stderr).toContain('it printed a credential (not shown) but exited with code 1');
      expect(leaks(run.stdout + run.stderr, secretForms('password', PASSWORD, USER))).toEqual([]);
    }
    expect((await w.reader.tagDigests(`${w.registry.base}/packs`)).size).toBe(0);
  });

  it('exits 1 with a token on standard error: its standard error is not quoted; the hint says how to read it', async () => {
    const env = await helper('stderrfail', `echo "refreshing with ${STDERR_TOKEN} failed" >&2\nexit 1`);
    const run = await push(env, '--debug');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('credential helper docker-credential-stderrfail get failed');
    expect(run.stderr).toContain('exit code 1; what it wrote to standard error is not shown');
    expect(run.stderr).toContain('docker-credential-stderrfail get" by hand');
    expect(run.stderr).not.toContain(STDERR_TOKEN);
    expect((await w.reader.tagDigests(`${w.registry.base}/packs`)).size).toBe(0);
  });

  it('answers `null` (JSON for nothing, which Docker reads as no credential): the registry asks for credentials, exit 1, nothing pushed (was: a crash, "bug in packpub")', async () => {
    const env = await helper('null', `printf 'null'`);
    const run = await push(env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`authentication required by ${w.registry.host}`);
    expect(run.stderr).not.toContain('bug in packpub');
    expect((await w.reader.tagDigests(`${w.registry.base}/packs`)).size).toBe(0);
  });

  it('answers with the credential of another server: not sent (exit 1, names both), nothing pushed', async () => {
    // The registry would take it: the password is right, only the helper's own answer says it is another server's.
    const env = await helper('otherserver', `printf '%s' '${answer('harbor.other.example')}'`);
    const run = await push(env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`credential helper docker-credential-otherserver get answered for harbor.other.example when asked for ${w.registry.host}: its credential was not used`);
    expect(leaks(run.stdout + run.stderr, secretForms('password', PASSWORD, USER))).toEqual([]);
    expect((await w.reader.tagDigests(`${w.registry.base}/packs`)).size).toBe(0);
  });

  it('still running (a passphrase prompt) when packpub is interrupted: killed with its children as packpub exits 130', async () => {
    const pids = join(w.root, 'hang.pids');
    const env = await helper('hang', `sleep 300 &\necho "$$ $!" > '${pids}'\nwait`);
    const run = spawnCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/packs`], { env });
    await waitFor(async () => (await readFile(pids, 'utf8').catch(() => '')).trim().split(' ').length === 2, 'the helper to start');
    const [helperPid, childPid] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number) as [number, number];
    try {
      // Interrupted twice, as a user stops a run that hangs: when the first signal leaves the run waiting on the
      // helper, the second ends it at once, through the same exit as the first one's grace period would (5 s:
      // pull-interrupted.test.ts waits it out). A run the first signal already ended does not see it. The second is
      // sent again until the run ends: one within 0.5 s of the first is read as the same signal delivered twice.
      run.child.kill('SIGINT');
      await waitFor(() => run.stderr().includes('SIGINT: starting no new work'), 'the first signal to be seen');
      await waitFor(() => !run.child.kill('SIGINT'), 'the run to end');
      const done = await run.done;
      expect(done.code).toBe(130);
      // The helper runs for the look-up done while the pack is still being validated, or for its publish: the
      // interrupt finds the pack not started (reported failed) or in flight (abandoned), as the machine's load has it.
      expect(done.stderr).toMatch(/not published: abandoned in flight: web:1\.0\.0|FAILED web:1\.0\.0: not started: the run was stopped/);
      // Before: the helper and its child went on (orphaned) after packpub was gone.
      await waitFor(() => !stillRunning(helperPid) && !stillRunning(childPid), 'the helper and its child to be gone', 5_000);
    } finally {
      for (const pid of [helperPid, childPid]) if (stillRunning(pid)) process.kill(pid, 'SIGKILL');
    }
    expect((await w.reader.tagDigests(`${w.registry.base}/packs`)).size).toBe(0);
  });

  it('store fails at login with the password in its error: not printed, nothing saved', async () => {
    const program = join(w.bin, 'docker-credential-storefail');
    // A keychain error that quotes what it was given.
    await writeFile(program, `#!/bin/sh\nsed -n 's/.*"Secret":"\\([^"]*\\)".*/cannot store secret \\1: keychain locked/p'\nexit 1\n`);
    await chmod(program, 0o755);
    const docker = join(w.root, 'docker-storefail');
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ credsStore: 'storefail' }));
    const run = await runCli(['login', w.registry.host, '-u', USER, '--password-stdin'], { env: { PATH: `${w.bin}:${process.env['PATH'] ?? ''}`, DOCKER_CONFIG: docker }, stdin: PASSWORD });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('credential helper docker-credential-storefail store failed');
    expect(run.stderr).toContain('cannot store secret ***: keychain locked');
    expect(leaks(run.stdout + run.stderr, secretForms('password', PASSWORD, USER))).toEqual([]);
    expect(JSON.parse(await readFile(join(docker, 'config.json'), 'utf8'))).toEqual({ credsStore: 'storefail' });
  });

  it('an error on standard output (the protocol\'s channel) is still quoted', async () => {
    const env = await helper('stdoutfail', `echo 'the keychain is locked'\nexit 3`);
    const run = await push(env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('credential helper docker-credential-stdoutfail get failed (configured in credsStore of ');
    expect(run.stderr).toContain('): the keychain is locked');
  });

  it('prints without end: stopped after 1 MiB, not read until memory runs out; nothing pushed', async () => {
    const env = await helper('endless', `exec yes 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'`);
    const started = process.cpuUsage();
    const run = await push(env);
    const cpu = process.cpuUsage(started);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('credential helper docker-credential-endless get wrote more than 1 MiB');
    expect(run.stderr).not.toContain('AAAAAAAA');
    // Before: read for the helper's whole 60 s time limit, ~6 GB held (measured), then "did not answer".
    expect((cpu.user + cpu.system) / 1e6).toBeLessThan(10);
    expect((await w.reader.tagDigests(`${w.registry.base}/packs`)).size).toBe(0);
  });
});

describe('a credential helper that never answers', () => {
  it('is stopped at --request-timeout, not after 60 s whatever was asked; exit 1 saying so, nothing pushed', async () => {
    const calls = join(w.root, 'hung-calls');
    const env = await helper('hung', `echo get >> '${calls}'\nexec sleep 600`);
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/hung`, '--request-timeout', '2'], { env });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`credential helper docker-credential-hung get did not answer within 2 s (configured in credsStore of ${join(w.root, 'docker-hung', 'config.json')}) (it was stopped)`);
    expect(run.stderr).toContain('--request-timeout sets how long packpub waits for it');
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual(['get']);
    expect((await w.reader.tagDigests(`${w.registry.base}/hung`)).size).toBe(0);
  });

  it('login: its store is stopped at --request-timeout too (was 60 s whatever was asked), exit 1, nothing saved', async () => {
    const env = await helper('hungstore', 'exec sleep 600');
    const config = join(w.root, 'docker-hungstore', 'config.json');
    const run = await runCli(['login', w.registry.host, '-u', USER, '--password-stdin', '--request-timeout', '2'], { env, stdin: PASSWORD });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`credential helper docker-credential-hungstore store did not answer within 2 s (configured in credsStore of ${config}) (it was stopped)`);
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({ credsStore: 'hungstore' });
  });

  it('logout: its erase is stopped at --request-timeout too (was 60 s, and no such flag), exit 1, the config kept', async () => {
    const env = await helper('hungerase', 'exec sleep 600');
    const config = join(w.root, 'docker-hungerase', 'config.json');
    const before = await readFile(config, 'utf8');
    const run = await runCli(['logout', w.registry.host, '--request-timeout', '2'], { env });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`credential helper docker-credential-hungerase erase did not answer within 2 s (configured in credsStore of ${config}) (it was stopped)`);
    expect(await readFile(config, 'utf8')).toBe(before);
  });
});

describe('a user name holding a colon', () => {
  // "user:password" pasted as the user name: Basic cannot carry a colon in it (RFC 7617), the registry split at it and
  // answered 401: "credentials rejected by <host>", sending the user after a password that may be right.
  it('is refused before it is sent, without showing it (exit 1), nothing pushed', async () => {
    const run = await push({ PACKPUB_USERNAME: `${USER}:${PASSWORD}`, PACKPUB_PASSWORD: PASSWORD, DOCKER_CONFIG: join(w.root, 'no-docker') });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('the user name from environment holds a colon, which Basic authentication cannot carry');
    expect(run.stderr).toContain('give the user name alone');
    expect(run.stderr).not.toContain('credentials rejected');
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect((await w.reader.holdings(`${w.registry.base}/packs`)).tags.size).toBe(0);
  });

  it('login -u user:password to a registry that asks for no credentials: refused before anything is sent, nothing saved (was: saved, exit 0, read back split at the colon)', async () => {
    const open = await sharedRegistry();
    const docker = join(w.root, 'docker-colon-login');
    const run = await runCli(['login', open.host, '-u', `${USER}:${PASSWORD}`, '--password-stdin'], { stdin: PASSWORD, env: { DOCKER_CONFIG: docker, HOME: w.root } });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('the user name holds a colon, which Basic authentication cannot carry');
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    await expect(stat(join(docker, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('an identity token for a registry that asks for Basic credentials', () => {
  it('says the registry wants a user name and password, not "authentication required" as if none was given; nothing pushed', async () => {
    const token = 'identity-refresh-token-0a1b2c3d4e5f';
    const env = { DOCKER_CONFIG: join(w.root, 'docker-none'), PACKPUB_CACHE_DIR: join(w.root, 'cache'), TMPDIR: w.root };
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.registry.base}/packs`, '--identity-token-stdin'], { env, stdin: token });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${w.registry.host} asks for a user name and password (Basic): the identity token from flags is exchanged at a token service only`);
    expect(run.stderr).not.toContain(token);
    expect((await w.reader.tagDigests(`${w.registry.base}/packs`)).size).toBe(0);
  });
});

/*
 * A credential helper that mints short-lived secrets (gcloud's, ACR's, an identity provider's): the secret it gave at
 * the start of a run stops being taken in the middle of it. ORAS asks the helper for every token; packpub asked it
 * once per run, so every request after that failed ("credentials rejected or no push permission"), exit 1. Now a
 * secret of a helper that is refused (401) is asked for once more, and the helper's new answer is used.
 */
describe('a credential helper whose secret is rotated during the run', () => {
  const FIRST = 'minted-first-3c9a7e';
  const SECOND = 'minted-second-81d0f4';
  const t = setup(async (stack) => {
    // The token service takes the first secret for one token, then only the second (as a short-lived secret expiring).
    let checks = 0;
    const rotating = { get password() { return checks++ === 0 ? FIRST : SECOND; } };
    const token = stack.add(await startTokenServer({ users: { minted: rotating } }));
    const registry = stack.add(await startRegistry({ auth: 'token', token }));
    const helper = stack.add(await makeCredHelperFixture(['minting']));
    const root = await stack.tempDir('packpub-creds-rotated-');
    const docker = join(root, 'docker');
    await mkdir(docker);
    await writeFile(join(docker, 'config.json'), JSON.stringify({ credsStore: 'minting' }));
    return { token, registry, helper, root, docker, pack: await writeValidPack(join(root, 'pack')) };
  });

  it('is asked again once refused, and its new secret publishes (was: every request after the first token refused, exit 1)', async () => {
    await t.helper.seed({ [t.registry.host]: { Username: 'minted', Secret: FIRST } });
    await t.helper.seedNext({ [t.registry.host]: { Username: 'minted', Secret: SECOND } });
    const run = await runCli(['push', t.pack, '--registry', `${t.registry.host}/rotated`], { env: { ...t.helper.env, DOCKER_CONFIG: t.docker } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('published');
    // The first secret got one token, then was refused; the second got the rest.
    const asked = t.token.requests.filter((r) => r.user === 'minted');
    expect(asked[0]?.authenticated).toBe(true);
    expect(asked.some((r) => !r.authenticated)).toBe(true);
    expect(asked.at(-1)?.authenticated).toBe(true);
    const held = await tokenHoldings(t.registry.url, (access) => t.token.tokenFor(access), 'rotated');
    expect([...held.tags.keys()]).toEqual([expect.stringMatching(/^rotated\/spectro-packs\/archive\/[^:]+:\d/)]);
    expect(held.problems).toEqual([]);
    expect(leaks(run.stdout + run.stderr, [...secretForms('first secret', FIRST, 'minted'), ...secretForms('second secret', SECOND, 'minted')])).toEqual([]);
  });
});
