import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { expectReportValid } from '../support/report-schema.js';
import { setup } from '../support/stage.js';

/*
 * ECR creation settings (--ecr-encryption, --ecr-kms-key, --ecr-tag-mutability, --ecr-tag) meet a pack
 * repository that already exists, whose own settings ECR keeps: weaker encryption or another KMS key
 * refuses the pack before anything is written there (exit 1); any other difference is a warning on stderr,
 * in the JSON report and as a GitHub annotation (exit 0). The real @aws-sdk/client-ecr against the ECR API
 * stand-in, a real registry behind the ECR-like proxy.
 */

const KEY_A = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const KEY_B = 'arn:aws:kms:us-east-1:123456789012:key/99999999-8888-7777-6666-555555555555';

const envIn = (root: string) => ({ HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' });

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-settings-');
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  const other = await writePack(join(root, 'other-1.0.0'), { name: 'other', version: '1.0.0' });
  // hello:1.0.0 in an OCI layout, the source of every copy below (a copy only reads it).
  const layout = join(root, 'layout');
  expect((await runCli(['push', pack, '--oci-layout', layout], { env: envIn(root) })).code).toBe(0);
  return { ...(await startEcrWorld(stack, 'testAKIDSETTINGS')), root, pack, other, layout };
});

const env = () => envIn(w.root);
const ecrArgs = (base: string) => ['--registry', `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];

/** A pack repository made beforehand (by hand or another tool), with its own settings. */
function existing(name: string, settings: { encryptionType?: string; kmsKey?: string; imageTagMutability?: string; tags?: Record<string, string> }): void {
  w.standin.repositories.set(name, {
    name,
    registryId: w.standin.accountId,
    createdAt: new Date(),
    imageTagMutability: settings.imageTagMutability ?? 'MUTABLE',
    encryptionType: settings.encryptionType ?? 'AES256',
    ...(settings.kmsKey === undefined ? {} : { kmsKey: settings.kmsKey }),
    tags: settings.tags ?? {},
  });
}

/** Tags the registry holds in a repository (the proxy's upstream, read directly). */
async function tagsIn(repo: string): Promise<string[]> {
  const res = await fetch(`${w.registry.url}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

interface JsonResult {
  name: string;
  status: string;
  error?: { code: string; message: string };
  warnings?: { message: string; hint?: string }[];
}

describe('ECR settings asked for a pack repository that already exists', () => {
  it('weaker encryption than --ecr-encryption KMS: that pack is refused (exit 1, nothing pushed there); a new repository gets KMS', async () => {
    existing('enc/spectro-packs/archive/hello', { encryptionType: 'AES256' });
    const run = await runCli(['push', w.pack, w.other, ...ecrArgs('enc'), '--ecr-encryption', 'KMS', '--ecr-kms-key', KEY_A, '--json'], { env: env() });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: JsonResult[] };
    expect(report.ok).toBe(false);
    const hello = report.results.find((r) => r.name === 'hello');
    expect(hello?.status).toBe('conflict');
    expect(hello?.error?.message).toBe(
      '--ecr-encryption KMS was asked, but the ECR repository enc/spectro-packs/archive/hello already existed with AES256 encryption: refused, nothing pushed to it',
    );
    expect(await tagsIn('enc/spectro-packs/archive/hello')).toEqual([]);
    // The repository itself was left as it was.
    expect(w.standin.repositories.get('enc/spectro-packs/archive/hello')?.encryptionType).toBe('AES256');
    // The other pack's repository was new: created with the asked encryption, and published.
    expect(report.results.find((r) => r.name === 'other')?.status).toBe('published');
    expect(w.standin.repositories.get('enc/spectro-packs/archive/other')).toMatchObject({ encryptionType: 'KMS', kmsKey: KEY_A });
    expect(await tagsIn('enc/spectro-packs/archive/other')).toEqual(['1.0.0']);
  });

  it('another KMS key than --ecr-kms-key: refused; the same key given by its id: published, no warning', async () => {
    existing('key/spectro-packs/archive/hello', { encryptionType: 'KMS', kmsKey: KEY_A });
    const other = await runCli(['push', w.pack, ...ecrArgs('key'), '--ecr-encryption', 'KMS', '--ecr-kms-key', KEY_B], { env: env() });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      `--ecr-kms-key ${KEY_B} was asked, but the ECR repository key/spectro-packs/archive/hello already existed with KMS encryption under another key, ${KEY_A}: refused, nothing pushed to it`,
    );
    expect(other.stderr).toContain('hint: the pack was not pushed to');
    expect(await tagsIn('key/spectro-packs/archive/hello')).toEqual([]);

    const same = await runCli(['push', w.pack, ...ecrArgs('key'), '--ecr-encryption', 'KMS', '--ecr-kms-key', '11111111-2222-3333-4444-555555555555'], { env: env() });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).not.toContain('warning');
    expect(await tagsIn('key/spectro-packs/archive/hello')).toEqual(['1.0.0']);
  });

  it('other tag mutability, missing resource tags and stronger encryption: published with warnings on stderr, in --json and as GitHub annotations', async () => {
    const repo = 'warn/spectro-packs/archive/hello';
    existing(repo, { encryptionType: 'KMS', kmsKey: KEY_A, imageTagMutability: 'IMMUTABLE', tags: { team: 'other', keep: 'yes' } });
    const asked = [...ecrArgs('warn'), '--ecr-tag-mutability', 'MUTABLE', '--ecr-encryption', 'AES256', '--ecr-tag', 'team=platform', '--ecr-tag', 'cost=42', '--ecr-tag', 'keep=yes'];

    const text = await runCli(['push', w.pack, ...asked], { env: env() });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('published hello:1.0.0');
    expect(text.stderr).toContain(`  warning: --ecr-tag-mutability MUTABLE was asked, but the ECR repository ${repo} already existed with IMMUTABLE tags, which ECR keeps`);
    expect(text.stderr).toContain(`    hint: aws ecr put-image-tag-mutability --repository-name ${repo} --image-tag-mutability MUTABLE`);
    expect(text.stderr).toContain(
      `  warning: --ecr-tag was asked, but the ECR repository ${repo} already existed without these resource tags, which packpub does not add to an existing repository: team=platform (it has team=other), cost=42 (absent)`,
    );
    expect(text.stderr).toContain(`  warning: --ecr-encryption AES256 was asked, but the ECR repository ${repo} already existed with KMS encryption with key ${KEY_A}, which ECR keeps`);
    expect(await tagsIn(repo)).toEqual(['1.0.0']);
    // Nothing about the repository was changed.
    expect(w.standin.repositories.get(repo)).toMatchObject({ imageTagMutability: 'IMMUTABLE', encryptionType: 'KMS', tags: { team: 'other', keep: 'yes' } });

    // The re-run finds the version unchanged, and still says what the repository keeps: in the report, on stderr, and to GitHub.
    const json = await runCli(['push', w.pack, ...asked, '--json'], { env: { ...env(), GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root, GITHUB_STEP_SUMMARY: '' } });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; results: JsonResult[] };
    expect(report.ok).toBe(true);
    expect(report.results[0]?.status).toBe('unchanged');
    // The report validates against docs/report.schema.json, whose `warnings` is part of the contract.
    expectReportValid(report);
    expect(report.results[0]?.warnings?.map((x) => x.message.split(' was asked')[0])).toEqual(['--ecr-encryption AES256', '--ecr-tag-mutability MUTABLE', '--ecr-tag']);
    expect(json.stderr).toContain(`warning: hello:1.0.0 -> ${w.host}/${repo}:1.0.0: --ecr-tag-mutability MUTABLE was asked`);
    expect(json.stderr.split('\n').filter((l) => l.startsWith('::warning '))).toHaveLength(3);
    expect(json.stderr).toMatch(/^::warning file=hello-1\.0\.0\/pack\.json,title=packpub repository settings::hello:1\.0\.0 -> .*--ecr-tag was asked/m);
  });

  it('--ecr-tag when the tags cannot be read (ecr:ListTagsForResource denied): published, and a warning says they were not checked', async () => {
    existing('unread/spectro-packs/archive/hello', {});
    w.standin.deny('ListTagsForResource');
    try {
      const run = await runCli(['push', w.pack, ...ecrArgs('unread'), '--ecr-tag', 'team=platform'], { env: env() });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('warning: --ecr-tag was asked, but the ECR repository unread/spectro-packs/archive/hello already existed and its resource tags could not be read to check them (AWS denied ecr:ListTagsForResource');
      expect(await tagsIn('unread/spectro-packs/archive/hello')).toEqual(['1.0.0']);
    } finally {
      w.standin.allow('ListTagsForResource');
    }
  });

  it('with --no-create-repositories, an existing repository is compared too', async () => {
    existing('nocreate/spectro-packs/archive/hello', { encryptionType: 'AES256' });
    existing('nocreate/spectro-packs/archive', {});
    const run = await runCli(['push', w.pack, ...ecrArgs('nocreate'), '--no-create-repositories', '--ecr-encryption', 'KMS'], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--ecr-encryption KMS was asked, but the ECR repository nocreate/spectro-packs/archive/hello already existed with AES256 encryption: refused, nothing pushed to it');
    expect(await tagsIn('nocreate/spectro-packs/archive/hello')).toEqual([]);
    expect(w.standin.calls.filter((c) => c.op === 'CreateRepository' && String(c.body['repositoryName']).startsWith('nocreate/'))).toEqual([]);
  });

  it('an existing repository whose settings match what was asked: no warning, and no settings read when nothing was asked', async () => {
    existing('match/spectro-packs/archive/hello', { encryptionType: 'KMS_DSSE', kmsKey: KEY_A, imageTagMutability: 'IMMUTABLE', tags: { team: 'platform', more: 'x' } });
    const run = await runCli(
      ['push', w.pack, ...ecrArgs('match'), '--ecr-encryption', 'KMS_DSSE', '--ecr-kms-key', KEY_A, '--ecr-tag-mutability', 'IMMUTABLE', '--ecr-tag', 'team=platform'],
      { env: env() },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('warning');
    expect(await tagsIn('match/spectro-packs/archive/hello')).toEqual(['1.0.0']);

    existing('plain/spectro-packs/archive/hello', { encryptionType: 'KMS', kmsKey: KEY_A, imageTagMutability: 'IMMUTABLE' });
    const before = w.standin.calls.length;
    const plain = await runCli(['push', w.pack, ...ecrArgs('plain')], { env: env() });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('warning');
    expect(w.standin.calls.slice(before).map((c) => c.op)).not.toContain('DescribeRepositories');
  });
});

