import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { parsePackRef } from '../../src/oci/reference.js';
import { applyDelete, deleteSucceeded, planDelete } from '../../src/operations/delete.js';
import { openTarget } from '../../src/targets/open.js';
import { BIN, runCli, spawnCli, TEST_CACHE_DIR, waitFor, type CliRun } from '../support/cli.js';
import { startEcrProxy } from '../support/ecr-proxy.js';
import { startEcrStandin, TEST_ECR_HOST, useFakeAwsEnvironment } from '../support/ecr-standin.js';
import { startHarborStandin } from '../support/harbor-standin.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy, type ProxyAction } from '../support/recording-proxy.js';
import { layoutHoldings, RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry, skopeoInspectLayout, skopeoInspectRaw, startRegistry } from '../support/registry.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup } from '../support/stage.js';
import { startTokenServer } from '../support/token-server.js';
import { type ChildFailure, runChildText } from '../support/spawner.js';

/*
 * `packpub delete` (issue 14) on every kind of target, checked by reading what the target holds afterwards:
 * a real distribution registry (deletes by digest only: a manifest other tags keep is refused), one with
 * deletes turned off (405), an OCI layout, the Harbor stand-in (tag and artifact API) and the ECR stand-in
 * (BatchDeleteImage through the real AWS SDK), plus the confirmation on a real pseudo-terminal.
 */

const ENV = { SOURCE_DATE_EPOCH: '1700000000' };
const REPO = 'spectro-packs/archive/hello';

interface DeleteJson {
  ok: boolean;
  operation: string;
  dryRun: boolean;
  summary: Record<string, number>;
  results: Array<{ version: string; status: string; digest?: string; otherTags?: string[]; error?: { code: string; message: string } }>;
}

/** The --json document, checked against docs/report.schema.json. */
function reportOf(run: CliRun): DeleteJson {
  const doc = JSON.parse(run.stdout) as DeleteJson;
  expectReportValid(doc);
  return doc;
}

/** Two versions of `hello` in `root`, pushed to the target; returns each version's digest. */
async function pushTwo(root: string, target: string[], env: NodeJS.ProcessEnv = {}, stdin?: string): Promise<Record<string, string>> {
  const dirs = await Promise.all(['1.0.0', '2.0.0'].map((version) => writePack(join(root, `hello-${version}`), { name: 'hello', version })));
  const push = await runCli(['push', ...dirs, ...target, '--json'], { env: { ...ENV, ...env }, ...(stdin === undefined ? {} : { stdin }) });
  expect(push.code, push.stderr).toBe(0);
  return Object.fromEntries((JSON.parse(push.stdout) as { results: Array<{ version: string; digest: string }> }).results.map((r) => [r.version, r.digest]));
}

// One anonymous registry for the blocks that need only repositories of their own (each its own base path);
// deletes turned off and token auth need registries configured so.
const shared = setup(async (stack) => ({ registry: stack.add(await startRegistry({ storage: 'filesystem' })) }));

