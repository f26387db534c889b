import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { type CliRun, runCli } from '../support/cli.js';
import { startHarborStandin } from '../support/harbor-standin.js';
import { writePack } from '../support/packs.js';
import { settledPastRacyMargin } from '../support/push-setup.js';
import { sharedRegistry } from '../support/registry.js';
import { RegistryReader } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * What a new user meets following README.md, docs/ and --help against a real registry (htpasswd): each case is a
 * statement of the docs or a message found untrue or misleading on that walk, with the run's exit code, its
 * words and what the registry holds afterwards.
 */

const USER = 'journey';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-journey`;

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-journey-');
  // The worker's Basic-auth registry (this file's user added to it), every repository under the file's base path (`at`).
  const registry = await sharedRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
  const pack = await writePack(join(root, 'pack'), { name: 'journey', version: '1.0.0' });
  const at = (path: string) => `${registry.base}/${path}`;
  return { root, registry, at, pack, reader: new RegistryReader(registry.url, { username: USER, password: PASSWORD }) };
});

/** The registry's credentials, as the environment gives them. */
const CREDS = { PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD };

/** `HOST/base` after the test pack was pushed under `base`. */
async function published(base: string): Promise<string> {
  const registry = `${w.registry.host}/${w.at(base)}`;
  const run = await runCli(['push', w.pack, '--registry', registry], { env: CREDS });
  expect(run.code, run.stderr).toBe(0);
  return registry;
}

describe('push --json-lines', () => {
  it('prints one result line for a pack that failed within a millisecond (docs/report.md: a result line as each pack finishes)', async () => {
    // A remembered pack whose look-up is refused fails in under a millisecond (durationMs 0), which the end of
    // the run took for a pack that never started, and printed again. A clock standing still makes every
    // failure that fast.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    let run: CliRun;
    try {
      run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.at('lines')}`, '--json-lines'], { env: { DOCKER_CONFIG: join(w.root, 'no-docker') } });
    } finally {
      clock.mockRestore();
    }
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; durationMs: number; error?: { code: string } });
    expect(lines.map((l) => `${l.type} ${l.status ?? ''}`)).toEqual(['result failed', 'summary ']);
    expect(lines[0]?.durationMs).toBe(0);
    expect(lines[0]?.error?.code).toBe('AUTH');
    expect(run.stderr).toContain(`authentication required by ${w.registry.host}`);
    expect((await w.reader.catalog()).filter((r) => r.startsWith(w.at('lines/')))).toEqual([]);
  });
});

describe('copy to or from a registry that wants credentials', () => {
  it('hints at the flags and variables of the side that needs them, and following the hint copies the pack', async () => {
    const layout = join(w.root, 'copy-layout');
    expect((await runCli(['push', w.pack, '--oci-layout', layout])).code).toBe(0);
    const env = { DOCKER_CONFIG: join(w.root, 'no-docker') };
    const to = `${w.registry.host}/${w.at('promoted')}`;
    const denied = await runCli(['copy', 'journey:1.0.0', '--from', `oci:${layout}`, '--to', to], { env });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`authentication required by ${w.registry.host}`);
    // copy has no --username: each side has its own flags and variables.
    expect(denied.stderr).toContain('hint: pass --to-username with --to-password-stdin, set PACKPUB_TO_USERNAME and PACKPUB_TO_PASSWORD, or run packpub login\n');
    expect((await w.reader.catalog()).filter((r) => r.startsWith(w.at('promoted/')))).toEqual([]);

    const copied = await runCli(['copy', 'journey:1.0.0', '--from', `oci:${layout}`, '--to', to, '--to-username', USER, '--to-password-stdin'], { env, stdin: PASSWORD });
    expect(copied.code, copied.stderr).toBe(0);
    const tags = await w.reader.tags(w.at('promoted/spectro-packs/archive/journey'));
    expect(tags).toEqual(['1.0.0']);

    const back = await runCli(['copy', 'journey:1.0.0', '--from', to, '--to', `oci:${join(w.root, 'back')}`], { env });
    expect(back.code).toBe(1);
    expect(back.stderr).toContain('hint: pass --from-username with --from-password-stdin, set PACKPUB_FROM_USERNAME and PACKPUB_FROM_PASSWORD, or run packpub login\n');
    const pulled = await runCli(['copy', 'journey:1.0.0', '--from', to, '--to', `oci:${join(w.root, 'back')}`], { env: { ...env, PACKPUB_FROM_USERNAME: USER, PACKPUB_FROM_PASSWORD: PASSWORD } });
    expect(pulled.code, pulled.stderr).toBe(0);
  });
});

