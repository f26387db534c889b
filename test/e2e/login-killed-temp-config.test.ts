import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { startHostileRegistry, type HostileRegistry } from '../support/hostile-registry.js';
import { setup } from '../support/stage.js';
import { deadPid } from '../support/spawner.js';

/*
 * chaos s22 F5: a login or logout killed between writing its temp file and renaming it over the Docker config (a
 * SIGKILL, a cancelled job) left `config.json.tmp-<pid>-<hex>` beside it, holding the whole new config, the
 * credentials included, for good: no later run looked at it. Now the next login or logout removes, under the
 * config's lock, the temp files of processes that are gone once they are ten minutes old; a live process's, a
 * recent one and anything else stay.
 */

const USERS = { ci: 'secret-ci-0042' };

describe('temp files a killed login left beside the Docker config', () => {
  const w = setup(async (stack) => ({ registry: stack.add(await startHostileRegistry({ users: USERS })) as HostileRegistry, root: await stack.tempDir() }));

  it('are removed by the next login once their process is gone and they are ten minutes old; live, recent or foreign ones stay', async () => {
    const config = join(w.root, 'config.json');
    await writeFile(config, '{"auths":{}}\n');
    const dead = await deadPid();
    const left = '{"auths":{"old.example":{"auth":"Y2k6bGVmdC1iZWhpbmQ="}}}';
    const files = {
      oldDead: `config.json.tmp-${dead}-0123abcd`,
      recentDead: `config.json.tmp-${dead}-fedcba98`,
      oldLive: `config.json.tmp-${process.ppid}-00112233`,
      notOurs: 'config.json.tmp-backup',
    };
    for (const name of Object.values(files)) await writeFile(join(w.root, name), left);
    const hourAgo = new Date(Date.now() - 60 * 60_000);
    for (const name of [files.oldDead, files.oldLive, files.notOurs]) await utimes(join(w.root, name), hourAgo, hourAgo);

    expectRun(await runCli(['login', w.registry.host, '-u', 'ci', '--password-stdin', '--registry-config', config], { stdin: USERS.ci }), { code: 0 });
    // Was: all four stayed, the dead login's credentials with them.
    expect((await readdir(w.root)).sort()).toEqual(['config.json', files.notOurs, files.oldLive, files.recentDead].sort());
    expect(Object.keys((JSON.parse(await readFile(config, 'utf8')) as { auths: Record<string, unknown> }).auths)).toEqual([w.registry.host]);
  });
});