describe('copy into an ECR pack repository that already exists', () => {
  it('the destination keeps other settings: copied with warnings in --json and on stderr; weaker encryption: refused', async () => {
    const layout = w.layout;
    existing('copied/spectro-packs/archive/hello', { imageTagMutability: 'IMMUTABLE' });
    const to = ['--to', `${w.host}/copied`, '--resolve', w.resolve, '--to-plain-http', '--ecr-endpoint', w.standin.url];
    const run = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${layout}`, ...to, '--ecr-tag-mutability', 'MUTABLE', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { results: Array<{ status: string; warnings?: { message: string }[] }> };
    expect(report.results[0]?.status).toBe('copied');
    expectReportValid(report);
    expect(report.results[0]?.warnings?.map((x) => x.message)).toEqual([
      '--ecr-tag-mutability MUTABLE was asked, but the ECR repository copied/spectro-packs/archive/hello already existed with IMMUTABLE tags, which ECR keeps',
    ]);
    expect(run.stderr).toContain(`warning: hello:1.0.0 -> ${w.host}/copied/spectro-packs/archive/hello:1.0.0: --ecr-tag-mutability MUTABLE was asked`);
    expect(await tagsIn('copied/spectro-packs/archive/hello')).toEqual(['1.0.0']);

    existing('copied-enc/spectro-packs/archive/hello', {});
    const enc = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${layout}`, '--to', `${w.host}/copied-enc`, '--resolve', w.resolve, '--to-plain-http', '--ecr-endpoint', w.standin.url, '--ecr-encryption', 'KMS_DSSE'], { env: env() });
    expect(enc.code).toBe(1);
    expect(enc.stderr).toContain('--ecr-encryption KMS_DSSE was asked, but the ECR repository copied-enc/spectro-packs/archive/hello already existed with AES256 encryption: refused, nothing pushed to it');
    expect(await tagsIn('copied-enc/spectro-packs/archive/hello')).toEqual([]);
  });

  it('copy --dry-run: weaker encryption is a planned conflict saying the real run would refuse it, other settings the same warnings; nothing created', async () => {
    const layout = w.layout;
    existing('copydry/spectro-packs/archive/hello', { imageTagMutability: 'IMMUTABLE' });
    const to = ['--from', `oci:${layout}`, '--to', `${w.host}/copydry`, '--resolve', w.resolve, '--to-plain-http', '--ecr-endpoint', w.standin.url];
    const before = w.standin.calls.length;
    const run = await runCli(['copy', 'hello:1.0.0', ...to, '--ecr-encryption', 'KMS', '--ecr-tag-mutability', 'MUTABLE', '--dry-run', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: Array<{ status: string; plan?: string; bytesToCopy?: number; warnings?: { message: string }[] }> };
    expectReportValid(report);
    expect(report.ok).toBe(true);
    expect(report.results[0]).toMatchObject({ status: 'planned', plan: 'conflict', bytesToCopy: 0 });
    expect(report.results[0]?.warnings?.map((x) => x.message)).toEqual([
      'a real run would refuse this pack (CONFLICT, exit 1): --ecr-encryption KMS was asked, but the ECR repository copydry/spectro-packs/archive/hello already existed with AES256 encryption: refused, nothing pushed to it',
    ]);
    expect(w.standin.calls.slice(before).map((c) => c.op)).not.toContain('CreateRepository');
    expect(w.standin.repositories.has('copydry/spectro-packs/archive')).toBe(false);
    expect(await tagsIn('copydry/spectro-packs/archive/hello')).toEqual([]);

    const warn = await runCli(['copy', 'hello:1.0.0', ...to, '--ecr-tag-mutability', 'MUTABLE', '--dry-run', '--json'], { env: env() });
    expect(warn.code, warn.stderr).toBe(0);
    const planned = (JSON.parse(warn.stdout) as { results: Array<{ status: string; plan?: string; warnings?: { message: string }[] }> }).results[0];
    expect(planned).toMatchObject({ status: 'planned', plan: 'new' });
    expect(planned?.warnings?.map((x) => x.message)).toEqual([
      '--ecr-tag-mutability MUTABLE was asked, but the ECR repository copydry/spectro-packs/archive/hello already existed with IMMUTABLE tags, which ECR keeps',
    ]);
    expect(await tagsIn('copydry/spectro-packs/archive/hello')).toEqual([]);

    // --force onto a version of other content in a repository that existed mutable, IMMUTABLE asked: the
    // real copy would refuse to replace it, so the dry run plans a conflict, not an overwrite.
    const changed = await writePack(join(w.root, 'changed-hello'), { name: 'hello', version: '1.0.0', files: { 'README.md': '# changed\n' } });
    expect((await runCli(['push', changed, ...ecrArgs('copyforce')], { env: env() })).code).toBe(0);
    const forceTo = ['--from', `oci:${layout}`, '--to', `${w.host}/copyforce`, '--resolve', w.resolve, '--to-plain-http', '--ecr-endpoint', w.standin.url];
    const forced = await runCli(['copy', 'hello:1.0.0', ...forceTo, '--ecr-tag-mutability', 'IMMUTABLE', '--force', '--dry-run', '--json'], { env: env() });
    expect(forced.code, forced.stderr).toBe(0);
    const forcedPlan = (JSON.parse(forced.stdout) as { results: Array<{ status: string; plan?: string; warnings?: { message: string }[] }> }).results[0];
    expect(forcedPlan).toMatchObject({ status: 'planned', plan: 'conflict' });
    expect(forcedPlan?.warnings?.[0]?.message).toMatch(/^a real run would refuse this pack \(CONFLICT, exit 1\): .*already holds a different artifact .*--ecr-tag-mutability IMMUTABLE was asked/);
    // The real copy asks before copying any blob (was: the blobs uploaded, then the refusal at the manifest).
    const sent = w.proxy.requests.length;
    const real = await runCli(['copy', 'hello:1.0.0', ...forceTo, '--ecr-tag-mutability', 'IMMUTABLE', '--force'], { env: env() });
    expect(real.code).toBe(1);
    expect(real.stderr).toMatch(/already holds a different artifact .*--ecr-tag-mutability IMMUTABLE was asked, but the ECR repository existed with MUTABLE tags, so replacing it is refused/);
    expect(w.proxy.requests.slice(sent).filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
  });
});

