import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeoInspectRaw, startRegistry, type RunningRegistry } from '../support/registry.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { tokenHoldings } from '../support/registry-reader.js';

const REFRESH = 'identity-refresh-Token-7f3a9c';

describe('--identity-token / --identity-token-stdin against a registry with a token service', () => {
  let token: TokenServer;
  let registry: RunningRegistry;
  let root: string;
  let cleanup: () => Promise<void>;
  let pack: string;

  beforeAll(async () => {
    token = await startTokenServer({ users: { 'ci-bot': 'unused-password' }, identityTokens: { [REFRESH]: 'ci-bot' } });
    registry = await startRegistry({ auth: 'token', token });
    ({ dir: root, cleanup } = await tempDir());
    pack = await writePack(join(root, 'p'), { name: 'idtoken', version: '1.0.0' });
  });
  afterAll(async () => {
    await registry?.stop();
    await token?.close();
    await cleanup?.();
  });

  it('exchanges the refresh token (grant_type=refresh_token) and publishes', async () => {
    token.requests.length = 0;
    const run = await runCli(['push', pack, '--registry', `${registry.host}/id`, '--identity-token-stdin'], { stdin: `${REFRESH}\n` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('published idtoken:1.0.0');
    const posts = token.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((r) => r.authenticated && r.user === 'ci-bot')).toBe(true);
    expect(posts.some((r) => r.granted.includes('repository:id/spectro-packs/archive/idtoken:pull,push'))).toBe(true);
    const raw = await skopeoInspectRaw(`${registry.host}/id/spectro-packs/archive/idtoken:1.0.0`, { creds: { username: 'ci-bot', password: 'unused-password' } });
    expect(JSON.parse(raw.toString()).layers).toHaveLength(1);
    expect(run.stdout + run.stderr).not.toContain(REFRESH);
  });

  it('--identity-token works too, with a warning that the token is on the command line', async () => {
    const run = await runCli(['list', '--registry', `${registry.host}/id`, '--identity-token', REFRESH]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('idtoken');
    expect(run.stderr).toContain('warning: --identity-token puts the token on the command line');
    expect(run.stderr).not.toContain(REFRESH);
  });

  it('a token service without an OAuth2 endpoint (POST answered 405, as Harbor\'s): says it takes no identity token and what to give (was: "answered 405 (POST ...)"), nothing pushed', async () => {
    const harborLike = await startTokenServer({ users: { 'ci-bot': 'harbor-pw-5521' } });
    const other = await startRegistry({ auth: 'token', token: harborLike });
    try {
      const run = await runCli(['push', pack, '--registry', `${other.host}/id`, '--identity-token-stdin'], { stdin: REFRESH });
      expect(run.code).toBe(1);
      const realm = new URL(harborLike.realm);
      expect(run.stderr).toContain(`FAILED idtoken:1.0.0: token service ${realm.host} takes no identity token: it answered 405 to the OAuth2 exchange (POST ${realm.href})\n`);
      expect(run.stderr).toContain('hint: it issues tokens for a user name and password only (GET, as Harbor\'s does): give those (--username with --password-stdin, or packpub login) instead of the identity token\n');
      expect(run.stdout + run.stderr).not.toContain(REFRESH);
      expect(harborLike.requests.filter((r) => r.method === 'POST').length).toBeGreaterThan(0);
      // What the hint says works.
      const pushed = await runCli(['push', pack, '--registry', `${other.host}/id`, '--username', 'ci-bot', '--password-stdin', '--json'], { stdin: 'harbor-pw-5521' });
      expect(pushed.code, pushed.stderr).toBe(0);
      const raw = await skopeoInspectRaw(`${other.host}/id/spectro-packs/archive/idtoken:1.0.0`, { creds: { username: 'ci-bot', password: 'harbor-pw-5521' } });
      expect(JSON.parse(pushed.stdout).results[0].digest).toBe(`sha256:${createHash('sha256').update(raw).digest('hex')}`);
    } finally {
      await other.stop();
      await harborLike.close();
    }
  });

  it('a refused token fails as credentials rejected, without printing it', async () => {
    const run = await runCli(['push', pack, '--registry', `${registry.host}/id2`, '--identity-token-stdin'], { stdin: 'not-a-known-token' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('credentials rejected by');
    expect(run.stderr).not.toContain('not-a-known-token');
  });

  it('a stored identity token the token service answers 400 invalid_grant (expired, as az acr login\'s after 3 hours) is named, with what to do', async () => {
    // What az acr login writes: the refresh token as identitytoken, beside an auth of the all-zero user and no password.
    const dockerDir = join(root, 'docker-expired');
    await mkdir(dockerDir, { recursive: true });
    const config = join(dockerDir, 'config.json');
    const zeroUser = Buffer.from('00000000-0000-0000-0000-000000000000:').toString('base64');
    await writeFile(config, JSON.stringify({ auths: { [registry.host]: { auth: zeroUser, identitytoken: 'expired-refresh-token-5d1e' } } }));
    token.identityRefusal = { status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token has expired' } };
    try {
      const run = await runCli(['push', pack, '--registry', `${registry.host}/id3`], { env: { DOCKER_CONFIG: dockerDir } });
      expect(run.code).toBe(1);
      // It read "<realm> answered 400 (POST <realm>)": neither the token nor what to do named.
      expect(run.stderr).toContain(`credentials rejected by ${new URL(token.realm).host}: its token service refused the identity token from docker config ${config} (400 invalid_grant: The refresh token has expired)`);
      expect(run.stderr).toContain('hint: an identity token is an OAuth2 refresh token, which expires or is revoked');
      expect(run.stderr).toContain('log in again with the tool that stored it (docker login, az acr login)');
      expect(run.stderr).not.toContain('expired-refresh-token-5d1e');
      expect((await tokenHoldings(registry.url, (access) => token.tokenFor(access), 'id3')).tags.size).toBe(0);
    } finally {
      token.identityRefusal = undefined;
    }
  });

  it('refuses to mix it with a user name or give it twice (exit 2)', async () => {
    const both = await runCli(['push', pack, '--registry', `${registry.host}/id`, '--identity-token', 'x', '--username', 'u', '--password-stdin'], { stdin: 'p' });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--identity-token takes the place of --username and --password-stdin');
    const twice = await runCli(['push', pack, '--registry', `${registry.host}/id`, '--identity-token', 'x', '--identity-token-stdin'], { stdin: 'y' });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('give either --identity-token or --identity-token-stdin, not both');
  });
});
