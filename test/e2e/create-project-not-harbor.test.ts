import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { RegistryReader } from '../support/registry-reader.js';
import { harborWorld } from '../support/harbor-world.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * --create-project applies to Harbor targets only. On a registry packpub did not recognise as Harbor (a plain
 * registry, or a Harbor whose GET /api/v2.0/systeminfo did not answer as Harbor does: a proxy in front of the API,
 * a failed probe) it was dropped without a word: into a Harbor not recognised, the push into the missing project was
 * then refused as a permission matter and the user could not tell why the flag did nothing. Now a warning says the
 * flag did nothing and how to name Harbor.
 */

const ADMIN = 'admin';
const PASSWORD = 'Harbor12345-not-recognised';

describe('--create-project on a registry not recognised as Harbor', () => {
  const w = setup(async (stack) => ({ ...(await harborWorld(stack, { users: { [ADMIN]: PASSWORD } })), plain: await sharedRegistry() }));
  const env = () => w.env();

  it('a plain registry: published, exit 0, and a warning that the flag did nothing', async () => {
    const push = await runCli(['push', w.pack, '--registry', `${w.plain.host}/${w.plain.base}`, '--create-project'], { env: env() });
    expect(push.code, push.stdout + push.stderr).toBe(0);
    expect(push.stdout).toContain('published');
    expect(push.stderr).toContain(`warning: --create-project applies to Harbor projects, and ${w.plain.host} was not recognised as Harbor (GET /api/v2.0/systeminfo did not answer as Harbor does): nothing will be created; pass --registry-type harbor if it is Harbor`);
  });

  it('a Harbor whose systeminfo does not answer: the warning names --registry-type harbor; with it the project is created', async () => {
    w.harbor.apiQuirk = (method, path) => (path === '/api/v2.0/systeminfo' ? { status: 404, body: 'page not found' } : undefined);
    try {
      const push = await runCli(['push', w.pack, '--registry', `${w.harbor.host}/newproject`, '--create-project', '-u', ADMIN, '--password-stdin'], { stdin: PASSWORD, env: env() });
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toContain(`warning: --create-project applies to Harbor projects, and ${w.harbor.host} was not recognised as Harbor`);
      expect(w.harbor.projects.has('newproject')).toBe(false);
      const named = await runCli(['push', w.pack, '--registry', `${w.harbor.host}/newproject`, '--create-project', '--registry-type', 'harbor', '-u', ADMIN, '--password-stdin'], { stdin: PASSWORD, env: env() });
      expect(named.code, named.stdout + named.stderr).toBe(0);
      expect(named.stderr).not.toContain('--create-project applies');
      expect(w.harbor.projects.has('newproject')).toBe(true);
    } finally {
      w.harbor.apiQuirk = undefined;
    }
  });

  // The plain registry's 404 to Harbor's project API was read as Harbor's: "project <base> does not exist ...; create it
  // or pass --create-project", for a registry that has no projects.
  it('--registry-type harbor forced on a plain registry: push and list say it does not answer as Harbor, exit 1, nothing pushed', async () => {
    const target = ['--registry', `${w.plain.host}/${w.plain.base}/forced`, '--registry-type', 'harbor'];
    const said = [`${w.plain.host} does not answer as Harbor: GET /api/v2.0/projects/${w.plain.base}`, "answered 404 without Harbor's error (NOT_FOUND)", 'drop --registry-type harbor'];
    const push = await runCli(['push', w.pack, ...target], { env: env() });
    expectRun(push, { code: 1, stderr: said });
    const list = await runCli(['list', ...target], { env: env() });
    expectRun(list, { code: 1, stderr: said });
    for (const run of [push, list]) expect(run.stderr).not.toContain('does not exist');
    expect(await new RegistryReader(w.plain.url).tags(`${w.plain.base}/forced/spectro-packs/archive/hello`)).toEqual([]);
  });
});

