import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { runChild, type ChildFailure } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * A CI container run as a non-root user whose HOME is still root's (`docker run --user 1001` of an image whose
 * HOME is /root, mode 0700): the default Docker config, ~/.docker/config.json, is behind a folder this user may
 * not search, so whether it exists cannot be known. Every registry command failed: "docker config
 * /root/.docker/config.json cannot be read: EACCES", exit 1, though no such file existed, where Docker's CLI goes
 * on without it. Now read as no config (the run's other credentials, or none). A config file the user may see but
 * not read, or a DOCKER_CONFIG the user named, is still refused.
 */

const USER = '48612';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const world = setup(async (stack) => {
  const root = await stack.tempDir('packpub-home-unsearchable-');
  await chmod(root, 0o755);
  // The run's temp folder (mode 0700) searchable by others while this file runs, so the user reaches the pack.
  const parent = dirname(root);
  const { mode } = await stat(parent);
  await chmod(parent, mode | 0o111);
  stack.defer(() => chmod(parent, mode & 0o7777));
  const pack = await writePack(join(root, 'pack'), { name: 'home-unsearchable', version: '1.0.0' });
  // Root's home: no one else may search it.
  const rootHome = join(root, 'roothome');
  await mkdir(join(rootHome, '.docker'), { recursive: true });
  await chmod(rootHome, 0o700);
  // A home the user may search, holding a config only root may read.
  const seenHome = join(root, 'seenhome');
  await mkdir(join(seenHome, '.docker'), { recursive: true, mode: 0o755 });
  await writeFile(join(seenHome, '.docker', 'config.json'), '{"auths":{}}\n', { mode: 0o600 });
  const tmp = join(root, 'tmp');
  await mkdir(tmp);
  await chmod(tmp, 0o777);
  const registry = await sharedRegistry();
  return { root, pack, rootHome, seenHome, tmp, registry };
});

/** The built CLI as a user without root's permissions, with `env`. */
async function runAsUser(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const setpriv = ['--reuid', USER, '--regid', USER, '--clear-groups', process.execPath, BIN, ...args];
  return runChild('setpriv', setpriv, { cwd: world.root, env: { PATH: process.env['PATH'], TMPDIR: world.tmp, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout.toString(), stderr: r.stderr.toString() }),
    (err: ChildFailure) => ({ code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout.toString(), stderr: err.stderr.toString() }),
  );
}

describe("a non-root user whose HOME is a folder it may not search (root's)", () => {
  it('push and list an anonymous registry: exit 0, the registry holds the pack (was: EACCES on a config that is not there, exit 1)', async () => {
    const { registry } = world;
    const at = `${registry.host}/${registry.base}/unsearchable`;
    const push = await runAsUser(['push', world.pack, '--registry', at], { HOME: world.rootHome });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain(`published home-unsearchable:1.0.0 -> ${at}/spectro-packs/archive/home-unsearchable:1.0.0`);
    expect(push.stderr).not.toContain('EACCES');
    const held = await new RegistryReader(registry.url).holdings(`${registry.base}/unsearchable`);
    expect([...held.tags.keys()]).toEqual([`${registry.base}/unsearchable/spectro-packs/archive/home-unsearchable:1.0.0`]);
    const list = await runAsUser(['list', '--registry', at, '--json'], { HOME: world.rootHome });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { packs: Array<{ name: string }> }).packs.map((p) => p.name)).toEqual(['home-unsearchable']);
  });

  it('a config file it can see but not read is still refused, as is a DOCKER_CONFIG it named: exit 1, nothing pushed', async () => {
    const { registry } = world;
    const at = `${registry.host}/${registry.base}/unreadable`;
    const seen = await runAsUser(['push', world.pack, '--registry', at], { HOME: world.seenHome });
    expect(seen.code).toBe(1);
    expect(seen.stderr).toContain(`docker config ${join(world.seenHome, '.docker', 'config.json')} cannot be read: EACCES`);
    const named = await runAsUser(['push', world.pack, '--registry', at], { HOME: world.seenHome, DOCKER_CONFIG: join(world.rootHome, '.docker') });
    expect(named.code).toBe(1);
    expect(named.stderr).toContain(`docker config ${join(world.rootHome, '.docker', 'config.json')} cannot be read: EACCES`);
    expect((await new RegistryReader(registry.url).tagDigests(`${registry.base}/unreadable`)).size).toBe(0);
  });
});
