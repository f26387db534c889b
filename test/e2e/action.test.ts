import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { runAction } from '../support/action-runner.js';
import { RegistryReader } from '../support/registry-reader.js';
import { skopeoInspectRaw, startRegistry, type RunningRegistry } from '../support/registry.js';
import { cliBaseEnv, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { runChildText } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * The composite action, run step by step as the GitHub runner would (test/support/action-runner.ts), from
 * a fresh clone of this repository's committed HEAD as GITHUB_ACTION_PATH: it installs packpub from that
 * checkout (npm ci of the production dependencies and the bundler + the CLI bundle's build, no package
 * fetched by name) and publishes to a registry on loopback.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const USER = 'robot$ci+publisher';
const PASSWORD = 'action-Secret-0f-the-robot';

describe('the composite action (action.yml)', () => {
  const world = setup(async (stack) => {
    const root = await stack.tempDir('packpub-action-');
    // Two installed dependency trees and a checkout, about 10 000 files: `rm -rf` removes them for about a
    // third of the CPU of Node's recursive fs.rm (which then finds the folder gone). Deferred before anything
    // that runs in the folder, so it runs after all of them have settled.
    stack.defer(() => runChildText('rm', ['-rf', root]));
    const actionPath = join(root, 'action');
    const workspace = join(root, 'workspace');
    const runnerTemp = join(root, 'runner-temp');
    // The clone and the registry with its packs do not depend on each other: prepared at once. A folder
    // name with a space (one argument per line, no word splitting), and a version already published with
    // other content (a conflict).
    let registry: RunningRegistry | undefined;
    const prepared = await Promise.allSettled([
      (async () => {
        const { stdout: head } = await runChildText('git', ['-C', ROOT, 'rev-parse', 'HEAD']);
        // --shared: the clone borrows this repository's object store instead of linking each of its objects
        // (thousands, made and removed again per run); the checkout below is the action's own tree all the same.
        await runChildText('git', ['clone', '--quiet', '--shared', '--no-checkout', ROOT, actionPath]);
        await runChildText('git', ['-C', actionPath, 'checkout', '--quiet', head.trim()]);
      })(),
      mkdir(runnerTemp),
      writePack(join(workspace, 'packs/hello world'), { name: 'hello', version: '1.0.0' }),
      (async () => {
        registry = stack.add(await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } }));
        await writePack(join(workspace, 'packs/clash'), { name: 'clash', version: '1.0.0' });
        const before = await runCli(['push', join(workspace, 'packs/clash'), '--registry', `${registry.host}/spectro-oci-registry`], { env: { PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD } });
        expect(before.code, before.stderr).toBe(0);
        await writeFile(join(workspace, 'packs/clash/README.md'), '# clash\n\nChanged since it was published.\n');
      })(),
    ]);
    for (const p of prepared) if (p.status === 'rejected') throw p.reason;
    if (registry === undefined) throw new Error('unreachable: the registry has started');
    const reg = `${registry.host}/spectro-oci-registry`;

    // README, "Install": the tarball `npm pack` makes of the checkout, installed with `npm install --global`.
    // It needs only the install step's build, so it starts as soon as that step has passed and runs beside
    // the rest of the action's run and the tests below (the last test checks what it installed).
    let release: Promise<Release> | undefined;
    stack.defer(() => release?.catch(() => undefined)); // settled before the temp folder goes
    // As on a macOS runner, which has no sha256sum (the install step failed there): one that fails comes first in PATH.
    const macos = join(root, 'macos-bin');
    await mkdir(macos);
    await writeFile(join(macos, 'sha256sum'), '#!/bin/sh\necho "sha256sum: command not found (as on a macOS runner)" >&2\nexit 127\n', { mode: 0o755 });
    const first = await runAction({
      actionPath,
      workspace,
      runnerTemp,
      path: [macos],
      env: { SOURCE_DATE_EPOCH: '946684800', npm_config_prefer_offline: 'true' },
      inputs: {
        packs: 'packs/hello world\npacks/clash\n',
        recursive: 'false',
        registry: reg,
        username: USER,
        password: PASSWORD,
        args: '--continue-on-error\n--concurrency\n2',
        // Into folders that do not exist yet (was: the shell's redirection failed, packpub never ran, exit-code 1).
        report: 'out/reports/packpub.json',
        junit: 'out/junit/junit.xml',
        'report-artifact': 'packpub-report-1',
      },
      afterStep: (step) => {
        if (step.id !== 'install' || step.exitCode !== 0) return;
        release = installRelease(actionPath, root);
        release.catch(() => undefined); // awaited by its test; a failure is reported there
      },
    });
    return { registry, root, actionPath, workspace, runnerTemp, reg, first, release };
  }, 300_000); // npm ci and the build in the fresh clone: minutes on a loaded 2-core machine
  it('installs from its own checkout and pins every other action by commit', async () => {
    const install = world.first.steps.find((s) => s.id === 'install');
    expect(install?.exitCode, install?.stderr).toBe(0);
    expect(install?.stdout.trim().split('\n').at(-1)).toMatch(/^\d+\.\d+\.\d+/);
    // What a workflow run installs: packpub's production dependencies and the bundler, pinned by
    // package-lock.json; none of packpub's own test and type-check tools (devDependencies).
    const installed = await readdir(join(world.actionPath, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['rolldown', 'yargs', 'undici', '@aws-sdk']));
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const devTools = Object.keys(pkg.devDependencies).filter((name) => !name.startsWith('@types/'));
    expect(devTools).toEqual(expect.arrayContaining(['typescript', 'vitest']));
    // (TypeScript's compiler is a native binary in an optional package of its own, under @typescript.)
    expect(installed.filter((name) => devTools.includes(name) || name === '@types' || name === '@typescript')).toEqual([]);
    const action = load(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Array<{ uses?: string; run?: string }> } };
    for (const step of action.runs.steps) {
      if (step.uses !== undefined) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
      // Inputs reach scripts only through env: an expression in a script could inject shell code.
      if (step.run !== undefined) expect(step.run).not.toContain('${{');
      if (step.run !== undefined) expect(step.run).not.toMatch(/npm (install|i) .*packpub@|npx packpub/);
    }
  });

  it('publishes, fails with packpub\'s exit code on the conflict, and reports where CI users look (into report folders that do not exist yet)', async () => {
    expect(world.first.exitCode).toBe(1);
    expect(world.first.outputs).toEqual({ report: 'out/reports/packpub.json', 'exit-code': '1' });
    const report = JSON.parse(await readFile(join(world.workspace, 'out/reports/packpub.json'), 'utf8')) as { results: Array<{ name: string; status: string }> };
    expect(report.results.map((r) => `${r.name} ${r.status}`).sort()).toEqual(['clash conflict', 'hello published']);
    // What the registry holds, read by skopeo.
    const raw = await skopeoInspectRaw(`${world.reg}/spectro-packs/archive/hello:1.0.0`, { creds: { username: USER, password: PASSWORD } });
    expect(JSON.parse(raw.toString()).layers[0].annotations['org.opencontainers.image.title']).toBe('hello-1.0.0.tar.gz');

    expect(world.first.summary).toContain('### packpub push: failed');
    expect(world.first.summary).toMatch(new RegExp(`\\| hello \\| 1\\.0\\.0 \\| registry ${world.reg.replace(/\./g, '\\.')} \\| published \\| \`sha256:[0-9a-f]{64}\``));
    expect(world.first.summary).toContain('| clash | 1.0.0 |');
    expect(world.first.summary).toContain('**Totals:** 2 results to registry');
    expect(world.first.log).toMatch(/^::error file=packs\/clash\/pack\.json,title=packpub conflict::conflict clash:1\.0\.0: /m);
    expect(world.first.log).not.toContain(PASSWORD);
    expect(await readFile(join(world.workspace, 'out/junit/junit.xml'), 'utf8')).toContain('<testcase name="clash:1.0.0"');

    // The cache (keyed by this build's code, restored from earlier runs) and the artifact upload (also after a failure).
    const cache = world.first.steps.find((s) => s.uses?.startsWith('actions/cache@') === true);
    const prefix = cache?.with?.['restore-keys'] ?? '';
    expect(prefix).toMatch(/^packpub-Linux-[0-9a-f]{16}-$/);
    expect(cache?.with).toMatchObject({ path: join(world.runnerTemp, 'packpub-cache'), key: `${prefix}4242-1-publish-` });
    const upload = world.first.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@') === true);
    expect(upload?.ran).toBe(true);
    expect(upload?.with?.['name']).toBe('packpub-report-1');
    expect(upload?.with?.['path']?.split('\n').filter((l) => l !== '')).toEqual(['out/reports/packpub.json', 'out/junit/junit.xml']);
  });

  /** The action again in the same workspace, packpub already installed by the first run (its PATH kept). */
  const runInstalled = (inputs: Record<string, string>) =>
    runAction({
      actionPath: world.actionPath,
      workspace: world.workspace,
      runnerTemp: world.runnerTemp,
      skip: ['install'],
      path: world.first.path,
      env: { SOURCE_DATE_EPOCH: '946684800' },
      inputs,
    });

  it('succeeds (exit 0) when told to keep the conflicting version, and uploads nothing when not asked; recursive "True", cache "FALSE" read as GitHub reads a boolean input (was: recursive read as false, exit 2)', async () => {
    // packs/ is a root, no pack folder: both packs found means recursive was read as true; no cache step, cache as false.
    const again = await runInstalled({ packs: 'packs', recursive: 'True', registry: world.reg, username: USER, password: PASSWORD, args: '--skip-existing', cache: 'FALSE' });
    expect(again.steps.find((s) => s.id === 'push')?.stderr).not.toContain('error');
    expect(again.exitCode).toBe(0);
    expect(again.outputs).toEqual({ report: 'packpub-report.json', 'exit-code': '0' });
    expect(again.summary).toContain('### packpub push: succeeded');
    expect(again.summary).toContain('1 unchanged, 1 skipped');
    expect(again.steps.filter((s) => s.uses !== undefined && s.ran).map((s) => s.uses?.split('@')[0])).toEqual(['actions/setup-node']);
  });

  it('a password without a username is refused (exit 2), not dropped for an anonymous push', async () => {
    const half = await runInstalled({ packs: 'packs', recursive: 'true', registry: `${world.registry.host}/half`, username: '', password: PASSWORD, cache: 'false' });
    expect(half.exitCode).toBe(2);
    expect(half.outputs['exit-code']).toBe('2');
    const push = half.steps.find((s) => s.id === 'push');
    expect(push?.stderr).toContain('error: --username is empty');
    expect(`${push?.stdout ?? ''}${push?.stderr ?? ''}`).not.toContain(PASSWORD);
    expect(await new RegistryReader(world.registry.url, { username: USER, password: PASSWORD }).catalog()).not.toContain('half/spectro-packs/archive/hello');
  });

  it('a repository that is one pack (packs: .) with the report at its default place in it: published without the report, exit 0, the report written there; the next push in the job finds it unchanged, its upload replacing the artifact of the same name (was: exit 2, "standard output\'s file ... is inside the pack folder")', async () => {
    const workspace = await writePack(join(world.root, 'one-pack'), { name: 'onepack', version: '1.0.0' });
    const push = () =>
      runAction({
        actionPath: world.actionPath,
        workspace,
        runnerTemp: world.runnerTemp,
        skip: ['install'],
        path: world.first.path,
        env: { SOURCE_DATE_EPOCH: '946684800' },
        inputs: { packs: '.', registry: world.reg, username: USER, password: PASSWORD, cache: 'false', 'report-artifact': 'packpub-onepack' },
      });
    const first = await push();
    expect(first.steps.find((s) => s.id === 'push')?.stderr).not.toContain('error');
    expect(first.exitCode).toBe(0);
    expect(first.outputs).toEqual({ report: 'packpub-report.json', 'exit-code': '0' });
    const report = async () => (JSON.parse(await readFile(join(workspace, 'packpub-report.json'), 'utf8')) as { summary: Record<string, number> }).summary;
    expect(await report()).toMatchObject({ published: 1 });
    // The first run's report is in the pack folder now: not packed by the next run either.
    const second = await push();
    expect(second.exitCode).toBe(0);
    expect(await report()).toMatchObject({ unchanged: 1 });
    // "Re-run failed jobs" uploads again under the same artifact name: upload-artifact v4+ fails that with 409 Conflict
    // unless told to overwrite (a re-run whose push succeeded still failed the job).
    const upload = second.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@') === true);
    expect(upload?.ran).toBe(true);
    expect(upload?.with).toMatchObject({ name: 'packpub-onepack' });
    expect(String(upload?.with?.['overwrite'])).toBe('true');
    const out = join(world.root, 'one-pack-pulled');
    const pull = await runCli(['pull', 'onepack:1.0.0', '--registry', world.reg, '-o', out], { env: { PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD } });
    expect(pull.code, pull.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['README.md', 'logo.png', 'manifests', 'pack.json', 'values.yaml']);
  });

  it('the release tarball (npm pack of the same checkout) installs with npm install --global and runs as packpub', async () => {
    // README, "Install": the release workflow attaches this tarball; it carries the built code (here the
    // action's build, the CLI bundle alone; the release's full build adds dist/'s library modules and
    // type declarations).
    expect(world.release, 'the action\'s install step failed: nothing to pack').toBeDefined();
    const { files, prefix } = await (world.release as Promise<Release>);
    expect(files).toEqual(expect.arrayContaining(['package/bin/packpub.js', 'package/dist/bundle/packpub.cjs', 'package/dist/bundle/validate-worker.js']));
    // No per-module build beside it: what runs below is the bundle.
    expect(files.filter((f) => f.startsWith('package/dist/') && !f.startsWith('package/dist/bundle/'))).toEqual([]);
    const packpub = join(prefix, 'bin/packpub');
    // As from a user's shell, with the tests' cache folder (support/cli.ts), not the user's ~/.cache/packpub.
    const version = await runChildText(packpub, ['--version'], { env: cliBaseEnv() });
    expect(version.stdout.trim()).toBe(JSON.parse(await readFile(join(world.actionPath, 'package.json'), 'utf8')).version);
    const validate = await runChildText(packpub, ['validate', join(world.workspace, 'packs/hello world')], { env: cliBaseEnv() });
    expect(validate.stdout).toContain('1 pack checked: 1 passed, 0 failed');
    // What the bundle leaves to node_modules (the AWS SDK for ECR, undici's index for the Palette client) is
    // what the global install's dependencies hold, where the bundle's require() finds them: the runs above
    // load none of it. (A `node:` name is Node's own, also one this Node lacks, such as node:sqlite.)
    const installed = join(prefix, 'lib/node_modules/packpub');
    const bundleDir = join(installed, 'dist/bundle');
    const chunks = (await readdir(bundleDir)).filter((f) => f.endsWith('.cjs'));
    const texts = await Promise.all(chunks.map((f) => readFile(join(bundleDir, f), 'utf8')));
    const externals = new Set(texts.flatMap((t) => [...t.matchAll(/\brequire\("([^".][^"]*)"\)/g)].map((m) => m[1] ?? '')).filter((n) => !n.startsWith('node:') && !isBuiltin(n)));
    expect([...externals].sort()).toEqual(expect.arrayContaining(['@aws-sdk/client-ecr', 'undici']));
    const bundleRequire = createRequire(join(bundleDir, 'packpub.cjs'));
    for (const name of externals) expect(bundleRequire.resolve(name), name).toContain(join(installed, 'node_modules', name));
  }, 300_000);
});

interface Release {
  /** The tarball's entries. */
  files: string[];
  /** The global install's prefix (its bin/packpub). */
  prefix: string;
}

/** `npm install --global "$(npm pack --silent)"` of the built checkout at `checkout`, into a prefix under `root`. */
async function installRelease(checkout: string, root: string): Promise<Release> {
  const dest = join(root, 'release');
  await mkdir(dest);
  const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier'];
  // As from a user's shell: not the npm_config_* settings `npm test` hands its children, but the user's way
  // to the npm registry (a proxy, its CA certificates: without them npm retries each package for minutes).
  const keep = /^(PATH|HOME|TMPDIR|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|https?_proxy|no_proxy|npm_config_(registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl))$/i;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => keep.test(k)));
  const { stdout: name } = await runChildText('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dest, ...npmFlags], { cwd: checkout, env });
  const tarball = join(dest, name.trim());
  const files = (await runChildText('tar', ['-tzf', tarball])).stdout.split('\n');
  const prefix = join(root, 'global');
  await runChildText('npm', ['install', '--global', '--prefix', prefix, ...npmFlags, tarball], { cwd: root, env });
  return { files, prefix };
}