describe('delete on a distribution registry', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-delete-');
    const registry = shared.registry;
    const target = ['--registry', `${registry.host}/base`];
    return { root, registry, target, digests: await pushTwo(root, target) };
  });
  const tags = async () => (await new RegistryReader(w.registry.url).tags(`base/${REPO}`)).sort();
  const del = (...args: string[]) => runCli(['delete', ...args, ...w.target], { env: ENV });

  it('asks for --force off a terminal, shows a dry run, deletes one version and keeps the other', async () => {
    const notTty = await del('hello:1.0.0');
    expect(notTty.code).toBe(2);
    expect(notTty.stderr).toContain('standard input is not a terminal: pass --force');
    expect(notTty.stderr).toContain('hint: Palette caches pack digests');

    const dry = await del('hello:1.0.0', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(`would delete hello:1.0.0: ${w.registry.host}/base/${REPO}:1.0.0 (${w.digests['1.0.0']}): the tag and its manifest\n`);
    expect(await tags()).toEqual(['1.0.0', '2.0.0']);

    const run = await del('hello:1.0.0', '--force');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`deleted hello:1.0.0: ${w.registry.host}/base/${REPO}:1.0.0 (${w.digests['1.0.0']}), manifest included\n`);
    expect(await tags()).toEqual(['2.0.0']);
    await expect(skopeoInspectRaw(`${w.registry.host}/base/${REPO}:1.0.0`)).rejects.toThrow(/manifest unknown|not found/i);
    expect((await skopeoInspectRaw(`${w.registry.host}/base/${REPO}:2.0.0`)).length).toBeGreaterThan(0);

    const missing = await del('hello:1.0.0', '--force');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`MISSING hello:1.0.0: ${w.registry.host}/base/${REPO}:1.0.0 does not exist`);
    expect(missing.stderr).toContain('nothing was deleted; not deleted: hello:1.0.0');
    expect((await del('hello:1.0.0', '--force', '--ignore-missing')).code).toBe(0);
  });

  it('refuses a manifest another tag keeps, naming it; deletes both when both are named', async () => {
    expect((await runCli(['tag', 'hello:2.0.0', '2.x', ...w.target])).code).toBe(0);
    const refused = await del('hello:2.0.0', '--force');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`REFUSED hello:2.0.0: ${w.registry.host}/base/${REPO}:2.0.0 shares its manifest (${w.digests['2.0.0']}) with 2.x`);
    expect(refused.stderr).toContain('hint: name every tag of that content in one call (packpub delete hello:2.0.0 hello:2.x)');
    expect(await tags()).toEqual(['2.0.0', '2.x']);

    // One missing version among several: nothing is deleted, and the report says so for each.
    const partial = await del('hello:9.9.9', 'hello:2.0.0', 'hello:2.x', '--force', '--json');
    expect(partial.code).toBe(1);
    const doc = reportOf(partial);
    expect(doc.ok).toBe(false);
    expect(doc.results.map((r) => [r.version, r.status, r.error?.code])).toEqual([
      ['9.9.9', 'missing', 'NOT_FOUND'],
      ['2.0.0', 'cancelled', 'CANCELLED'],
      ['2.x', 'cancelled', 'CANCELLED'],
    ]);
    expect(partial.stderr).toContain('error: hello:9.9.9:');
    expect(await tags()).toEqual(['2.0.0', '2.x']);

    const both = await del('hello:2.0.0', 'hello:2.x', '--force', '--json');
    expect(both.code, both.stderr).toBe(0);
    const done = reportOf(both);
    expect(done).toMatchObject({ ok: true, operation: 'delete', dryRun: false, summary: { total: 2, deleted: 2 } });
    expect(done.results.map((r) => [r.version, r.status, r.digest, r.otherTags])).toEqual([
      ['2.0.0', 'deleted', w.digests['2.0.0'], ['2.x']],
      ['2.x', 'deleted', w.digests['2.0.0'], ['2.0.0']],
    ]);
    expect(await tags()).toEqual([]);
  });

  it('a tag another publisher adds to the manifest after the plan stops the delete, naming it; the tag and the manifest stay', async () => {
    const target = ['--registry', `${w.registry.host}/late`];
    const digests = await pushTwo(join(w.root, 'late'), target);
    const opened = await openTarget({ registry: `${w.registry.host}/late`, credentials: staticProvider('none', undefined) });
    const lateTags = async () => (await new RegistryReader(w.registry.url).tags(`late/${REPO}`)).sort();
    try {
      const plan = await planDelete(opened, [parsePackRef('hello:1.0.0')]);
      expect(plan.versions[0]?.result).toMatchObject({ status: 'planned', plan: 'delete', otherTags: [] });
      // Meanwhile (a confirmation prompt can take minutes) another publisher tags the same content.
      expect((await runCli(['tag', 'hello:1.0.0', '1.0.x', ...target])).code).toBe(0);
      const report = await applyDelete(opened, plan);
      expect(report.results[0]).toMatchObject({ status: 'failed', error: { code: 'CONFLICT' } });
      expect(report.results[0]?.error?.message).toBe(
        `${w.registry.host}/late/${REPO}:1.0.0 shares its manifest (${digests['1.0.0']}) with 1.0.x, tagged since it was looked up: this registry can only delete the manifest, which would remove that tag too; not deleted`,
      );
      expect(deleteSucceeded(report)).toBe(false);
      expect(await lateTags()).toEqual(['1.0.0', '1.0.x', '2.0.0']);

      // A tag moved to other content since the plan is not deleted either (the delete would take the old manifest).
      const moved = await planDelete(opened, [parsePackRef('hello:2.0.0')]);
      expect((await runCli(['tag', 'hello:1.0.0', '2.0.0', '--force', '--allow-other-version', ...target])).code).toBe(0);
      const movedReport = await applyDelete(opened, moved);
      expect(movedReport.results[0]?.error?.message).toBe(
        `${w.registry.host}/late/${REPO}:2.0.0 now points at ${digests['1.0.0']}, not ${digests['2.0.0']} as it did when it was looked up: not deleted`,
      );
      expect(await lateTags()).toEqual(['1.0.0', '1.0.x', '2.0.0']);
    } finally {
      await opened.store.close();
    }
    // The CLI says the same, exits 1 and keeps every tag.
    const cli = await runCli(['delete', 'hello:1.0.0', '--force', ...target], { env: ENV });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('shares its manifest');
    expect(await lateTags()).toEqual(['1.0.0', '1.0.x', '2.0.0']);
  });

  it('a registry with deletes turned off: 405 explained, nothing deleted', async () => {
    const locked = await startRegistry({ deleteEnabled: false });
    try {
      const target = ['--registry', `${locked.host}/base`];
      await pushTwo(join(w.root, 'locked'), target);
      const run = await runCli(['delete', 'hello:1.0.0', '--force', ...target], { env: ENV });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`FAILED hello:1.0.0: ${locked.host} does not allow deleting manifests (405 UNSUPPORTED); nothing was deleted`);
      expect(run.stderr).toContain('storage.delete.enabled: true');
      expect((await new RegistryReader(locked.url).tags(`base/${REPO}`)).sort()).toEqual(['1.0.0', '2.0.0']);
    } finally {
      await locked.stop();
    }
  });
});

