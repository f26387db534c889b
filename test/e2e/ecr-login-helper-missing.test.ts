import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrPackWorld } from '../support/ecr-proxy.js';
import { withAwsEnvironment } from '../support/ecr-standin.js';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * A Docker config that names amazon-ecr-credential-helper for an ECR host (`credHelpers: {"<host>": "ecr-login"}`,
 * written by a laptop's setup or baked into a CI image) on a machine where docker-credential-ecr-login is not
 * installed: every push failed "credential helper docker-credential-ecr-login ... is not installed or not on PATH"
 * (exit 1), although that helper only mints the ECR token from the AWS SDK's default chain, which packpub's own ECR
 * provider, next in the chain, does the same way. Now that case goes on to packpub's own token, as does a default store
 * (credsStore) that cannot answer; any other helper named for the host, or ecr-login configured for a host that is not
 * ECR, is still the error it was.
 */

const w = setup((stack) => startEcrPackWorld(stack, 'testAKIDECRLOGIN'));
const env = () => w.env();
const ecrArgs = (base: string) => w.args(base);
const dockerConfig = async (config: unknown) => {
  await mkdir(join(w.root, 'docker'), { recursive: true });
  await writeFile(join(w.root, 'docker', 'config.json'), JSON.stringify(config));
};

describe('the ecr-login credential helper named for an ECR host but not installed', () => {
  it('packpub mints the ECR token itself: published, exit 0 (was: "not installed or not on PATH", exit 1)', async () => {
    await dockerConfig({ credHelpers: { [w.host]: 'ecr-login' } });
    const push = await runCli(['push', w.pack, ...ecrArgs('helper')], { env: env() });
    expect(push.code, push.stdout + push.stderr).toBe(0);
    expect(push.stdout).toContain('published');
    expect(w.standin.calls.filter((c) => c.op === 'GetAuthorizationToken').length).toBeGreaterThan(0);
    const tags = await fetch(`${w.registry.url}/v2/helper/spectro-packs/archive/hello/tags/list`);
    expect(((await tags.json()) as { tags: string[] }).tags).toEqual(['1.0.0']);
  });

  // Docker Desktop's default store (`credsStore: "desktop"`) in a config on a runner or in WSL where it is not installed:
  // no ECR host's own helper. It read "credential helper docker-credential-desktop ... is not installed", exit 1.
  it('a default store (credsStore) that is not installed: packpub mints the ECR token itself, published, exit 0', async () => {
    await dockerConfig({ credsStore: 'packpub-test-no-such-store' });
    const before = w.standin.calls.length;
    const push = await runCli(['push', w.pack, ...ecrArgs('store')], { env: env() });
    expect(push.code, push.stdout + push.stderr).toBe(0);
    expect(push.stdout).toContain('published hello:1.0.0');
    expect(push.stderr).not.toContain('not installed');
    expect(w.standin.calls.slice(before).filter((c) => c.op === 'GetAuthorizationToken')).toHaveLength(1);
    const tags = await fetch(`${w.registry.url}/v2/store/spectro-packs/archive/hello/tags/list`);
    expect(((await tags.json()) as { tags: string[] }).tags).toEqual(['1.0.0']);
  });

  // ... and when packpub cannot mint one either (no AWS credentials), both are said: the store's error was dropped.
  // (A push asks ECR to create its repositories first, with the AWS credentials alone: a read shows the chain's answer.)
  it('a default store that is not installed and no AWS credentials: list exits 1 naming both, no ECR call', async () => {
    await dockerConfig({ credsStore: 'packpub-test-no-such-store' });
    const before = w.standin.calls.length;
    const list = await withAwsEnvironment({}, () => runCli(['list', 'hello', ...ecrArgs('store')], { env: env() }));
    expect(list.code, list.stdout + list.stderr).toBe(1);
    expect(list.stderr).toContain('ECR provider: no AWS credentials found to call ecr:GetAuthorizationToken');
    expect(list.stderr).toContain('before it, credential helper docker-credential-packpub-test-no-such-store');
    expect(list.stderr).toContain('is not installed or not on PATH');
    expect(w.standin.calls.length).toBe(before);
  });

  it('another helper that is missing is still the error, exit 1', async () => {
    await dockerConfig({ credHelpers: { [w.host]: 'packpub-test-no-such-helper' } });
    const push = await runCli(['push', w.pack, ...ecrArgs('other')], { env: env() });
    expect(push.code, push.stdout + push.stderr).toBe(1);
    expect(push.stderr).toContain('credential helper docker-credential-packpub-test-no-such-helper');
    expect(push.stderr).toContain('is not installed or not on PATH');
  });
});
