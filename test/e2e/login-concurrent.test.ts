import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { startHostileRegistry, type HostileRegistry } from '../support/hostile-registry.js';
import { setup } from '../support/stage.js';

/*
 * review s21 F2: login reads the Docker config, adds its entry and renames the file back. Several logins at
 * once into one config (a job logging in to its registries in parallel; a program calling login() for each)
 * each wrote the file it had read: every one said "Login succeeded ... saved", and the config kept only
 * some of the entries. Now each change of the file is made under a lock file beside it.
 */

const USERS = { ci: 'secret-ci-0001' };

describe('logins at the same time into one Docker config', () => {
  const w = setup(async (stack) => {
    const registries: HostileRegistry[] = [];
    for (let i = 0; i < 6; i++) registries.push(stack.add(await startHostileRegistry({ users: USERS })));
    return { registries, root: await stack.tempDir() };
  });

  it('keep every entry each one reported saved (was: exit 0 for all, entries lost)', async () => {
    const config = join(w.root, 'config.json');
    const runs = await Promise.all(
      w.registries.map((r) => runCli(['login', r.host, '-u', 'ci', '--password-stdin', '--registry-config', config], { stdin: USERS.ci })),
    );
    for (const [i, run] of runs.entries()) expectRun(run, { code: 0, stdout: [`credentials for ${w.registries[i]?.host} saved in ${config}`] });
    const saved = JSON.parse(await readFile(config, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(saved.auths).sort()).toEqual(w.registries.map((r) => r.host).sort());
    for (const entry of Object.values(saved.auths)) expect(Buffer.from(entry.auth, 'base64').toString()).toBe(`ci:${USERS.ci}`);
    // Nothing left beside it: no lock, no temp file.
    expect(await readdir(w.root)).toEqual(['config.json']);

    // Logouts at once remove every entry too.
    const outs = await Promise.all(w.registries.map((r) => runCli(['logout', r.host, '--registry-config', config])));
    for (const run of outs) expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({ auths: {} });
    expect(await readdir(w.root)).toEqual(['config.json']);
  });
});