describe('delete with token auth', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-delete-token-');
    const tokens = stack.add(await startTokenServer({ users: { admin: 'admin-delete-pw', ci: { password: 'ci-delete-pw', actions: ['pull', 'push'] } }, sharedRealm: true }));
    const registry = await sharedRegistry({ auth: 'token', token: tokens });
    const target = ['--registry', `${registry.host}/${registry.base}`];
    await pushTwo(root, target, { PACKPUB_USERNAME: 'admin', PACKPUB_PASSWORD: 'admin-delete-pw' });
    return { tokens, registry, target };
  });

  it('asks the token service for the delete action; a user without it is told so and nothing is deleted', async () => {
    const denied = await runCli(['delete', 'hello:1.0.0', '--force', ...w.target], { env: { ...ENV, PACKPUB_USERNAME: 'ci', PACKPUB_PASSWORD: 'ci-delete-pw' } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`FAILED hello:1.0.0: credentials rejected or no delete permission on ${w.registry.base}/${REPO}`);
    expect(w.tokens.requests.at(-1)?.scopes).toEqual([`repository:${w.registry.base}/${REPO}:delete`]);

    const run = await runCli(['delete', 'hello:1.0.0', '--force', ...w.target], { env: { ...ENV, PACKPUB_USERNAME: 'admin', PACKPUB_PASSWORD: 'admin-delete-pw' } });
    expect(run.code, run.stderr).toBe(0);
    expect(w.tokens.requests.at(-1)?.granted).toEqual([`repository:${w.registry.base}/${REPO}:delete`]);
  });
});

