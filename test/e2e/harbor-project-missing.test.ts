import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { harborWorld } from '../support/harbor-world.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * `list` (and `copy --all`) of a Harbor base path reads the project's repositories through Harbor's API, then each
 * repository's tag list through the registry API. A project deleted in between (an admin cleaning up while a
 * mirror job runs) denies those tag lists with 403 DENIED "project <p> not found": the run ended with a refused-login
 * error (exit 1) that sent the user to check credentials that were fine. Now it says the project is gone. The
 * stand-in's repositories API answers the listing and deletes the project as it does (apiQuirk). And a pack named
 * in a project that never was (`list hello`, a typo in the base path) said "no pack hello", exit 0, where the
 * unnamed list names the missing project: now named too, exit 1.
 */

const ADMIN = 'admin';
const PASSWORD = 'Harbor12345-deleted-mid-list';

describe('a Harbor project that is not there (deleted during the run, or never made)', () => {
  const w = setup((stack) => harborWorld(stack, { users: { [ADMIN]: PASSWORD }, projects: ['doomed'] }));
  const env = () => w.env();
  const target = () => ['--registry', `${w.harbor.host}/doomed`, '--registry-type', 'harbor', '-u', ADMIN, '--password-stdin'];

  /** The next repositories listing of `project` answers what it holds, and the project is deleted as it answers. */
  const deleteOnListing = (project: string) => {
    w.harbor.apiQuirk = (method, path) => {
      if (method !== 'GET' || path !== `/api/v2.0/projects/${project}/repositories`) return undefined;
      const names = [...w.harbor.repositories].filter((r) => r.startsWith(`${project}/`)).sort();
      w.harbor.projects.delete(project);
      w.harbor.apiQuirk = undefined;
      const body = JSON.stringify(names.map((name, i) => ({ id: i + 1, name, project_id: 1, artifact_count: 1 })));
      return { status: 200, headers: { 'content-type': 'application/json', 'x-total-count': String(names.length) }, body };
    };
  };

  it('list and copy --all say the project is gone, exit 1 (was: "denied", as for wrong credentials)', async () => {
    const push = await runCli(['push', w.pack, ...target()], { stdin: PASSWORD, env: env() });
    expect(push.code, push.stderr).toBe(0);

    deleteOnListing('doomed');
    const list = await runCli(['list', ...target()], { stdin: PASSWORD, env: env() });
    expect(list.code, list.stdout + list.stderr).toBe(1);
    expect(list.stderr).toContain(`project doomed does not exist on ${w.harbor.host} any more: it listed doomed/spectro-packs/archive/hello earlier in this run and was deleted since`);
    expect(list.stderr).not.toMatch(/denied|credentials|authenticat/i);
    expect(list.stdout).not.toContain('no packs');

    w.harbor.projects.add('doomed');
    deleteOnListing('doomed');
    const layout = join(w.root, 'copied');
    const copy = await runCli(['copy', '--all', '--from', `${w.harbor.host}/doomed`, '--from-registry-type', 'harbor', '--to', `oci:${layout}`, '--from-username', ADMIN, '--from-password-stdin'], { stdin: PASSWORD, env: env() });
    expect(copy.code, copy.stdout + copy.stderr).toBe(1);
    expect(copy.stderr).toContain(`project doomed does not exist on ${w.harbor.host} any more`);
    expect(copy.stderr).not.toMatch(/denied|credentials rejected/i);
    // Nothing was copied.
    expect(existsSync(layout) ? [...(await layoutHoldings(layout)).tags.keys()] : []).toEqual([]);
  });

  it('a pack named in a project that does not exist: the project is named, exit 1 (was: "no pack hello", exit 0)', async () => {
    const env2 = env();
    const where = ['--registry', `${w.harbor.host}/no-such-project`, '--registry-type', 'harbor', '-u', ADMIN, '--password-stdin'];
    const list = await runCli(['list', 'hello', ...where], { stdin: PASSWORD, env: env2 });
    expect(list.code, list.stdout + list.stderr).toBe(1);
    expect(list.stderr).toContain(`project no-such-project does not exist on ${w.harbor.host}`);
    expect(list.stderr).not.toContain('no pack hello');
    // As the unnamed list says it.
    const all = await runCli(['list', ...where], { stdin: PASSWORD, env: env2 });
    expect(all.code).toBe(1);
    expect(all.stderr).toContain(`project no-such-project does not exist on ${w.harbor.host}`);
  });

  it('--create-project with a name Harbor takes for no project (a__b, a--b: valid registry paths): said before any POST (was: one 400 per pack)', async () => {
    for (const project of ['my__packs', 'my--packs']) {
      const posts = w.harbor.apiRequests.filter((r) => r.method === 'POST').length;
      const push = await runCli(['push', w.pack, '--registry', `${w.harbor.host}/${project}`, '--registry-type', 'harbor', '--create-project', '-u', ADMIN, '--password-stdin'], { stdin: PASSWORD, env: env() });
      expect(push.code, push.stdout + push.stderr).toBe(1);
      expect(push.stderr).toContain(`project ${project} does not exist on ${w.harbor.host}, and Harbor cannot create a project of that name: project names are lowercase letters and digits, joined by single ".", "_" or "-"`);
      expect(push.stderr).toContain(`hint: the first segment of the base path is the Harbor project; give one such as "${project.replace(/[_-]{2}/, project.includes('_') ? '_' : '-')}"`);
      expect(w.harbor.apiRequests.filter((r) => r.method === 'POST').length).toBe(posts);
      expect(w.harbor.projects.has(project)).toBe(false);
    }
  });
});
