import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidNamespace } from '../../src/util/pid.js';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { publishedLayout } from '../support/published.js';
import { deadPid } from '../support/spawner.js';

/*
 * chaos s22 F5: `pull -o out` killed while it downloads (SIGKILL: its exit handler never runs) leaves its staging
 * folder `.out.packpub-XXXXXX` beside `out` for good; a re-run made another one and never removed it. The staging
 * folder now names its run (`<pid>-ns<id>-`, as push's work folders), and a pull to `out` removes the ones of runs
 * that are gone; a live run's, another -o's, and one it cannot tell the owner of stay.
 */

const w = setup((stack) => publishedLayout(stack, 'packpub-pull-staging-'));

describe('pull: staging folders a killed pull left beside -o', () => {
  it('are removed by the next pull to the same -o once their run is gone (was: kept for good); others stay', async () => {
    const into = join(w.root, 'into');
    const ns = pidNamespace() ?? '';
    const dead = await deadPid();
    const left = {
      gone: `.out.packpub-${dead}-ns${ns}-abc123`,
      live: `.out.packpub-${process.pid}-ns${ns}-def456`,
      otherOutput: `.other.packpub-${dead}-ns${ns}-ghi789`,
      unknownOwner: '.out.packpub-jkl012',
    };
    for (const name of Object.values(left)) {
      await mkdir(join(into, name, 'tree'), { recursive: true });
      await writeFile(join(into, name, 'tree', 'payload.bin'), 'half a download');
    }
    const run = await runCli(['pull', 'hello:1.0.0', '--oci-layout', w.layout, '-o', join(into, 'out')]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(into)).sort()).toEqual([left.live, left.otherOutput, left.unknownOwner, 'out'].sort());
    expect(await readdir(join(into, 'out'))).toContain('pack.json');
  });
});