describe('delete interrupted', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-delete-sigint-');
    const registry = shared.registry;
    const proxy = stack.add(await startRecordingProxy(registry.host));
    await pushTwo(root, ['--registry', `${registry.host}/sigint`]);
    return { registry, proxy };
  });

  it('on SIGINT: the version being deleted finishes, no other is tried, the output says which is gone, exit 130', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let deleting = false;
    w.proxy.onRequest = async (req): Promise<ProxyAction> => {
      if (req.kind !== 'manifest-delete') return 'pass';
      deleting = true;
      await held;
      return 'pass';
    };
    const run = spawnCli(['delete', 'hello:1.0.0', 'hello:2.0.0', '--force', '--registry', `${w.proxy.host}/sigint`], { env: ENV });
    await waitFor(() => deleting, 'the first DELETE');
    run.child.kill('SIGINT');
    await waitFor(() => run.stderr().includes('SIGINT: starting no new work'), 'the signal to be seen');
    release();
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(done.stdout).toContain('deleted hello:1.0.0:');
    expect(done.stderr).toContain('not deleted hello:2.0.0: interrupted before this version was tried');
    expect(done.stderr).toContain('deleted hello:1.0.0; not deleted: hello:2.0.0');
    expect(await new RegistryReader(w.registry.url).tags(`sigint/${REPO}`)).toEqual(['2.0.0']);
    expect(w.proxy.count((r) => r.kind === 'manifest-delete')).toBe(1);
  });
});

describe('delete in an OCI layout', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-delete-layout-');
    const layout = join(root, 'layout');
    const target = ['--oci-layout', layout];
    return { root, layout, target, digests: await pushTwo(root, target) };
  });
  const blob = (digest: string | undefined) => join(w.layout, REPO, 'blobs/sha256', (digest ?? '').slice('sha256:'.length));

  it('removes a tag other tags keep, then the last tag with the blobs only it used', async () => {
    expect((await runCli(['tag', 'hello:2.0.0', '2.x', ...w.target])).code).toBe(0);
    const untag = await runCli(['delete', 'hello:2.0.0', '--force', ...w.target]);
    expect(untag.code, untag.stderr).toBe(0);
    expect(untag.stdout).toContain(`deleted hello:2.0.0: removed the tag oci:${w.layout}/${REPO}:2.0.0; its manifest ${w.digests['2.0.0']} stays under 2.x`);
    expect(existsSync(blob(w.digests['2.0.0']))).toBe(true);

    const manifest = JSON.parse((await skopeoInspectLayout(w.layout, 'hello', '1.0.0')).toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const run = await runCli(['delete', 'hello:1.0.0', '--force', ...w.target]);
    expect(run.code, run.stderr).toBe(0);
    const held = await layoutHoldings(w.layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual([`${REPO}:2.x`]);
    expect(existsSync(blob(w.digests['1.0.0']))).toBe(false);
    expect(existsSync(blob(manifest.layers[0]?.digest))).toBe(false);
    // The config blob is the same for both versions: 2.x still needs it.
    expect(existsSync(blob(manifest.config.digest))).toBe(true);
    expect((await skopeoInspectLayout(w.layout, 'hello', '2.x')).length).toBeGreaterThan(0);
  });
});