describe('push --dry-run against ECR repositories with their own settings (what the real run would do, writing nothing)', () => {
  /** The ECR API calls made since `before` for repositories under `base/`. */
  const callsUnder = (before: number, base: string) =>
    w.standin.calls.slice(before).filter((c) => String(c.body['repositoryName'] ?? (c.body['repositoryNames'] as string[] | undefined)?.[0] ?? '').startsWith(`${base}/`) || c.op === 'ListTagsForResource');

  it('weaker encryption than --ecr-encryption KMS: a planned conflict (exit 0, as a planned tag conflict) saying the real run would refuse it; nothing created or pushed', async () => {
    existing('dryenc/spectro-packs/archive/hello', { encryptionType: 'AES256' });
    const before = w.standin.calls.length;
    const run = await runCli(['push', w.pack, w.other, ...ecrArgs('dryenc'), '--ecr-encryption', 'KMS', '--dry-run', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: Array<JsonResult & { plan?: string; bytesToUpload?: number }> };
    expectReportValid(report);
    const hello = report.results.find((r) => r.name === 'hello');
    expect(hello).toMatchObject({ status: 'planned', plan: 'conflict', bytesToUpload: 0 });
    expect(hello?.warnings?.[0]?.message).toBe(
      'a real run would refuse this pack (CONFLICT, exit 1): --ecr-encryption KMS was asked, but the ECR repository dryenc/spectro-packs/archive/hello already existed with AES256 encryption: refused, nothing pushed to it',
    );
    expect(hello?.warnings?.[0]?.hint).toContain('delete and recreate the repository');
    expect(run.stderr).toContain(`warning: hello:1.0.0 -> ${w.host}/dryenc/spectro-packs/archive/hello:1.0.0: a real run would refuse this pack (CONFLICT, exit 1)`);
    // The new repository's pack is planned as new, without a warning.
    expect(report.results.find((r) => r.name === 'other')).toMatchObject({ status: 'planned', plan: 'new' });
    expect(report.results.find((r) => r.name === 'other')?.warnings).toBeUndefined();
    // Read only: no repository created, nothing pushed, the existing one as it was.
    expect(callsUnder(before, 'dryenc').map((c) => c.op)).not.toContain('CreateRepository');
    expect(callsUnder(before, 'dryenc').map((c) => c.op)).toContain('DescribeRepositories');
    expect(w.standin.repositories.has('dryenc/spectro-packs/archive/other')).toBe(false);
    expect(w.standin.repositories.has('dryenc/spectro-packs/archive')).toBe(false);
    expect(w.standin.repositories.get('dryenc/spectro-packs/archive/hello')?.encryptionType).toBe('AES256');
    expect(await tagsIn('dryenc/spectro-packs/archive/hello')).toEqual([]);
    expect(await tagsIn('dryenc/spectro-packs/archive/other')).toEqual([]);

    // In text: the plan on stdout, why the real run would refuse it on stderr.
    const text = await runCli(['push', w.pack, ...ecrArgs('dryenc'), '--ecr-encryption', 'KMS', '--dry-run'], { env: env() });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`plan conflict hello:1.0.0 -> ${w.host}/dryenc/spectro-packs/archive/hello:1.0.0`);
    expect(text.stderr).toContain('  warning: a real run would refuse this pack (CONFLICT, exit 1): --ecr-encryption KMS was asked');

    // The real run does refuse it.
    const real = await runCli(['push', w.pack, ...ecrArgs('dryenc'), '--ecr-encryption', 'KMS'], { env: env() });
    expect(real.code).toBe(1);
    expect(real.stderr).toContain('refused, nothing pushed to it');
  });

  it('missing resource tags: the dry run shows the warning the real run would, reading the tags only because --ecr-tag was asked', async () => {
    const repo = 'drytag/spectro-packs/archive/hello';
    existing(repo, { imageTagMutability: 'IMMUTABLE', tags: { team: 'other' } });
    const before = w.standin.calls.length;
    const run = await runCli(['push', w.pack, ...ecrArgs('drytag'), '--ecr-tag', 'team=platform', '--dry-run', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: Array<JsonResult & { plan?: string }> };
    expectReportValid(report);
    expect(report.results[0]).toMatchObject({ status: 'planned', plan: 'new' });
    expect(report.results[0]?.warnings?.map((x) => x.message)).toEqual([
      `--ecr-tag was asked, but the ECR repository ${repo} already existed without these resource tags, which packpub does not add to an existing repository: team=platform (it has team=other)`,
    ]);
    expect(run.stderr).toContain(`warning: hello:1.0.0 -> ${w.host}/${repo}:1.0.0: --ecr-tag was asked`);
    expect(callsUnder(before, 'drytag').map((c) => c.op).sort()).toEqual(['DescribeRepositories', 'ListTagsForResource']);
    expect(await tagsIn(repo)).toEqual([]);
    expect(w.standin.repositories.get(repo)?.tags).toEqual({ team: 'other' });

    // Without --ecr-tag, the tags are not read; the mutability asked is still compared.
    const mark = w.standin.calls.length;
    const mut = await runCli(['push', w.pack, ...ecrArgs('drytag'), '--ecr-tag-mutability', 'MUTABLE', '--dry-run'], { env: env() });
    expect(mut.code, mut.stderr).toBe(0);
    expect(mut.stderr).toContain(`  warning: --ecr-tag-mutability MUTABLE was asked, but the ECR repository ${repo} already existed with IMMUTABLE tags, which ECR keeps`);
    expect(callsUnder(mark, 'drytag').map((c) => c.op)).toEqual(['DescribeRepositories']);
  });

  it('--no-create-repositories and a missing pack or base repository: the dry run fails that pack as the real run does (NOT_FOUND, exit 1), told by the manifest read alone', async () => {
    existing('drymiss/spectro-packs/archive', {});
    existing('drymiss/spectro-packs/archive/other', {});
    const missing = 'drymiss/spectro-packs/archive/hello';
    const before = w.standin.calls.length;
    const run = await runCli(['push', w.pack, w.other, ...ecrArgs('drymiss'), '--no-create-repositories', '--dry-run', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: Array<JsonResult & { plan?: string; error?: { hint?: string } }> };
    expectReportValid(report);
    expect(report.ok).toBe(false);
    const hello = report.results.find((r) => r.name === 'hello');
    expect(hello).toMatchObject({ status: 'failed', error: { code: 'NOT_FOUND', message: `ECR repository ${missing} does not exist on ${w.host}` } });
    expect(hello?.error?.hint).toContain(`aws ecr create-repository --repository-name ${missing}`);
    expect(hello?.error?.hint).toContain('CREATE_ON_PUSH');
    expect(report.results.find((r) => r.name === 'other')).toMatchObject({ status: 'planned', plan: 'new' });
    // No ECR API call but the registry password's (so no permission beyond the registry's manifest read); nothing created or pushed.
    expect(w.standin.calls.slice(before).map((c) => c.op)).toEqual(['GetAuthorizationToken']);
    expect([...w.standin.repositories.keys()].filter((k) => k.startsWith('drymiss/')).sort()).toEqual(['drymiss/spectro-packs/archive', 'drymiss/spectro-packs/archive/other']);
    expect(await tagsIn('drymiss/spectro-packs/archive/other')).toEqual([]);

    // The real run: the same refusal for that pack, before a byte of it is uploaded; the other pack is published.
    const mark = w.proxy.requests.length;
    const real = await runCli(['push', w.pack, w.other, ...ecrArgs('drymiss'), '--no-create-repositories'], { env: env() });
    expect(real.code).toBe(1);
    expect(real.stderr).toContain(`ECR repository ${missing} does not exist on ${w.host}`);
    expect(real.stderr).not.toContain('CREATE_ON_PUSH');
    expect(await tagsIn('drymiss/spectro-packs/archive/other')).toEqual(['1.0.0']);
    expect(w.proxy.requests.slice(mark).filter((r) => r.path.startsWith(`/v2/${missing}/`)).filter((r) => r.status < 400)).toEqual([]);
    expect(w.standin.repositories.has(missing)).toBe(false);

    // A missing base repository: the real run's first write goes there (its marker), so the dry run asks too.
    existing('drynobase/spectro-packs/archive/hello', {});
    const nobase = await runCli(['push', w.pack, ...ecrArgs('drynobase'), '--no-create-repositories', '--dry-run'], { env: env() });
    expect(nobase.code).toBe(1);
    expect(nobase.stderr).toContain(`ECR repository drynobase/spectro-packs/archive does not exist on ${w.host}`);
    const nobaseReal = await runCli(['push', w.pack, ...ecrArgs('drynobase'), '--no-create-repositories'], { env: env() });
    expect(nobaseReal.code).toBe(1);
    expect(nobaseReal.stderr).toContain(`ECR repository drynobase/spectro-packs/archive does not exist on ${w.host}`);
    expect(await tagsIn('drynobase/spectro-packs/archive/hello')).toEqual([]);

    // copy --dry-run into a missing repository: the same.
    const layout = w.layout;
    const copy = await runCli(['copy', 'hello:1.0.0', '--from', `oci:${layout}`, '--to', `${w.host}/drymiss2`, '--resolve', w.resolve, '--to-plain-http', '--ecr-endpoint', w.standin.url, '--no-create-repositories', '--dry-run'], { env: env() });
    expect(copy.code).toBe(1);
    expect(copy.stderr).toContain(`ECR repository drymiss2/spectro-packs/archive does not exist on ${w.host}`);
  });

  it('a repository that does not exist: planned new, and no CreateRepository call', async () => {
    const before = w.standin.calls.length;
    const run = await runCli(['push', w.pack, ...ecrArgs('drynew'), '--ecr-encryption', 'KMS', '--ecr-tag', 'team=platform', '--dry-run', '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { results: Array<JsonResult & { plan?: string }> };
    expect(report.results[0]).toMatchObject({ status: 'planned', plan: 'new' });
    expect(report.results[0]?.warnings).toBeUndefined();
    const ops = w.standin.calls.slice(before).map((c) => c.op);
    expect(ops).toContain('DescribeRepositories');
    expect(ops).not.toContain('CreateRepository');
    expect([...w.standin.repositories.keys()].filter((k) => k.startsWith('drynew/'))).toEqual([]);
  });
});
