import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWaits } from '../support/clock.js';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { paletteLabWithHello } from '../support/published.js';
import { freePort } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * push --palette-sync found the Palette registry serving the target only after publishing: no registry serving it,
 * several, a key Palette refuses or a Palette that does not answer ended the run once the packs were in the registry
 * (exit 1 or 2, the packs published without the confirmation asked for). Now the registry is found with reads only
 * before the first write: such a run ends there, its message saying nothing was published and how to go on, with
 * the exit code of its error (docs/errors.md). The dry run checks the same, and what the check found goes to the
 * sync, which does not look it up again.
 */

const KEY = `apikey-${Math.random().toString(36).slice(2)}-tenant-admin`;
const PROJECT_KEY = `apikey-${Math.random().toString(36).slice(2)}-project`;
const clock = skipWaits();
const w = setup(async (stack) => {
  const lab = await paletteLabWithHello(stack, 'packpub-palette-preflight-', KEY, clock, { shared: true });
  lab.palette.keys[PROJECT_KEY] = { role: 'project', projects: ['p-1'] };
  return lab;
});
const fast = ['--palette-poll-interval', '0.02', '--palette-timeout', '60', '--no-cache'];
const NOTHING = '; nothing was published (push --palette-sync checks Palette first)';
const WITHOUT = 'or drop --palette-sync to publish without confirming the packs in Palette';

/** The repositories the registry holds under `base` (a blob or manifest written there shows). */
async function repositoriesUnder(base: string): Promise<string[]> {
  const answer = (await (await fetch(`${w.registry.url}/v2/_catalog?n=10000`)).json()) as { repositories?: string[] };
  return (answer.repositories ?? []).filter((r) => r === base || r.startsWith(`${base}/`));
}

/** A push of hello to `base` with --palette-sync, --json and --junit; the JUnit file's text with it. */
async function push(base: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<{ run: CliRun; junit: string }> {
  const junit = join(w.root, `${base}.xml`);
  const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.under(base)}`, '--palette-sync', '--json', '--junit', junit, ...fast, ...extra], { env: { ...w.env, ...env } });
  return { run, junit: await readFile(junit, 'utf8') };
}

/** The run ended before writing: exit `code`, the error and hint as said, stdout empty, the JUnit report one error case, nothing in the registry. */
async function expectNothingPublished(base: string, result: { run: CliRun; junit: string }, code: number, errorCode: string, message: string, hint: string): Promise<void> {
  const { run, junit } = result;
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  expect(run.stderr).toContain(`error: ${message}${NOTHING}\n`);
  expect(run.stderr).toContain(`hint: ${hint}; ${WITHOUT}\n`);
  const suite = code === 2 ? 'refused' : 'stopped';
  expect(junit).toContain(`<testsuite name="${suite}" tests="1" failures="0" errors="1"`);
  expect(junit).toMatch(new RegExp(`<error message="${suite}: [^"]*nothing was published \\(push --palette-sync checks Palette first\\)" type="${errorCode}">`));
  expect(junit).not.toContain('hello:1.0.0');
  expect(await repositoriesUnder(w.under(base))).toEqual([]);
}

/** expectNothingPublished of a run to `base`, which no Pack registry in Palette serves. */
const expectNoRegistry = (base: string, result: { run: CliRun; junit: string }) =>
  expectNothingPublished(base, result, 1, 'NOT_FOUND', `no Pack registry in Palette serves ${w.registry.host}/${w.under(base)}`, 'run packpub palette doctor to see the settings Palette needs, or packpub palette register to add it');

const syncs = () => [...w.palette.registries.values()].reduce((n, r) => n + r.syncRequests.length, 0);

