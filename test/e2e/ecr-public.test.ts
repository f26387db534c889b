import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry, type HostileAnswer } from '../support/hostile-registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Amazon ECR Public (public.ecr.aws/<registry alias>/<repository>) as its user guide documents it: a repository must
 * be created (aws ecr-public create-repository, us-east-1) before a push, which into a missing one answers 404
 * NAME_UNKNOWN "The repository with name '<repo>' does not exist in the registry with id '<id>'"; the password is a
 * token of the ECR Public API (user AWS). The stand-in: an in-memory registry under the real host name (--resolve),
 * answering as ECR Public for repositories not created. packpub took public.ecr.aws for a generic registry: the
 * push uploaded, then failed "repository ... not found ... (packpub creates it unless --no-create-repositories)",
 * a dry run planned "new", exit 0, and a base path without the alias pushed under repositories named as aliases.
 */

const TOKEN = 'ecr-public-token-not-real-0123';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-public-');
  const pack = await writePack(join(root, 'hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  const registry = stack.add(await startHostileRegistry({ users: { AWS: TOKEN } }));
  const created = new Set<string>();
  registry.behaviour.answer = (req): HostileAnswer | undefined => {
    const m = /^\/v2\/myalias\/(.+?)\/(?:manifests|blobs|tags)\//.exec(req.path);
    if (m === null || created.has(m[1] ?? '')) return undefined;
    const body = JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: `The repository with name '${m[1] ?? ''}' does not exist in the registry with id 'myalias'` }] });
    return { status: 404, headers: { 'content-type': 'application/json' }, body };
  };
  const port = registry.host.split(':')[1] ?? '';
  return { root, pack, registry, created, host: `public.ecr.aws:${port}`, resolve: `public.ecr.aws:${port}:127.0.0.1` };
});
const env = (password = TOKEN) => ({ HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker'), PACKPUB_USERNAME: 'AWS', PACKPUB_PASSWORD: password });
const target = (base: string) => ['--registry', base === '' ? w.host : `${w.host}/${base}`, '--resolve', w.resolve, '--plain-http'];
const writes = (since: number) => w.registry.requests.slice(since).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');

describe('ECR Public (public.ecr.aws)', () => {
  it('a base path without the registry alias, or --registry-type ecr: a usage error before any request (exit 2)', async () => {
    const since = w.registry.requests.length;
    const run = await runCli(['push', w.pack, ...target('')], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain('public.ecr.aws needs the registry alias as the first segment of the base path');
    expect(run.stderr).toContain('--registry public.ecr.aws/<alias>[/<base path>]');
    expect(w.registry.requests.slice(since)).toEqual([]);

    // --registry-type ecr there: ECR Public is named (was: only "not an AWS ECR registry host").
    const typed = await runCli(['push', w.pack, ...target('myalias/packs'), '--registry-type', 'ecr'], { env: env() });
    expect(typed.code, typed.stdout + typed.stderr).toBe(2);
    expect(typed.stderr).toContain(`${w.host} is not an AWS ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com): it is ECR Public, which packpub recognises by its host name`);
    expect(w.registry.requests.slice(since)).toEqual([]);
  });

  it('repositories not created: push and --dry-run fail naming the repository and the command, nothing stored (was: "packpub creates it unless --no-create-repositories"; dry run exit 0)', async () => {
    const since = w.registry.requests.length;
    const said = (repo: string) => `ECR Public repository ${repo} does not exist in registry public.ecr.aws/myalias: ECR Public creates no repository on push, and packpub does not create them there`;
    // The dry run asks the registry (a manifest read: NAME_UNKNOWN), the base repository first; so does the real
    // run, by its first write (the base's {} config upload, refused): each names one repository, the hint both.
    const dry = await runCli(['push', w.pack, ...target('myalias/packs'), '--dry-run'], { env: env() });
    expect(dry.code, dry.stdout + dry.stderr).toBe(1);
    expect(dry.stderr).toContain(said('packs/spectro-packs/archive'));
    expect(writes(since)).toEqual([]);
    const run = await runCli(['push', w.pack, ...target('myalias/packs')], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain(said('packs/spectro-packs/archive'));
    expect(run.stderr).toContain('hint: create it: aws ecr-public create-repository --repository-name packs/spectro-packs/archive --region us-east-1, then run again (packpub publishes to packs/spectro-packs/archive and to packs/spectro-packs/archive/<pack name> for each pack: each must exist)');
    expect(run.stderr).not.toContain('--no-create-repositories');

    // The base made, the pack's repository not yet: said for it, before its layer is sent.
    w.created.add('packs/spectro-packs/archive');
    const pack = await runCli(['push', w.pack, ...target('myalias/packs')], { env: env() });
    expect(pack.code, pack.stdout + pack.stderr).toBe(1);
    expect(pack.stderr).toContain(said('packs/spectro-packs/archive/hello'));
    // Its writes were refused (404 NAME_UNKNOWN) from the first: nothing stored in it.
    const intoPack = writes(since).filter((r) => r.path.startsWith('/v2/myalias/packs/spectro-packs/archive/hello/'));
    expect(intoPack.length).toBeGreaterThan(0);
    expect(intoPack.every((r) => r.status === 404)).toBe(true);
  });

  it('with both repositories created: published (exit 0), then unchanged; a refused token says how to get one', async () => {
    w.created.add('pub/spectro-packs/archive').add('pub/spectro-packs/archive/hello');
    const run = await runCli(['push', w.pack, ...target('myalias/pub')], { env: env() });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const held = await fetch(`${w.registry.url}/v2/myalias/pub/spectro-packs/archive/hello/manifests/1.0.0`, { method: 'HEAD', headers: { authorization: `Basic ${Buffer.from(`AWS:${TOKEN}`).toString('base64')}` } });
    expect(held.status).toBe(200);
    const again = await runCli(['push', w.pack, ...target('myalias/pub')], { env: env() });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('unchanged');

    const wrong = await runCli(['push', w.pack, ...target('myalias/pub')], { env: env('expired-token') });
    expect(wrong.code, wrong.stdout + wrong.stderr).toBe(1);
    expect(wrong.stderr).toContain('aws ecr-public get-login-password --region us-east-1 | packpub login public.ecr.aws --username AWS --password-stdin');
    expect(wrong.stderr + wrong.stdout).not.toContain('expired-token');
  });
});
