import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { harborWorld } from '../support/harbor-world.js';
import { setup } from '../support/stage.js';

/*
 * Harbor answers GET /api/v2.0/projects/<name> for a project that does not exist 404 to a system admin only: to any
 * other signed-in user it is 403 (RequireProjectAccess: no permission on a project it cannot find; read in Harbor's
 * source, server/v2.0/handler/base.go). packpub took 403 for "cannot tell", so for an ordinary user (a developer,
 * a CI account allowed to create projects, Harbor's default) `push --create-project` created nothing and the push
 * into the missing project was refused as "credentials rejected or no push permission"; and a typo in the base path
 * read the same. Now a 403 is followed by HEAD /api/v2.0/projects?project_name=<name>, which Harbor answers to any
 * signed-in user (200 / 404). The stand-in answers the project GET as Harbor does (404 for admins only).
 */

const DEV = 'developer';
const OUTSIDER = 'outsider';

describe('a Harbor user who is not an admin, and a project that does not exist', () => {
  const users = { admin: 'Harbor12345-non-admin', [DEV]: 'dev-secret-non-admin', [OUTSIDER]: { password: 'outsider-secret-non-admin', actions: ['push'] } };
  const w = setup((stack) => harborWorld(stack, { users, projects: ['packs'] }));
  const asDev = (args: string[]) => w.runAs(DEV, args);

  it('push --create-project creates it and publishes, exit 0 (was: nothing created, "no push permission", exit 1)', async () => {
    const push = await asDev(['push', w.pack, '--registry', `${w.harbor.host}/devproject`, '--create-project']);
    expect(push.code, push.stdout + push.stderr).toBe(0);
    expect(push.stdout).toContain(`published hello:1.0.0 -> ${w.harbor.host}/devproject/spectro-packs/archive/hello:1.0.0`);
    expect(w.harbor.projects.has('devproject')).toBe(true);
    expect([...w.harbor.repositories]).toContain('devproject/spectro-packs/archive/hello');
    // Harbor's own answer to this user's project GET was 403, as Harbor gives it.
    expect(w.harbor.apiRequests.some((r) => r.method === 'GET' && r.path === '/api/v2.0/projects/devproject' && r.user === DEV && r.status === 403)).toBe(true);
  });

  it('push --create-project where Harbor lets admins alone create projects: said so (project_creation_restriction adminonly), exit 1', async () => {
    w.harbor.policy.projectCreation = 'adminonly';
    try {
      const push = await asDev(['push', w.pack, '--registry', `${w.harbor.host}/adminonly-project`, '--create-project']);
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toContain(`${w.harbor.host} refused to create project adminonly-project (this Harbor lets system admins alone create projects: project_creation_restriction is adminonly)`);
      expect(w.harbor.projects.has('adminonly-project')).toBe(false);
    } finally {
      w.harbor.policy.projectCreation = 'everyone';
    }
  });

  it('without --create-project: "project ... does not exist", exit 1 (was: "credentials rejected or no push permission"), also for a dry run', async () => {
    for (const dry of [[], ['--dry-run']]) {
      const push = await asDev(['push', w.pack, '--registry', `${w.harbor.host}/typo-project`, ...dry]);
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toContain(`project typo-project does not exist on ${w.harbor.host}; create it or pass --create-project`);
      expect(push.stderr).not.toMatch(/credentials rejected|permission/);
    }
    expect(w.harbor.projects.has('typo-project')).toBe(false);
  });

  it('list of a project that does not exist says so, exit 1 (was: "answered 403", as if a permission were missing)', async () => {
    const list = await asDev(['list', '--registry', `${w.harbor.host}/typo-project`]);
    expect(list.code, list.stdout + list.stderr).toBe(1);
    expect(list.stderr).toContain(`project typo-project does not exist on ${w.harbor.host}`);
    // "403" as a status, not inside the port of the host the message names (127.0.0.1:40309 failed a run).
    expect(list.stderr.replaceAll(w.harbor.host, 'HOST')).not.toMatch(/403|permission/);
  });

  it('list by a user without read permission on the project says so, exit 1 (was: "authentication required ... pass --username")', async () => {
    const list = await w.runAs(OUTSIDER, ['list', '--registry', `${w.harbor.host}/packs`]);
    expect(list.code, list.stdout + list.stderr).toBe(1);
    expect(list.stderr).toContain(`${w.harbor.host} refused to list the repositories of project packs: ${OUTSIDER} has no read permission on it`);
    expect(list.stderr).toContain('hint: make the account a member of project packs (Guest or above)');
    expect(list.stderr).not.toContain('pass --username');
  });

  it('Harbor in OIDC mode: a user pushing with the CLI secret publishes, exit 0 (was: "credentials rejected", exit 1); a wrong secret is told what the password is', async () => {
    // Harbor takes an OIDC user's CLI secret on the registry and a few API calls only (oidc_cli.go): its project GET
    // answered 401 as to anyone anonymous, which packpub read as wrong credentials, though docker and oras push fine.
    w.harbor.policy.authMode = 'oidc_auth';
    w.harbor.policy.oidcUsers.add(DEV);
    try {
      const push = await asDev(['push', w.pack, '--registry', `${w.harbor.host}/packs`]);
      expect(push.code, push.stdout + push.stderr).toBe(0);
      expect(push.stdout).toContain(`published hello:1.0.0 -> ${w.harbor.host}/packs/spectro-packs/archive/hello:1.0.0`);
      expect(w.harbor.apiRequests.some((r) => r.method === 'GET' && r.path === '/api/v2.0/projects/packs' && r.user === undefined && r.status === 401)).toBe(true);
      // --create-project: told missing by the project list (a path Harbor takes the secret on), then created.
      const create = await asDev(['push', w.pack, '--registry', `${w.harbor.host}/oidcproject`, '--create-project']);
      expect(create.code, create.stdout + create.stderr).toBe(0);
      expect(w.harbor.projects.has('oidcproject')).toBe(true);
      expect([...w.harbor.repositories]).toContain('oidcproject/spectro-packs/archive/hello');
      // A typo'd project without --create-project: said missing, as for other users.
      const typo = await asDev(['push', w.pack, '--registry', `${w.harbor.host}/oidc-typo`]);
      expect(typo.code).toBe(1);
      expect(typo.stderr).toContain(`project oidc-typo does not exist on ${w.harbor.host}; create it or pass --create-project`);

      // Deleting the last tag goes through the artifact API, which Harbor refuses the secret on: said so, not "credentials rejected".
      const del = await asDev(['delete', 'hello:1.0.0', '--force', '--registry', `${w.harbor.host}/oidcproject`]);
      expect(del.code, del.stdout + del.stderr).toBe(1);
      expect(del.stderr).toContain(`${w.harbor.host} takes an OIDC user's CLI secret for deleting a tag, not an artifact: ${w.harbor.host}/oidcproject/spectro-packs/archive/hello:1.0.0 (its last tag) was not deleted`);
      expect(w.harbor.apiRequests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([401]);

      const wrong = await runCli(['push', w.pack, '--registry', `${w.harbor.host}/packs`, '--registry-type', 'harbor', '-u', DEV, '--password-stdin'], { stdin: 'the-identity-provider-password', env: w.env() });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`credentials rejected by ${w.harbor.host}`);
      expect(wrong.stderr).toContain(`${w.harbor.host} signs users in with OIDC: the password is the CLI secret from your Harbor User Profile, not your identity provider's password`);
    } finally {
      w.harbor.policy.authMode = 'db_auth';
      w.harbor.policy.oidcUsers.clear();
    }
  });
});
