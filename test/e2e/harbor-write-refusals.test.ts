import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { harborWorld } from '../support/harbor-world.js';
import { setup } from '../support/stage.js';

/*
 * Harbor refuses writes with 403 DENIED for two reasons that are no permission matter (read in Harbor's source,
 * src/server/middleware/readonly and repoproxy):
 * - read-only mode (an administrator's switch, set for upgrades, migrations, garbage collection): every POST, PUT,
 *   PATCH and DELETE of the registry and of the API answers "The system is in read only mode. Any modification is
 *   prohibited.";
 * - a proxy cache project (its `registry_id` names the registry it mirrors): a blob upload or manifest PUT answers
 *   "can not push artifact to a proxy project: <p>".
 * packpub said "credentials rejected or no push permission on <repo>" with a hint to check the account's rights
 * (push), "refused to create project" (push --create-project) and "no delete permission" (delete): the user went
 * after a robot account that was fine. Now each says what Harbor said, and a proxy cache project is refused before
 * anything is uploaded. An unchanged re-run in read-only mode writes nothing, so it still ends "unchanged", exit 0.
 */

const ADMIN = 'admin';
const PASSWORD = 'Harbor12345-write-refusals';
const READER = 'robot$packs+reader';
const PUSHER = 'robot$packs+pusher';

