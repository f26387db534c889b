import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidNamespace } from '../../src/util/pid.js';
import { expectRun, runCli, type ExpectedRun } from '../support/cli.js';
import { setup } from '../support/stage.js';
import { publishedLayout } from '../support/published.js';
import { deadPid } from '../support/spawner.js';

/*
 * chaos s22 F5: `pull -o out` killed while it downloads (SIGKILL: its exit handler never runs) leaves its staging
 * folder `.out.packpub-XXXXXX` beside `out` for good; a re-run made another one and never removed it. The staging
 * folder now names its run (`<pid>-ns<id>-`, as push's work folders), and a pull to `out` removes the ones of runs
 * that are gone; a live run's, another -o's, and one it cannot tell the owner of stay.
 * The same kill of a pull into an existing empty folder leaves its `.packpub-pull-<owner>` staging folder inside it:
 * the re-run was refused ("empty <dir> and pull again") though the folder held nothing but a dead run's staging.
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

  it('inside an existing -o folder: removed and the folder filled when the folder holds nothing else and the run is gone (was: exit 2, "empty it"); kept and refused otherwise', async () => {
    const ns = pidNamespace() ?? '';
    const dead = await deadPid();
    const stage = async (folder: string, name: string) => {
      await mkdir(join(folder, name, 'tree'), { recursive: true });
      await writeFile(join(folder, name, 'tree', 'payload.bin'), 'half a download');
    };
    const pull = (folder: string) => runCli(['pull', 'hello:1.0.0', '--oci-layout', w.layout, '-o', folder]);
    const refused = (folder: string): ExpectedRun => ({
      code: 2,
      stdout: '',
      stderr: [`error: ${folder} already exists and is not empty`, `hint: an earlier pull into it was interrupted (it holds a .packpub-pull-* folder): empty ${folder} and pull again`],
    });

    const gone = join(w.root, 'inside-gone');
    await stage(gone, `.packpub-pull-${dead}-ns${ns}-abc123`);
    await stage(gone, `.packpub-pull-${dead}-ns${ns}-def456`);
    expectRun(await pull(gone), { code: 0, stdout: [`into ${gone}`] });
    expect((await readdir(gone)).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(await readdir(gone)).toContain('pack.json');

    // A live run's staging: that pull may still be downloading (was told "interrupted", as both of two pulls at once were).
    const live = join(w.root, 'inside-live');
    await stage(live, `.packpub-pull-${process.pid}-ns${ns}-ghi789`);
    expectRun(await pull(live), {
      code: 2,
      stdout: '',
      stderr: [`error: ${live} already exists and is not empty`, "hint: another pull into it is running (it holds that pull's .packpub-pull-* folder): wait for it to end, or pull into another folder"],
    });
    expect(await readdir(live)).toEqual([`.packpub-pull-${process.pid}-ns${ns}-ghi789`]);

    // Beside part of a pack a killed pull had moved in: the staging folder is the sign of it, kept.
    const partial = join(w.root, 'inside-partial');
    await stage(partial, `.packpub-pull-${dead}-ns${ns}-jkl012`);
    await writeFile(join(partial, 'values.yaml'), 'moved in before the kill\n');
    expectRun(await pull(partial), refused(partial));
    expect((await readdir(partial)).sort()).toEqual([`.packpub-pull-${dead}-ns${ns}-jkl012`, 'values.yaml']);
  });
});