describe('list NAME', () => {
  it('of a pack the registry does not hold names it (exit 0; docs/report.md: its versions are empty)', async () => {
    const registry = await published('listed');
    const missing = await runCli(['list', 'nothere', '--registry', registry], { env: CREDS });
    expect(missing).toEqual({ code: 0, stdout: '', stderr: `no pack nothere in registry ${registry}\n` });
    const json = await runCli(['list', 'nothere', '--registry', registry, '--json'], { env: CREDS });
    expect(JSON.parse(json.stdout)).toMatchObject({ packs: [{ name: 'nothere', versions: [] }] });
    const all = await runCli(['list', '--registry', registry], { env: CREDS });
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^journey +1\.0\.0 +sha256:/m);
    expect(await w.reader.tags(w.at('listed/spectro-packs/archive/journey'))).toEqual(['1.0.0']);
  });
});

describe('a command line missing an argument', () => {
  it.each([
    [['tag', 'journey:1.0.0'], 'error: packpub tag needs <tags...>\nhint: usage: packpub tag <ref> <tags...> (packpub tag --help)\n'],
    [['inspect'], 'error: packpub inspect needs <ref>\nhint: usage: packpub inspect <ref> (packpub inspect --help)\n'],
    [['copy', 'journey:1.0.0'], 'error: packpub copy needs --from and --to\nhint: run packpub copy --help\n'],
    [['copy', 'journey:1.0.0', '--from', 'oci:x'], 'error: packpub copy needs --to\nhint: run packpub copy --help\n'],
    [['completion', 'pwsh'], 'error: Invalid values:\n  Argument: shell, Given: "pwsh", Choices: "bash", "zsh", "fish"\nhint: run packpub completion --help\n'],
  ])('packpub %j: exit 2, the argument named, the hint pointing at that command (docs/errors.md, "Usage")', async (argv, stderr) => {
    expect(await runCli(argv, { cwd: w.root })).toEqual({ code: 2, stdout: '', stderr });
  });
});

