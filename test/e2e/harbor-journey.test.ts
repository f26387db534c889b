import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHarborStandin } from '../support/harbor-standin.js';
import { expectRun, runCli } from '../support/cli.js';
import { treeOf } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Pushing packs to Harbor through the CLI, as the Palette docs describe it (project = first segment of the
 * base path), against the Harbor stand-in: missing project, --create-project, a robot account, listing
 * through the REST API, inspect, pull, and an immutable tag rule.
 */

const ADMIN = 'admin';
const ADMIN_PASSWORD = 'Harbor12345-journey';
const ROBOT = 'robot$spectro-oci-registry+ci';
const ROBOT_PASSWORD = 'robot-journey-secret-987';
const SECRETS = [ADMIN_PASSWORD, ROBOT_PASSWORD];

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-harbor-journey-');
  const pack = await writePack(join(root, 'hello-universe-1.0.0'), { name: 'hello-universe', version: '1.0.0' });
  const harbor = stack.add(await startHarborStandin({ users: { [ADMIN]: ADMIN_PASSWORD, [ROBOT]: ROBOT_PASSWORD }, projects: ['spectro-oci-registry'] }));
  return { harbor, root, pack };
});
const env = (extra: Record<string, string> = {}) => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SOURCE_DATE_EPOCH: '1700000000', ...extra });
const target = (base: string) => ['--registry', `${w.harbor.host}/${base}`, '--registry-type', 'harbor'];

function expectNoSecrets(text: string) {
  for (const s of SECRETS) expect(text).not.toContain(s);
}

