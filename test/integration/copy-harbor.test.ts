import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHarborStandin } from '../support/harbor-standin.js';
import { skopeoInspectRaw } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * `copy --all` out of Harbor as a robot account: /v2/_catalog is admin-only on Harbor, so the packs under
 * the project are found through Harbor's REST API (--from-registry-type harbor); and into a Harbor
 * project, which must exist.
 */

const ROBOT = 'robot$spectro+ci';
const ROBOT_SECRET = 'robot-secret-copy-harbor-9';
const ENV = { SOURCE_DATE_EPOCH: '1700000000' };

describe('copy with Harbor', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-copy-harbor-');
    const harbor = stack.add(await startHarborStandin({ users: { [ROBOT]: ROBOT_SECRET }, projects: ['spectro', 'prod'], maxPageSize: 2 }));
    const packs = [
      await writePack(join(root, 'packs/a-1.0.0'), { name: 'alpha', version: '1.0.0' }),
      await writePack(join(root, 'packs/b-1.0.0'), { name: 'beta', version: '1.0.0' }),
      await writePack(join(root, 'packs/c-2.0.0'), { name: 'gamma', version: '2.0.0' }),
    ];
    const pushed = await runCli(['push', ...packs, '--registry', `${harbor.host}/spectro`, '--registry-type', 'harbor', '--username', ROBOT, '--password-stdin'], {
      env: ENV,
      stdin: ROBOT_SECRET,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    return { root, harbor };
  });
  it('lists every pack of the project through the Harbor API and copies them to a layout', async () => {
    const layout = join(w.root, 'out');
    const result = await runCli(['copy', '--all', '--from', `${w.harbor.host}/spectro`, '--from-registry-type', 'harbor', '--to', `oci:${layout}`, '--json'], {
      env: { PACKPUB_FROM_USERNAME: ROBOT, PACKPUB_FROM_PASSWORD: ROBOT_SECRET },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain(ROBOT_SECRET);
    const report = JSON.parse(result.stdout) as { results: Array<{ name: string; status: string }> };
    expect(report.results.map((r) => `${r.name}:${r.status}`)).toEqual(['alpha:copied', 'beta:copied', 'gamma:copied']);
    expect(w.harbor.apiRequests.some((r) => r.path.startsWith('/api/v2.0/projects/spectro/repositories'))).toBe(true);
  });

  it('promotes between two Harbor projects with the same manifest digests', async () => {
    const result = await runCli(
      ['copy', '--all', '--from', `${w.harbor.host}/spectro`, '--from-registry-type', 'harbor', '--to', `${w.harbor.host}/prod`, '--to-registry-type', 'harbor'],
      { env: { PACKPUB_USERNAME: ROBOT, PACKPUB_PASSWORD: ROBOT_SECRET } },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('3 copied');
    const creds = { username: ROBOT, password: ROBOT_SECRET };
    for (const name of ['alpha', 'beta']) {
      const a = await skopeoInspectRaw(`${w.harbor.host}/spectro/spectro-packs/archive/${name}:1.0.0`, { creds });
      const b = await skopeoInspectRaw(`${w.harbor.host}/prod/spectro-packs/archive/${name}:1.0.0`, { creds });
      expect(b.equals(a)).toBe(true);
    }
  });
});