describe('pull --json', () => {
  it('prints the fields docs/report.md lists; a used -o folder is exit 2 with stdout empty', async () => {
    const registry = await published('pulled');
    const out = join(w.root, 'pulled');
    const run = await runCli(['pull', 'journey:1.0.0', '--registry', registry, '-o', out, '--json'], { env: CREDS });
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(['bytes', 'digest', 'entries', 'layerDigest', 'path', 'reference']);
    expect(doc).toMatchObject({ reference: `${registry}/spectro-packs/archive/journey:1.0.0`, path: out });
    const manifest = JSON.parse((await w.reader.manifest(w.at('pulled/spectro-packs/archive/journey'), '1.0.0'))!.toString()) as { layers: Array<{ digest: string }> };
    expect(doc['layerDigest']).toBe(manifest.layers[0]?.digest);
    expect(JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'))).toMatchObject({ name: 'journey', version: '1.0.0' });
    const again = await runCli(['pull', 'journey:1.0.0', '--registry', registry, '-o', out, '--json'], { env: CREDS });
    expect(again).toEqual({ code: 2, stdout: '', stderr: `error: ${out} already exists and is not empty\nhint: pass -o with a new directory\n` });
  });
});

describe('push --create-project to Harbor, with packs the cache remembers', () => {
  const ADMIN = 'admin';
  const ADMIN_PASSWORD = `Harbor-${Math.random().toString(36).slice(2)}-journey`;
  const h = setup(async (stack) => {
    const root = await stack.tempDir('packpub-journey-harbor-');
    const harbor = stack.add(await startHarborStandin({ users: { [ADMIN]: ADMIN_PASSWORD }, projects: ['first'] }));
    const packs = [await writePack(join(root, 'a'), { name: 'remembered-a', version: '1.0.0' }), await writePack(join(root, 'b'), { name: 'remembered-b', version: '1.0.0' })];
    // Only a pack last changed past the cache's racy margin is remembered, and then looked up ahead.
    await settledPastRacyMargin(root);
    return { root, harbor, packs };
  });

  it('creates the project first and publishes every pack (README: "--create-project creates it"), exit 0', async () => {
    const env = { PACKPUB_CACHE_DIR: join(h.root, 'cache'), DOCKER_CONFIG: join(h.root, 'docker'), PACKPUB_USERNAME: ADMIN, PACKPUB_PASSWORD: ADMIN_PASSWORD };
    const first = await runCli(['push', ...h.packs, '--registry', `${h.harbor.host}/first`], { env });
    expect(first.code, first.stderr).toBe(0);
    // Looked up ahead, before the project exists: Harbor answers as for wrong credentials ("project new not found").
    const run = await runCli(['push', ...h.packs, '--registry', `${h.harbor.host}/new`, '--create-project'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`published remembered-a:1.0.0 -> ${h.harbor.host}/new/spectro-packs/archive/remembered-a:1.0.0`);
    expect(run.stdout).toContain(`published remembered-b:1.0.0 -> ${h.harbor.host}/new/spectro-packs/archive/remembered-b:1.0.0`);
    expect(run.stderr).toBe('');
    expect(h.harbor.projects.has('new')).toBe(true);
    expect([...h.harbor.repositories].filter((r) => r.startsWith('new/')).sort()).toEqual(['new/spectro-packs/archive', 'new/spectro-packs/archive/remembered-a', 'new/spectro-packs/archive/remembered-b']);

    // Without --create-project, a missing project is named as such, not as rejected credentials.
    const missing = await runCli(['push', ...h.packs, '--registry', `${h.harbor.host}/absent`], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`project absent does not exist on ${h.harbor.host}; create it or pass --create-project`);
    expect(missing.stderr).not.toContain('credentials rejected');
    expect(h.harbor.projects.has('absent')).toBe(false);
  });
});

describe('a version that does not exist', () => {
  it('is refused (exit 1) with a list command that names the same target, which then lists the pack', async () => {
    const registry = await published('hinted');
    const missing = await runCli(['inspect', 'journey:9.9.9', '--registry', registry], { env: CREDS });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    const hint = `hint: list what is published with: packpub list journey --registry ${registry}\n`;
    expect(missing.stderr).toBe(`error: ${registry}/spectro-packs/archive/journey:9.9.9 does not exist\n${hint}`);
    const listed = await runCli(hint.trim().split(' ').slice(7), { env: CREDS });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^journey +1\.0\.0 +sha256:/m);
    expect(await w.reader.tags(w.at('hinted/spectro-packs/archive/journey'))).toEqual(['1.0.0']);

    // copy names its --from place the same way.
    const copied = await runCli(['copy', 'journey:9.9.9', '--from', registry, '--to', `oci:${join(w.root, 'never')}`], { env: CREDS });
    expect(copied.code).toBe(1);
    expect(copied.stderr).toContain(`  hint: list what is published with: packpub list journey --registry ${registry}\n`);

    // A layout folder with a space is quoted as a shell would need it; delete's missing version says the same.
    const layout = join(w.root, 'my layout');
    const deleted = await runCli(['delete', 'journey:9.9.9', '--oci-layout', layout, '--force']);
    expect(deleted.code).toBe(1);
    expect(deleted.stderr).toContain(`  hint: list what is published with: packpub list journey --oci-layout '${layout}'\n`);
  });
});