describe('delete on Harbor', () => {
  const ADMIN = 'admin';
  const ADMIN_PASSWORD = 'Harbor12345-delete';
  const DEV = 'developer';
  const DEV_PASSWORD = 'dev-delete-secret-531';
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-delete-harbor-');
    const harbor = stack.add(
      await startHarborStandin({ users: { [ADMIN]: ADMIN_PASSWORD, [DEV]: { password: DEV_PASSWORD, actions: ['pull', 'push'] } }, projects: ['proj'] }),
    );
    const target = ['--registry', `${harbor.host}/proj`];
    const admin = { PACKPUB_USERNAME: ADMIN, PACKPUB_PASSWORD: ADMIN_PASSWORD };
    return { harbor, target, admin, digests: await pushTwo(root, target, admin) };
  });
  /** Whether the registry behind the stand-in serves `tag`, read straight from it (past the Harbor API and packpub). */
  const present = async (tag: string) =>
    (await new RegistryReader(w.harbor.registry.url, { bearer: w.harbor.token.adminToken(`proj/${REPO}`) }).manifest(`proj/${REPO}`, tag)) !== undefined;
  const deletes = () => w.harbor.apiRequests.filter((r) => r.method === 'DELETE').map((r) => `${r.path} ${r.status}`);

  it('deletes only the tag while another tag keeps the artifact, then the artifact; no delete permission (403) and an immutable rule (412) are refused', async () => {
    expect((await runCli(['tag', 'hello:2.0.0', '2.x', ...w.target], { env: w.admin })).code).toBe(0);
    const untag = await runCli(['delete', 'hello:2.0.0', '--force', ...w.target], { env: w.admin });
    expect(untag.code, untag.stderr).toBe(0);
    expect(untag.stdout).toContain(`its manifest ${w.digests['2.0.0']} stays under 2.x`);
    const artifact = `/api/v2.0/projects/proj/repositories/spectro-packs%252Farchive%252Fhello/artifacts/${encodeURIComponent(w.digests['2.0.0'] ?? '')}`;
    expect(deletes()).toEqual([`${artifact}/tags/2.0.0 200`]);
    expect([await present('2.0.0'), await present('2.x')]).toEqual([false, true]);

    // Harbor's permission list names no delete for the developer: refused before any DELETE (was: Harbor's 403 to it).
    const sentBefore = deletes().length;
    const denied = await runCli(['delete', 'hello:2.x', '--force', ...w.target], { env: { PACKPUB_USERNAME: DEV, PACKPUB_PASSWORD: DEV_PASSWORD } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`FAILED hello:2.x: ${DEV} has no delete permission on project proj (GET /api/v2.0/users/current/permissions lists neither delete artifact nor delete tag)`);
    expect(deletes().length).toBe(sentBefore);
    expect(denied.stderr).not.toContain(DEV_PASSWORD);
    expect(await present('2.x')).toBe(true);

    w.harbor.policy.immutableProjects.add('proj');
    const sent = deletes().length;
    // The plan reads the tag's immutable status (artifact API): the dry run says what the delete would end in (it
    // planned the delete, exit 0), and the delete is refused without a DELETE request.
    const dry = await runCli(['delete', 'hello:2.x', '--dry-run', ...w.target], { env: w.admin });
    const immutable = await runCli(['delete', 'hello:2.x', '--force', ...w.target], { env: w.admin });
    w.harbor.policy.immutableProjects.delete('proj');
    for (const run of [dry, immutable]) {
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain(`${w.harbor.host}/proj/${REPO}:2.x is protected by an immutable tag rule of project proj: Harbor does not delete it`);
    }
    expect(deletes().length).toBe(sent);
    expect(await present('2.x')).toBe(true);

    const last = await runCli(['delete', 'hello:2.x', '--force', ...w.target], { env: w.admin });
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toContain('manifest included');
    expect(deletes().at(-1)).toBe(`${artifact} 200`);
    expect([await present('2.x'), await present('1.0.0')]).toEqual([false, true]);
  });
});

