import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * --ecr-tag-mutability offered MUTABLE_WITH_EXCLUSION and IMMUTABLE_WITH_EXCLUSION, but no way to give the exclusion
 * filters that ECR requires with them (API reference, ImageTagMutabilityExclusionFilter; CreateRepository answers
 * InvalidParameterException "ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as ...").
 * Every pack whose repository was new failed at CreateRepository after the run had started (exit 1). Now the filters
 * are given with --ecr-tag-mutability-exclusion (packpub.yaml ecr.tagMutabilityExclusions), sent on create, compared
 * on an existing repository, and a mutability without them (or filters without it) is a usage error (exit 2) before
 * anything is sent. ECR then keeps release tags (`*.*.*`) immutable in a MUTABLE_WITH_EXCLUSION repository: an
 * unchanged re-run is "unchanged", exit 0; other content under the same version is a conflict, exit 1.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-exclusion-');
  const v1 = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  const changed = await writePack(join(root, 'hello-1.0.0-changed'), { name: 'hello', version: '1.0.0', files: { 'README.md': 'changed content\n' } });
  return { ...(await startEcrWorld(stack, 'testAKIDEXCLUSION')), root, v1, changed };
});

const env = () => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), SOURCE_DATE_EPOCH: '1700000000' });
const ecrArgs = (base: string) => ['--registry', `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];
/** A repository that exists before the run (made by Terraform or an admin) with this tag mutability. */
const existing = (name: string, imageTagMutability: string, filters?: string[]) =>
  w.standin.repositories.set(name, { name, registryId: w.standin.accountId, createdAt: new Date(), imageTagMutability, ...(filters === undefined ? {} : { imageTagMutabilityExclusionFilters: filters }), encryptionType: 'AES256', tags: {} });
const createCalls = () => w.standin.calls.filter((c) => c.op === 'CreateRepository');

describe('ECR tag mutability with exclusion filters', () => {
  it('MUTABLE_WITH_EXCLUSION without a filter: usage error before any ECR call (was: InvalidParameterException at CreateRepository, exit 1)', async () => {
    const before = w.standin.calls.length;
    const run = await runCli(['push', w.v1, ...ecrArgs('nofilter'), '--ecr-tag-mutability', 'MUTABLE_WITH_EXCLUSION'], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain('--ecr-tag-mutability MUTABLE_WITH_EXCLUSION needs --ecr-tag-mutability-exclusion');
    expect(w.standin.calls.length).toBe(before);
    expect(w.standin.repositories.has('nofilter/spectro-packs/archive/hello')).toBe(false);

    const stray = await runCli(['push', w.v1, ...ecrArgs('nofilter'), '--ecr-tag-mutability-exclusion', '*.*.*'], { env: env() });
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--ecr-tag-mutability-exclusion needs --ecr-tag-mutability MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION');
    const bad = await runCli(['push', w.v1, ...ecrArgs('nofilter'), '--ecr-tag-mutability', 'IMMUTABLE_WITH_EXCLUSION', '--ecr-tag-mutability-exclusion', 'dev/*'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--ecr-tag-mutability-exclusion "dev/*" is not an ECR tag filter');
    expect(w.standin.calls.length).toBe(before);
  });

  it('the filters reach CreateRepository; release tags stay immutable: unchanged re-run exit 0, other content exit 1 CONFLICT', async () => {
    const args = [...ecrArgs('rel'), '--ecr-tag-mutability', 'MUTABLE_WITH_EXCLUSION', '--ecr-tag-mutability-exclusion', '*.*.*'];
    const first = await runCli(['push', w.v1, ...args], { env: env() });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(w.standin.repositories.get('rel/spectro-packs/archive/hello')).toMatchObject({ imageTagMutability: 'MUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: ['*.*.*'] });
    expect(createCalls().find((c) => c.body['repositoryName'] === 'rel/spectro-packs/archive/hello')?.body['imageTagMutabilityExclusionFilters']).toEqual([{ filterType: 'WILDCARD', filter: '*.*.*' }]);

    const again = await runCli(['push', w.v1, ...args], { env: env() });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('unchanged');
    expect(again.stderr).not.toContain('warning');

    const digest = async () =>
      (await fetch(`${w.registry.url}/v2/rel/spectro-packs/archive/hello/manifests/1.0.0`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest');
    const published = await digest();
    expect(published).toMatch(/^sha256:/);
    // The dry run reads the repository's mutability and filters: 1.0.0 matches *.*.*, so it is immutable there.
    const planned = await runCli(['push', w.changed, ...args, '--force', '--dry-run', '--json'], { env: env() });
    expect(planned.code, planned.stderr).toBe(0);
    const plan = (JSON.parse(planned.stdout) as { results: Array<{ plan?: string; warnings?: { message: string }[] }> }).results[0];
    expect(plan?.plan).toBe('conflict');
    expect(plan?.warnings?.[0]?.message).toContain('a real run would refuse this pack (CONFLICT, exit 1): ');
    expect(plan?.warnings?.[0]?.message).toContain('rel/spectro-packs/archive/hello:1.0.0 is immutable and already holds a different artifact');
    const other = await runCli(['push', w.changed, ...args, '--force'], { env: env() });
    expect(other.code, other.stdout + other.stderr).toBe(1);
    expect(other.stderr).toContain('is immutable and already holds a different artifact');
    // The registry still serves the first content under 1.0.0.
    expect(await digest()).toBe(published);
  });

  it('packpub.yaml ecr.tagMutabilityExclusions: sent on create; an existing repository with other filters: a warning', async () => {
    existing('cfg/spectro-packs/archive/hello', 'IMMUTABLE_WITH_EXCLUSION', ['latest']);
    const config = join(w.root, 'packpub.yaml');
    await writeFile(config, `version: 1\ntargets:\n  ecr:\n    registry: ${w.host}/cfg\n    type: ecr\n    tls: { plainHttp: true }\n    resolve: ['${w.resolve}']\n    ecr:\n      endpoint: ${w.standin.url}\n      tagMutability: IMMUTABLE_WITH_EXCLUSION\n      tagMutabilityExclusions: ['dev-*', 'latest']\n`);
    const run = await runCli(['push', w.v1, '--config', config, '--target', 'ecr'], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain('warning: --ecr-tag-mutability-exclusion dev-* latest was asked, but the ECR repository cfg/spectro-packs/archive/hello already existed with exclusion filters latest, which ECR keeps');

    await writeFile(config, `version: 1\ntargets:\n  ecr:\n    registry: ${w.host}/cfg\n    ecr:\n      tagMutability: IMMUTABLE_WITH_EXCLUSION\n`);
    const missing = await runCli(['push', w.v1, '--config', config, '--target', 'ecr'], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('IMMUTABLE_WITH_EXCLUSION needs ecr.tagMutabilityExclusions');
  });

  it('IMMUTABLE_WITH_EXCLUSION asked on a repository that existed MUTABLE: a tag the filters exclude (latest) moves, exit 0 (was: refused, exit 1); versions still are not replaced', async () => {
    existing('mx/spectro-packs/archive/hello', 'MUTABLE');
    const args = [...ecrArgs('mx'), '--ecr-tag-mutability', 'IMMUTABLE_WITH_EXCLUSION', '--ecr-tag-mutability-exclusion', 'latest'];
    const first = await runCli(['push', w.v1, ...args, '--tag', 'latest'], { env: env() });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const next = await writePack(join(w.root, 'hello-1.0.1'), { name: 'hello', version: '1.0.1' });
    const moved = await runCli(['push', next, ...args, '--tag', 'latest'], { env: env() });
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    const tagged = async (tag: string) =>
      (await fetch(`${w.registry.url}/v2/mx/spectro-packs/archive/hello/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest');
    expect(await tagged('latest')).toBe(await tagged('1.0.1'));
    // 1.0.0 matches no exclusion: immutable as asked, so packpub does not replace it, even with --force.
    const forced = await runCli(['push', w.changed, ...args, '--force'], { env: env() });
    expect(forced.code, forced.stdout + forced.stderr).toBe(1);
    expect(forced.stderr).toContain('--ecr-tag-mutability IMMUTABLE_WITH_EXCLUSION with --ecr-tag-mutability-exclusion latest was asked, but the ECR repository existed with MUTABLE tags, so replacing it is refused');
  });

  it('MUTABLE_WITH_EXCLUSION *.*.* asked on a repository that existed MUTABLE: a version is not replaced, even with --force, nothing uploaded (was: replaced, exit 0); other tags move', async () => {
    const repo = 'mwx/spectro-packs/archive/hello';
    existing(repo, 'MUTABLE');
    const args = [...ecrArgs('mwx'), '--ecr-tag-mutability', 'MUTABLE_WITH_EXCLUSION', '--ecr-tag-mutability-exclusion', '*.*.*'];
    const first = await runCli(['push', w.v1, ...args, '--tag', 'latest'], { env: env() });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stderr).toContain('warning: --ecr-tag-mutability MUTABLE_WITH_EXCLUSION was asked, but the ECR repository mwx/spectro-packs/archive/hello already existed with MUTABLE tags, which ECR keeps: packpub never replaces a tag there that the asked settings make immutable, but other publishers can');
    const tagged = async (tag: string) =>
      (await fetch(`${w.registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest');
    const published = await tagged('1.0.0');
    expect(published).toMatch(/^sha256:/);

    const said = `${repo}:1.0.0 already holds a different artifact (${published ?? ''}); --ecr-tag-mutability MUTABLE_WITH_EXCLUSION with --ecr-tag-mutability-exclusion *.*.* was asked, but the ECR repository existed with MUTABLE tags, so replacing it is refused`;
    const planned = await runCli(['push', w.changed, ...args, '--force', '--dry-run', '--json'], { env: env() });
    expect(planned.code, planned.stderr).toBe(0);
    const plan = (JSON.parse(planned.stdout) as { results: Array<{ plan?: string; layerDigest?: string; warnings?: { message: string }[] }> }).results[0];
    expect(plan?.plan).toBe('conflict');
    expect(plan?.warnings?.[0]?.message).toContain(said);

    const sent = w.proxy.requests.length;
    const forced = await runCli(['push', w.changed, ...args, '--force'], { env: env() });
    expect(forced.code, forced.stdout + forced.stderr).toBe(1);
    expect(forced.stderr).toContain(said);
    expect(forced.stderr).toContain("aws ecr put-image-tag-mutability --repository-name mwx/spectro-packs/archive/hello --image-tag-mutability MUTABLE_WITH_EXCLUSION --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter='*.*.*'");
    expect(await tagged('1.0.0')).toBe(published);
    // Refused before the changed layer was sent: no write reached the registry.
    expect(w.proxy.requests.slice(sent).filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
    expect((await fetch(`${w.registry.url}/v2/${repo}/blobs/${plan?.layerDigest ?? ''}`, { method: 'HEAD' })).status).toBe(404);

    // `latest` matches no filter: mutable as asked, it moves to the next version.
    const next = await writePack(join(w.root, 'hello-1.0.2'), { name: 'hello', version: '1.0.2' });
    const moved = await runCli(['push', next, ...args, '--tag', 'latest'], { env: env() });
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    expect(await tagged('latest')).toBe(await tagged('1.0.2'));
  });
});