describe('push --palette-sync checks Palette before publishing', () => {
  it('no Pack registry serves the target: exit 1, nothing published (was: published, then the error)', async () => {
    const before = syncs();
    const result = await push('nowhere', []);
    await expectNoRegistry('nowhere', result);
    expect(syncs()).toBe(before);
  });

  it('two Pack registries serve the target: exit 2, nothing published (was: published, then exit 2)', async () => {
    const spec = { endpoint: `http://${w.registry.host}`, baseContentPath: w.under('twice'), providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } };
    const a = w.palette.addRegistry('basic', 'twice-a', spec);
    const b = w.palette.addRegistry('basic', 'twice-b', spec);
    const result = await push('twice', []);
    // The other tests' runs read the registries of the host: these two are the test's own.
    w.palette.registries.delete(a);
    w.palette.registries.delete(b);
    await expectNothingPublished(
      'twice',
      result,
      2,
      'USAGE',
      `2 Pack registries in Palette serve ${w.registry.host}/${w.under('twice')}: twice-a (${a}), twice-b (${b})`,
      'choose one with --palette-registry NAME|UID (or palette.registry of the target in packpub.yaml)',
    );
  });

  it('a key Palette rejects (401) or a project key that may not list registries (403): exit 1, nothing published', async () => {
    const host = new URL(w.palette.url).host;
    const rejected = await push('rejected', [], { SPECTROCLOUD_APIKEY: 'wrong-key-0123456789' });
    expect(rejected.run.stderr).not.toContain('wrong-key-0123456789');
    await expectNothingPublished(
      'rejected',
      rejected,
      1,
      'AUTH',
      `Palette at ${host} rejected the API key (401): Invalid or missing api key`,
      'check SPECTROCLOUD_APIKEY (or --palette-api-key-stdin): create a key in Palette under Profile > My API Keys; for a self-hosted Palette set --palette-endpoint',
    );
    const project = await push('project-key', ['--palette-project', 'p-1'], { SPECTROCLOUD_APIKEY: PROJECT_KEY });
    await expectNothingPublished(
      'project-key',
      project,
      1,
      'AUTH',
      'the Palette API key may not list OCI registries (403): User is not authorized to access tenant resources',
      'registries are tenant-level in Palette: use an API key of a tenant admin (a key of a project-scoped user cannot read, add or sync registries)',
    );
  });

  it('Palette does not answer (after its retries): exit 1, nothing published', async () => {
    const port = await freePort();
    const result = await push('unreachable', ['--retry-attempts', '2', '--retry-delay', '0'], { SPECTROCLOUD_HOST: `http://127.0.0.1:${port}` });
    expect(result.run.stderr).toMatch(new RegExp(`error: cannot reach Palette at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*; nothing was published`));
    await expectNothingPublished('unreachable', result, 1, 'NETWORK', (/^error: (.*); nothing was published/m.exec(result.run.stderr)?.[1] ?? 'no error'), (/^hint: (.*); or drop/m.exec(result.run.stderr)?.[1] ?? 'no hint'));
  });

  it('--palette-registry naming a registry that serves another base path: exit 2, nothing published', async () => {
    const result = await push('other-base', ['--palette-registry', 'lab']);
    expect(result.run.stderr).toContain(`error: Palette registry lab (${w.uid}) serves ${w.registry.host}/${w.under('packs')}, not ${w.registry.host}/${w.under('other-base')}${NOTHING}\n`);
    expect(result.run.code).toBe(2);
    expect(result.junit).toContain('<testsuite name="refused"');
    expect(await repositoriesUnder(w.under('other-base'))).toEqual([]);
  });

  it('two targets, the second served by no Pack registry: nothing published to either (was: both, then the error)', async () => {
    const served = w.palette.addRegistry('basic', 'served', { endpoint: `http://${w.registry.host}`, baseContentPath: w.under('served'), providerType: 'pack', isSyncSupported: true, auth: { type: 'noAuth' } });
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.under('served')},${w.registry.host}/${w.under('unserved')}`, '--palette-sync', ...fast], { env: w.env });
    w.palette.registries.delete(served);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`error: no Pack registry in Palette serves ${w.registry.host}/${w.under('unserved')}${NOTHING}\n`);
    expect(await repositoriesUnder(w.under('served'))).toEqual([]);
    expect(await repositoriesUnder(w.under('unserved'))).toEqual([]);
  });

  it('--dry-run runs the same check: no registry serving the target fails the plan, exit 1 (not 0)', async () => {
    const result = await push('dry-nowhere', ['--dry-run']);
    await expectNoRegistry('dry-nowhere', result);
  });

  it('the registry serving the target has sync off: exit 2, nothing published, no sync asked; the dry run the same (was: published, then exit 3)', async () => {
    const off = w.palette.addRegistry('basic', 'sync-off', { endpoint: `http://${w.registry.host}`, baseContentPath: w.under('off'), providerType: 'pack', isSyncSupported: false, auth: { type: 'noAuth' } });
    try {
      const before = syncs();
      const message = `sync is off for Palette registry sync-off (${off}), which serves ${w.registry.host}/${w.under('off')}: Palette would list none of the packs`;
      const hint = 'turn sync on for sync-off in Palette (Tenant Settings > Registries > OCI Registries; packpub palette doctor checks its settings)';
      await expectNothingPublished('off', await push('off', []), 2, 'CONFIG', message, hint);
      const dry = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.under('off')}`, '--palette-sync', '--dry-run', ...fast], { env: w.env });
      expect(dry.code, dry.stderr).toBe(2);
      expect(dry.stdout).toBe('');
      expect(dry.stderr).toContain(`error: ${message}${NOTHING}\n`);
      expect(dry.stderr).toContain(`hint: ${hint}; ${WITHOUT}\n`);
      expect(dry.stderr).not.toContain('WOULD NOT BE VISIBLE');
      expect(syncs()).toBe(before);
      expect(w.palette.registries.get(off)?.index.size).toBe(0);
    } finally {
      w.palette.registries.delete(off);
    }
  });

  it('the registry found before publishing is the one synced: Palette is asked for its registries once per run', async () => {
    const registryReads = (from: number) => w.palette.requests.slice(from).filter((r) => r.prefix === '/v1/registries' && r.method === 'GET' && !r.path.endsWith('/sync')).map((r) => r.path.replace(w.uid, 'UID'));
    const dry = w.palette.requests.length;
    const plan = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.under('packs')}`, '--palette-sync', '--dry-run', ...fast], { env: w.env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain('palette: dry run: would sync Palette registry lab and confirm hello:1.0.0; nothing was synced');
    expect(registryReads(dry)).toEqual(['/v1/registries/oci/summary', '/v1/registries/oci/UID/basic', '/v1/registries/oci/UID/basic/sync/status']);
    const from = w.palette.requests.length;
    const run = await runCli(['push', w.pack, '--registry', `${w.registry.host}/${w.under('packs')}`, '--palette-sync', ...fast], { env: w.env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^visible in Palette hello:1\.0\.0 \(packUid [0-9a-f]{24}\)$/m);
    expect(registryReads(from).filter((p) => !p.endsWith('/sync/status'))).toEqual(['/v1/registries/oci/summary', '/v1/registries/oci/UID/basic']);
    expect(w.palette.registries.get(w.uid)?.syncRequests).toHaveLength(1);
  });
});