describe('Harbor journey through the CLI', () => {
  it('recognises Harbor without --registry-type, and names the missing project and the fix', async () => {
    const run = await runCli(['push', w.pack, '--registry', `${w.harbor.host}/no-such-project`, '-u', ADMIN, '--password-stdin'], {
      stdin: ADMIN_PASSWORD,
      env: env(),
    });
    expect(run.code).toBe(1);
    expect(run.stderr + run.stdout).toContain(`project no-such-project does not exist on ${w.harbor.host}; create it or pass --create-project`);
    expectNoSecrets(run.stdout + run.stderr);
  });

  it('list names a missing project (exit 1), and says "credentials rejected" for a wrong password (issue 13 item 7)', async () => {
    const missing = await runCli(['list', ...target('no-such-project'), '-u', ADMIN, '--password-stdin'], { stdin: ADMIN_PASSWORD, env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`project no-such-project does not exist on ${w.harbor.host}`);
    expect(missing.stdout).not.toContain('no packs');
    const wrong = await runCli(['list', ...target('spectro-oci-registry'), '-u', ADMIN, '--password-stdin'], { stdin: 'not-the-password', env: env() });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`credentials rejected by ${w.harbor.host}`);
    expect(wrong.stderr).not.toContain('authentication required');
    expect(wrong.stderr).not.toContain('not-the-password');
    expectNoSecrets(missing.stdout + missing.stderr + wrong.stdout + wrong.stderr);
  });

  it('--dry-run names the missing project as the real run does (exit 1), and with --create-project plans the push, creating nothing', async () => {
    const dry = await runCli(['push', w.pack, ...target('dry-project'), '--dry-run', '-u', ADMIN, '--password-stdin'], { stdin: ADMIN_PASSWORD, env: env() });
    expect(dry.code, dry.stderr).toBe(1);
    expect(dry.stderr + dry.stdout).toContain(`project dry-project does not exist on ${w.harbor.host}; create it or pass --create-project`);
    const planned = await runCli(['push', w.pack, ...target('dry-project'), '--dry-run', '--create-project', '-u', ADMIN, '--password-stdin'], { stdin: ADMIN_PASSWORD, env: env() });
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('plan new hello-universe:1.0.0');
    expect(w.harbor.projects.has('dry-project')).toBe(false);
    expect([...w.harbor.repositories.keys()].filter((r) => r.startsWith('dry-project/'))).toEqual([]);
    expectNoSecrets(dry.stdout + dry.stderr + planned.stdout + planned.stderr);
  });

  it('--create-project creates it and publishes', async () => {
    const run = await runCli(['push', w.pack, ...target('new-project/packs'), '--create-project', '-u', ADMIN, '--password-stdin'], {
      stdin: ADMIN_PASSWORD,
      env: env(),
    });
    expect(run.code).toBe(0);
    expect(w.harbor.projects.has('new-project')).toBe(true);
    expect(w.harbor.repositories.has('new-project/packs/spectro-packs/archive/hello-universe')).toBe(true);
  });

  it('a robot account pushes; list (REST API), inspect and pull read it back', async () => {
    const robotEnv = env({ PACKPUB_USERNAME: ROBOT, PACKPUB_PASSWORD: ROBOT_PASSWORD });
    const push = await runCli(['push', w.pack, ...target('spectro-oci-registry')], { env: robotEnv });
    expect(push.code).toBe(0);
    expect(push.stdout).toContain('published hello-universe:1.0.0');
    expectNoSecrets(push.stdout + push.stderr);

    w.harbor.apiRequests.length = 0;
    const list = await runCli(['list', ...target('spectro-oci-registry'), '--json'], { env: robotEnv });
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { packs: { name: string; versions: { version: string }[] }[] };
    expect(listed.packs.map((p) => [p.name, p.versions.map((v) => v.version)])).toEqual([['hello-universe', ['1.0.0']]]);
    expect(w.harbor.apiRequests.some((r) => r.path.startsWith('/api/v2.0/projects/spectro-oci-registry/repositories') && r.user === ROBOT)).toBe(true);

    const inspect = await runCli(['inspect', 'hello-universe:1.0.0', ...target('spectro-oci-registry'), '--json'], { env: robotEnv });
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('"name": "hello-universe"');

    const out = join(w.root, 'pulled');
    const pull = await runCli(['pull', 'hello-universe:1.0.0', ...target('spectro-oci-registry'), '-o', out], { env: robotEnv });
    expect(pull.code).toBe(0);
    expect(await treeOf(out)).toEqual(await treeOf(w.pack));
  });

  it('a robot name whose $<project> a shell expanded away (PACKPUB_USERNAME=robot$spectro-oci-registry+ci unquoted): the hint says so', async () => {
    const run = await runCli(['push', w.pack, ...target('spectro-oci-registry')], { env: env({ PACKPUB_USERNAME: 'robot+ci', PACKPUB_PASSWORD: ROBOT_PASSWORD }) });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain(`credentials rejected by ${w.harbor.host}`);
    expect(run.stderr).toContain(`hint: the user name "robot+ci" looks like a Harbor robot account name whose "$<project>" part a shell or CI variable expanded to nothing (it came from environment): quote it ('robot$<project>+<name>'), or write $$ where variables are expanded (GitLab CI, compose files)`);
    expectNoSecrets(run.stdout + run.stderr);
    // Refused by the registry itself (its token service granting nothing), not Harbor's API: pull, inspect and tag said
    // only "check that the user or robot account may pull ...", then "credentials rejected or no pull permission".
    const mangled = env({ PACKPUB_USERNAME: 'robot+ci', PACKPUB_PASSWORD: ROBOT_PASSWORD });
    for (const args of [['pull', 'hello-universe:1.0.0', '-o', join(w.root, 'not-pulled')], ['inspect', 'hello-universe:1.0.0'], ['tag', 'hello-universe:1.0.0', 'never']]) {
      const refused = await runCli([...args, ...target('spectro-oci-registry')], { env: mangled });
      expect(refused.code, args[0]).toBe(1);
      // Harbor's token service answers the mangled name with a token for no one: not taken, not a missing pull permission.
      expect(refused.stderr).toContain(`error: credentials rejected by ${w.harbor.host}: its token service answered them with a token for no one (an empty subject), which it refuses for spectro-oci-registry/spectro-packs/archive/hello-universe\n`);
      expect(refused.stderr).toContain(`hint: the user name "robot+ci" looks like a Harbor robot account name whose "$<project>" part a shell or CI variable expanded to nothing (it came from environment)`);
      expectNoSecrets(refused.stdout + refused.stderr);
    }
    await expect(stat(join(w.root, 'not-pulled'))).rejects.toThrow(/ENOENT/);
  });

  it('robot accounts cannot create projects, and the message says so', async () => {
    const run = await runCli(['push', w.pack, ...target('robot-project'), '--create-project'], {
      env: env({ PACKPUB_USERNAME: ROBOT, PACKPUB_PASSWORD: ROBOT_PASSWORD }),
    });
    expect(run.code).toBe(1);
    expect(run.stderr + run.stdout).toContain('robot accounts cannot create projects');
  });

  it('under an immutable tag rule, a re-push is "already published" and a changed pack a conflict, --force --dry-run too (was: planned "overwrite")', async () => {
    const robotEnv = env({ PACKPUB_USERNAME: ROBOT, PACKPUB_PASSWORD: ROBOT_PASSWORD });
    const changed = await writePack(join(w.root, 'changed'), { name: 'hello-universe', version: '1.0.0', files: { 'README.md': '# changed\n' } });
    type Plan = { status: string; plan?: string; warnings?: { message: string }[] };
    const dryForce = async (): Promise<Plan | undefined> => {
      const run = await runCli(['push', changed, ...target('spectro-oci-registry'), '--force', '--dry-run', '--json'], { env: robotEnv });
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(run.stdout) as { results: Plan[] }).results[0];
    };
    w.harbor.policy.immutableProjects.add('spectro-oci-registry');
    try {
      const again = await runCli(['push', w.pack, ...target('spectro-oci-registry')], { env: robotEnv });
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/already published/);
      // The dry run reads the tag's immutable status from the artifact API: a planned conflict, as the real run ends.
      const plan = await dryForce();
      expect(plan).toMatchObject({ status: 'planned', plan: 'conflict' });
      expect(plan?.warnings?.[0]?.message).toBe(
        `a real run would refuse this pack (CONFLICT, exit 1): ${w.harbor.host}/spectro-oci-registry/spectro-packs/archive/hello-universe:1.0.0 is protected by an immutable tag rule of project spectro-oci-registry and holds a different artifact`,
      );
      // The real run asks the same before uploading anything (was: the layer uploaded, then Harbor's 412 at the manifest PUT).
      const refusals = w.harbor.refusals.length;
      const conflict = await runCli(['push', changed, ...target('spectro-oci-registry'), '--force', '--json'], { env: robotEnv });
      expect(conflict.code).toBe(1);
      expect(conflict.stderr + conflict.stdout).toContain('immutable tag rule of project spectro-oci-registry');
      expect(w.harbor.refusals.slice(refusals)).toEqual([]);
      const repo = 'spectro-oci-registry/spectro-packs/archive/hello-universe';
      const layer = (JSON.parse(conflict.stdout) as { results: Array<{ layerDigest?: string }> }).results[0]?.layerDigest ?? '';
      expect(layer).toMatch(/^sha256:/);
      const blob = await fetch(`${w.harbor.registry.url}/v2/${repo}/blobs/${layer}`, { method: 'HEAD', headers: { authorization: `Bearer ${w.harbor.token.adminToken(repo)}` } });
      expect(blob.status).toBe(404);
    } finally {
      w.harbor.policy.immutableProjects.clear();
    }
    // Without the rule, --force replaces it: planned so.
    expect(await dryForce()).toMatchObject({ status: 'planned', plan: 'overwrite' });
  });

  it('an extra --tag an immutable tag rule protects: refused before the version is written (was: version published, then exit 1), and planned so', async () => {
    const robotEnv = env({ PACKPUB_USERNAME: ROBOT, PACKPUB_PASSWORD: ROBOT_PASSWORD });
    const first = await runCli(['push', w.pack, ...target('spectro-oci-registry'), '--tag', 'stable'], { env: robotEnv });
    expect(first.code, first.stderr).toBe(0);
    const next = await writePack(join(w.root, 'hello-universe-1.0.1'), { name: 'hello-universe', version: '1.0.1' });
    const said = `${w.harbor.host}/spectro-oci-registry/spectro-packs/archive/hello-universe:stable is protected by an immutable tag rule of project spectro-oci-registry and holds a different artifact`;
    w.harbor.policy.immutableProjects.add('spectro-oci-registry');
    try {
      const dry = await runCli(['push', next, ...target('spectro-oci-registry'), '--tag', 'stable', '--dry-run', '--json'], { env: robotEnv });
      expect(dry.code, dry.stderr).toBe(0);
      const plan = (JSON.parse(dry.stdout) as { results: Array<{ plan?: string; warnings?: { message: string }[] }> }).results[0];
      expect(plan?.plan).toBe('conflict');
      expect(plan?.warnings?.[0]?.message).toBe(`a real run would refuse this pack (CONFLICT, exit 1): ${said}`);
      const real = await runCli(['push', next, ...target('spectro-oci-registry'), '--tag', 'stable'], { env: robotEnv });
      expect(real.code, real.stdout + real.stderr).toBe(1);
      expect(real.stderr).toContain(said);
      const list = await runCli(['list', 'hello-universe', ...target('spectro-oci-registry')], { env: robotEnv });
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain('1.0.0');
      expect(list.stdout).not.toContain('1.0.1');
    } finally {
      w.harbor.policy.immutableProjects.clear();
    }
  });
});

describe('Harbor with a Docker config naming a credential helper that is not installed', () => {
  // 3ccaa68 goes on without credentials until the registry asks: Harbor's REST API (project check, repository list) asked
  // with a 401 too, and `list` said "authentication required ... pass --username" instead of the helper's error.
  it('list and push: the helper error, exit 1, nothing pushed', async () => {
    const docker = join(w.root, 'helper-docker');
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ credsStore: 'packpub-test-not-installed' }));
    const helperError = ['credential helper docker-credential-packpub-test-not-installed', 'is not installed or not on PATH'];
    for (const argv of [['list', ...target('spectro-oci-registry')], ['push', w.pack, ...target('helper-project')]]) {
      const run = await runCli(argv, { env: env({ DOCKER_CONFIG: docker }) });
      expectRun(run, { code: 1, stderr: helperError });
      expect(run.stderr).not.toContain('--username');
    }
    expect([...w.harbor.repositories].filter((r) => r.startsWith('helper-project/'))).toEqual([]);
  });
});