describe('delete on ECR', () => {
  const w = setup(async (stack) => {
    const restore = useFakeAwsEnvironment('testAKIDDELETE');
    stack.defer(restore);
    const root = await stack.tempDir('packpub-delete-ecr-');
    const registry = shared.registry;
    const standin = stack.add(await startEcrStandin({ images: registry }));
    const proxy = stack.add(await startEcrProxy({ upstream: registry.url, standin }));
    const host = `${TEST_ECR_HOST}:${proxy.port}`;
    const target = ['--registry', `${host}/ecr`, '--resolve', `${host}:127.0.0.1`, '--plain-http', '--ecr-endpoint', standin.url];
    const env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') };
    return { registry, standin, target, env, digests: await pushTwo(root, target, env) };
  });
  const tags = async () => (await new RegistryReader(w.registry.url).tags(`ecr/${REPO}`)).sort();

  it('BatchDeleteImage by tag: the tag, then the image; a failure in its failures list is an error', async () => {
    expect((await runCli(['tag', 'hello:2.0.0', '2.x', ...w.target], { env: w.env })).code).toBe(0);
    const untag = await runCli(['delete', 'hello:2.0.0', '--force', ...w.target], { env: w.env });
    expect(untag.code, untag.stderr).toBe(0);
    expect(untag.stdout).toContain('stays under 2.x');
    expect(w.standin.calls.filter((c) => c.op === 'BatchDeleteImage').map((c) => c.body)).toEqual([
      { registryId: w.standin.accountId, repositoryName: `ecr/${REPO}`, imageIds: [{ imageTag: '2.0.0', imageDigest: w.digests['2.0.0'] }] },
    ]);
    expect(await tags()).toEqual(['1.0.0', '2.x']);

    w.standin.failImage(`ecr/${REPO}`, '1.0.0', 'ImageNotFound', 'Requested image not found');
    const gone = await runCli(['delete', 'hello:1.0.0', '--force', ...w.target], { env: w.env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('is no longer there: ECR answered ImageNotFound: Requested image not found');

    w.standin.failImage(`ecr/${REPO}`, '1.0.0', 'KmsError', 'The KMS key is disabled');
    const failed = await runCli(['delete', 'hello:1.0.0', 'hello:2.x', '--force', ...w.target], { env: w.env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`FAILED hello:1.0.0: ECR did not delete ${TEST_ECR_HOST}`);
    expect(failed.stderr).toContain('(KmsError: The KMS key is disabled)');
    expect(failed.stderr).toContain('not deleted hello:2.x: an earlier version failed');
    expect(failed.stderr).toContain('nothing was deleted; not deleted: hello:1.0.0, hello:2.x');
    expect(await tags()).toEqual(['1.0.0', '2.x']);

    const last = await runCli(['delete', 'hello:2.x', '--force', ...w.target], { env: w.env });
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toContain('manifest included');
    expect(await tags()).toEqual(['1.0.0']);
    expect(await new RegistryReader(w.registry.url).manifest(`ecr/${REPO}`, w.digests['2.0.0'] ?? '')).toBeUndefined();
  });
});

describe('delete asks on a terminal', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-delete-tty-');
    const layout = join(root, 'layout');
    await pushTwo(root, ['--oci-layout', layout]);
    return { layout };
  });

  /** The built CLI on a real pseudo-terminal (util-linux `script`), typing `answer`. */
  const onTerminal = (answer: string): Promise<{ code: number; output: string }> =>
    runChildText('script', ['-qec', `'${process.execPath}' '${BIN}' delete hello:1.0.0 --oci-layout '${w.layout}'`, '/dev/null'], {
      timeout: 30_000,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], PACKPUB_CACHE_DIR: TEST_CACHE_DIR },
      input: `${answer}\n`,
    }).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (err: ChildFailure) => ({ code: typeof err.code === 'number' ? err.code : -1, output: err.stdout.toString('utf8') }),
    );

  it('shows what goes and why it matters; only an explicit yes deletes', async () => {
    const no = await onTerminal('');
    expect(no.code).toBe(1);
    expect(no.output).toContain(`to delete hello:1.0.0: oci:${w.layout}/${REPO}:1.0.0`);
    expect(no.output).toContain('warning: Palette caches pack digests');
    expect(no.output).toContain('Delete 1 version(s) from oci-layout');
    expect(no.output).toContain('[y/N]');
    expect(no.output).toContain('not deleted hello:1.0.0: not confirmed');
    expect((await layoutHoldings(w.layout)).tags.has(`${REPO}:1.0.0`)).toBe(true);

    const yes = await onTerminal('y');
    expect(yes.code, yes.output).toBe(0);
    expect(yes.output).toContain('deleted hello:1.0.0');
    expect([...(await layoutHoldings(w.layout)).tags.keys()]).toEqual([`${REPO}:2.0.0`]);
  });
});