describe('Harbor refusing writes for other reasons than rights (read-only mode, proxy cache project)', () => {
  const users = { [ADMIN]: PASSWORD, [READER]: { password: 'reader-secret-write-refusals', actions: ['pull'] }, [PUSHER]: { password: 'pusher-secret-write-refusals', actions: ['pull', 'push'] } };
  const w = setup((stack) => harborWorld(stack, { users, projects: ['packs', 'dockerhub-cache'] }, ['hello', 'other']));
  const env = () => w.env();
  const pack = (name: string) => w.packs[name] ?? '';
  const login = ['--registry-type', 'harbor', '-u', ADMIN, '--password-stdin'];
  const run = (args: string[]) => runCli(args, { stdin: PASSWORD, env: env() });

  it('read-only mode: push, push --create-project and delete say so (was: "no push permission", "refused to create project", "no delete permission"); an unchanged re-run is still exit 0', async () => {
    const first = await w.runAs(ADMIN, ['push', pack('hello'), '--registry', `${w.harbor.host}/packs`]);
    expect(first.code, first.stderr).toBe(0);
    w.harbor.policy.readOnly = true;
    try {
      const push = await w.runAs(ADMIN, ['push', pack('other'), '--registry', `${w.harbor.host}/packs`]);
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toContain(`${w.harbor.host} is in read-only mode: Harbor answered "The system is in read only mode. Any modification is prohibited."`);
      expect(push.stderr).toContain('hint: a Harbor administrator turned it on');
      expect(push.stderr).not.toMatch(/permission|credentials rejected/i);
      expect([...w.harbor.repositories]).not.toContain('packs/spectro-packs/archive/other');

      const again = await w.runAs(ADMIN, ['push', pack('hello'), '--registry', `${w.harbor.host}/packs`]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain('unchanged');

      const create = await w.runAs(ADMIN, ['push', pack('other'), '--registry', `${w.harbor.host}/newproject`, '--create-project']);
      expect(create.code, create.stdout + create.stderr).toBe(1);
      expect(create.stderr).toContain(`${w.harbor.host} is in read-only mode`);
      expect(create.stderr).not.toMatch(/refused to create project/);
      expect(w.harbor.projects.has('newproject')).toBe(false);

      const del = await w.runAs(ADMIN, ['delete', 'hello:1.0.0', '--force', '--registry', `${w.harbor.host}/packs`]);
      expect(del.code, del.stdout + del.stderr).toBe(1);
      expect(del.stderr).toContain(`${w.harbor.host} is in read-only mode`);
      expect(del.stderr).not.toMatch(/delete permission/);
      // The dry run reads systeminfo's read_only and says so too (was: planned, exit 0).
      const dryDel = await w.runAs(ADMIN, ['delete', 'hello:1.0.0', '--dry-run', '--registry', `${w.harbor.host}/packs`]);
      expect(dryDel.code, dryDel.stdout + dryDel.stderr).toBe(1);
      expect(dryDel.stderr).toContain(`${w.harbor.host} is in read-only mode (GET /api/v2.0/systeminfo says "read_only": true): Harbor deletes nothing now`);
    } finally {
      w.harbor.policy.readOnly = false;
    }
    // Still there: nothing was deleted.
    const list = await w.runAs(ADMIN, ['list', 'hello', '--registry', `${w.harbor.host}/packs`]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('1.0.0');
  });

  it('read-only mode, --dry-run: a pack the real run would write fails the plan, exit 1 (was: planned "new", exit 0); an unchanged one is still planned unchanged, exit 0', async () => {
    const where = ['--registry', `${w.harbor.host}/packs`, ...login];
    const first = await run(['push', pack('hello'), ...where]);
    expect(first.code, first.stderr).toBe(0);
    const layout = join(w.root, 'ro-layout');
    expect((await run(['push', pack('hello'), pack('other'), '--oci-layout', layout])).code).toBe(0);
    w.harbor.policy.readOnly = true;
    try {
      const said = `${w.harbor.host} is in read-only mode (GET /api/v2.0/systeminfo says "read_only": true): a real run would be refused its first write`;
      const dry = await run(['push', pack('other'), '--dry-run', '--json', ...where]);
      expect(dry.code, dry.stdout + dry.stderr).toBe(1);
      const other = (JSON.parse(dry.stdout) as { results: Array<{ name: string; status: string; error?: { code: string; message: string } }> }).results.find((r) => r.name === 'other');
      expect(other).toMatchObject({ status: 'failed', error: { code: 'REGISTRY', message: said } });
      // What the real run says, to the word of its start, and its exit code.
      const real = await run(['push', pack('other'), ...where]);
      expect(real.code).toBe(1);
      expect(real.stderr).toContain(`${w.harbor.host} is in read-only mode`);

      const unchanged = await run(['push', pack('hello'), '--dry-run', ...where]);
      expect(unchanged.code, unchanged.stdout + unchanged.stderr).toBe(0);
      expect(unchanged.stdout).toContain('unchanged');
      // An extra tag is a write even onto an unchanged version.
      const tagged = await run(['push', pack('hello'), '--tag', 'stable', '--dry-run', ...where]);
      expect(tagged.code, tagged.stdout + tagged.stderr).toBe(1);
      expect(tagged.stderr).toContain(said);
      expect(tagged.stderr).toContain('hint: a Harbor administrator turned it on');

      const copyArgs = ['--from', `oci:${layout}`, '--to', `${w.harbor.host}/packs`, '--to-registry-type', 'harbor', '--to-username', ADMIN, '--to-password-stdin', '--dry-run'];
      const copyNew = await run(['copy', 'other:1.0.0', ...copyArgs]);
      expect(copyNew.code, copyNew.stdout + copyNew.stderr).toBe(1);
      expect(copyNew.stdout + copyNew.stderr).toContain(said);
      const copySame = await run(['copy', 'hello:1.0.0', ...copyArgs]);
      expect(copySame.code, copySame.stdout + copySame.stderr).toBe(0);
    } finally {
      w.harbor.policy.readOnly = false;
    }
    expect([...w.harbor.repositories]).not.toContain('packs/spectro-packs/archive/other');
  });

  it('a robot without push permission, --dry-run: a pack it would write fails the plan, exit 1 (was: planned "new", exit 0); an unchanged one is planned unchanged', async () => {
    const as = (args: string[]) => w.runAs(READER, [...args, '--registry', `${w.harbor.host}/packs`]);
    const dry = await as(['push', pack('other'), '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(1);
    expect(dry.stderr).toContain(`${READER} has no push permission on project packs (GET /api/v2.0/users/current/permissions lists none): a real run would be refused its first write`);
    expect(dry.stderr).toContain('hint: give the robot account the push permission on project packs');
    // hello 1.0.0 is published (an earlier case): a real run would write nothing, and the dry run says unchanged.
    const unchanged = await as(['push', pack('hello'), '--dry-run']);
    expect(unchanged.code, unchanged.stdout + unchanged.stderr).toBe(0);
    expect(unchanged.stdout).toContain('unchanged');
    expect([...w.harbor.repositories]).not.toContain('packs/spectro-packs/archive/other');
  });

  it('a robot without delete permission (pull and push only): delete and its dry run say so before anything is deleted (was: planned, exit 0; then Harbor\'s 403)', async () => {
    const admin = await w.runAs(ADMIN, ['push', pack('hello'), '--registry', `${w.harbor.host}/packs`]);
    expect(admin.code, admin.stderr).toBe(0);
    const as = (args: string[]) => w.runAs(PUSHER, [...args, '--registry', `${w.harbor.host}/packs`]);
    const tagged = await as(['tag', 'hello:1.0.0', 'stable']);
    expect(tagged.code, tagged.stderr).toBe(0);
    const denied = `${PUSHER} has no delete permission on project packs (GET /api/v2.0/users/current/permissions lists neither delete artifact nor delete tag): Harbor would refuse the delete`;
    for (const flags of [['--dry-run'], ['--force']]) {
      const deleted = w.harbor.apiRequests.length;
      const run = await as(['delete', 'hello:stable', ...flags]);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain(`FAILED hello:stable: ${denied}`);
      expect(run.stderr).toContain('hint: deleting needs the Maintainer or Project Admin role on project packs');
      expect(run.stderr).toContain('nothing was deleted');
      expect(w.harbor.apiRequests.slice(deleted).filter((r) => r.method === 'DELETE')).toEqual([]);
    }
    // A permission list of a shape not read here (resources not relative to the project) tells nothing: the delete is
    // sent, and Harbor's own 403 says it.
    w.harbor.apiQuirk = (method, path) =>
      method === 'GET' && path === '/api/v2.0/users/current/permissions' ? { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ resource: '/project/1/repository', action: 'pull' }]) } : undefined;
    try {
      const unread = await as(['delete', 'hello:stable', '--force']);
      expect(unread.code, unread.stdout + unread.stderr).toBe(1);
      expect(unread.stderr).toContain(`refused to delete ${w.harbor.host}/packs/spectro-packs/archive/hello:stable: no delete permission on project packs`);
    } finally {
      w.harbor.apiQuirk = undefined;
    }
    const list = await run(['list', 'hello', '--registry', `${w.harbor.host}/packs`, ...login, '--json']);
    const versions = (JSON.parse(list.stdout) as { packs: Array<{ versions: Array<{ version: string }> }> }).packs[0]?.versions.map((v) => v.version);
    expect(versions).toEqual(['1.0.0', 'stable']);
    // The admin, whose list names both deletes, still deletes.
    const byAdmin = await w.runAs(ADMIN, ['delete', 'hello:stable', '--force', '--registry', `${w.harbor.host}/packs`]);
    expect(byAdmin.code, byAdmin.stdout + byAdmin.stderr).toBe(0);
  });

  it('a robot without push permission: Harbor answers its token 401 Basic realm="harbor"; said as missing permission, one token asked again, exit 1', async () => {
    const asked = w.harbor.token.requests.length;
    const push = await w.runAs(READER, ['push', pack('other'), '--registry', `${w.harbor.host}/packs`]);
    expect(push.code, push.stdout + push.stderr).toBe(1);
    expect(push.stderr).toContain('credentials rejected or no push permission on packs/spectro-packs/archive');
    expect(push.stderr).toContain("check that the user or robot account may push packs/spectro-packs/archive");
    // The Basic challenge is taken for an expired token once (session.ts), not answered with the robot's secret nor in a loop.
    const tokenAsks = w.harbor.token.requests.slice(asked).filter((r) => r.scopes.includes('repository:packs/spectro-packs/archive:pull,push'));
    expect(tokenAsks.length).toBeGreaterThanOrEqual(1);
    expect(tokenAsks.length).toBeLessThanOrEqual(2);
    expect(tokenAsks.every((r) => r.user === READER)).toBe(true);
    expect([...w.harbor.repositories]).not.toContain('packs/spectro-packs/archive/other');
  });

  it('the project\'s storage quota: push fails exit 1 saying so with Harbor\'s figures (was: no figures), the version not tagged', async () => {
    w.harbor.policy.overQuotaProjects.add('packs');
    try {
      const push = await w.runAs(ADMIN, ['push', pack('other'), '--registry', `${w.harbor.host}/packs`]);
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toContain(`FAILED other:1.0.0: project packs quota exceeded on ${w.harbor.host}: adding 1.2 KiB to the 10.0 MiB it holds would pass its limit of 10.0 MiB`);
      expect(push.stderr).toContain('hint: delete old artifacts from the project or ask a Harbor admin to raise its storage quota');
      expect(push.stderr).not.toMatch(/permission|credentials rejected/i);
      expect(w.harbor.refusals.some((r) => r.code === 'DENIED' && r.path.startsWith('/v2/packs/spectro-packs/archive/other/'))).toBe(true);
    } finally {
      w.harbor.policy.overQuotaProjects.delete('packs');
    }
    expect([...w.harbor.repositories]).not.toContain('packs/spectro-packs/archive/other');
  });

  it('a proxy cache project: push and push --dry-run are refused before anything is uploaded (was: "no push permission")', async () => {
    w.harbor.policy.proxyCacheProjects.add('dockerhub-cache');
    const where = ['--registry', `${w.harbor.host}/dockerhub-cache`, ...login];
    const dry = await run(['push', pack('hello'), '--dry-run', ...where]);
    expect(dry.code, dry.stdout + dry.stderr).toBe(1);
    expect(dry.stderr).toContain(`project dockerhub-cache on ${w.harbor.host} is a proxy cache project: Harbor takes no push into it`);
    const push = await run(['push', pack('hello'), ...where]);
    expect(push.code, push.stdout + push.stderr).toBe(1);
    expect(push.stderr).toContain(`project dockerhub-cache on ${w.harbor.host} is a proxy cache project: Harbor takes no push into it`);
    expect(push.stderr).toContain('hint: give a base path whose first segment is a regular project');
    expect(push.stderr).not.toMatch(/permission|credentials rejected/i);
    // Refused from the project's description: the registry was never asked to take a blob.
    expect(w.harbor.refusals.filter((r) => r.path.includes('/dockerhub-cache/'))).toEqual([]);
    expect([...w.harbor.repositories].filter((r) => r.startsWith('dockerhub-cache/'))).toEqual([]);
  });

  it('a proxy cache project whose description these credentials may not read: the registry\'s refusal is said as it is', async () => {
    w.harbor.policy.proxyCacheProjects.add('dockerhub-cache');
    // A robot account without the project read permission: Harbor answers its project GET 403.
    w.harbor.apiQuirk = (method, path) => (method === 'GET' && path === '/api/v2.0/projects/dockerhub-cache' ? { status: 403, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"FORBIDDEN","message":"forbidden"}]}' } : undefined);
    try {
      const push = await w.runAs(ADMIN, ['push', pack('other'), '--registry', `${w.harbor.host}/dockerhub-cache`]);
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toContain(`project dockerhub-cache on ${w.harbor.host} is a proxy cache project: Harbor takes no push into it`);
      expect(push.stderr).not.toMatch(/permission|credentials rejected/i);
      expect(w.harbor.refusals.filter((r) => r.path.includes('/dockerhub-cache/')).map((r) => r.code)).toContain('DENIED');
    } finally {
      w.harbor.apiQuirk = undefined;
    }
  });
});
